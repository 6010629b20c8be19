/**
 * ANN-to-SNN conversion as its own entry point: a trained QCFS ANN becomes an IF SNN (θ = λ, soft reset,
 * v0 = θ/2), in memory or checkpoint to checkpoint.
 */
export { convertToSNN, foldBatchNorm, type ConvertOptions } from "./snn/index.js";
