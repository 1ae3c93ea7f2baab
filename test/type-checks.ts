// Type-level tests: compiled by `tsc --noEmit -p tsconfig.json` (part of npm test), never run. Each
// `@ts-expect-error` line must be a compile error (tsc fails if it is not); the other lines must
// compile. They pin the generic types of DataLoader and fit / evaluate / predict.
import { DataLoader, padCollate, TensorDataset, type PaddedBatch } from '../src/data/index.js';
import { nn, optim, type Tensor } from '../src/index.js';
import { evaluate, fit, predict, type Batch } from '../src/train/index.js';

declare const x: Tensor, y: Tensor;
const model = new nn.Linear(3, 2);
const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
const assertType = <T>(value: T): T => value;

// Iterating a DataLoader over a TensorDataset yields Tensor[] batches.
const tensorLoader = new DataLoader(new TensorDataset(x, y), { batchSize: 4 });
for (const batch of tensorLoader) assertType<Tensor[]>(batch);
// @ts-expect-error a TensorDataset's batch is not a single Tensor
for (const batch of tensorLoader) assertType<Tensor>(batch);

// Tuples and records are collated field by field.
const pairs = new DataLoader([[x, 1]] as [Tensor, number][]);
for (const [input, target] of pairs) assertType<[Tensor, Tensor]>([input, target]);
const records = new DataLoader([{ input: x, label: 1 }]);
for (const batch of records) assertType<{ input: Tensor; label: Tensor }>(batch);
// A collate function sets the batch type.
const padded = new DataLoader([x], { collate: padCollate() });
for (const batch of padded) assertType<PaddedBatch>(batch);

// fit / evaluate / predict take loaders and iterables of batches, and hand the batch type to a hook.
void fit(model, { train: tensorLoader, validation: [[x, y]], loss: 'mse', optimizer });
void fit(model, {
  train: padded, loss: 'mse', optimizer,
  forward: (m, batch) => m.forward(assertType<Batch<PaddedBatch>>(batch).raw.input),
});
void evaluate(model, tensorLoader, ['loss']);
void predict(model, tensorLoader);
void predict(model, x);

// @ts-expect-error train must be batches, not a number
void fit(model, { train: 42, loss: 'mse', optimizer });
// @ts-expect-error train must be batches, not a dataset (wrap it in a DataLoader)
void fit(model, { train: new TensorDataset(x, y), loss: 'mse', optimizer });
// @ts-expect-error validation must be batches
void fit(model, { train: tensorLoader, validation: 'val.csv', loss: 'mse', optimizer });
// @ts-expect-error evaluate needs batches
void evaluate(model, 42);
void fit(model, {
  train: tensorLoader, loss: 'mse', optimizer,
  // @ts-expect-error the hook's batch is the loader's: Tensor[] has no .input
  forward: (m, batch) => m.forward(batch.raw.input),
});
