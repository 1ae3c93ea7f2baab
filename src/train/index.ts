/**
 * Training workflow: `fit` / `evaluate` / `predict`, metrics, callbacks and early stopping,
 * progress output and truncated BPTT helpers (checkpoints: ./checkpoint.ts, exported from the root).
 * @module
 */
export { fit, NonFiniteError, type FitOptions, type FitScheduler, type History } from './fit.js';
export { evaluate, predict, type EvaluateOptions, type PredictOptions } from './evaluate.js';
export {
  callModel, resolveLoss, toBatch, type Batch, type BatchLike, type BatchSource, type ForwardHook, type LossFn, type LossSpec,
  type ModelResult,
} from './batch.js';
export {
  AccuracyMetric, LossMetric, MaeMetric, PerplexityMetric, createMetrics, METRIC_NAMES,
  type Metric, type MetricContext, type MetricSpec,
} from './metrics.js';
export {
  AucMetric, ConfusionMatrix, ScoreMetric, rocAuc, type ScoreAverage, type ScoreKind, type ScoreMetricOptions,
} from './classification.js';
export {
  EarlyStopping, earlyStopping, type BatchLogs, type Callback, type EarlyStoppingOptions, type EpochLogs,
  type StopReason, type TrainContext,
} from './callbacks.js';
export { createProgress, type BatchProgress, type ProgressOptions, type ProgressReporter, type ProgressSetting } from './progress.js';
export { timeChunks, detachState, type TbpttOptions } from './tbptt.js';
