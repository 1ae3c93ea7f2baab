// Number and table formatting of the benchmark reports (Markdown, pasted into bench/README.md).

const missing = (v) => v === null || v === undefined;
const fmtNumber = (v) => v.toFixed(v < 0.1 ? 4 : v < 10 ? 2 : 1);
export const fmtMs = (s) => (s?.medianMs === undefined ? 'n/a' : `${fmtNumber(s.medianMs)} (${fmtNumber(s.minMs)})`);
export const fmtRate = (v) => (missing(v) ? 'n/a' : v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${(v / 1e3).toFixed(1)}k`);
export const fmtX = (v) => (missing(v) ? 'n/a' : `${v.toFixed(2)}×`);
export const fmtGflops = (v) => (missing(v) ? 'n/a' : v.toFixed(1));
/** A share as a whole percentage: 0.734 → `73%`. */
export const fmtShare = (v) => (missing(v) ? 'n/a' : `${(100 * v).toFixed(0)}%`);
export const fmtMB = (v) => (missing(v) ? 'n/a' : v.toFixed(0));
export const fmtFaults = (v) => (missing(v) ? 'n/a' : v < 10 ? v.toFixed(1) : v.toFixed(0));
/** ` ok` / ` MISS` after a target, nothing without a verdict. */
export const fmtVerdict = (met) => (met === null || met === undefined ? '' : met ? ' ok' : ' MISS');
/** `≥2× ok`: a target (shown by `format`) and its verdict; empty without a target. */
export const fmtTarget = (target, met, format) => (target === null || target === undefined ? '' : `≥${format(target)}${fmtVerdict(met)}`);
/** Two sides' figures in one cell: `ours / theirs`. */
export const fmtPair = (format, a, b) => `${format(a)} / ${format(b)}`;

/** A Markdown table with padded columns, as a string (no trailing newline). */
export function formatTable(header, lines) {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [row(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(row)].join('\n');
}

/** The columns both drivers' tables share after their times: the ratio to PyTorch and its target. */
export const COMPARISON_HEADER = ['vs torch med / min', 'target'];
export const comparisonCells = (row) => [`${fmtX(row.speedup)} / ${fmtX(row.speedupOfMins)}`,
  fmtTarget(row.target, row.targetMet, (t) => `${t}×`)];

/**
 * The closing columns both drivers' tables share: the share of the sgemm peak (and its target), and
 * per side (`ours`: our side's name in the row, `label` in the header) the peak RSS, the faults per
 * step and the tokens/s.
 */
export const resourceHeader = (label, rssLabel = label) => ['%sgemm peak med / best', `peak RSS MB ${rssLabel} / torch`,
  `faults/step ${label} / torch`, `tok/s ${label} / torch`];
export function resourceCells(row, ours) {
  const pair = (format, pick) => fmtPair(format, pick(row[ours]), pick(row.pytorch));
  return [
    `${fmtShare(row.ofPeak)} / ${fmtShare(row.ofPeakBest)}${row.peakTarget === null ? '' : ` (${fmtTarget(row.peakTarget, row.peakTargetMet, fmtShare)})`}`,
    pair(fmtMB, (side) => side?.memory?.peakRssMB), pair(fmtFaults, (side) => side?.memory?.faultsPerStep),
    pair(fmtRate, (side) => side?.tokensPerSec),
  ];
}
