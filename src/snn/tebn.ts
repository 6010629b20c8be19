/**
 * Temporal effective batch norm (spec §6.4, Duan et al. 2022): statistics per channel pooled over B, T, H, W
 * (which is exactly batch norm on the time-folded [T·B, C, H, W] tensor), then a learnable per-timestep
 * scale p_t shared across channels: y_t = p_t·(γ·x̂_t + β).
 * Unlike the reference (§12.11) single-step mode works in eval: step t uses the running statistics and p_t.
 */
import { allocUninit } from "../engine/memory.js";
import { Tensor } from "../engine/tensor.js";
import { ShapeError, fmtShape } from "../engine/errors.js";
import { mul, scaleBlocks } from "../engine/index.js";
import { isGradEnabled, needsGrad, record } from "../engine/autograd.js";
import { getBackend } from "../engine/backends.js";
import { BatchNorm2d, type BatchNormOptions } from "../nn/batchnorm.js";
import { updateRunningStats } from "../engine/ops/norm.js";
import { Parameter } from "../nn/parameter.js";
import { TemporalModule } from "./temporal.js";

/**
 * Training-mode TEBN as one op: batch norm over the time-folded [T·B, C, H, W] with the per-timestep scale p_t
 * applied inside the same kernels (forward: one more multiply per element; backward: dL/dp_t accumulated in the
 * statistics pass), instead of a batch norm followed by scaleBlocks (two more passes over the activation).
 */
export function tebnTrain(x: Tensor, bn: BatchNorm2d, p: Tensor, T: number): Tensor {
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const S = x.size / (N * C);
  if (p.size !== T || N % T !== 0 || C !== bn.numFeatures) {
    throw new ShapeError("TEBN", `scales ${fmtShape(p.shape)} / ${bn.numFeatures} channels do not fit T=${T} blocks of ${fmtShape(x.shape)}`);
  }
  if (N * S <= 1) throw new ShapeError("TEBN", `needs more than one value per channel in training, got input ${fmtShape(x.shape)}`);
  const gamma = bn.weight;
  const beta = bn.bias;
  const be = getBackend();
  const y = allocUninit(x.size);
  const mean = new Float32Array(C);
  const invStd = new Float32Array(C);
  const blocked = x.layout === "blocked16";
  const xs = blocked ? x.storage : x.data;
  be.batchNormTrainForward(xs, N, C, S, gamma?.data ?? null, beta?.data ?? null, bn.eps, y, mean, invStd, p.data, blocked);
  updateRunningStats(bn.runningMean, bn.runningVar, mean, invStd, N * S, bn.momentum, bn.eps);
  const inputs = [x, p, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  // p may change (optimiser step) before backward runs; the kernel needs the values used in the forward
  const pUsed = new Float32Array(p.data);
  const out = new Tensor(y, x.shape, false, blocked ? "blocked16" : "plain");
  return record(
    "tebn",
    inputs,
    [out],
    ([g]) => {
      const dx = allocUninit(x.size);
      const dp = new Float32Array(T);
      const dgamma = gamma ? new Float32Array(C) : null;
      const dbeta = beta ? new Float32Array(C) : null;
      getBackend().batchNormBackward(xs, g!, N, C, S, gamma?.data ?? null, mean, invStd, dx, dgamma, dbeta, beta?.data ?? null, pUsed, dp, blocked);
      return [x.requiresGrad ? dx : null, dp, ...(gamma ? [dgamma] : []), ...(beta ? [dbeta] : [])];
    },
    { layoutAware: blocked },
  )[0];
}

export class TEBN extends TemporalModule {
  readonly bn: BatchNorm2d;
  /** p_t, shape [T, 1, 1, 1, 1], init 1. */
  readonly p: Parameter;
  /**
   * Single-step mode: the timestep of each row of the batch (rows can be at different steps once anytime
   * inference refills finished rows with new samples); null at the start of a sequence.
   */
  private rowSteps: Int32Array | null = null;

  constructor(readonly numFeatures: number, readonly steps: number, opts: BatchNormOptions = {}) {
    super();
    this.bn = this.registerModule("bn", new BatchNorm2d(numFeatures, opts));
    this.p = this.registerParameter("p", new Parameter(Tensor.ones([steps, 1, 1, 1, 1]), { weightDecay: false }));
    this.T = steps;
  }

  resetState(): void {
    this.rowSteps = null;
  }

  override selectSamples(rows: Int32Array): void {
    const s = this.rowSteps;
    if (!s) return;
    for (const r of rows) if (!(r >= 0 && r < s.length)) throw new RangeError(`selectSamples: row ${r} is outside the batch of ${s.length}`);
    this.rowSteps = Int32Array.from(rows, (r) => s[r]!);
  }

  override resetSamples(rows: Int32Array): void {
    const s = this.rowSteps;
    if (!s) return;
    for (const r of rows) {
      if (!(r >= 0 && r < s.length)) throw new RangeError(`resetSamples: row ${r} is outside the batch of ${s.length}`);
      s[r] = 0;
    }
  }

  forward(x: Tensor): Tensor {
    if (this.stepMode === "single") return this.singleStep(x);
    const T = this.T;
    if (T !== this.steps) throw new ShapeError("TEBN", `built for T=${this.steps} but run with T=${T}`);
    if (x.ndim !== 4 || x.shape[0]! % T !== 0) {
      throw new ShapeError("TEBN", `expects time-folded [T·B, ${this.numFeatures}, H, W] with T=${T}, got ${fmtShape(x.shape)}`);
    }
    if (this.training) return tebnTrain(x, this.bn, this.p, T);
    // each timestep is a leading block of the time-folded tensor
    return scaleBlocks(this.bn.call(x), this.p, T);
  }

  /** Eval only: each row through the running statistics, scaled by the p_t of its own step. */
  private singleStep(x: Tensor): Tensor {
    const steps = this.advance(x);
    const y = this.bn.call(x);
    // all rows at one step with p under a tape: that step's p_t itself, so its gradient reaches p
    if (needsGrad([this.p]) && steps.every((t) => t === steps[0])) return mul(y, this.p.slice(steps[0]!, steps[0]! + 1).reshape([1]));
    // otherwise each row by its own step's p_t (a constant here): one block per row, the kernel multi-step mode uses
    return scaleBlocks(y, new Tensor(this.rowScales(steps), [steps.length]), steps.length);
  }

  /**
   * What a following neuron folds into its single step (eval, no tape): the batch norm's per-channel affine and each
   * row's p_t; the rows' steps advance as forward advances them. Null when this layer cannot be folded now.
   */
  foldIntoStep(x: Tensor): { inputAffine: { scale: Float32Array; shift: Float32Array }; rowScale: Float32Array } | null {
    if (this.stepMode !== "single" || this.training || isGradEnabled() || this.bn.constructor !== BatchNorm2d) return null;
    const inputAffine = this.bn.evalInputAffine(x);
    return { inputAffine, rowScale: this.rowScales(this.advance(x)) };
  }

  /** Checks the batch against the running rows and moves them one step on; returns each row's step before it. */
  private advance(x: Tensor): Int32Array {
    if (this.training) throw new Error("TEBN: single-step mode needs eval mode (training statistics pool over all timesteps)");
    const B = x.shape[0]!;
    if (!this.rowSteps) this.rowSteps = new Int32Array(B);
    const steps = this.rowSteps;
    if (steps.length !== B) throw new ShapeError("TEBN", `batch of ${B} but ${steps.length} rows in the running sequence (call selectSamples / resetSamples as samples leave or join)`);
    for (let i = 0; i < B; i++) if (steps[i]! >= this.steps) throw new Error(`TEBN: step ${steps[i]! + 1} exceeds the ${this.steps} timesteps it was built for`);
    const before = Int32Array.from(steps);
    for (let i = 0; i < B; i++) steps[i]!++;
    return before;
  }

  private rowScales(steps: Int32Array): Float32Array {
    const p = this.p.data;
    return Float32Array.from(steps, (t) => p[t]!);
  }

  override describe(): string {
    return `TEBN(${this.numFeatures}, T=${this.steps})`;
  }
}
