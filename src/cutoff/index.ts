/**
 * spikecut cutoff layer: outputs containers and loaders, cutoff policies (timestep, Top-K, confidence,
 * conformal), OCT, accuracy / timestep / speed-up metrics, ε sweeps and cost accounting.
 * Works on plain typed arrays; no tensor engine needed.
 */
export * from "./types.js";
export * from "./errors.js";
export * from "./outputs.js";
export * from "./features.js";
export * from "./metrics.js";
export * from "./oct.js";
export * from "./evaluate.js";
export * from "./policies/index.js";
export * from "./loaders/index.js";
export * from "./cost-types.js";
export * from "./cost.js";
