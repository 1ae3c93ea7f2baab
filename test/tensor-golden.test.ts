// Ops against PyTorch 1.13 goldens (test/fixtures/tensor/make_tensor.py): output and every input
// gradient of sum(out·w), inputs float32-representable, PyTorch computed in float64.
// Tolerance: 2e-6 · max(1, |expected|) (float32 arithmetic on O(1) values).
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import * as rk from '../src/index.js';
import { Tensor } from '../src/index.js';
import { assertValues } from './helpers/gradcheck.js';

interface Case {
  name: string; op: string; args: Record<string, unknown>;
  inputs: { shape: number[]; data: number[] }[];
  output: { shape: number[]; data: number[] };
  weights: number[]; grads: number[][];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/tensor/tensor_ops.json', import.meta.url), 'utf8')) as { cases: Case[] };

type Args = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const OPS: Record<string, (inputs: Tensor[], args: Args) => Tensor> = {
  add: ([a, b]) => rk.add(a, b),
  sub: ([a, b]) => rk.sub(a, b),
  mul: ([a, b]) => rk.mul(a, b),
  div: ([a, b]) => rk.div(a, b),
  pow: ([a, b]) => rk.pow(a, b),
  powScalar: ([a], { exponent }) => rk.pow(a, exponent),
  sum: ([a], { dim, keepdim }) => rk.sum(a, dim, keepdim),
  mean: ([a], { dim, keepdim }) => rk.mean(a, dim, keepdim),
  logsumexp: ([a], { dim, keepdim }) => rk.logsumexp(a, dim, keepdim),
  softmax: ([a], { dim }) => rk.softmax(a, dim),
  logSoftmax: ([a], { dim }) => rk.logSoftmax(a, dim),
  tanh: ([a]) => rk.tanh(a),
  sigmoid: ([a]) => rk.sigmoid(a),
  relu: ([a]) => rk.relu(a),
  matmul: ([a, b]) => rk.matmul(a, b),
  linear: ([x, w, b]) => rk.linear(x, w, b),
  permute: ([a], { dims }) => rk.permute(a, dims),
  expand: ([a], { sizes }) => rk.expand(a, sizes),
  slice: ([a], { dim, start, end, step }) => rk.slice(a, dim, start, end, step),
  indexSelect: ([a], { dim, index }) => rk.indexSelect(a, dim, index),
  gather: ([a], { dim, index }) => rk.gather(a, dim, index),
  cat: (inputs, { dim }) => rk.cat(inputs, dim),
  stack: (inputs, { dim }) => rk.stack(inputs, dim),
  maxDim: ([a], { dim }) => rk.max(a, dim)[0],
  clamp: ([a], { min, max }) => rk.clamp(a, min, max),
  sqrtAbs: ([a]) => rk.sqrt(rk.abs(a)),
  variance: ([a], { dim, keepdim, correction }) => rk.variance(a, dim, keepdim, correction),
  std: ([a], { dim, keepdim, correction }) => a.std(dim, keepdim, correction),
  where: ([a, b], { condition }) => rk.where(rk.tensor(condition), a, b),
  maskedFill: ([a], { mask, value }) => a.maskedFill(rk.tensor(mask), value),
};

describe('ops against PyTorch goldens', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const inputs = c.inputs.map((x) => rk.tensor(x.data, x.shape, { requiresGrad: true }));
      const out = OPS[c.op](inputs, c.args);
      assertValues(out, c.output.data, 2e-6, c.output.shape);
      out.backward(rk.tensor(c.weights, c.output.shape));
      inputs.forEach((x, i) => assertValues(x.grad, c.grads[i], 2e-6, c.inputs[i].shape));
    });
  }
});
