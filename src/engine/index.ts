/** The engine's public surface: tensors, autograd, random numbers, backends and every op. */
export { Tensor, shapeSize, canBlock16, type Shape, type NestedArray, type Layout } from "./tensor.js";
export { blockedActivations, setBlockedActivations } from "./layout.js";
export { Rng, globalRng, manualSeed } from "./random.js";
export { noGrad, isGradEnabled, record, type BackwardFn } from "./autograd.js";
export { getBackend, setBackend, withBackend, tryNativeBackend, nativeLoadError } from "./backends.js";
export { setWinograd } from "./native/index.js";
export type { Backend, Conv2dParams, Pool2dParams, NeuronParams, SurrogateId } from "./backend.js";
export { ShapeError, fmtShape } from "./errors.js";
export * from "./ops/index.js";
export { tidy, allocZeroed, allocUninit, clearPool, poolStats, inTidyScope, sizeClass, setPoolDetach } from "./memory.js";
