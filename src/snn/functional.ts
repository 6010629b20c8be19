/**
 * Neuron dynamics as pure functions over explicit state (Norse style). The modules in neuron.ts only keep the
 * state between calls and choose the path.
 *
 * Recurrence (spec §5.3 IF, §6.1 LIF), for each step:  H = V + X;  S = 1[H − θ > 0];
 *   U = hard ? H·(1 − S) : H − θ·S;   V' = τ·U;   output = scale·S  (scale = θ for converted IF, 1 for LIF)
 *
 * Two implementations of the same thing:
 *  - neuronMultiStep: all T steps as ONE autograd node whose forward/backward (BPTT with the surrogate) are
 *    the backend's fused kernels. This is the training path.
 *  - neuronStep: one step. Under autograd it is composed of ordinary ops (so it is also the independent
 *    reference the fused op is tested against); without autograd it is a single in-place loop (the
 *    single-step inference path used by cutoff).
 */
import { allocUninit } from "../engine/memory.js";
import { Tensor, relayout } from "../engine/tensor.js";
import { record, needsGrad } from "../engine/autograd.js";
import { getBackend } from "../engine/backends.js";
import type { NeuronParams } from "../engine/backend.js";
import { ShapeError, fmtShape } from "../engine/errors.js";
import { add, mul, sub } from "../engine/index.js";
import { spikeFn, type Surrogate } from "./surrogate.js";

export interface NeuronDynamics {
  theta: number;
  /** Multiplicative decay after the reset: LIF 0.5, IF 1. */
  tau: number;
  hardReset: boolean;
  /** Membrane before the first input: LIF 0, converted IF θ/2. */
  v0: number;
  surrogate: Surrogate;
  /** Spikes are emitted as outputScale·S (θ for converted IF so the next layer sees the ANN's scale). */
  outputScale: number;
}

export interface MultiStepResult {
  /** outputScale·S, same shape as the input. */
  output: Tensor;
  /** Post-reset, pre-leak membrane U, same shape as the input (RCS-SNN reads it with gradient). */
  membrane: Tensor;
  /** The raw 0/1 spikes (no autograd link; monitors read these), in the input's layout. */
  spikes01: Float32Array;
}

const scratchBuffers: Float32Array[] = [];
/** A reusable buffer of at least n floats (slot 0: U, slot 1: H), viewed at length n. */
function scratch(slot: number, n: number): Float32Array {
  let b = scratchBuffers[slot];
  if (!b || b.length < n) scratchBuffers[slot] = b = new Float32Array(n);
  return b.subarray(0, n);
}

/** x holds T time-major steps ([T, ...] or the folded [T·B, ...]); one fused op over all of them. */
export function neuronMultiStep(x: Tensor, T: number, d: NeuronDynamics): MultiStepResult {
  if (!Number.isInteger(T) || T < 1 || x.size % T !== 0) {
    throw new ShapeError("neuronMultiStep", `input ${fmtShape(x.shape)} cannot be split into T=${T} time-major steps`);
  }
  const M = x.size / T;
  const p: NeuronParams = {
    T, M, theta: d.theta, tau: d.tau, hardReset: d.hardReset, v0: d.v0,
    surrogate: d.surrogate.id, surrogateParam: d.surrogate.param,
  };
  const n = x.size;
  const grad = needsGrad([x]);
  const s = allocUninit(n);
  // Without a tape nothing reads H, and U only through lastMembrane/RCS (training): inference reuses scratch
  // buffers instead of faulting in two fresh activation-sized arrays per layer and call.
  const u = grad ? allocUninit(n) : scratch(0, n);
  const h = grad ? allocUninit(n) : scratch(1, n);
  const be = getBackend();
  // element-wise in space (the recurrence runs over the leading time axis): the storage's layout is kept
  be.neuronForward(x.storage, s, u, h, p);
  const scale = d.outputScale;
  let outData = s;
  if (scale !== 1) {
    outData = allocUninit(n);
    be.axpby(s, scale, s, 0, outData);
  }
  const output = new Tensor(outData, x.shape, false, x.layout);
  // without a tape the membrane is a view of scratch memory, valid until the next no-grad multi-step call
  const membrane = new Tensor(u, x.shape, false, x.layout);
  record(
    "neuronMultiStep",
    [x],
    [output, membrane],
    ([gOut, gU]) => {
      let gS = gOut ?? null;
      if (gS && scale !== 1) {
        const g = allocUninit(n);
        be.axpby(gS, scale, gS, 0, g);
        gS = g;
      }
      const dx = allocUninit(n);
      getBackend().neuronBackward(gS, gU ?? null, h, s, dx, p);
      return [dx];
    },
    { layoutAware: true },
  );
  return { output, membrane, spikes01: s };
}

export interface StepResult {
  output: Tensor;
  /** Post-reset membrane U; null when the inference path was told not to keep it. */
  membrane: Tensor | null;
  /** Membrane carried to the next step (τ·U). */
  v: Tensor;
  spikes01: Float32Array;
}

/** Inference-only options of neuronStep. */
export interface StepInferenceOptions {
  /**
   * A batch norm in eval mode folded into the input, x·scale[c] + shift[c] per channel (axis 1), as
   * batchNormEvalAffine computes it: the step then reads the previous layer's output once instead of the batch
   * norm writing it and the neuron reading it again.
   */
  inputAffine?: { scale: Float32Array; shift: Float32Array } | null;
  /**
   * With inputAffine, one factor per row of the batch applied after it: a TEBN in eval mode folded into the input,
   * p_t of each row's own step (rounded as the batch norm and scaleRows round it, so the same numbers as both layers).
   */
  rowScale?: Float32Array | null;
  /** One flag per row of the batch: rows of v that start over at v0 with this step (set, then stepped, in one pass). */
  fresh?: Uint8Array | null;
  /** Write the membrane U (default true); without it the step saves a pass over the layer. */
  keepMembrane?: boolean;
  /**
   * Memory for the initial state when v is null (used when it holds at least x.size floats): a neuron hands the
   * same buffer to the first step of every sequence instead of faulting in a fresh multi-MB state per batch.
   */
  stateMemory?: Float32Array | null;
}

/** One step from state v (null: the initial membrane v0). */
export function neuronStep(x: Tensor, v: Tensor | null, d: NeuronDynamics, opts: StepInferenceOptions = {}): StepResult {
  if (v && v.size !== x.size) {
    throw new ShapeError("neuronStep", `input ${fmtShape(x.shape)} does not match the neuron state ${fmtShape(v.shape)} (did the batch change without resetState/selectSamples?)`);
  }
  const affine = opts.inputAffine ?? null;
  if (affine && (x.ndim < 2 || affine.scale.length !== x.shape[1] || affine.shift.length !== x.shape[1])) {
    throw new ShapeError("neuronStep", `input affine of ${affine.scale.length} channels does not match input ${fmtShape(x.shape)} (channels on axis 1)`);
  }
  const rowScale = opts.rowScale ?? null;
  if (rowScale && (!affine || rowScale.length !== x.shape[0])) {
    throw new ShapeError("neuronStep", `rowScale of ${rowScale.length} values needs an input affine and one value per row of input ${fmtShape(x.shape)}`);
  }
  if (needsGrad(v ? [x, v] : [x])) {
    if (affine) throw new Error("neuronStep: inputAffine / rowScale are an inference path (no autograd); apply batchNorm before the neuron to train");
    const v0 = v ?? Tensor.full(x.shape, d.v0);
    const H = add(v0.reshape(x.shape), x);
    const S = spikeFn(sub(H, d.theta), d.surrogate);
    const U = d.hardReset ? mul(H, sub(1, S)) : sub(H, mul(S, d.theta));
    const vNext = mul(U, d.tau);
    const output = d.outputScale === 1 ? S : mul(S, d.outputScale);
    return { output, membrane: U, v: vNext, spikes01: S.data };
  }
  const n = x.size;
  // element-wise like the multi-step op: x, the state and the outputs share x's layout
  const xd = x.storage;
  // (a state in the other layout is converted into fresh memory: the state outlives any tidy scope)
  const vd = v ? (v.layout === x.layout ? v.storage : relayout(v.storage, v.shape, x.layout === "blocked16", new Float32Array(n))) : null;
  // Inference path (no tape): the state is owned by the neuron, so it is updated in place; U goes to scratch
  // memory (valid until the next call) and spikes double as the output when they are not scaled.
  // neuron state outlives any tidy scope: never pooled
  const mem = opts.stateMemory && opts.stateMemory.length >= n ? opts.stateMemory.subarray(0, n) : null;
  const vn = vd ?? (mem ?? new Float32Array(n)).fill(d.v0);
  const u = opts.keepMembrane === false ? null : scratch(2, n);
  const s = allocUninit(n);
  const { theta, tau, hardReset, outputScale } = d;
  const out = outputScale === 1 ? s : allocUninit(n);
  const C = affine ? x.shape[1]! : 1;
  const S = affine ? n / (x.shape[0]! * C) : 1;
  const blocked = x.layout === "blocked16";
  const fresh = vd && opts.fresh ? opts.fresh : null;
  if (fresh && fresh.length !== x.shape[0]) throw new ShapeError("neuronStep", `fresh holds ${fresh.length} flags for input ${fmtShape(x.shape)}`);
  getBackend().neuronStep(xd, vn, s, u, out, theta, tau, hardReset, outputScale, affine?.scale ?? null, affine?.shift ?? null, C, S, blocked, rowScale, fresh, d.v0);
  const like = (a: Float32Array): Tensor => new Tensor(a, x.shape, false, x.layout);
  const vOut = v && v.layout === x.layout ? v : like(vn);
  return { output: like(out), membrane: u ? like(u) : null, v: vOut, spikes01: s };
}
