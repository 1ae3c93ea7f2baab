// A one-line progress bar on stderr: `epoch 3/12 [########------------] 61/125  loss 0.2345  7.9 s`.
// Redrawn in place on a terminal; on a pipe or log file it stays silent (the per-epoch lines tell the story).

export class ProgressBar {
  /**
   * @param {number} total  steps per epoch
   * @param {{ stream?: NodeJS.WriteStream, width?: number, enabled?: boolean }} [options]
   */
  constructor(total, { stream = process.stderr, width = 24, enabled = Boolean(stream.isTTY) } = {}) {
    this.total = total;
    this.stream = stream;
    this.width = width;
    this.enabled = enabled;
    this.lastDraw = 0;
  }

  /** Redraws at most every 50 ms (and always on the last step). */
  update(step, label, extra = '') {
    if (!this.enabled) return;
    const now = performance.now();
    if (step < this.total && now - this.lastDraw < 50) return;
    this.lastDraw = now;
    const filled = Math.round((step / this.total) * this.width);
    const bar = '#'.repeat(filled) + '-'.repeat(this.width - filled);
    this.stream.write(`\r${label} [${bar}] ${String(step).padStart(String(this.total).length)}/${this.total}  ${extra}\x1b[K`);
  }

  /** Erases the bar so the next line prints cleanly. */
  clear() {
    if (this.enabled) this.stream.write('\r\x1b[K');
  }
}
