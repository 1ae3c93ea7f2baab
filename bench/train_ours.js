// rnnkit side of `npm run bench` (bench/train.js): one config, one mode, one API, one process.
// Speaks the line protocol of bench/child.js.
//
// --api model (what users write, everything through dist/index.js):
//   train   const [out] = rnn.forward(x); nn.mseLoss(out, target).backward(); adam.step(); adam.zeroGrad()
//   infer   rnn.eval(); noGrad(() => rnn.forward(x))
//   stream  const stream = rnn.stream(); stream.step(x1) (packed weights, the state carried)
// --api bare (the floor the model API is measured against: the same work on raw arrays):
//   train   zero the gradient arrays; <cell>Forward(training); MSE + dOutput in one JS loop into a
//           reused buffer; <cell>Backward(inputGrad: false, as the layer passes for an input that needs
//           no gradient); the addon's adamStep on each parameter (what optim.Adam calls)
//   infer   <cell>Forward(training: false)
//   stream  the addon's preparedStep on a PreparedLayer, the state arrays updated in place
// Both APIs start from the same weights, input and target (the model's, seeded by manualSeed); the
// bare step updates its own copy of the weights.
// --paired (with --api model): each timed sample of the model step is paired with one of the bare
//   step in this process (alternating order), reported as `referenceMs` (bench/child.js): the
//   overhead of the model API is then measured under the same load, sample by sample.
import { announce, fail, loadRnnkit, mseGradient, readChildArgs, serve } from './child.js';

// optim.Adam's defaults, as PyTorch's, in the addon's order: lr, beta1, beta2, eps, weightDecay, amsgrad,
// maximize, decoupledWeightDecay (then the step count).
const ADAM = [1e-3, 0.9, 0.999, 1e-8, 0, false, false, false];

// The module with PyTorch's default init, x and target ~ U(−1, 1), all from the seeded global RNG.
function buildProblem(rnnkit, args) {
  const { nn, manualSeed, rand } = rnnkit;
  manualSeed(args.seed);
  const Module = { lstm: nn.LSTM, gru: nn.GRU, rnn: nn.RNN }[args.cell];
  const model = new Module(args.input, args.hidden);
  const uniform = (shape) => rand(shape).mul(2).sub(1);
  const x = uniform([args.steps, args.batch, args.input]); // [T, B, I]
  const target = uniform([args.steps, args.batch, args.hidden]); // [T, B, H]
  return { model, x, target };
}

function modelStep(rnnkit, args, { model, x, target }) {
  const { nn, optim, noGrad } = rnnkit;
  if (args.mode === 'train') {
    model.train();
    const adam = new optim.Adam(model.parameters());
    return () => {
      const [output] = model.forward(x);
      nn.mseLoss(output, target).backward();
      adam.step();
      adam.zeroGrad();
    };
  }
  model.eval();
  if (args.mode === 'infer') return () => noGrad(() => model.forward(x));
  const stream = model.stream({ batchSize: args.batch });
  return () => stream.step(x.data);
}

function bareStep(rnnkit, args, { model, x, target }) {
  const forward = rnnkit[`${args.cell}Forward`];
  const backward = rnnkit[`${args.cell}Backward`];
  const [weightIh, weightHh, biasIh, biasHh] = model.allWeights[0].map((p) => p.data.slice());
  const weights = { weightIh, weightHh, biasIh, biasHh };
  const opts = { steps: args.steps, batch: args.batch, inputSize: args.input, hiddenSize: args.hidden };
  if (args.cell === 'rnn') opts.nonlinearity = 'tanh';
  if (args.mode === 'infer') return () => forward(opts, weights, x.data, { training: false });
  if (args.mode === 'stream') {
    const cell = args.cell === 'rnn' ? 'rnn_tanh' : args.cell;
    const layer = new rnnkit.PreparedLayer(cell, { inputSize: args.input, hiddenSize: args.hidden }, weights);
    const { preparedStep } = rnnkit.loadBinding();
    const h = new Float32Array(args.batch * args.hidden), c = args.cell === 'lstm' ? new Float32Array(h.length) : null;
    return () => preparedStep(layer.handle, args.batch, x.data, h, c);
  }
  const names = Object.keys(weights);
  const grads = Object.fromEntries(names.map((k) => [k, new Float32Array(weights[k].length)]));
  const moments = names.map((k) => [new Float32Array(weights[k].length), new Float32Array(weights[k].length)]);
  const dOutput = new Float32Array(target.numel); // [T, B, H], reused (see mseGradient)
  const { adamStep } = rnnkit.loadBinding();
  let step = 0;
  return () => {
    for (const g of Object.values(grads)) g.fill(0);
    const result = forward(opts, weights, x.data, { training: true });
    mseGradient(result.output, target.data, dOutput);
    backward(opts, weights, x.data, result.cache, grads, { dOutput, inputGrad: false });
    step++;
    names.forEach((k, i) => adamStep(weights[k], grads[k], moments[i][0], moments[i][1], null, ...ADAM, step));
  };
}

async function main() {
  const args = readChildArgs(['lstm', 'gru', 'rnn'], ['train', 'infer', 'stream'], {
    api: { type: 'string', default: 'model' },
    paired: { type: 'boolean', default: false },
    inner: { type: 'string', default: '1' },
  });
  if (!['model', 'bare'].includes(args.api)) fail('--api must be model or bare');
  args.inner = Number(args.inner);
  if (!Number.isInteger(args.inner) || args.inner <= 0) fail('--inner must be a positive integer');
  const rnnkit = await loadRnnkit(args.threads);
  const problem = buildProblem(rnnkit, args);
  const step = (args.api === 'model' ? modelStep : bareStep)(rnnkit, args, problem);
  const reference = args.paired && args.api === 'model' ? bareStep(rnnkit, args, problem) : null;
  if (reference) announce(rnnkit, reference, `bare ${args.cell} ${args.mode} step`, null);
  announce(rnnkit, step, `${args.api} ${args.cell} ${args.mode} step`, { api: args.api, pairedWith: reference ? 'bare' : null });
  await serve(step, args.inner, reference);
}

main();
