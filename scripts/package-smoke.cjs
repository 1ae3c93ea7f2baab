// The smoke test scripts/test-package.js runs through an installed rnnkit tarball, on each platform
// (natively, under qemu, under wine), with `require` (the CommonJS entry) and the public API only:
//   node package-smoke.cjs <fixture.json> <result.json>
// 1. isa() and availableIsas(): the prebuild's run-time ISA dispatch;
// 2. nn.RNN/LSTM/GRU forward + backward against PyTorch 1.13 (test/fixtures/nn/rnn.json) on every
//    ISA this CPU has, mixed error ≤ 1e-5 (the tolerance of test/nn-parity.test.ts);
// 3. one fit() epoch of a small LSTM classifier (finite loss, weights changed);
// 4. a stream step, which must equal forward's first time step bit for bit.
// Writes a JSON summary to result.json (wine loses a piped stdout) and exits 1 on any failure.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const rnnkit = require('rnnkit');

const { nn, optim, Tensor, tensor, fit, DataLoader, TensorDataset, manualSeed } = rnnkit;
const TOLERANCE = 1e-5;
const [fixtureFile, resultFile] = process.argv.slice(2);
const result = { platform: process.platform, arch: process.arch, node: process.version, failures: [] };

function check(condition, message) {
  if (!condition) result.failures.push(message);
}

function toTensor(entry, requiresGrad = false) {
  return new Tensor(Float32Array.from(entry.data), entry.shape, requiresGrad);
}

// |got − want| / max(1, |want|), worst over the tensor; Infinity for NaN or a shape mismatch.
function mixedError(got, want) {
  if (!got || got.shape.join() !== want.shape.join()) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) {
    const expected = Math.fround(want.data[i]);
    const error = Math.abs(got.data[i] - expected) / Math.max(1, Math.abs(expected));
    if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
  }
  return worst;
}

function buildModule(c) {
  const o = c.options;
  const base = { numLayers: o.numLayers, bias: o.bias, batchFirst: o.batchFirst, dropout: o.dropout, bidirectional: o.bidirectional };
  if (c.cell === 'lstm') return new nn.LSTM(c.inputSize, c.hiddenSize, { ...base, projSize: o.projSize });
  if (c.cell === 'gru') return new nn.GRU(c.inputSize, c.hiddenSize, base);
  return new nn.RNN(c.inputSize, c.hiddenSize, { ...base, nonlinearity: o.nonlinearity });
}

// Forward + backward of one PyTorch case; the worst error over outputs, states and all gradients.
function caseError(c) {
  const t = c.tensors;
  const module = buildModule(c);
  const state = {};
  for (const [key, entry] of Object.entries(t)) if (key.startsWith('state.')) state[key.slice(6)] = toTensor(entry);
  module.loadStateDict(state);
  module.train(c.train);
  const x = toTensor(t.x, true);
  const h0 = t.h0 ? toTensor(t.h0, true) : null;
  const c0 = t.c0 ? toTensor(t.c0, true) : null;
  const options = { lengths: c.lengths };
  let output, hN, cN = null;
  if (c.cell === 'lstm') [output, [hN, cN]] = module.forward(x, h0 && c0 ? [h0, c0] : null, options);
  else [output, hN] = module.forward(x, h0, options);
  let loss = output.mul(toTensor(t.R1)).sum().add(hN.mul(toTensor(t.R2)).sum());
  if (cN) loss = loss.add(cN.mul(toTensor(t.R3)).sum());
  loss.backward();
  const pairs = [[output, t.output], [hN, t.hN], [x.grad, t.dx]];
  if (t.cN) pairs.push([cN, t.cN]);
  if (t.dh0) pairs.push([h0 && h0.grad, t.dh0]);
  if (t.dc0) pairs.push([c0 && c0.grad, t.dc0]);
  for (const [name, param] of module.namedParameters()) pairs.push([param.grad, t[`grad.${name}`]]);
  return Math.max(...pairs.map(([got, want]) => mixedError(got, want)));
}

function parity(cases) {
  const worstByIsa = {};
  const defaultIsa = rnnkit.isa();
  for (const isa of rnnkit.availableIsas()) {
    rnnkit.setIsa(isa);
    let worst = 0;
    for (const c of cases) {
      const error = caseError(c);
      check(error <= TOLERANCE, `parity ${isa} ${c.name}: mixed error ${error} > ${TOLERANCE}`);
      worst = Math.max(worst, error);
    }
    worstByIsa[isa] = worst;
  }
  rnnkit.setIsa(defaultIsa);
  return worstByIsa;
}

class Classifier extends nn.Module {
  constructor() {
    super();
    this.lstm = new nn.LSTM(3, 8, { batchFirst: true });
    this.head = new nn.Linear(8, 2);
  }
  forward(x) {
    const [, [hN]] = this.lstm.forward(x);
    return this.head.forward(hN.select(0, -1));
  }
}

async function oneEpoch() {
  manualSeed(0);
  const inputs = [], labels = [];
  for (let i = 0; i < 64; i++) {
    const sign = i % 2 ? 1 : -1;
    inputs.push(Array.from({ length: 5 }, (_, s) => [sign * 0.5, Math.sin(i + s), s / 5]));
    labels.push(i % 2);
  }
  const model = new Classifier();
  const before = model.parameters().map((p) => p.data.slice());
  const train = new DataLoader(new TensorDataset(tensor(inputs), tensor(labels)), { batchSize: 16, shuffle: true, seed: 1 });
  const history = await fit(model, {
    train, loss: 'crossEntropy', optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }), epochs: 1, progress: false,
  });
  const loss = history.metrics.loss[0];
  check(history.epochs.length === 1 && Number.isFinite(loss), `fit: ${history.epochs.length} epoch(s), loss ${loss}`);
  const changed = model.parameters().some((p, i) => p.data.some((v, j) => v !== before[i][j]));
  check(changed, 'fit: no weight changed');
  return loss;
}

function streamStep() {
  manualSeed(1);
  const lstm = new nn.LSTM(4, 6);
  const x = tensor(Array.from({ length: 3 }, (_, t) => [[0.1 * t, -0.2, 0.3, 0.05 * t]])); // [T=3, B=1, 4]
  const [output] = lstm.forward(x);
  const stream = lstm.stream({ batchSize: 1 });
  const step = stream.step(x.select(0, 0));
  const first = output.select(0, 0);
  const equal = step.data.length === first.data.length && step.data.every((v, i) => Object.is(v, first.data[i]));
  check(equal, `stream: step ${Array.from(step.data)} differs from forward's first step ${Array.from(first.data)}`);
  return equal;
}

async function main() {
  result.isa = rnnkit.isa();
  result.availableIsas = rnnkit.availableIsas();
  const { cases } = JSON.parse(readFileSync(fixtureFile, 'utf8'));
  result.cases = cases.length;
  result.parity = parity(cases);
  result.fitLoss = await oneEpoch();
  result.streamStepExact = streamStep();
}

main()
  .catch((error) => result.failures.push(`threw: ${error && error.stack ? error.stack : error}`))
  .finally(() => {
    writeFileSync(resultFile, JSON.stringify(result, null, 2));
    console.log(JSON.stringify(result));
    process.exitCode = result.failures.length ? 1 : 0;
  });
