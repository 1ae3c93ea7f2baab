/**
 * `rnnkit train forecast` and `rnnkit forecast`: the Forecaster of src/tasks/forecast.ts on a CSV
 * series. Columns are picked by header name (or 1-based position); an optional date column gives
 * calendar covariates (day of week, month, …) whose future values are continued from the dates'
 * spacing. The CLI's choices (columns, dates, calendar, season) travel in the model file's
 * metadata, so `rnnkit forecast` reads a new CSV the same way the training did.
 * @module
 */
import { writeFileSync } from 'node:fs';
import * as forecast from '../tasks/forecast.js';
import { lineChart } from '../tasks/svg.js';
import { manualSeed } from '../tensor/random.js';
import { asUserError, CliError } from './errors.js';
import { checkInputFile, csvNumber, looksLikeHeader, parseCsv, readInputText, writeOutputFile, type CsvRecord } from './files.js';
import { checkModelSize } from './limits.js';
import { epochPrinter, plural, progressSetting, type Output } from './output.js';
import { CALENDAR_FEATURES } from './specs.js';
import type { FORECAST_OPTIONS, TRAIN_FORECAST_OPTIONS } from './command-options.js';
import type { OptionValues } from './options.js';

/** How the CLI read the series; saved in the model's metadata under {@link CLI_METADATA_KEY}. */
export interface SeriesSpec {
  columns: string[];
  dateColumn: string | null;
  calendar: forecast.CalendarFeature[];
  season: number | null;
}

export const CLI_METADATA_KEY = 'rnnkit.cli.series';

/** A series read from CSV: rows × channels, the column names, the dates (when a date column was named). */
export interface SeriesTable {
  rows: number[][];
  names: string[];
  dates: string[] | null;
}

/** The index of a column given by header name or 1-based position. */
function columnIndex(name: string, header: string[] | null, width: number, file: string): number {
  const byName = header ? header.indexOf(name) : -1;
  if (byName >= 0) return byName;
  const position = Number(name);
  if (Number.isInteger(position) && position >= 1 && position <= width) return position - 1;
  const known = header ? `columns: ${header.join(', ')}` : `no header row: name columns by position 1..${width}`;
  throw new CliError(`${file} has no column '${name}' (${known})`);
}

/** Reads the value columns (default: the last column that is not the date column) and the dates. */
export function readSeriesCsv(file: string, columns: string[] | null, dateColumn: string | null): SeriesTable {
  const records = parseCsv(readInputText(file), file);
  const header = records.length > 0 && looksLikeHeader(records[0], 0) ? records.shift()!.fields.map((f) => f.trim()) : null;
  if (records.length === 0) throw new CliError(`${file}: no data rows`);
  const width = header?.length ?? records[0].fields.length;
  const dateIndex = dateColumn === null ? -1 : columnIndex(dateColumn, header, width, file);
  const names = columns ?? [header ? header[width - 1] : String(width)];
  const indices = names.map((name) => columnIndex(name, header, width, file));
  if (indices.includes(dateIndex)) throw new CliError(`--column and --date-column name the same column '${names[indices.indexOf(dateIndex)]}'`);
  const rows = records.map((record) => {
    if (record.fields.length !== width) throw new CliError(`${file} line ${record.line}: expected ${width} fields${header ? ` (${header.join(',')})` : ''}, got ${record.fields.length}`);
    return indices.map((index, k) => csvNumber(record, index, file, names[k]));
  });
  const dates = dateIndex < 0 ? null : readDates(records, dateIndex, `column ${dateIndex + 1} (${dateColumn})`, file);
  return { rows, names, dates };
}

/**
 * The dates of a date column, which must increase from row to row: a repeated or earlier date
 * would make the spacing of the forecast's future dates (and the calendar features) nonsense.
 */
function readDates(records: CsvRecord[], index: number, column: string, file: string): string[] {
  let previous: { time: number; value: string; line: number } | null = null;
  return records.map((record) => {
    const value = record.fields[index].trim();
    const time = new Date(value).getTime();
    const where = `${file} line ${record.line}, ${column}`;
    if (Number.isNaN(time)) throw new CliError(`${where}: '${value}' is not a date`);
    if (previous !== null && time === previous.time) throw new CliError(`${where}: '${value}' repeats the date of line ${previous.line} ('${previous.value}')`);
    if (previous !== null && time < previous.time) {
      throw new CliError(`${where}: '${value}' comes before '${previous.value}' of line ${previous.line} (rows must be in time order)`);
    }
    previous = { time, value, line: record.line };
    return value;
  });
}

const DAY = 86_400_000;

/** The `count` dates after the last one, continuing its spacing: whole months, years, or a fixed step. */
export function nextDates(dates: string[], count: number): Date[] {
  const last = new Date(dates[dates.length - 1]);
  const previous = dates.length > 1 ? new Date(dates[dates.length - 2]) : new Date(last.getTime() - DAY);
  const step = last.getTime() - previous.getTime();
  const months = step >= 28 * DAY && step <= 31 * DAY ? 1 : step >= 365 * DAY && step <= 366 * DAY ? 12 : 0;
  return Array.from({ length: count }, (_, i) => {
    if (months === 0) return new Date(last.getTime() + (i + 1) * step);
    const d = new Date(last);
    d.setUTCMonth(d.getUTCMonth() + (i + 1) * months);
    return d;
  });
}

/** The usual season of the dates' spacing: 7 for daily, 12 for monthly, 4 for quarterly, else none. */
function seasonOf(dates: string[] | null): number | null {
  if (!dates || dates.length < 2) return null;
  const days = Math.round((new Date(dates[dates.length - 1]).getTime() - new Date(dates[dates.length - 2]).getTime()) / DAY);
  return days === 1 ? 7 : days >= 28 && days <= 31 ? 12 : days >= 89 && days <= 92 ? 4 : null;
}

function toSeries(table: SeriesTable, spec: SeriesSpec): forecast.Series {
  const covariates = spec.calendar.length > 0 ? forecast.calendarFeatures(table.dates!, spec.calendar) : null;
  return forecast.toSeries(table.rows, { covariates });
}

/** Options of `rnnkit train forecast`. */
export type TrainForecastCliOptions = OptionValues<typeof TRAIN_FORECAST_OPTIONS>;

function calendarList(value: string | undefined, dateColumn: string | undefined): forecast.CalendarFeature[] {
  if (value === undefined || value === '') return [];
  const list = value.split(',').map((name) => name.trim());
  for (const name of list) {
    if (!(CALENDAR_FEATURES as readonly string[]).includes(name)) throw new CliError(`--calendar must be a comma-separated list of ${CALENDAR_FEATURES.join(', ')}, got '${value}'`);
  }
  if (dateColumn === undefined) throw new CliError('--calendar needs --date-column (the dates the calendar features come from)');
  return list as forecast.CalendarFeature[];
}

/** Model, naive and seasonal-naive errors on the held-out tail, as lines; the forecasts for the plot. */
function compareOnTail(model: forecast.Forecaster, head: forecast.Series, tail: forecast.Series, season: number | null):
  { lines: string[]; forecasts: Record<string, Float32Array> } {
  const horizon = tail.steps;
  const forecasts: Record<string, Float32Array> = { model: model.forecast(head, horizon, { futureCovariates: tail.covariates }) };
  forecasts['naive (last value)'] = forecast.naive(head, horizon);
  if (season !== null && season <= head.steps) forecasts[`seasonal naive (${season})`] = forecast.seasonalNaive(head, horizon, season);
  const lines = Object.entries(forecasts).map(([name, values]) => {
    const { mae, rmse } = forecast.errors(values, tail.values);
    return `  ${name.padEnd(22)} MAE ${mae.toPrecision(5).padStart(10)}  RMSE ${rmse.toPrecision(5).padStart(10)}`;
  });
  return { lines: [`held-out last ${horizon} steps:`, ...lines], forecasts };
}

/** Trains a Forecaster on a CSV series (optionally holding out its tail to compare with baselines), saves it. */
export async function trainForecast(o: TrainForecastCliOptions, output: Output): Promise<Record<string, number>> {
  const calendar = calendarList(o.calendar, o.dateColumn);
  const table = readSeriesCsv(o.input, o.column ? o.column.split(',').map((c) => c.trim()) : null, o.dateColumn ?? null);
  const spec: SeriesSpec = { columns: table.names, dateColumn: o.dateColumn ?? null, calendar, season: o.season ?? seasonOf(table.dates) };
  const series = toSeries(table, spec);
  if (o.holdout >= series.steps) throw new CliError(`--holdout must be smaller than the series (${series.steps} steps), got '${o.holdout}'`);
  const { head, tail } = o.holdout > 0 ? forecast.splitTail(series, o.holdout) : { head: series, tail: null };
  if (head.steps < o.window + 1) {
    throw new CliError(`${o.input}: ${head.steps} training steps is too short for --window ${o.window} (needs at least ${o.window + 1}; lower --window${o.holdout ? ' or --holdout' : ''})`);
  }
  checkModelSize({ cell: o.cell, inputSize: series.channels + series.covariateCount, hidden: o.hidden, layers: o.layers, outputs: series.channels },
    `${series.channels + series.covariateCount} input features`);
  manualSeed(o.seed);
  const model = new forecast.Forecaster({
    channels: series.channels, covariates: series.covariateCount, cell: o.cell, hiddenSize: o.hidden, numLayers: o.layers, dropout: o.dropout, window: o.window,
  });
  output.info(`${o.input}: ${series.steps} steps of ${table.names.join(', ')}${calendar.length ? ` + calendar ${calendar.join(', ')} (${series.covariateCount} covariates)` : ''}; `
    + `${head.steps} for training${tail ? `, last ${tail.steps} held out` : ''}`);
  output.info(`${o.cell.toUpperCase()}(${model.features}→${o.hidden}, ${plural(o.layers, 'layer')}) → Linear(${o.hidden}→${series.channels}) on windows of ${o.window}; `
    + `Adam one-cycle lr ${o.lr}, batch ${o.batchSize}, ${plural(o.epochs, 'epoch')}, seed ${o.seed}`);
  const history = await forecast.trainForecaster(model, head, {
    epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, clipGradNorm: o.clip, progress: progressSetting(output),
    callbacks: epochPrinter(output, o.epochs, ['loss']),
  });
  if (tail) {
    const { lines, forecasts } = compareOnTail(model, head, tail, spec.season);
    for (const line of lines) output.info(line);
    if (o.plot) await writePlot(o.plot, o.force === true, head, tail, forecasts, `${table.names[0]}: forecast of the held-out last ${tail.steps} steps`);
  } else if (o.plot) {
    output.info('--plot needs --holdout (a held-out tail to plot the forecast against); use rnnkit forecast --plot for future steps');
  }
  await writeOutputFile(o.out, 'output file', o.force === true, () => forecast.saveForecaster(model, o.out, { [CLI_METADATA_KEY]: JSON.stringify(spec) }));
  output.info(`saved ${o.out}`);
  return history.epochs.at(-1) ?? { epoch: -1 };
}

async function writePlot(file: string, force: boolean, head: forecast.Series, tail: forecast.Series | null, forecasts: Record<string, Float32Array>, title: string): Promise<void> {
  const history = forecast.channel(head, 0);
  const firstChannel = (values: Float32Array, channels: number) => Array.from({ length: values.length / channels }, (_, t) => values[t * channels]);
  const channels = head.channels;
  let svg: string;
  if (tail) {
    svg = forecast.forecastPlot({
      history, truth: forecast.channel(tail, 0), title,
      forecasts: Object.fromEntries(Object.entries(forecasts).map(([name, values]) => [name, firstChannel(values, channels)])),
    });
  } else {
    const predicted = firstChannel(forecasts.model, channels);
    const shown = Math.min(history.length, 3 * predicted.length);
    svg = lineChart({
      title, xLabel: 'steps from the forecast start', markers: [{ x: -0.5, label: 'forecast →' }],
      series: [
        { name: 'history', values: history.slice(-shown), x: Array.from({ length: shown }, (_, i) => i - shown), color: '#555' },
        { name: 'forecast', values: [history[history.length - 1], ...predicted], x: Array.from({ length: predicted.length + 1 }, (_, i) => i - 1), color: '#d62728', width: 2 },
      ],
    });
  }
  await writeOutputFile(file, 'plot file', force, () => writeFileSync(file, svg));
}

/** Options of `rnnkit forecast`. */
export type ForecastCliOptions = OptionValues<typeof FORECAST_OPTIONS>;

/** The forecast builds its state on the model's last `window` rows: fewer make a forecast from almost nothing. */
function checkWarmUp(rows: number, window: number, o: ForecastCliOptions): void {
  if (rows >= window) return;
  const which = o.backtest ? ` before the last --horizon ${o.horizon}` : '';
  throw new CliError(`${o.input}: ${rows} rows${which} is fewer than the model's window of ${window} steps `
    + `(the forecast starts from the state after the last ${window} rows); give at least ${window} rows`);
}

function loadModel(file: string): { model: forecast.Forecaster; spec: SeriesSpec | null } {
  checkInputFile(file, 'model file');
  try {
    const { model, metadata } = forecast.loadForecaster(file);
    const spec = metadata[CLI_METADATA_KEY] ? JSON.parse(metadata[CLI_METADATA_KEY]) as SeriesSpec : null;
    return { model, spec };
  } catch (error) {
    if (error instanceof Error && /rnnkit\.forecaster metadata/.test(error.message)) {
      throw new CliError(`'${file}' is not a forecasting model (write one with 'rnnkit train forecast')`);
    }
    return asUserError(error, `cannot load model '${file}'`);
  }
}

/** Forecasts `horizon` steps after the CSV's last row (or, with backtest, its last `horizon` rows) and prints them. */
export async function runForecast(o: ForecastCliOptions, output: Output): Promise<Float32Array> {
  const { model, spec: saved } = loadModel(o.model);
  const spec: SeriesSpec = saved ?? { columns: [], dateColumn: null, calendar: [], season: null };
  if (model.config.covariates > 0 && spec.calendar.length === 0) {
    throw new CliError(`'${o.model}' takes ${model.config.covariates} covariates but does not say how to compute them (it was not written by 'rnnkit train forecast')`);
  }
  const columns = o.column ? o.column.split(',').map((c) => c.trim()) : spec.columns.length ? spec.columns : null;
  const table = readSeriesCsv(o.input, columns, spec.dateColumn);
  if (table.names.length !== model.config.channels) {
    throw new CliError(`'${o.model}' forecasts ${model.config.channels} column(s), --column gives ${table.names.length}`);
  }
  const series = toSeries(table, spec);
  if (o.backtest && o.horizon >= series.steps) throw new CliError(`--horizon must be smaller than the series (${series.steps} steps) with --backtest, got '${o.horizon}'`);
  const { head, tail } = o.backtest ? forecast.splitTail(series, o.horizon) : { head: series, tail: null };
  checkWarmUp(head.steps, model.config.window, o);
  let futureDates: Date[] | null = null;
  let forecasts: Record<string, Float32Array>;
  let comparison: string[] = [];
  try {
    if (tail) {
      ({ lines: comparison, forecasts } = compareOnTail(model, head, tail, spec.season));
    } else {
      futureDates = table.dates ? nextDates(table.dates, o.horizon) : null;
      const futureCovariates = spec.calendar.length > 0 ? forecast.calendarFeatures(futureDates!, spec.calendar) : null;
      forecasts = { model: model.forecast(head, o.horizon, { futureCovariates }) };
    }
  } catch (error) {
    return asUserError(error, 'cannot forecast');
  }
  const predicted = forecasts.model;
  const dateOf = (h: number): string => (tail ? table.dates?.[head.steps + h] ?? '' : futureDates ? futureDates[h].toISOString().slice(0, 10) : '');
  const csv = [['step', ...(table.dates ? [spec.dateColumn ?? 'date'] : []), ...table.names].join(',')];
  for (let h = 0; h < o.horizon; h++) {
    const values = Array.from(predicted.subarray(h * series.channels, (h + 1) * series.channels), (v) => Number(v.toPrecision(6)));
    csv.push([h + 1, ...(table.dates ? [dateOf(h)] : []), ...values].join(','));
  }
  if (o.output) {
    const file = o.output;
    await writeOutputFile(file, 'output file', o.force === true, () => writeFileSync(file, `${csv.join('\n')}\n`));
    output.info(`wrote ${o.horizon} forecast steps to ${file}`);
  } else {
    for (const line of csv) output.info(line);
  }
  for (const line of comparison) output.info(line);
  if (o.plot) {
    await writePlot(o.plot, o.force === true, head, tail, forecasts, `${table.names[0]}: ${tail ? 'backtest over the last' : 'forecast of the next'} ${o.horizon} steps`);
    output.info(`wrote ${o.plot}`);
  }
  return predicted;
}
