// Float64 reference of one sequence layer (one direction) for RNN (tanh/relu), LSTM (with optional
// projection) and GRU: forward and backward (BPTT) in plain loops, readable top to bottom.
// Semantics are PyTorch's (docs/ARCHITECTURE §5): weights applied as x·Wᵀ, gate order LSTM i,f,g,o
// and GRU r,z,n, b_hn inside the GRU's reset product; time-major layout; per-item lengths with
// packed-sequence semantics (steps past an item's length leave its state alone and output zero;
// reverse starts at each item's own last step). Lengths of 0 are allowed (hN = h0, dh0 = dhN).
// Variational dropout masks (one per batch item, the same every step): the layer reads x ⊙ inputMask,
// and W_hh reads h ⊙ recurrentMask (the state itself stays unmasked).
//
// Tests use it as the slow, obviously-right model of the native kernels; it is checked itself
// against PyTorch's float64 results and against finite differences of its own forward.

export type RefCell = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';
type Numbers = ArrayLike<number>;

export interface RefOptions {
  cell: RefCell;
  steps: number; // T
  batch: number; // B
  inputSize: number; // I
  hiddenSize: number; // H
  projSize?: number; // P (LSTM only), 0 = none
  reverse?: boolean;
  lengths?: Numbers | null; // [B], each in [0, T]; null = all T
  inputMask?: Numbers | null; // [B, I]
  recurrentMask?: Numbers | null; // [B, S]
}

export interface RefWeights {
  weightIh: Numbers; // [G·H, I]
  weightHh: Numbers; // [G·H, S]
  biasIh?: Numbers | null; // [G·H]
  biasHh?: Numbers | null; // [G·H]
  weightHr?: Numbers | null; // [P, H]
}

export interface RefGrads {
  weightIh: Float64Array;
  weightHh: Float64Array;
  biasIh: Float64Array | null;
  biasHh: Float64Array | null;
  weightHr: Float64Array | null;
}

/** What one step of one batch item remembers for backward. */
interface StepRecord {
  t: number;
  hPrev: Float64Array; // [S]
  hRead: Float64Array; // [S] hPrev ⊙ recurrent mask: what W_hh read
  cPrev: Float64Array; // [H] (LSTM)
  gates: Float64Array; // [G·H] activated gates (RNN: the new h before projection)
  c: Float64Array; // [H] new cell state (LSTM)
  m: Float64Array; // [H] LSTM o ⊙ tanh(c), the hidden state before projection
  hn: Float64Array; // [H] GRU: W_hn h + b_hn
}

export interface RefForward {
  output: Float64Array; // [T, B, S]
  hN: Float64Array; // [B, S]
  cN: Float64Array | null; // [B, H] (LSTM)
  tape: StepRecord[][]; // per batch item, in processing order
}

export interface RefUpstream {
  dOutput?: Numbers | null; // [T, B, S]
  dhN?: Numbers | null; // [B, S]
  dcN?: Numbers | null; // [B, H]
}

export interface RefBackward {
  dx: Float64Array; // [T, B, I]
  dh0: Float64Array; // [B, S]
  dc0: Float64Array | null; // [B, H]
  grads: RefGrads;
}

export function gateCount(cell: RefCell): number {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

export function stateSize(opts: RefOptions): number {
  return opts.projSize && opts.projSize > 0 ? opts.projSize : opts.hiddenSize;
}

/** Time steps item b visits, in processing order. */
export function stepOrder(opts: RefOptions, b: number): number[] {
  const length = opts.lengths ? opts.lengths[b] : opts.steps;
  const steps = Array.from({ length }, (_, k) => k);
  return opts.reverse ? steps.reverse() : steps;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

// out[r] += Σ_c W[r, c] · v[c]     W [rows, cols] row-major, read from `offset` (a row block).
function addMatVec(out: Float64Array, w: Numbers, rows: number, cols: number, v: Numbers, offset = 0) {
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += w[offset + r * cols + c] * v[c];
    out[r] += sum;
  }
}

// out[c] += Σ_r W[r, c] · v[r]     (Wᵀ v)
function addMatTVec(out: Float64Array, w: Numbers, rows: number, cols: number, v: Numbers) {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] += w[r * cols + c] * v[r];
}

// dW[r, c] += u[r] · v[c]
function addOuter(dw: Float64Array, u: Numbers, v: Numbers) {
  const cols = v.length;
  for (let r = 0; r < u.length; r++) for (let c = 0; c < cols; c++) dw[r * cols + c] += u[r] * v[c];
}

function addInto(out: Float64Array, v: Numbers) {
  for (let k = 0; k < out.length; k++) out[k] += v[k];
}

function slice(a: Numbers | null | undefined, start: number, length: number): Float64Array {
  const out = new Float64Array(length);
  if (a) for (let k = 0; k < length; k++) out[k] = a[start + k];
  return out;
}

// ---- one step forward -----------------------------------------------------------------------

// Pre-activations W_ih x + b_ih and W_hh h + b_hh, each [G·H].
function projections(opts: RefOptions, w: RefWeights, x: Numbers, hPrev: Numbers) {
  const gh = gateCount(opts.cell) * opts.hiddenSize;
  const fromX = slice(w.biasIh, 0, gh);
  const fromH = slice(w.biasHh, 0, gh);
  addMatVec(fromX, w.weightIh, gh, opts.inputSize, x);
  addMatVec(fromH, w.weightHh, gh, stateSize(opts), hPrev);
  return { fromX, fromH };
}

// v ⊙ mask[offset …] (no mask: a copy of v).
function masked(v: Numbers, mask: Numbers | null | undefined, offset: number): Float64Array {
  const out = Float64Array.from(v);
  if (mask) for (let k = 0; k < out.length; k++) out[k] *= mask[offset + k];
  return out;
}

// x: this step's input, already masked; b: the batch item (for its recurrent mask).
function stepForward(opts: RefOptions, w: RefWeights, x: Numbers, hPrev: Float64Array, cPrev: Float64Array,
                     t: number, b: number): { record: StepRecord; h: Float64Array } {
  const H = opts.hiddenSize;
  const hRead = masked(hPrev, opts.recurrentMask, b * stateSize(opts));
  const { fromX, fromH } = projections(opts, w, x, hRead);
  const record: StepRecord = { t, hPrev, hRead, cPrev, gates: new Float64Array(fromX.length),
    c: new Float64Array(0), m: new Float64Array(0), hn: new Float64Array(0) };
  const gates = record.gates;
  if (opts.cell === 'rnn_tanh' || opts.cell === 'rnn_relu') {
    for (let j = 0; j < H; j++) {
      const pre = fromX[j] + fromH[j];
      gates[j] = opts.cell === 'rnn_tanh' ? Math.tanh(pre) : Math.max(0, pre);
    }
    return { record, h: gates.slice() };
  }
  if (opts.cell === 'gru') {
    record.hn = fromH.slice(2 * H, 3 * H);
    const h = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      const r = sigmoid(fromX[j] + fromH[j]);
      const z = sigmoid(fromX[H + j] + fromH[H + j]);
      const n = Math.tanh(fromX[2 * H + j] + r * record.hn[j]);
      gates[j] = r;
      gates[H + j] = z;
      gates[2 * H + j] = n;
      h[j] = (1 - z) * n + z * hPrev[j];
    }
    return { record, h };
  }
  // LSTM: c = f ⊙ c_prev + i ⊙ g, m = o ⊙ tanh(c), h = W_hr m (or m without projection).
  record.c = new Float64Array(H);
  record.m = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const i = sigmoid(fromX[j] + fromH[j]);
    const f = sigmoid(fromX[H + j] + fromH[H + j]);
    const g = Math.tanh(fromX[2 * H + j] + fromH[2 * H + j]);
    const o = sigmoid(fromX[3 * H + j] + fromH[3 * H + j]);
    gates[j] = i;
    gates[H + j] = f;
    gates[2 * H + j] = g;
    gates[3 * H + j] = o;
    record.c[j] = f * cPrev[j] + i * g;
    record.m[j] = o * Math.tanh(record.c[j]);
  }
  if (!opts.projSize) return { record, h: record.m.slice() };
  const h = new Float64Array(opts.projSize);
  addMatVec(h, w.weightHr!, opts.projSize, H, record.m);
  return { record, h };
}

// ---- sequence forward -----------------------------------------------------------------------

/** x [T, B, I], h0 [B, S] (null = zeros), c0 [B, H] (LSTM, null = zeros). */
export function referenceForward(opts: RefOptions, w: RefWeights, x: Numbers, h0?: Numbers | null,
                                 c0?: Numbers | null): RefForward {
  const { steps: T, batch: B, inputSize: I, hiddenSize: H } = opts;
  const S = stateSize(opts);
  const isLstm = opts.cell === 'lstm';
  const output = new Float64Array(T * B * S); // zero where an item has no step
  const hN = new Float64Array(B * S);
  const cN = isLstm ? new Float64Array(B * H) : null;
  const tape: StepRecord[][] = [];
  for (let b = 0; b < B; b++) {
    let h = slice(h0, b * S, S);
    let c = slice(c0, b * H, isLstm ? H : 0);
    const records: StepRecord[] = [];
    for (const t of stepOrder(opts, b)) {
      const step = stepForward(opts, w, masked(slice(x, (t * B + b) * I, I), opts.inputMask, b * I), h, c, t, b);
      records.push(step.record);
      h = step.h;
      c = step.record.c;
      output.set(h, (t * B + b) * S);
    }
    tape.push(records);
    hN.set(h, b * S);
    if (cN) cN.set(c, b * H);
  }
  return { output, hN, cN, tape };
}

/** The scalar whose gradient backward computes: Σ output·dOutput + Σ hN·dhN + Σ cN·dcN. */
export function referenceLoss(fwd: RefForward, up: RefUpstream): number {
  const dot = (a: Numbers | null, b: Numbers | null | undefined) => {
    let sum = 0;
    if (a && b) for (let k = 0; k < a.length; k++) sum += a[k] * b[k];
    return sum;
  };
  return dot(fwd.output, up.dOutput) + dot(fwd.hN, up.dhN) + dot(fwd.cN, up.dcN);
}

// ---- one step backward ----------------------------------------------------------------------

// Gradients of the pre-activations from dh (and the LSTM's carried dc, updated in place to dc_prev).
// Returns dGates for the W_ih side and for the W_hh side (they differ only in the GRU's n block).
function gateGradients(opts: RefOptions, w: RefWeights, rec: StepRecord, dh: Float64Array,
                       dc: Float64Array, grads: RefGrads) {
  const H = opts.hiddenSize;
  const g = rec.gates;
  const dX = new Float64Array(g.length);
  if (opts.cell === 'rnn_tanh' || opts.cell === 'rnn_relu') {
    for (let j = 0; j < H; j++) {
      dX[j] = dh[j] * (opts.cell === 'rnn_tanh' ? 1 - g[j] * g[j] : g[j] > 0 ? 1 : 0);
    }
    return { dFromX: dX, dFromH: dX };
  }
  if (opts.cell === 'gru') {
    const dH = new Float64Array(g.length);
    for (let j = 0; j < H; j++) {
      const [r, z, n] = [g[j], g[H + j], g[2 * H + j]];
      const dn = dh[j] * (1 - z) * (1 - n * n);
      dX[j] = dH[j] = dn * rec.hn[j] * r * (1 - r);
      dX[H + j] = dH[H + j] = dh[j] * (rec.hPrev[j] - n) * z * (1 - z);
      dX[2 * H + j] = dn;
      dH[2 * H + j] = dn * r;
    }
    return { dFromX: dX, dFromH: dH };
  }
  // LSTM: through the projection first, then the cell.
  let dm: Float64Array = dh;
  if (opts.projSize) {
    addOuter(grads.weightHr!, dh, rec.m);
    dm = new Float64Array(H);
    addMatTVec(dm, w.weightHr!, opts.projSize, H, dh);
  }
  for (let j = 0; j < H; j++) {
    const [i, f, gg, o] = [g[j], g[H + j], g[2 * H + j], g[3 * H + j]];
    const tanhC = Math.tanh(rec.c[j]);
    const dcTotal = dc[j] + dm[j] * o * (1 - tanhC * tanhC);
    dX[j] = dcTotal * gg * i * (1 - i);
    dX[H + j] = dcTotal * rec.cPrev[j] * f * (1 - f);
    dX[2 * H + j] = dcTotal * i * (1 - gg * gg);
    dX[3 * H + j] = dm[j] * tanhC * o * (1 - o);
    dc[j] = dcTotal * f;
  }
  return { dFromX: dX, dFromH: dX };
}

// Backward of one step of item b: accumulates weight grads and dx_t (of the unmasked input);
// returns dh_prev; dc becomes dc_prev. x is the step's masked input.
function stepBackward(opts: RefOptions, w: RefWeights, rec: StepRecord, x: Float64Array, dh: Float64Array,
                      dc: Float64Array, grads: RefGrads, dx: Float64Array, b: number): Float64Array {
  const gh = gateCount(opts.cell) * opts.hiddenSize;
  const S = stateSize(opts);
  const { dFromX, dFromH } = gateGradients(opts, w, rec, dh, dc, grads);
  addOuter(grads.weightIh, dFromX, x);
  addOuter(grads.weightHh, dFromH, rec.hRead);
  if (grads.biasIh) addInto(grads.biasIh, dFromX);
  if (grads.biasHh) addInto(grads.biasHh, dFromH);
  addMatTVec(dx, w.weightIh, gh, opts.inputSize, dFromX);
  if (opts.inputMask) for (let k = 0; k < dx.length; k++) dx[k] *= opts.inputMask[b * opts.inputSize + k];
  const dRead = new Float64Array(S);
  addMatTVec(dRead, w.weightHh, gh, S, dFromH);
  const dhPrev = masked(dRead, opts.recurrentMask, b * S);
  if (opts.cell === 'gru') for (let j = 0; j < S; j++) dhPrev[j] += dh[j] * rec.gates[opts.hiddenSize + j];
  return dhPrev;
}

// ---- sequence backward ----------------------------------------------------------------------

/** BPTT through `fwd` (from referenceForward with the same opts, w, x). Grads start at zero. */
export function referenceBackward(opts: RefOptions, w: RefWeights, x: Numbers, fwd: RefForward,
                                  up: RefUpstream): RefBackward {
  const { batch: B, inputSize: I, hiddenSize: H } = opts;
  const S = stateSize(opts);
  const isLstm = opts.cell === 'lstm';
  const grads: RefGrads = {
    weightIh: new Float64Array(w.weightIh.length),
    weightHh: new Float64Array(w.weightHh.length),
    biasIh: w.biasIh ? new Float64Array(w.biasIh.length) : null,
    biasHh: w.biasHh ? new Float64Array(w.biasHh.length) : null,
    weightHr: w.weightHr ? new Float64Array(w.weightHr.length) : null,
  };
  const dx = new Float64Array(x.length);
  const dh0 = new Float64Array(B * S);
  const dc0 = isLstm ? new Float64Array(B * H) : null;
  for (let b = 0; b < B; b++) {
    let dh = slice(up.dhN, b * S, S);
    const dc = slice(up.dcN, b * H, isLstm ? H : 0); // updated in place, step by step
    const records = fwd.tape[b];
    for (let k = records.length - 1; k >= 0; k--) {
      const rec = records[k];
      const row = rec.t * B + b;
      addInto(dh, slice(up.dOutput, row * S, S));
      const dxRow = new Float64Array(I);
      dh = stepBackward(opts, w, rec, masked(slice(x, row * I, I), opts.inputMask, b * I), dh, dc, grads, dxRow, b);
      dx.set(dxRow, row * I);
    }
    dh0.set(dh, b * S);
    if (dc0) dc0.set(dc, b * H);
  }
  return { dx, dh0, dc0, grads };
}
