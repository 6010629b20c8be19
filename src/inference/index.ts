/**
 * spikecut inference: live models meet the cutoff layer.
 *   collectOutputs   per-step accumulated outputs Y[T,N,K] (+ spike/SOP counts) of a model over a dataset
 *   inferAnytime     single-step inference where each sample stops at its cutoff and leaves the batch
 *   model-io         rebuild a model from a checkpoint, write converted checkpoints, the calibration slot
 */
export { collectOutputs, collectSplits, defaultStepMode, checkSpiking, DEFAULT_CALIBRATION_DROPOUT, type CollectOptions, type CollectResult } from "./collect.js";
export { inferAnytime, type AnytimeOptions, type AnytimeResult } from "./anytime.js";
export { batchesOf, countOf, isSplitSource, type InferenceData, type Batch, type SplitSource } from "./data.js";
export {
  loadModelCheckpoint, saveModelCheckpoint, buildOptionsOf, thresholdsOf, writeCalibrationSlot, readCalibrationSlot,
  type LoadedModel, type ModelKind, type SaveModelMeta, type CalibrationSlot, type StoredPolicy,
} from "./model-io.js";
export { evaluateModel, DEFAULT_SWEEP, type EvaluateModelOptions, type ModelEvaluation } from "./evaluate-model.js";
