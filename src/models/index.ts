export { parseModelSpec, inferShapes, ModelSpecError, LAYER_TYPES, type ModelSpec, type LayerSpec, type FeatureShape } from "./spec.js";
export { PRESETS, PRESET_NAMES, presetSpec } from "./presets.js";
export { buildModel, resolveOptions, type BuildOptions, type ResolvedBuildOptions, type Route, type ActivationSite } from "./build.js";
export { SpikingModel, ModelMonitors } from "./spiking-model.js";
export { fanoutFrom } from "./fanout.js";
