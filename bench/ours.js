// rnnkit side of `npm run bench:kernels`: one config, one mode, one process.
//
// Spawned by bench/kernels.js; speaks the line protocol of bench/child.js (as bench/torch_kernels.py).
//
// Modes (same work as the PyTorch side):
//   train  forward (training: true) + MSE loss and its gradient dOutput = 2(output − target)/N in JS
//          + backward (dhN zero, no dInput: x needs no gradient, as in PyTorch), weight gradients
//          zeroed every iteration
//   infer  forward (training: false)
import { announce, fail, loadRnnkit, mseGradient, readChildArgs, serve } from './child.js';

const GATES = { lstm: 4, gru: 3, rnn: 1 };

// mulberry32: a tiny seeded generator, so every run builds the same weights and data.
function uniformFiller(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (length, bound) => {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = (next() * 2 - 1) * bound;
    return out;
  };
}

// PyTorch's parameter shapes and init: every parameter ~ U(−1/√H, 1/√H).
function buildProblem(args) {
  const uniform = uniformFiller(args.seed);
  const { input: I, hidden: H, batch: B, steps: T } = args;
  const G = GATES[args.cell];
  const bound = 1 / Math.sqrt(H);
  const weights = {
    weightIh: uniform(G * H * I, bound), // [G·H, I]
    weightHh: uniform(G * H * H, bound), // [G·H, H]
    biasIh: uniform(G * H, bound), // [G·H]
    biasHh: uniform(G * H, bound), // [G·H]
  };
  const grads = Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, new Float32Array(v.length)]));
  const x = uniform(T * B * I, 1); // [T, B, I]
  const target = uniform(T * B * H, 1); // [T, B, H]
  const opts = { steps: T, batch: B, inputSize: I, hiddenSize: H };
  if (args.cell === 'rnn') opts.nonlinearity = 'tanh';
  return { opts, weights, grads, x, target };
}

function makeStep(rnnkit, args, problem) {
  const forward = rnnkit[`${args.cell}Forward`];
  const backward = rnnkit[`${args.cell}Backward`];
  if (typeof forward !== 'function' || typeof backward !== 'function') {
    fail(`dist/index.js does not export ${args.cell}Forward/${args.cell}Backward yet`);
  }
  const { opts, weights, grads, x, target } = problem;
  if (args.mode === 'infer') return () => forward(opts, weights, x, { training: false });
  const dOutput = new Float32Array(target.length); // [T, B, H]
  return () => {
    for (const g of Object.values(grads)) g.fill(0);
    const result = forward(opts, weights, x, { training: true });
    mseGradient(result.output, target, dOutput);
    // x needs no gradient (as in the PyTorch peer): skip dInput like autograd does.
    backward(opts, weights, x, result.cache, grads, { dOutput, inputGrad: false });
    result.cache.release(); // its memory serves the next step (as PyTorch frees the graph after backward)
  };
}

async function main() {
  const args = readChildArgs(Object.keys(GATES), ['train', 'infer']);
  const rnnkit = await loadRnnkit(args.threads);
  const step = makeStep(rnnkit, args, buildProblem(args));
  announce(rnnkit, step, `${args.cell} ${args.mode} step`);
  await serve(step);
}

main();
