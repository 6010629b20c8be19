/**
 * spikecut's library API. Each namespace is one layer of the pipeline:
 *
 *   data ──► models (nn / snn) ──► per-step outputs (inference) ──► cutoff ──► report
 *                 └── train (losses, RCS, optimisers, checkpoints)   convert (QCFS ANN ──► IF SNN)
 *
 * ```ts
 * import { models, train, convert, cutoff, data } from "spikecut";
 * ```
 */
export * as engine from "./engine/index.js";
export * as nn from "./nn/index.js";
export * as snn from "./snn/index.js";
export * as models from "./models/index.js";
export * as train from "./train/index.js";
export * as data from "./data/index.js";
export * as cutoff from "./cutoff/index.js";
export * as inference from "./inference/index.js";
export * as report from "./report/index.js";
export * as convert from "./convert.js";

export { Tensor, noGrad, Rng, manualSeed, getBackend, setBackend } from "./engine/index.js";
