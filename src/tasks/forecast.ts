/**
 * Time-series forecasting: series loading and validation, normalization fitted on the training
 * part only, windowing into (input window → next value) samples, a recurrent {@link Forecaster}
 * (LSTM or GRU → Linear), training through `fit`, recursive multi-step forecasts with carried
 * state, MAE/RMSE, naive and seasonal-naive baselines, an SVG plot, and save/load of model plus
 * normalization in one safetensors file.
 *
 * ```ts
 * import { forecast } from 'rnnkit';
 * const series = forecast.toSeries(values, { covariates: forecast.calendarFeatures(dates) });
 * const { head: train, tail: test } = forecast.splitTail(series, 56);
 * const model = new forecast.Forecaster({ covariates: 7, hiddenSize: 64, window: 56 });
 * await forecast.trainForecaster(model, train, { epochs: 10 });
 * const predicted = model.forecast(train, 56, { futureCovariates: test.covariates });
 * forecast.errors(predicted, test.values);                           // { mae, rmse }
 * forecast.errors(forecast.seasonalNaive(train, 56, 7), test.values); // the baseline to beat
 * ```
 *
 * **Shapes.** A {@link Series} holds `values [steps, channels]` (the quantities forecast, one channel
 * for a univariate series) and optional `covariates [steps, covariateCount]`: inputs known in
 * advance for every step, also the future ones (calendar features). The model's input at step t is
 * `[values(t) normalized, covariates(t + 1)]` and its output is values(t + 1) normalized: each step
 * sees what is known about the step it predicts.
 * @module
 */
import { types } from 'node:util';
import { DataLoader } from '../data/loader.js';
import { TensorDataset } from '../data/dataset.js';
import { readTextFileSync } from '../io/files.js';
import { readSafetensors, saveSafetensors, serializeSafetensors } from '../io/safetensors.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { GRU, LSTM } from '../nn/rnn.js';
import type { RecurrentStream } from '../nn/stream.js';
import { Adam } from '../optim/adam.js';
import { OneCycleLR } from '../optim/one-cycle.js';
import { noGrad } from '../tensor/autograd.js';
import { manualSeed } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { fit, type History } from '../train/fit.js';
import type { Callback } from '../train/callbacks.js';
import type { ProgressSetting } from '../train/progress.js';
import {
  checkOptions, choice, describe, expectObject, intInRange, isNullish, MAX_DIM, optionalObject, positiveInt,
} from '../validate.js';
import { lineChart } from './svg.js';

// ---------------------------------------------------------------------------------------------
// Series

/** A multivariate time series with optional known-in-advance covariates. */
export interface Series {
  /** `[steps, channels]` row-major. */
  readonly values: Float32Array;
  /** Time steps. */
  readonly steps: number;
  /** Values per step. */
  readonly channels: number;
  /** `[steps, covariateCount]` row-major, or null when there are none. */
  readonly covariates: Float32Array | null;
  /** Covariates per step (0 without covariates). */
  readonly covariateCount: number;
}

/** Rows of numbers (`[[1, 2], [3, 4]]`), or one number per step for a single column. */
export type NumericTable = ArrayLike<number> | ArrayLike<ArrayLike<number>>;

const isArrayLike = (value: unknown): value is ArrayLike<unknown> => Array.isArray(value) || types.isTypedArray(value);

/**
 * Checks a table of finite numbers and flattens it to `[rows, columns]`.
 * @throws TypeError `Expected array of numbers or array of rows for series but received 5 of type number`
 * @throws RangeError `Expected finite number for series[12] but received NaN of type number`
 */
export function toTable(value: unknown, name: string): {
  /** The values, row-major `[rows, columns]`. */
  data: Float32Array;
  /** Rows (steps). */
  rows: number;
  /** Columns (channels; 1 for a flat array). */
  columns: number;
} {
  if (!isArrayLike(value)) throw new TypeError(`Expected array of numbers or array of rows for ${name} but received ${describe(value)}`);
  const rows = value.length;
  if (rows === 0) throw new RangeError(`Expected at least 1 step for ${name} but received an empty array`);
  const nested = isArrayLike(value[0]);
  const columns = nested ? (value[0] as ArrayLike<unknown>).length : 1;
  if (columns === 0) throw new RangeError(`Expected at least 1 column for ${name}[0] but received an empty array`);
  const data = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    const row = value[r];
    if (!nested) {
      data[r] = finite(row, `${name}[${r}]`);
      continue;
    }
    if (!isArrayLike(row)) throw new TypeError(`Expected array of ${columns} numbers for ${name}[${r}] but received ${describe(row)}`);
    if (row.length !== columns) {
      throw new RangeError(`Expected array of length ${columns} for ${name}[${r}] (columns of ${name}[0] = ${columns}) but received length ${row.length}`);
    }
    for (let c = 0; c < columns; c++) data[r * columns + c] = finite(row[c], `${name}[${r}][${c}]`);
  }
  return { data, rows, columns };
}

/** Like {@link toTable}, but a flat array is read as rows of `columns` (row-major). */
function flatRows(value: unknown, name: string, columns: number): { data: Float32Array; rows: number; columns: number } {
  if (!isArrayLike(value) || value.length === 0 || isArrayLike(value[0]) || columns === 1) return toTable(value, name);
  if (value.length % columns !== 0) {
    throw new RangeError(`Expected length divisible by ${columns} for ${name} (rows of ${columns}) but received length ${value.length}`);
  }
  const data = Float32Array.from(value as ArrayLike<unknown>, (v, i) => finite(v, `${name}[${Math.floor(i / columns)}][${i % columns}]`));
  return { data, rows: value.length / columns, columns };
}

function finite(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const message = `Expected finite number for ${name} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

/** Options of {@link toSeries}. */
export interface SeriesOptions {
  /** Known inputs per step (same number of steps as the values), e.g. from {@link calendarFeatures}. */
  covariates?: NumericTable | null;
}

/**
 * A validated {@link Series}: `values` is one number per step (univariate) or one row per step
 * (multivariate), finite; covariates likewise, one row per step.
 * @throws RangeError `Expected 100 rows for covariates (steps of series) but received 90`
 */
export function toSeries(values: NumericTable, options: SeriesOptions = {}): Series {
  const opts = optionalObject(options, 'options');
  const table = toTable(values, 'series');
  let covariates: Float32Array | null = null, covariateCount = 0;
  if (!isNullish(opts.covariates)) {
    const cov = toTable(opts.covariates, 'covariates');
    if (cov.rows !== table.rows) throw new RangeError(`Expected ${table.rows} rows for covariates (steps of series) but received ${cov.rows}`);
    ({ data: covariates, columns: covariateCount } = cov);
  }
  return { values: table.data, steps: table.rows, channels: table.columns, covariates, covariateCount };
}

/** Steps [start, end) of a series (views, not copies). */
export function sliceSeries(series: Series, start: number, end: number): Series {
  const { channels, covariateCount } = series;
  return {
    values: series.values.subarray(start * channels, end * channels),
    steps: end - start,
    channels,
    covariates: series.covariates ? series.covariates.subarray(start * covariateCount, end * covariateCount) : null,
    covariateCount,
  };
}

/**
 * The last `tail` steps held out: `head` to train on, `tail` to compare forecasts with.
 * @throws RangeError `Expected integer between 1 and 99 for tail but received 100 of type number`
 */
export function splitTail(series: Series, tail: number): {
  /** Every step but the last `tail`. */
  head: Series;
  /** The last `tail` steps. */
  tail: Series;
} {
  const held = intInRange(tail, 'tail', 1, series.steps - 1);
  return { head: sliceSeries(series, 0, series.steps - held), tail: sliceSeries(series, series.steps - held, series.steps) };
}

/** One channel of a series as a plain array (for plots and reports). */
export function channel(series: Series, index = 0): number[] {
  intInRange(index, 'channel', 0, series.channels - 1);
  return Array.from({ length: series.steps }, (_, t) => series.values[t * series.channels + index]);
}

/**
 * Columns of a CSV text as a series: `columns` by header name (default: every column but `dateColumn`),
 * rows in file order. A simple reader: comma-separated, first line the header, no quoted commas.
 * @throws RangeError `Expected number for births in CSV line 7 but received "n/a"`
 */
export function parseCsvSeries(text: string, options: { columns?: string[]; dateColumn?: string } = {}): {
  /** The value columns' names, in the order of each row. */
  names: string[];
  /** Each line's values, in file order. */
  rows: number[][];
  /** Each line's date text, or null without a date column. */
  dates: string[] | null;
} {
  if (typeof text !== 'string') throw new TypeError(`Expected string for CSV text but received ${describe(text)}`);
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line, i) => line !== '' || i === 0);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  if (lines.length < 2 || header.every((h) => h === '')) throw new RangeError('Expected a header line and at least 1 data line in CSV but received none');
  const column = (name: string): number => {
    const index = header.indexOf(name);
    if (index < 0) throw new RangeError(`Expected one of ${header.join(', ')} for CSV column but received ${describe(name)}`);
    return index;
  };
  const names = options.columns ?? header.filter((h) => h !== options.dateColumn);
  const indices = names.map(column);
  const dateIndex = options.dateColumn === undefined ? -1 : column(options.dateColumn);
  const rows: number[][] = [], dates: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i].split(',').map((cell) => cell.trim());
    if (cells.length !== header.length) throw new RangeError(`Expected ${header.length} fields in CSV line ${i + 1} but received ${cells.length}`);
    rows.push(indices.map((index, k) => {
      const value = cells[index] === '' ? NaN : Number(cells[index]);
      if (!Number.isFinite(value)) throw new RangeError(`Expected number for ${names[k]} in CSV line ${i + 1} but received ${JSON.stringify(cells[index])}`);
      return value;
    }));
    if (dateIndex >= 0) dates.push(cells[dateIndex]);
  }
  return { names, rows, dates: dateIndex >= 0 ? dates : null };
}

/** The kinds of {@link calendarFeatures}. */
export type CalendarFeature = 'dayOfWeek' | 'month' | 'dayOfYear';

/**
 * Known-in-advance covariates from dates (UTC): `dayOfWeek` one-hot (7, Monday first), `month`
 * one-hot (12), `dayOfYear` as sin and cos of the year's angle (2). One row per date.
 */
export function calendarFeatures(dates: ArrayLike<Date | string | number>, features: CalendarFeature[] = ['dayOfWeek']): number[][] {
  if (!isArrayLike(dates)) throw new TypeError(`Expected array of dates for dates but received ${describe(dates)}`);
  features.forEach((f, i) => choice(f, `features[${i}]`, ['dayOfWeek', 'month', 'dayOfYear'] as const));
  return Array.from(dates as ArrayLike<Date | string | number>, (value, i) => {
    const date = value instanceof Date ? value : new Date(value);
    if (Number.isNaN(date.getTime())) throw new RangeError(`Expected valid date for dates[${i}] but received ${describe(value)}`);
    const row: number[] = [];
    for (const feature of features) {
      if (feature === 'dayOfWeek') row.push(...oneHot((date.getUTCDay() + 6) % 7, 7));
      if (feature === 'month') row.push(...oneHot(date.getUTCMonth(), 12));
      if (feature === 'dayOfYear') {
        const angle = (2 * Math.PI * (date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1))) / (365.25 * 86400000);
        row.push(Math.sin(angle), Math.cos(angle));
      }
    }
    return row;
  });
}

const oneHot = (index: number, size: number): number[] => Array.from({ length: size }, (_, i) => (i === index ? 1 : 0));

// ---------------------------------------------------------------------------------------------
// Normalization

/** Per-channel standardization `(x − mean) / std`, fitted on the training steps only. */
export class Normalizer {
  /**
   * @param mean `[channels]`.
   * @param std `[channels]` (a constant channel gets std 1).
   */
  constructor(readonly mean: Float32Array, readonly std: Float32Array) {
    if (mean.length !== std.length) throw new RangeError(`Expected Float32Array of length ${mean.length} for std (channels of mean) but received length ${std.length}`);
  }

  /** Mean and population standard deviation of each channel over all steps of `series`. */
  static fit(series: Series): Normalizer {
    const { channels, steps, values } = series;
    const mean = new Float64Array(channels), sq = new Float64Array(channels);
    for (let t = 0; t < steps; t++) for (let c = 0; c < channels; c++) mean[c] += values[t * channels + c] / steps;
    for (let t = 0; t < steps; t++) for (let c = 0; c < channels; c++) sq[c] += (values[t * channels + c] - mean[c]) ** 2 / steps;
    const std = Float32Array.from(sq, (v) => (Math.sqrt(v) > 1e-12 ? Math.sqrt(v) : 1));
    return new Normalizer(Float32Array.from(mean), std);
  }

  /** Channels normalized. */
  get channels(): number {
    return this.mean.length;
  }

  /** Standardized values `[steps, channels]`. */
  normalize(values: Float32Array): Float32Array {
    const n = this.channels;
    return values.map((v, i) => (v - this.mean[i % n]) / this.std[i % n]);
  }

  /** Values in the original units. */
  denormalize(values: Float32Array): Float32Array {
    const n = this.channels;
    return values.map((v, i) => v * this.std[i % n] + this.mean[i % n]);
  }

  /** The series with standardized values (covariates unchanged). */
  apply(series: Series): Series {
    if (series.channels !== this.channels) {
      throw new RangeError(`Expected series with ${this.channels} channels (the normalizer's) but received ${series.channels}`);
    }
    return { ...series, values: this.normalize(series.values) };
  }
}

// ---------------------------------------------------------------------------------------------
// Windows

/** Features of the model input at one step: the step's values, then the next step's covariates. */
function inputRow(series: Series, t: number, nextCovariates: Float32Array | null, out: Float32Array, at: number): void {
  const { channels, covariateCount } = series;
  out.set(series.values.subarray(t * channels, (t + 1) * channels), at);
  if (covariateCount > 0) out.set(nextCovariates as Float32Array, at + channels);
}

function covariatesAt(series: Series, t: number): Float32Array | null {
  const k = series.covariateCount;
  return series.covariates ? series.covariates.subarray(t * k, (t + 1) * k) : null;
}

/** The minimum steps a series needs for windows of `window` steps. */
export function checkLength(series: Series, window: number, name = 'series'): void {
  if (series.steps < window + 1) {
    throw new RangeError(`Expected at least ${window + 1} steps for ${name} (window + 1 = ${window} + 1) but received ${series.steps} steps`);
  }
}

/**
 * (input window → next value) samples from an already normalized series: sample i reads steps
 * [i·stride, i·stride + window) and targets the values of the step after.
 * @returns inputs `[N, window, channels + covariateCount]`, targets `[N, channels]`
 */
export function makeWindows(series: Series, window: number, stride = 1): {
  /** `[N, window, channels + covariateCount]`. */
  inputs: Tensor;
  /** `[N, channels]`: the values of the step after each window. */
  targets: Tensor;
} {
  positiveInt(window, 'window');
  positiveInt(stride, 'stride');
  checkLength(series, window);
  const features = series.channels + series.covariateCount;
  const count = Math.floor((series.steps - window - 1) / stride) + 1;
  const inputs = new Float32Array(count * window * features);
  const targets = new Float32Array(count * series.channels);
  for (let i = 0; i < count; i++) {
    const start = i * stride;
    for (let j = 0; j < window; j++) {
      inputRow(series, start + j, covariatesAt(series, start + j + 1), inputs, (i * window + j) * features);
    }
    targets.set(series.values.subarray((start + window) * series.channels, (start + window + 1) * series.channels), i * series.channels);
  }
  return { inputs: new Tensor(inputs, [count, window, features]), targets: new Tensor(targets, [count, series.channels]) };
}

// ---------------------------------------------------------------------------------------------
// Model

/** Options of {@link Forecaster}. */
export interface ForecasterOptions {
  /** Channels forecast (default 1). */
  channels?: number;
  /** Covariates per step (default 0). */
  covariates?: number;
  /** Recurrent cell: 'lstm' (default) or 'gru'. */
  cell?: 'lstm' | 'gru';
  /** Recurrent width (default 64). */
  hiddenSize?: number;
  /** Stacked recurrent layers (default 1). */
  numLayers?: number;
  /** Dropout between stacked layers, in training (default 0). */
  dropout?: number;
  /** Steps per training window, and the default warm-up of {@link Forecaster.forecast} (default 28). */
  window?: number;
}

/** The resolved {@link ForecasterOptions}, as saved in the model file. */
export type ForecasterConfig = Required<ForecasterOptions>;

/** The recurrent state carried between calls: hN for a GRU, [hN, cN] for an LSTM. */
export type ForecastState = Tensor | [Tensor, Tensor];

const OPTION_KEYS = ['channels', 'covariates', 'cell', 'hiddenSize', 'numLayers', 'dropout', 'window'];

function resolveConfig(options: unknown): ForecasterConfig {
  const o = checkOptions(options, 'Forecaster', OPTION_KEYS);
  const dropout = o.dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
    throw new RangeError(`Expected number in [0, 1) for dropout but received ${describe(dropout)}`);
  }
  return {
    channels: o.channels === undefined ? 1 : positiveInt(o.channels, 'channels'),
    covariates: o.covariates === undefined ? 0 : intInRange(o.covariates, 'covariates', 0, MAX_DIM),
    cell: o.cell === undefined ? 'lstm' : choice(o.cell, 'cell', ['lstm', 'gru'] as const),
    hiddenSize: o.hiddenSize === undefined ? 64 : positiveInt(o.hiddenSize, 'hiddenSize'),
    numLayers: o.numLayers === undefined ? 1 : positiveInt(o.numLayers, 'numLayers'),
    dropout,
    window: o.window === undefined ? 28 : positiveInt(o.window, 'window'),
  };
}

/** Options of {@link Forecaster.forecast}. */
export interface ForecastOptions {
  /**
   * Covariates of the `horizon` steps after the history (more rows are ignored): rows, or a flat
   * row-major array `[horizon · covariateCount]`. Required when the model has covariates.
   */
  futureCovariates?: NumericTable | Float32Array | null;
  /** History steps the state is built on before forecasting (default: the model's window; at most the history). */
  warmup?: number;
}

/**
 * LSTM or GRU (batch first) → Linear on every step: predicts the next step's values (normalized)
 * from the inputs so far. Parameter names: `rnn.weight_ih_l0`, …, `head.weight`, `head.bias`.
 */
export class Forecaster extends Module {
  /** The sizes it was built with. */
  readonly config: ForecasterConfig;
  /** The recurrent stack (batch first). */
  readonly rnn: LSTM | GRU;
  /** Linear(hiddenSize → channels) on every step. */
  readonly head: Linear;
  /** Set by {@link trainForecaster} (fitted on its training series) or by {@link loadForecaster}. */
  normalizer: Normalizer | null = null;

  constructor(options: ForecasterOptions = {}) {
    super();
    this.config = resolveConfig(options);
    const { channels, covariates, cell, hiddenSize, numLayers, dropout } = this.config;
    const RNN = cell === 'lstm' ? LSTM : GRU;
    this.rnn = new RNN(channels + covariates, hiddenSize, { numLayers, dropout: numLayers > 1 ? dropout : 0, batchFirst: true });
    this.head = new Linear(hiddenSize, channels);
  }

  /** Input features per step: channels + covariates. */
  get features(): number {
    return this.config.channels + this.config.covariates;
  }

  /** x `[B, T, features]` → the next values after the last step `[B, channels]` (normalized). */
  forward(x: Tensor): Tensor {
    // Two calls because TypeScript cannot call a union of the two overloaded signatures.
    const [output] = this.rnn instanceof LSTM ? this.rnn.forward(x) : this.rnn.forward(x);
    return this.head.forward(output.select(1, -1));
  }

  /** {@link forward} with the recurrent kernels on the libuv pool (what `fit` calls). */
  async forwardAsync(x: Tensor): Promise<Tensor> {
    const [output] = this.rnn instanceof LSTM ? await this.rnn.forwardAsync(x) : await this.rnn.forwardAsync(x);
    return this.head.forward(output.select(1, -1));
  }

  /**
   * Runs `x [B, T, features]` on from `state` (null = zeros).
   * @returns `[predictions [B, T, channels], state]` — the prediction after every step, and the state after the last
   */
  step(x: Tensor, state: ForecastState | null): [Tensor, ForecastState] {
    if (this.rnn instanceof LSTM) {
      const [output, next] = this.rnn.forward(x, state as [Tensor, Tensor] | null);
      return [this.head.forward(output), next];
    }
    const [output, next] = this.rnn.forward(x, state as Tensor | null);
    return [this.head.forward(output), next];
  }

  /**
   * Recursive multi-step forecast: builds the state on the last `warmup` steps of `history` (its
   * own values, not normalized), then feeds each prediction back as the next input, carrying the
   * state, `horizon` times. No gradients, dropout off.
   * @returns the forecast `[horizon, channels]` in the original units
   * @throws RangeError `Expected positive integer for horizon but received 0 of type number`
   */
  forecast(history: Series, horizon: number, options: ForecastOptions = {}): Float32Array {
    const normalizer = this.requireNormalizer();
    const opts = optionalObject(options, 'options');
    positiveInt(horizon, 'horizon');
    this.checkSeries(history, 'history');
    const future = this.futureCovariates(opts.futureCovariates, horizon);
    const warmup = Math.min(opts.warmup === undefined ? this.config.window : positiveInt(opts.warmup, 'warmup'), history.steps);
    const wasTraining = this.training;
    this.eval();
    try {
      return normalizer.denormalize(noGrad(() => this.rollOut(normalizer.apply(history), warmup, horizon, future)));
    } finally {
      this.train(wasTraining);
    }
  }

  /**
   * One-step-ahead prediction on a live feed: the state is built on the last `warmup` steps of
   * `history` (as {@link forecast} does), and each {@link OnlineForecast.observe} of a newly arrived
   * step advances it by one stream step (packed weights) and predicts the step after.
   * @throws TypeError `Expected nextCovariates (3 numbers) because the model has covariates but received undefined`
   */
  online(history: Series, options: OnlineOptions = {}): OnlineForecast {
    const normalizer = this.requireNormalizer();
    const opts = optionalObject(options, 'options');
    this.checkSeries(history, 'history');
    const next = this.covariateRow(opts.nextCovariates, 'nextCovariates');
    const warmup = Math.min(opts.warmup === undefined ? this.config.window : positiveInt(opts.warmup, 'warmup'), history.steps);
    const { prediction, stream } = noGrad(() => this.warmUp(normalizer.apply(history), warmup, next));
    return new OnlineForecast(this, normalizer, stream, normalizer.denormalize(prediction));
  }

  /**
   * The covariates of one step: `k` finite numbers when the model has `k` > 0 covariates, else
   * absent (null).
   * @internal
   */
  covariateRow(value: unknown, name: string): Float32Array | null {
    const k = this.config.covariates;
    return this.expectsCovariates(value, name, `${k} numbers`) ? numberRow(value, name, k) : null;
  }

  // Whether covariates `value` (called `name`; `wanted` says what is expected) are to be read: true
  // when the model has covariates and they are given. Given to a model without any, or missing for
  // a model with some, is an error.
  private expectsCovariates(value: unknown, name: string, wanted: string): boolean {
    if (this.config.covariates === 0) {
      if (!isNullish(value)) throw new TypeError(`Expected no ${name} because the model has no covariates but received ${describe(value)}`);
      return false;
    }
    if (isNullish(value)) throw new TypeError(`Expected ${name} (${wanted}) because the model has covariates but received ${describe(value)}`);
    return true;
  }

  // The state after the last `warmup` normalized steps of `history` (the last one reading
  // `nextCovariates`, the first step's after the history), as a stream, and its prediction.
  private warmUp(history: Series, warmup: number, nextCovariates: Float32Array | null): { prediction: Float32Array; stream: RecurrentStream } {
    const { channels, covariates: k } = this.config;
    const features = this.features;
    const warm = new Float32Array(warmup * features);
    for (let j = 0; j < warmup; j++) {
      const t = history.steps - warmup + j;
      inputRow(history, t, k > 0 ? (t + 1 < history.steps ? covariatesAt(history, t + 1) : nextCovariates) : null, warm, j * features);
    }
    const [predictions, state] = this.step(new Tensor(warm, [1, warmup, features]), null);
    const stream = this.rnn.stream();
    if (Array.isArray(state)) stream.setState(state[0], state[1]);
    else stream.setState(state);
    return { prediction: predictions.data.slice((warmup - 1) * channels), stream };
  }

  /**
   * One stream step: `input` `[features]` (normalized values, next covariates) → the normalized
   * prediction `[channels]`.
   * @internal
   */
  streamStep(stream: RecurrentStream, input: Float32Array): Float32Array {
    return this.head.forward(stream.step(input)).data;
  }

  // Warm-up over the last `warmup` normalized steps, then one stream step per forecast step (packed
  // weights; the same numbers as forward), each reading the previous prediction.
  private rollOut(history: Series, warmup: number, horizon: number, future: Float32Array | null): Float32Array {
    const { channels, covariates: k } = this.config;
    const out = new Float32Array(horizon * channels);
    const { prediction, stream } = this.warmUp(history, warmup, k > 0 ? future!.subarray(0, k) : null);
    out.set(prediction, 0);
    const input = new Float32Array(this.features);
    for (let h = 1; h < horizon; h++) {
      input.set(out.subarray((h - 1) * channels, h * channels), 0);
      if (k > 0) input.set(future!.subarray(h * k, (h + 1) * k), channels);
      out.set(this.streamStep(stream, input), h * channels);
    }
    return out;
  }

  private futureCovariates(value: unknown, horizon: number): Float32Array | null {
    const k = this.config.covariates;
    if (!this.expectsCovariates(value, 'futureCovariates', `${horizon} rows of ${k}`)) return null;
    const table = flatRows(value, 'futureCovariates', k);
    if (table.rows < horizon || table.columns !== k) {
      throw new RangeError(`Expected at least ${horizon} rows of ${k} for futureCovariates (horizon, covariates) but received ${table.rows} rows of ${table.columns}`);
    }
    return table.data.subarray(0, horizon * k);
  }

  /** Throws unless the series has the model's channels and covariates. */
  checkSeries(series: Series, name: string): void {
    expectObject(series, name);
    if (series.channels !== this.config.channels || series.covariateCount !== this.config.covariates) {
      throw new RangeError(`Expected ${name} with ${this.config.channels} channels and ${this.config.covariates} covariates (the model's) `
        + `but received ${series.channels} channels and ${series.covariateCount} covariates`);
    }
  }

  private requireNormalizer(): Normalizer {
    if (!this.normalizer) throw new Error('Forecaster has no normalizer: train it with trainForecaster or load it with loadForecaster first');
    return this.normalizer;
  }
}

/** Options of {@link Forecaster.online}. */
export interface OnlineOptions {
  /** Covariates of the step after the history (required when the model has covariates). */
  nextCovariates?: ArrayLike<number> | null;
  /** History steps the state is built on (default: the model's window; at most the history). */
  warmup?: number;
}

/**
 * A live one-step-ahead forecast ({@link Forecaster.online}): `next` predicts the step after the
 * last one read; `observe(values, nextCovariates)` reads the step that just arrived and returns the
 * new `next`. Inference only (no gradients); the model's weights are packed once for its stream.
 */
export class OnlineForecast {
  /** The prediction for the next step, `[channels]` in the original units. */
  next: Float32Array;
  /** Steps read by {@link observe} since the warm-up. */
  observed = 0;
  private readonly input: Float32Array;

  /** @internal Made by {@link Forecaster.online}. */
  constructor(private readonly model: Forecaster, private readonly normalizer: Normalizer, private readonly stream: RecurrentStream,
    first: Float32Array) {
    this.next = first;
    this.input = new Float32Array(model.features);
  }

  /**
   * Reads the step that just arrived: its `values` (`channels` numbers, or one number) and the
   * covariates of the step after it (required when the model has covariates).
   * @returns the prediction for the step after it (also kept as `next`)
   * @throws TypeError / RangeError for values or covariates of the wrong count or not finite
   */
  observe(values: number | ArrayLike<number>, nextCovariates?: ArrayLike<number> | null): Float32Array {
    const { channels } = this.model.config;
    const row = numberRow(typeof values === 'number' ? [values] : values, 'values', channels);
    const covariates = this.model.covariateRow(nextCovariates, 'nextCovariates');
    this.input.set(this.normalizer.normalize(row), 0);
    if (covariates) this.input.set(covariates, channels);
    this.next = this.normalizer.denormalize(noGrad(() => this.model.streamStep(this.stream, this.input)));
    this.observed++;
    return this.next;
  }
}

// `length` finite numbers.
function numberRow(value: unknown, name: string, length: number): Float32Array {
  if (!isArrayLike(value)) throw new TypeError(`Expected array of ${length} numbers for ${name} but received ${describe(value)}`);
  if (value.length !== length) throw new RangeError(`Expected array of length ${length} for ${name} but received length ${value.length}`);
  return Float32Array.from(value as ArrayLike<unknown>, (v, i) => finite(v, `${name}[${i}]`));
}

// ---------------------------------------------------------------------------------------------
// Training

/** Options of {@link trainForecaster}. */
export interface TrainForecasterOptions {
  /** Passes over the windows (default 10). */
  epochs?: number;
  /** Windows per step (default 64). */
  batchSize?: number;
  /** Peak learning rate of the one-cycle schedule with Adam (default 3e-3). */
  lr?: number;
  /** Gradient clipping by total norm (default 1). */
  clipGradNorm?: number;
  /** Windows start every `stride` steps (default 1). */
  stride?: number;
  /** Seeds the global RNG first (init already happened in the constructor: seed before it for full reproducibility). */
  seed?: number;
  /** Passed to fit (default: false). */
  progress?: ProgressSetting;
  /** Passed to fit. */
  callbacks?: Callback | Callback[];
}

/**
 * Trains on the (input window → next value) samples of `train` with fit (MSE on normalized values,
 * Adam with a one-cycle learning rate, shuffled batches). Fits the model's normalizer on `train`
 * first unless it has one (so fine-tuning keeps the original scale).
 */
export async function trainForecaster(model: Forecaster, train: Series, options: TrainForecasterOptions = {}): Promise<History> {
  if (!(model instanceof Forecaster)) throw new TypeError(`Expected Forecaster for model but received ${describe(model)}`);
  const o = optionalObject(options, 'options') as TrainForecasterOptions;
  model.checkSeries(train, 'train');
  checkLength(train, model.config.window, 'train');
  if (o.seed !== undefined) manualSeed(intInRange(o.seed, 'seed', 0, Number.MAX_SAFE_INTEGER));
  const epochs = o.epochs === undefined ? 10 : positiveInt(o.epochs, 'epochs');
  const lr = o.lr ?? 3e-3;
  if (typeof lr !== 'number' || !(lr > 0)) throw new RangeError(`Expected positive number for lr but received ${describe(lr)}`);
  model.normalizer ??= Normalizer.fit(train);
  const { inputs, targets } = makeWindows(model.normalizer.apply(train), model.config.window, o.stride ?? 1);
  const loader = new DataLoader(new TensorDataset(inputs, targets), { batchSize: o.batchSize ?? 64, shuffle: true });
  const optimizer = new Adam(model.parameters(), { lr });
  const scheduler = new OneCycleLR(optimizer, lr, { epochs, stepsPerEpoch: loader.length });
  model.train();
  return fit(model, {
    train: loader, loss: 'mse', optimizer, scheduler, epochs, clipGradNorm: o.clipGradNorm ?? 1,
    progress: o.progress ?? false, callbacks: o.callbacks,
  });
}

// ---------------------------------------------------------------------------------------------
// Metrics and baselines

/** Mean absolute error and root mean squared error over all elements. */
export function errors(predicted: ArrayLike<number>, truth: ArrayLike<number>): {
  /** Mean absolute error. */
  mae: number;
  /** Root mean squared error. */
  rmse: number;
} {
  if (!isArrayLike(predicted) || !isArrayLike(truth)) {
    throw new TypeError(`Expected arrays for predicted and truth but received ${describe(isArrayLike(predicted) ? truth : predicted)}`);
  }
  if (predicted.length !== truth.length || truth.length === 0) {
    throw new RangeError(`Expected array of length ${truth.length} for predicted (length of truth) but received length ${predicted.length}`);
  }
  let absolute = 0, squared = 0;
  for (let i = 0; i < truth.length; i++) {
    const e = (predicted[i] as number) - (truth[i] as number);
    absolute += Math.abs(e);
    squared += e * e;
  }
  return { mae: absolute / truth.length, rmse: Math.sqrt(squared / truth.length) };
}

/** Naive forecast: the last observed values repeated `horizon` times, `[horizon, channels]`. */
export function naive(history: Series, horizon: number): Float32Array {
  return seasonalNaive(history, horizon, 1, 'naive');
}

/**
 * Seasonal-naive forecast: step h repeats the value one season earlier,
 * `y(T + h) = y(T + h − season·⌈(h + 1)/season⌉)`: the last observed season, tiled.
 * @throws RangeError `Expected integer between 1 and 30 for season but received 60 of type number`
 */
export function seasonalNaive(history: Series, horizon: number, season: number, name = 'season'): Float32Array {
  positiveInt(horizon, 'horizon');
  intInRange(season, name === 'naive' ? 'history steps' : name, 1, history.steps);
  const { channels, steps, values } = history;
  const out = new Float32Array(horizon * channels);
  for (let h = 0; h < horizon; h++) {
    const source = steps - season + (h % season);
    out.set(values.subarray(source * channels, (source + 1) * channels), h * channels);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Plot

/** Options of {@link forecastPlot}. */
export interface ForecastPlotOptions {
  /** Observed values before the forecast (one channel); the last `historySteps` are drawn. */
  history: ArrayLike<number>;
  /** Observed values over the horizon. */
  truth: ArrayLike<number>;
  /** Forecasts by name, each as long as `truth` (the first is drawn strongest). */
  forecasts: Record<string, ArrayLike<number>>;
  /** History steps shown (default 3 × horizon). */
  historySteps?: number;
  /** Title above the chart. */
  title?: string;
  /** Label of the y axis. */
  yLabel?: string;
  /** Default 'steps from the forecast start'. */
  xLabel?: string;
  /** Steps between x ticks, counted from the forecast start (default: round numbers). */
  tickEvery?: number;
  /** x tick label of a step offset from the forecast start (default the offset, e.g. −14, 0, 14). */
  xFormat?: (offset: number) => string;
  /** Lines of text under the chart. */
  caption?: string[];
}

/** Forecasts vs truth as an SVG document: the tail of the history, then the horizon. */
export function forecastPlot(options: ForecastPlotOptions): string {
  const o = expectObject(options, 'options') as unknown as ForecastPlotOptions;
  const horizon = o.truth.length;
  const shown = Math.min(o.history.length, o.historySteps ?? 3 * horizon);
  const historyX = Array.from({ length: shown }, (_, i) => i - shown);
  const horizonX = Array.from({ length: horizon + 1 }, (_, i) => i - 1); // joined to the last observation
  const last = o.history[o.history.length - 1];
  const joined = (values: ArrayLike<number>): number[] => [last, ...Array.from(values)];
  const dashes = ['', '5 3', '2 2', '8 3 2 3'];
  const forecasts = Object.entries(o.forecasts).map(([name, values], i) => ({
    name, values: joined(values), x: horizonX, dash: dashes[i % dashes.length] || undefined, width: i === 0 ? 2 : 1.3,
    color: ['#d62728', '#2ca02c', '#ff7f0e', '#9467bd'][i % 4],
  }));
  const ticks = o.tickEvery === undefined ? undefined
    : Array.from({ length: Math.floor((shown + horizon) / positiveInt(o.tickEvery, 'tickEvery')) + 1 }, (_, i) => Math.ceil(-shown / o.tickEvery!) * o.tickEvery! + i * o.tickEvery!)
      .filter((x) => x < horizon);
  return lineChart({
    xTicks: ticks, title: o.title ?? 'forecast vs truth', yLabel: o.yLabel, xLabel: o.xLabel ?? 'steps from the forecast start', xFormat: o.xFormat,
    series: [
      { name: 'history', values: Array.from(o.history).slice(-shown), x: historyX, color: '#555' },
      { name: 'truth', values: joined(o.truth), x: horizonX, color: '#1f77b4', width: 2 },
      ...forecasts,
    ],
    markers: [{ x: -0.5, label: 'forecast →' }],
    caption: o.caption,
  });
}

// ---------------------------------------------------------------------------------------------
// Save / load

const FORMAT = 'rnnkit.forecaster';

/** The model's tensors plus `normalizer.mean` / `normalizer.std`, with the config in the metadata. */
function forecasterTensors(model: Forecaster): [Record<string, Tensor>, Record<string, string>] {
  const normalizer = model.normalizer;
  if (!normalizer) throw new Error('Forecaster has no normalizer: train it with trainForecaster first');
  const tensors: Record<string, Tensor> = {
    ...model.stateDict(),
    'normalizer.mean': new Tensor(normalizer.mean, [normalizer.channels]),
    'normalizer.std': new Tensor(normalizer.std, [normalizer.channels]),
  };
  return [tensors, { format: FORMAT, config: JSON.stringify(model.config) }];
}

/** Writes model and normalization to one safetensors file (extra string `metadata` kept beside the config). */
export function saveForecaster(model: Forecaster, file: string, metadata: Record<string, string> = {}): void {
  const [tensors, meta] = forecasterTensors(model);
  saveSafetensors(file, tensors, { ...metadata, ...meta });
}

/** {@link saveForecaster} into a buffer. */
export function serializeForecaster(model: Forecaster, metadata: Record<string, string> = {}): Uint8Array {
  const [tensors, meta] = forecasterTensors(model);
  return serializeSafetensors(tensors, { ...metadata, ...meta });
}

/**
 * A Forecaster with its normalizer from a file or buffer written by {@link saveForecaster}.
 * @throws Error `Expected rnnkit.forecaster metadata (format, config) in model file but received none`
 */
export function loadForecaster(source: string | Uint8Array): {
  /** The model, its normalizer set. */
  model: Forecaster;
  /** The file's `__metadata__` strings. */
  metadata: Record<string, string>;
} {
  const { tensors, metadata } = readSafetensors(source);
  if (!metadata || metadata.format !== FORMAT || typeof metadata.config !== 'string') {
    throw new Error(`Expected ${FORMAT} metadata (format, config) in model file but received ${metadata ? `format ${metadata.format}` : 'none'}`);
  }
  const model = new Forecaster(JSON.parse(metadata.config) as ForecasterOptions);
  const mean = tensors['normalizer.mean'], std = tensors['normalizer.std'];
  if (!mean || !std) throw new Error('Expected tensors normalizer.mean and normalizer.std in model file but received none');
  const weights = Object.fromEntries(Object.entries(tensors).filter(([name]) => !name.startsWith('normalizer.')));
  model.loadStateDict(weights, { strict: true });
  model.normalizer = new Normalizer(mean.data, std.data);
  model.eval();
  return { model, metadata };
}

/** Reads a CSV file (only a regular one) with {@link parseCsvSeries}. */
export function readCsvSeries(file: string, options: { columns?: string[]; dateColumn?: string } = {}): ReturnType<typeof parseCsvSeries> {
  return parseCsvSeries(readTextFileSync(file, 'file'), options);
}
