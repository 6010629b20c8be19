/** Training: config, losses, optimisers, schedules, checkpoints (safetensors) and the trainer. */
export {
  runConfigSchema, validateConfig, resolveConfig, loadConfig, readConfigFile, formatIssues, ConfigError, DATASETS, PRESETS,
  type RunConfig, type RunConfigInput,
} from "./config.js";
export { meanOutputLoss, tetLoss, taskLoss, withRegulariser, predictions, countCorrect, type TaskLossOptions, type Labels } from "./losses.js";
export { Optimiser, normaliseParams, type OptimiserState, type NamedParam, type ParamTensor, type ParamsInput } from "./optim/optimizer.js";
export { SGD, type SgdOptions } from "./optim/sgd.js";
export { Adam, type AdamOptions } from "./optim/adam.js";
export { LrSchedule, type ScheduleOptions } from "./schedule.js";
export {
  encodeSafetensors, decodeSafetensors, saveSafetensors, loadSafetensors, writeFileAtomic, SafetensorsError,
  type Dtype, type StTensor, type StFile, type TypedArray,
} from "./safetensors.js";
export {
  saveCheckpoint, loadCheckpoint, loadWeightsInto, readCheckpointMeta, CheckpointError, CHECKPOINT_FORMAT, CHECKPOINT_VERSION,
  type Checkpoint, type CheckpointMeta, type SaveCheckpointInput, type LoadableModel,
} from "./checkpoint.js";
export { frameSplit, eventSplit, NORMALISATION, type Batch, type SplitSource, type Augmentation } from "./data.js";
export { loadConfigData } from "./data-loading.js";
export {
  train, evaluate, epochPermutation, makeOptimiser, collectThresholds, toTimeMajor, buildModelFromConfig, loadTrainData,
  TrainingDivergedError, type TrainOptions, type TrainResult, type TrainEvent, type TrainData, type TrainableModel, type EpochRecord,
} from "./trainer.js";
