// nn modules apart from the recurrent parity (test/nn-parity.test.ts): parameter names and order,
// stateDict / loadStateDict and their PyTorch error messages, train/eval and dropout, zeroGrad,
// Linear / Embedding / cells against PyTorch 1.13 goldens (test/fixtures/nn/make_nn.py), init,
// packed-sequence helpers, and bad input with exact messages.
//
// Tolerance against PyTorch: mixed error |ours − torch| / max(1, |torch|) ≤ 1e-5 (single ops and
// single steps; measured worst: cells 1.8e-7, printed by the cells block).
import { afterAll, describe, expect, it } from 'vitest';
import { loadSafetensors, manualSeed, nn, noGrad, randn, serializeSafetensors, Tensor, tensor, zeros } from '../src/index.js';
import { randomUniform } from '../src/tensor/random.js';
import { NONLINEARITIES } from '../src/cell-table.js';
import { loadNnFixture, mixedError, stateDictOf, toTensor, WorstErrors, type FixtureCase } from './helpers/nn-fixtures.js';

const TOLERANCE = 1e-5;

const names = (module: nn.Module): string[] => module.namedParameters().map(([name]) => name);

describe('parameter names and order', () => {
  it('RNN/LSTM/GRU register exactly PyTorch\'s state_dict keys in its order (every fixture)', () => {
    const { cases } = loadNnFixture<{ cases: (FixtureCase & { cell: string; inputSize: number; hiddenSize: number; options: Record<string, unknown> })[] }>('rnn.json');
    for (const c of cases) {
      const o = c.options as nn.LSTMOptions & { nonlinearity?: 'tanh' | 'relu' };
      const base = { numLayers: o.numLayers, bias: o.bias, batchFirst: o.batchFirst, bidirectional: o.bidirectional };
      const module = c.cell === 'lstm' ? new nn.LSTM(c.inputSize, c.hiddenSize, { ...base, projSize: o.projSize })
        : c.cell === 'gru' ? new nn.GRU(c.inputSize, c.hiddenSize, base)
          : new nn.RNN(c.inputSize, c.hiddenSize, { ...base, nonlinearity: o.nonlinearity });
      const torchKeys = Object.keys(c.tensors).filter((k) => k.startsWith('state.')).map((k) => k.slice(6));
      expect(names(module), c.name).toEqual(torchKeys);
      expect(Object.keys(module.stateDict()), c.name).toEqual(torchKeys);
      for (const [name, param] of module.namedParameters()) expect(param.shape, `${c.name} ${name}`).toEqual(c.tensors[`state.${name}`].shape);
    }
  });

  it('LSTM with projection: weight_hr per layer-direction, after the biases', () => {
    const lstm = new nn.LSTM(3, 8, { numLayers: 2, bidirectional: true, projSize: 5 });
    expect(names(lstm)).toEqual([
      'weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_hr_l0',
      'weight_ih_l0_reverse', 'weight_hh_l0_reverse', 'bias_ih_l0_reverse', 'bias_hh_l0_reverse', 'weight_hr_l0_reverse',
      'weight_ih_l1', 'weight_hh_l1', 'bias_ih_l1', 'bias_hh_l1', 'weight_hr_l1',
      'weight_ih_l1_reverse', 'weight_hh_l1_reverse', 'bias_ih_l1_reverse', 'bias_hh_l1_reverse', 'weight_hr_l1_reverse',
    ]);
    expect(lstm.allWeights.map((group) => group.map((p) => p.shape))).toEqual([
      [[32, 3], [32, 5], [32], [32], [5, 8]], [[32, 3], [32, 5], [32], [32], [5, 8]],
      [[32, 10], [32, 5], [32], [32], [5, 8]], [[32, 10], [32, 5], [32], [32], [5, 8]],
    ]);
  });

  it('module-path prefixes: class fields, Sequential (nested), registerModule; shared parameters once', () => {
    class Model extends nn.Module {
      embedding = new nn.Embedding(11, 6, { paddingIdx: 0 });
      lstm = new nn.LSTM(6, 12, { numLayers: 2, batchFirst: true });
      head = new nn.Sequential(new nn.Linear(12, 4), new nn.Dropout(0.1), new nn.Linear(4, 11, { bias: false }));
      forward(): void {}
    }
    const model = new Model();
    expect(names(model)).toEqual([
      'embedding.weight',
      'lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0',
      'lstm.weight_ih_l1', 'lstm.weight_hh_l1', 'lstm.bias_ih_l1', 'lstm.bias_hh_l1',
      'head.0.weight', 'head.0.bias', 'head.2.weight',
    ]);
    expect(model.namedModules().map(([name, m]) => `${name}:${m.className}`)).toEqual([
      ':Model', 'embedding:Embedding', 'lstm:LSTM', 'head:Sequential', 'head.0:Linear', 'head.1:Dropout', 'head.2:Linear',
    ]);
    expect(model.children().length).toBe(3);
    expect(model.parameters(false)).toEqual([]);

    // Tied weights: one parameter, listed once; stateDict keeps both keys like PyTorch.
    const tied = new nn.Sequential(new nn.Linear(4, 4), new nn.Linear(4, 4));
    (tied.at(1) as nn.Linear).weight = (tied.at(0) as nn.Linear).weight;
    expect(names(tied)).toEqual(['0.weight', '0.bias', '1.bias']);
    expect(Object.keys(tied.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    const blocks = new nn.ModuleList([new nn.Linear(2, 2), new nn.GRUCell(2, 2, { bias: false })]);
    expect(names(blocks)).toEqual(['0.weight', '0.bias', '1.weight_ih', '1.weight_hh']);
    expect([...blocks].length).toBe(2);
    expect(() => blocks.forward()).toThrow('Module [ModuleList] is missing the required "forward" function');
    const named = new nn.Sequential({ encoder: new nn.Linear(2, 3), decoder: new nn.Linear(3, 2) });
    expect(names(named)).toEqual(['encoder.weight', 'encoder.bias', 'decoder.weight', 'decoder.bias']);
    expect(String(new nn.LSTM(10, 20, { numLayers: 2, batchFirst: true }))).toBe('LSTM(10, 20, num_layers=2, batch_first=True)');
  });

  it('cells: weight_ih, weight_hh, bias_ih, bias_hh', () => {
    expect(names(new nn.LSTMCell(3, 5))).toEqual(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
    expect(names(new nn.GRUCell(3, 5, { bias: false }))).toEqual(['weight_ih', 'weight_hh']);
    expect(new nn.RNNCell(3, 5).weight_ih.shape).toEqual([5, 3]);
    expect(new nn.GRUCell(3, 5).weight_hh.shape).toEqual([15, 5]);
  });
});

describe('stateDict / loadStateDict', () => {
  const lstm = (inputSize: number): nn.LSTM => new nn.LSTM(inputSize, 10);

  it('round trip through safetensors (the interchange format) restores a model exactly', () => {
    manualSeed(12);
    const source = new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true, projSize: 2 });
    const loaded = loadSafetensors(serializeSafetensors(source.stateDict()));
    const target = new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true, projSize: 2 });
    target.loadStateDict(loaded);
    target.parameters().forEach((p, i) => expect(Array.from(p.data)).toEqual(Array.from(source.parameters()[i].data)));
  });

  it('stateDict values are views of the live parameters', () => {
    const module = lstm(7);
    const dict = module.stateDict();
    expect(dict.weight_ih_l0.data).toBe(module.parameters()[0].data);
    expect(dict.weight_ih_l0.requiresGrad).toBe(false);
  });

  it('round trip copies values in place (parameter objects keep their identity)', () => {
    const source = lstm(7), target = lstm(7);
    const before = target.parameters();
    expect(target.loadStateDict(source.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(target.parameters()).toEqual(before);
    target.parameters().forEach((p, i) => {
      expect(p).toBe(before[i]);
      expect(Array.from(p.data)).toEqual(Array.from(source.parameters()[i].data));
    });
    const asMap = new Map(Object.entries(source.stateDict()));
    expect(() => target.loadStateDict(asMap)).not.toThrow();
  });

  it('PyTorch\'s messages: size mismatch, missing and unexpected keys, in PyTorch\'s order', () => {
    expect(() => lstm(8).loadStateDict(lstm(7).stateDict())).toThrow(new Error('Error(s) in loading state_dict for LSTM:\n'
      + '\tsize mismatch for weight_ih_l0: copying a param with shape [40, 7] from checkpoint, the shape in current model is [40, 8].'));
    const dict: Record<string, Tensor> = lstm(7).stateDict();
    delete dict.weight_hh_l0;
    dict.extra = zeros(1);
    expect(() => lstm(7).loadStateDict(dict)).toThrow(new Error('Error(s) in loading state_dict for LSTM:\n'
      + '\tMissing key(s) in state_dict: "weight_hh_l0". \n\tUnexpected key(s) in state_dict: "extra". '));
    const mixed: Record<string, Tensor> = lstm(8).stateDict();
    delete mixed.bias_hh_l0;
    mixed.weight_ih_l0 = zeros(40, 7);
    mixed['foo.bar'] = zeros(2);
    expect(() => lstm(8).loadStateDict(mixed)).toThrow(new Error('Error(s) in loading state_dict for LSTM:\n'
      + '\tMissing key(s) in state_dict: "bias_hh_l0". \n\tUnexpected key(s) in state_dict: "foo.bar". \n'
      + '\tsize mismatch for weight_ih_l0: copying a param with shape [40, 7] from checkpoint, the shape in current model is [40, 8].'));
  });

  it('nested prefixes: unexpected keys listed module by module, as PyTorch does', () => {
    const make = (): nn.Sequential => new nn.Sequential(new nn.Linear(3, 4), new nn.Sequential(new nn.Linear(4, 2, { bias: false })));
    const dict: Record<string, Tensor> = make().stateDict();
    expect(Object.keys(dict)).toEqual(['0.weight', '0.bias', '1.0.weight']);
    dict['1.0.bias'] = zeros(2);
    dict['0.extra'] = zeros(1);
    delete dict['0.bias'];
    dict['2.weight'] = zeros(1);
    expect(() => make().loadStateDict(dict)).toThrow(new Error('Error(s) in loading state_dict for Sequential:\n'
      + '\tMissing key(s) in state_dict: "0.bias". \n\tUnexpected key(s) in state_dict: "2.weight", "0.extra", "1.0.bias". '));
  });

  it('strict: false reports keys; a size mismatch still throws; a failed load changes nothing', () => {
    const target = lstm(8);
    const dict: Record<string, Tensor> = lstm(8).stateDict();
    delete dict.bias_hh_l0;
    dict.x = zeros(1);
    expect(target.loadStateDict(dict, { strict: false })).toEqual({ missingKeys: ['bias_hh_l0'], unexpectedKeys: ['x'] });
    expect(Array.from(target.parameters()[0].data)).toEqual(Array.from(dict.weight_ih_l0.data));
    const snapshot = target.parameters().map((p) => Array.from(p.data));
    const bad: Record<string, Tensor> = lstm(7).stateDict();
    expect(() => target.loadStateDict(bad, { strict: false })).toThrow(/size mismatch for weight_ih_l0/);
    expect(target.parameters().map((p) => Array.from(p.data))).toEqual(snapshot);
    expect(() => target.loadStateDict({ ...lstm(8).stateDict(), weight_hh_l0: [1, 2] as unknown as Tensor })).toThrow(new Error(
      'Error(s) in loading state_dict for LSTM:\n\tWhile copying the parameter named "weight_hh_l0", expected Tensor or Tensor-like object from checkpoint but received an Array of length 2'));
    expect(() => target.loadStateDict(null as unknown as Record<string, Tensor>)).toThrow(
      new TypeError('Expected state_dict to be dict-like (an object or a Map) but received null'));
  });
});

describe('train / eval, dropout, zeroGrad', () => {
  it('train()/eval() set the flag on every module and return the module', () => {
    const model = new nn.Sequential(new nn.Linear(2, 2), new nn.Dropout(0.5));
    expect(model.eval()).toBe(model);
    expect(model.modules().every((m) => !m.training)).toBe(true);
    model.train();
    expect(model.modules().every((m) => m.training)).toBe(true);
  });

  it('Dropout: identity in eval; in training zeros ≈ p of the values and scales the rest by 1/(1−p)', () => {
    const drop = new nn.Dropout(0.25);
    const x = randn(200, 50);
    drop.eval();
    expect(drop.forward(x)).toBe(x);
    drop.train();
    manualSeed(5);
    const y = drop.forward(x);
    let zeroed = 0;
    y.data.forEach((v, i) => {
      if (v === 0) zeroed++;
      else expect(v).toBeCloseTo(x.data[i] / 0.75, 5);
    });
    expect(zeroed / y.numel).toBeGreaterThan(0.23);
    expect(zeroed / y.numel).toBeLessThan(0.27);
    manualSeed(5);
    expect(Array.from(drop.forward(x).data)).toEqual(Array.from(y.data));
  });

  it('LSTM dropout acts between layers in training only (seeded)', () => {
    manualSeed(3);
    const lstm = new nn.LSTM(4, 6, { numLayers: 2, dropout: 0.5 });
    const x = randn(5, 2, 4);
    const reference = new nn.LSTM(4, 6, { numLayers: 2 });
    reference.loadStateDict(lstm.stateDict());
    const [plain] = reference.forward(x);
    lstm.eval();
    expect(Array.from(lstm.forward(x)[0].data)).toEqual(Array.from(plain.data));
    lstm.train();
    manualSeed(9);
    const [first] = lstm.forward(x);
    manualSeed(9);
    const [second] = lstm.forward(x);
    expect(Array.from(first.data)).toEqual(Array.from(second.data));
    expect(mixedError(first, { shape: [...plain.shape], data: Array.from(plain.data) }, 'dropout')).toBeGreaterThan(1e-3);
    // Only-one-layer dropout is PyTorch's warning, not an error.
    expect(() => new nn.GRU(4, 6, { dropout: 0.5 })).not.toThrow();
  });

  it('zeroGrad: PyTorch 1.13 default zeroes existing grads in place; setToNone clears them', () => {
    const linear = new nn.Linear(3, 2);
    linear.forward(randn(4, 3)).sum().backward();
    const grad = linear.weight.grad!;
    linear.zeroGrad();
    expect(linear.weight.grad).toBe(grad);
    expect(Array.from(grad.data)).toEqual([0, 0, 0, 0, 0, 0]);
    linear.zeroGrad({ setToNone: true });
    expect(linear.weight.grad).toBeNull();
    expect(linear.bias!.grad).toBeNull();
    linear.zeroGrad();
    expect(linear.weight.grad).toBeNull();
  });
});

describe('Linear and Embedding vs PyTorch', () => {
  const { cases } = loadNnFixture('layers.json');
  const byName = (name: string): FixtureCase => cases.find((c) => c.name === name)!;

  it.each(['linear', 'linear_nobias'])('%s: values and gradients', (name) => {
    const c = byName(name);
    const t = c.tensors;
    const linear = new nn.Linear(7, 5, { bias: name === 'linear' });
    linear.loadStateDict(stateDictOf(c));
    const x = toTensor(t.x, true);
    const y = linear.forward(x);
    y.mul(toTensor(t.R)).sum().backward();
    expect(mixedError(y, t.y, 'y')).toBeLessThanOrEqual(TOLERANCE);
    expect(mixedError(x.grad, t.dx, 'dx')).toBeLessThanOrEqual(TOLERANCE);
    for (const [pname, param] of linear.namedParameters()) expect(mixedError(param.grad, t[`grad.${pname}`], pname)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('Embedding(paddingIdx): lookup, summed gradients of repeated rows, none for the padding row', () => {
    const c = byName('embedding_padding');
    const embedding = new nn.Embedding(10, 6, { paddingIdx: 2 });
    embedding.loadStateDict(stateDictOf(c));
    const y = embedding.forward(c.indices as number[][]);
    y.mul(toTensor(c.tensors.R)).sum().backward();
    expect(mixedError(y, c.tensors.y, 'y')).toBe(0);
    expect(mixedError(embedding.weight.grad, c.tensors['grad.weight'], 'grad')).toBeLessThanOrEqual(TOLERANCE);
    expect(Array.from(embedding.weight.grad!.data.subarray(12, 18))).toEqual([0, 0, 0, 0, 0, 0]);
    // Same lookup from a Tensor of indices and from an Int32Array.
    expect(Array.from(embedding.forward(tensor([1, 2, 9])).data)).toEqual(Array.from(y.data.subarray(0, 18)));
    expect(embedding.forward(Int32Array.of(1, 2)).shape).toEqual([2, 6]);
  });

  it('Embedding: padding row starts at zero, negative paddingIdx counts from the end, fromPretrained', () => {
    const embedding = new nn.Embedding(5, 3, { paddingIdx: -1 });
    expect(embedding.paddingIdx).toBe(4);
    expect(Array.from(embedding.weight.data.subarray(12, 15))).toEqual([0, 0, 0]);
    const pretrained = nn.Embedding.fromPretrained(tensor([[1, 2], [3, 4]]));
    expect(pretrained.weight.requiresGrad).toBe(false);
    expect(pretrained.forward([1]).toArray()).toEqual([[3, 4]]);
  });
});

describe('cells vs PyTorch', () => {
  const { cases } = loadNnFixture<{ cases: (FixtureCase & { cell: string; bias: boolean })[] }>('cells.json');
  const worst = new WorstErrors('cells vs torch float32, worst mixed error');
  afterAll(() => worst.print());

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const t = c.tensors;
    const options = { bias: c.bias };
    const x = toTensor(t.x, true);
    const hx = t.hx ? toTensor(t.hx, true) : null;
    const cx = t.cx ? toTensor(t.cx, true) : null;
    let module: nn.RNNCellBase, h: Tensor, cell: Tensor | null = null;
    if (c.cell === 'lstm') {
      const lstm = new nn.LSTMCell(7, 9, options);
      lstm.loadStateDict(stateDictOf(c));
      [h, cell] = lstm.forward(x, hx && cx ? [hx, cx] : null);
      module = lstm;
    } else {
      const step = c.cell === 'gru' ? new nn.GRUCell(7, 9, options)
        : new nn.RNNCell(7, 9, { ...options, nonlinearity: c.cell === 'rnn_relu' ? 'relu' : 'tanh' });
      step.loadStateDict(stateDictOf(c));
      h = step.forward(x, hx);
      module = step;
    }
    let loss = h.mul(toTensor(t.R1)).sum();
    if (cell) loss = loss.add(cell.mul(toTensor(t.R2)).sum());
    loss.backward();
    const checks: [string, Tensor | null | undefined, string][] = [['h', h, 'h'], ['dx', x.grad, 'dx']];
    if (cell) checks.push(['c', cell, 'c']);
    if (hx) checks.push(['dhx', hx.grad, 'dhx']);
    if (cx) checks.push(['dcx', cx.grad, 'dcx']);
    for (const [pname, param] of module.namedParameters()) checks.push([pname, param.grad, `grad.${pname}`]);
    for (const [what, got, key] of checks) {
      const error = mixedError(got, t[key], `${c.name} ${what}`);
      worst.add(c.cell, error, `${c.name} ${what}`);
      expect(error, `${c.name} ${what}`).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});

describe('init', () => {
  it('RNN modules draw U(−1/√H, 1/√H) for every parameter in registration order', () => {
    manualSeed(42);
    const gru = new nn.GRU(3, 4, { numLayers: 2, bidirectional: true });
    manualSeed(42);
    for (const param of gru.parameters()) {
      for (let i = 0; i < param.numel; i++) expect(param.data[i]).toBe(Math.fround(-0.5 + randomUniform()));
    }
    manualSeed(42);
    const cell = new nn.LSTMCell(3, 16);
    const all = cell.parameters().flatMap((p) => Array.from(p.data));
    expect(Math.max(...all)).toBeLessThanOrEqual(0.25);
    expect(Math.min(...all)).toBeGreaterThanOrEqual(-0.25);
  });

  it('Linear: U(±1/√inFeatures) for weight then bias; Embedding N(0, 1)', () => {
    manualSeed(1);
    const linear = new nn.Linear(400, 300);
    const w = Array.from(linear.weight.data);
    expect(Math.max(...w)).toBeLessThanOrEqual(1 / 20);
    expect(Math.max(...w)).toBeGreaterThan(0.049);
    expect(Math.max(...Array.from(linear.bias!.data).map(Math.abs))).toBeLessThanOrEqual(1 / 20);
    const e = new nn.Embedding(300, 200).weight.data;
    const mean = e.reduce((a, b) => a + b, 0) / e.length;
    const std = Math.sqrt(e.reduce((a, b) => a + (b - mean) ** 2, 0) / e.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(std - 1)).toBeLessThan(0.01);
  });

  it('xavier, kaiming, normal, constant, zeros: PyTorch\'s bounds and standard deviations', () => {
    const stats = (t: Tensor): { max: number; std: number; mean: number } => {
      const d = Array.from(t.data);
      const mean = d.reduce((a, b) => a + b, 0) / d.length;
      return { max: Math.max(...d.map(Math.abs)), std: Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length), mean };
    };
    manualSeed(7);
    const w = zeros(200, 300);
    const xavierBound = Math.sqrt(6 / 500);
    expect(stats(nn.init.xavierUniform_(w)).max).toBeLessThanOrEqual(xavierBound);
    expect(stats(nn.init.xavierUniform_(w)).std).toBeCloseTo(xavierBound / Math.sqrt(3), 3);
    expect(stats(nn.init.xavierNormal_(w, 2)).std).toBeCloseTo(2 * Math.sqrt(2 / 500), 3);
    const kaiming = Math.sqrt(2) / Math.sqrt(300);
    expect(stats(nn.init.kaimingNormal_(w, { nonlinearity: 'relu' })).std).toBeCloseTo(kaiming, 3);
    expect(stats(nn.init.kaimingUniform_(w, { mode: 'fan_out', nonlinearity: 'relu' })).max).toBeLessThanOrEqual(Math.sqrt(3) * Math.sqrt(2 / 200));
    expect(stats(nn.init.normal_(w, 3, 0.5)).mean).toBeCloseTo(3, 2);
    expect(stats(nn.init.uniform_(w, -0.1, 0.1)).max).toBeLessThanOrEqual(0.1);
    expect(Array.from(nn.init.constant_(zeros(2), 0.5).data)).toEqual([0.5, 0.5]);
    expect(Array.from(nn.init.zeros_(w).data).every((v) => v === 0)).toBe(true);
    expect(nn.init.calculateGain('leaky_relu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 12);
    expect(nn.init.calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(() => nn.init.xavierUniform_(zeros(5))).toThrow(new RangeError('Fan in and fan out can not be computed for tensor with fewer than 2 dimensions'));
  });

  it('orthogonal_: orthonormal rows (wide) or columns (tall) to 1e-6, times gain', () => {
    manualSeed(11);
    for (const [rows, cols, gain] of [[6, 10, 1], [10, 6, 1], [7, 7, 2]] as const) {
      const q = nn.init.orthogonal_(zeros(rows, cols), gain).data;
      const wide = rows <= cols;
      const n = wide ? rows : cols;
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          let dot = 0;
          for (let k = 0; k < (wide ? cols : rows); k++) dot += wide ? q[a * cols + k] * q[b * cols + k] : q[k * cols + a] * q[k * cols + b];
          expect(Math.abs(dot - (a === b ? gain * gain : 0))).toBeLessThan(1e-6 * gain * gain);
        }
      }
    }
    expect(() => nn.init.orthogonal_(zeros(3))).toThrow(new RangeError('Only tensors with 2 or more dimensions are supported'));
  });
});

describe('packed sequences', () => {
  it('pack / pad round trip, PyTorch\'s batchSizes, sortedIndices and data layout', () => {
    const x = tensor(Array.from({ length: 4 * 3 * 2 }, (_, i) => i + 1), [4, 3, 2]);
    const packed = nn.packPaddedSequence(x, [2, 4, 1], { enforceSorted: false });
    expect(Array.from(packed.batchSizes)).toEqual([3, 2, 1, 1]);
    expect(Array.from(packed.sortedIndices)).toEqual([1, 0, 2]);
    expect(Array.from(packed.unsortedIndices)).toEqual([1, 0, 2]);
    // Rows: step 0 items 1, 0, 2; step 1 items 1, 0; steps 2-3 item 1.
    expect(packed.data.toArray()).toEqual([[3, 4], [1, 2], [5, 6], [9, 10], [7, 8], [15, 16], [21, 22]]);
    const [padded, lengths] = nn.padPackedSequence(packed, { batchFirst: true, paddingValue: -1 });
    expect(Array.from(lengths)).toEqual([2, 4, 1]);
    expect(padded.toArray()).toEqual([
      [[1, 2], [7, 8], [-1, -1], [-1, -1]],
      [[3, 4], [9, 10], [15, 16], [21, 22]],
      [[5, 6], [-1, -1], [-1, -1], [-1, -1]],
    ]);
    const seq = nn.packSequence([tensor([[1], [2], [3]]), tensor([[4]])]);
    expect(nn.padPackedSequence(seq)[0].toArray()).toEqual([[[1], [4]], [[2], [0]], [[3], [0]]]);
    expect(nn.padSequence([tensor([1, 2]), tensor([3])], { batchFirst: true }).toArray()).toEqual([[1, 2], [3, 0]]);
  });

  it('PyTorch\'s messages', () => {
    const x = zeros(5, 3, 2);
    expect(() => nn.packPaddedSequence(x, [3, 5, 1])).toThrow(new RangeError('`lengths` array must be sorted in decreasing order when '
      + '`enforce_sorted` is True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this '
      + 'requirement if you do not need ONNX exportability.'));
    expect(() => nn.packPaddedSequence(x, [3, 0, 1], { enforceSorted: false })).toThrow(
      new RangeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"));
    expect(() => nn.padPackedSequence(nn.packPaddedSequence(x, [5, 2, 1]), { totalLength: 3 })).toThrow(new RangeError(
      'Expected total_length to be at least the length of the longest sequence in input, but got total_length=3 and max sequence length being 5'));
  });
});

describe('recurrent modules: shapes and behavior', () => {
  it('batchFirst, unbatched input and lengths keep PyTorch\'s shapes', () => {
    const lstm = new nn.LSTM(4, 6, { numLayers: 2, bidirectional: true, batchFirst: true, projSize: 3 });
    const [out, [h, c]] = lstm.forward(randn(2, 5, 4), null, { lengths: [5, 0] });
    expect([out.shape, h.shape, c.shape]).toEqual([[2, 5, 6], [4, 2, 3], [4, 2, 6]]);
    // Length 0: zero output, final state = initial state (zeros).
    expect(Array.from(out.data.subarray(30)).every((v) => v === 0)).toBe(true);
    const [out1, [h1]] = lstm.forward(randn(5, 4));
    expect([out1.shape, h1.shape]).toEqual([[5, 6], [4, 3]]);
    const [gruOut, gruH] = new nn.GRU(4, 6).forward(randn(5, 4), randn(1, 6));
    expect([gruOut.shape, gruH.shape]).toEqual([[5, 6], [1, 6]]);
  });

  it('unbatched input equals the same data as a batch of one', () => {
    manualSeed(4);
    const rnn = new nn.RNN(3, 5, { numLayers: 2, bidirectional: true, nonlinearity: 'relu' });
    const x = randn(6, 3);
    const [a, ha] = rnn.forward(x);
    const [b, hb] = rnn.forward(new Tensor(x.data, [6, 1, 3]));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(ha.data)).toEqual(Array.from(hb.data));
  });

  it('noGrad records no tape; gradients reach only what requires them', () => {
    const gru = new nn.GRU(3, 4);
    const [out] = noGrad(() => gru.forward(randn(2, 2, 3)));
    expect(out.requiresGrad).toBe(false);
    expect(out.gradFn).toBeNull();
    const x = randn(2, 2, 3);
    const [y, h] = gru.forward(x);
    h.sum().add(y.sum()).backward();
    expect(x.grad).toBeNull();
    expect(gru.parameters().every((p) => p.grad !== null)).toBe(true);
  });

  it('forwardAsync gives exactly forward\'s results and a tape that backpropagates the same', async () => {
    manualSeed(8);
    const lstm = new nn.LSTM(3, 5, { numLayers: 2, bidirectional: true, batchFirst: true });
    const gru = new nn.GRU(3, 5, { numLayers: 2 });
    const x = randn(2, 4, 3);
    const h0 = randn(4, 2, 5), c0 = randn(4, 2, 5);
    const [syncOut, [syncH]] = lstm.forward(x, [h0, c0], { lengths: [4, 2] });
    syncOut.sum().add(syncH.sum()).backward();
    const syncGrads = lstm.parameters().map((p) => Array.from(p.grad!.data));
    lstm.zeroGrad({ setToNone: true });
    const [asyncOut, [asyncH]] = await lstm.forwardAsync(x, [h0, c0], { lengths: [4, 2] });
    expect(Array.from(asyncOut.data)).toEqual(Array.from(syncOut.data));
    asyncOut.sum().add(asyncH.sum()).backward();
    expect(lstm.parameters().map((p) => Array.from(p.grad!.data))).toEqual(syncGrads);
    const xt = randn(4, 2, 3);
    const [gruAsync, gruH] = await gru.forwardAsync(xt);
    expect(Array.from(gruAsync.data)).toEqual(Array.from(gru.forward(xt)[0].data));
    expect(gruH.shape).toEqual([2, 2, 5]);
    await expect(gru.forwardAsync(randn(4, 2, 7))).rejects.toThrow('input.size(-1) must be equal to inputSize. Expected 3, got 7');
  });

  it('requiresGrad_(false) freezes a module; apply visits every module', () => {
    const model = new nn.Sequential(new nn.Linear(2, 2), new nn.Linear(2, 1));
    model.at(0).requiresGrad_(false);
    (model.forward(randn(3, 2)) as Tensor).sum().backward();
    expect((model.at(0) as nn.Linear).weight.grad).toBeNull();
    expect((model.at(1) as nn.Linear).weight.grad).not.toBeNull();
    const visited: string[] = [];
    model.apply((m) => visited.push(m.className));
    expect(visited).toEqual(['Linear', 'Linear', 'Sequential']);
  });

  it('only hN used: gradients still flow (the output node is optional)', () => {
    const lstm = new nn.LSTM(2, 3);
    const x = randn(4, 1, 2).requiresGrad_();
    const [, [h]] = lstm.forward(x);
    h.sum().backward();
    expect(Array.from(x.grad!.data).some((v) => v !== 0)).toBe(true);
  });
});

describe('bad input: exact messages', () => {
  const lstm = new nn.LSTM(10, 20, { numLayers: 2 });
  const gru = new nn.GRU(10, 20, { numLayers: 2, bidirectional: true });

  it('recurrent forward: PyTorch\'s shape messages', () => {
    expect(() => lstm.forward(zeros(5, 3, 7))).toThrow(new RangeError('input.size(-1) must be equal to inputSize. Expected 10, got 7'));
    expect(() => lstm.forward(zeros(5, 3, 10), [zeros(1, 3, 20), zeros(2, 3, 20)])).toThrow(new RangeError('Expected hidden[0] size (2, 3, 20), got [1, 3, 20]'));
    expect(() => lstm.forward(zeros(5, 3, 10), [zeros(2, 3, 20), zeros(2, 4, 20)])).toThrow(new RangeError('Expected hidden[1] size (2, 3, 20), got [2, 4, 20]'));
    expect(() => lstm.forward(zeros(5, 3, 10), [zeros(3, 20), zeros(2, 3, 20)])).toThrow(new RangeError('For batched 3-D input, hx and cx should also be 3-D but got (2-D, 3-D) tensors'));
    expect(() => lstm.forward(zeros(5, 10), [zeros(2, 3, 20), zeros(2, 3, 20)])).toThrow(new RangeError('For unbatched 2-D input, hx and cx should also be 2-D but got (3-D, 3-D) tensors'));
    expect(() => lstm.forward(zeros(5, 10), [zeros(2, 21), zeros(2, 20)])).toThrow(new RangeError('Expected hidden[0] size (2, 1, 20), got [2, 1, 21]'));
    expect(() => lstm.forward(zeros(10))).toThrow(new RangeError('LSTM: Expected input to be 2-D or 3-D but received 1-D tensor'));
    expect(() => gru.forward(zeros(5, 3, 10), zeros(2, 3, 20))).toThrow(new RangeError('Expected hidden size (4, 3, 20), got [2, 3, 20]'));
    expect(() => gru.forward(zeros(5, 3, 10), zeros(4, 20))).toThrow(new RangeError('For batched 3-D input, hx should also be 3-D but got 2-D tensor'));
    expect(() => gru.forward(zeros(5, 10), zeros(4, 1, 20))).toThrow(new RangeError('For unbatched 2-D input, hx should also be 2-D but got 3-D tensor'));
    expect(() => gru.forward(zeros(5, 10), zeros(4, 21))).toThrow(new RangeError('Expected hidden size (4, 1, 20), got [4, 1, 21]'));
    expect(() => gru.forward(zeros(5, 3, 10), null, { lengths: [5, 6, 1] })).toThrow(new RangeError('Expected integer between 0 and 5 for lengths[1] but received 6 of type number'));
    expect(() => gru.forward(zeros(5, 3, 10), null, { lengths: [5, 1] })).toThrow(new RangeError('Expected array of length 3 for lengths (batch = 3) but received length 2'));
    expect(() => lstm.forward(zeros(5, 3, 10), zeros(2, 3, 20) as unknown as [Tensor, Tensor])).toThrow(TypeError);
  });

  it('constructors: PyTorch\'s messages for proj_size / dropout, validate.ts style otherwise, unknown options rejected', () => {
    expect(() => new nn.LSTM(10, 20, { projSize: 20 })).toThrow(new RangeError('proj_size has to be smaller than hidden_size'));
    expect(() => new nn.LSTM(10, 20, { projSize: -1 })).toThrow(new RangeError('proj_size should be a positive integer or zero to disable projections'));
    expect(() => new nn.GRU(10, 20, { projSize: 2 } as nn.RNNBaseOptions)).toThrow(new TypeError('proj_size argument is only supported for LSTM, not RNN or GRU'));
    expect(() => new nn.LSTM(10, 20, { dropout: 1.5 })).toThrow(new RangeError('dropout should be a number in range [0, 1] representing the probability of an element being zeroed'));
    expect(() => new nn.LSTM(10, 1.5)).toThrow(new RangeError('Expected positive integer for hiddenSize but received 1.5 of type number'));
    expect(() => new nn.LSTM(10, 20, { numLayers: 0 })).toThrow(new RangeError('Expected positive integer for numLayers but received 0 of type number'));
    expect(() => new nn.LSTM(10, 20, { bidirectional: 1 as unknown as boolean })).toThrow(new TypeError('Expected boolean for bidirectional but received 1 of type number'));
    expect(() => new nn.RNN(10, 20, { nonlinearity: 'sigmoid' as 'tanh' })).toThrow(new RangeError(`Expected one of ${NONLINEARITIES.join(', ')} for nonlinearity but received sigmoid of type string`));
    expect(() => new nn.LSTM(10, 20, { batch_first: true } as nn.LSTMOptions)).toThrow(new TypeError(
      'Expected one of numLayers, bias, batchFirst, dropout, bidirectional, inputDropout, recurrentDropout, projSize for LSTM option but received batch_first of type string'));
    expect(() => new nn.Embedding(10, 3, { paddingIdx: 10 })).toThrow(new RangeError('Padding_idx must be within num_embeddings'));
    expect(() => new nn.Dropout(1.5)).toThrow(new RangeError('dropout probability has to be between 0 and 1, but got 1.5'));
  });

  it('Linear, Embedding and cells: PyTorch\'s messages', () => {
    expect(() => new nn.Linear(7, 5).forward(zeros(2, 3, 8))).toThrow(new RangeError('mat1 and mat2 shapes cannot be multiplied (6x8 and 7x5)'));
    expect(() => new nn.Embedding(10, 3).forward([10])).toThrow(new RangeError('index out of range in self'));
    expect(() => new nn.Embedding(10, 3).forward([1.5])).toThrow(new TypeError('Expected integer for indices[0] but received 1.5 of type number'));
    const cell = new nn.LSTMCell(10, 9);
    expect(() => cell.forward(zeros(3, 7))).toThrow(new RangeError('input has inconsistent input_size: got 7 expected 10'));
    expect(() => cell.forward(zeros(3, 10), [zeros(2, 9), zeros(2, 9)])).toThrow(new RangeError("Input batch size 3 doesn't match hidden0 batch size 2"));
    expect(() => cell.forward(zeros(3, 10), [zeros(3, 5), zeros(3, 9)])).toThrow(new RangeError('hidden0 has inconsistent hidden_size: got 5, expected 9'));
    expect(() => cell.forward(zeros(3, 10), [zeros(3, 9), zeros(3, 5)])).toThrow(new RangeError('hidden1 has inconsistent hidden_size: got 5, expected 9'));
    expect(() => cell.forward(zeros(2, 3, 10))).toThrow(new RangeError('LSTMCell: Expected input to be 1-D or 2-D but received 3-D tensor'));
    expect(() => new nn.GRUCell(10, 9).forward(zeros(10), zeros(3, 9))).toThrow(new RangeError('For unbatched 1-D input, hx should also be 1-D but got 2-D tensor'));
  });
});
