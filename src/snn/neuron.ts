/**
 * Spiking neuron layers with explicit state and a step-mode switch (spec §5.3, §5.4, §6.1).
 *  - multi-step: the input is time-folded [T·B, ...] (T set by the model); one fused op over all steps.
 *  - single-step: one step per call on [B, ...], the membrane is kept until resetState().
 * Side channels (all optional, set by the model): a SpikeMonitor, the RCS collector (LIF, multi-step), and the
 * calibration dropout applied to the layer's output (spec §3.4).
 */
import { Tensor } from "../engine/tensor.js";
import { ShapeError, fmtShape } from "../engine/errors.js";
import type { Rng } from "../engine/random.js";
import { dropout, dropoutSeeded, isGradEnabled, mul } from "../engine/index.js";
import type { Module } from "../nn/module.js";
import { BatchNorm1d, BatchNorm2d } from "../nn/batchnorm.js";
import { TEBN } from "./tebn.js";
import { neuronMultiStep, neuronStep, type NeuronDynamics, type StepInferenceOptions } from "./functional.js";
import { surrogate as makeSurrogate, type Surrogate, type SurrogateName } from "./surrogate.js";
import { TemporalModule, gatherRows } from "./temporal.js";
import type { SpikeMonitor } from "./monitor.js";
import { rcsSnnStat, type RcsCollector } from "./rcs.js";

export interface NeuronOptions {
  theta?: number;
  tau?: number;
  reset?: "hard" | "soft";
  /** Initial membrane as a fraction of θ (IF: 0.5, LIF: 0). */
  v0Fraction?: number;
  surrogate?: SurrogateName | "zif" | Surrogate;
  surrogateParam?: number;
}

export abstract class BaseNeuron extends TemporalModule {
  /** Firing threshold θ: a buffer (saved, not trained). */
  readonly theta: Tensor;
  tau: number;
  hardReset: boolean;
  v0Fraction: number;
  surrogate: Surrogate;
  /** Whether outputs are θ·S (converted IF) or 0/1 spikes (LIF). */
  protected abstract readonly scaleOutput: boolean;

  monitor: SpikeMonitor | null = null;
  rcs: RcsCollector | null = null;
  /** Name under which RCS statistics are pushed (the model sets the module path). */
  layerName = "";
  /**
   * Calibration dropout on the output; applied whatever the training flag. A fresh mask per multi-step call; in
   * single-step mode one per sequence, step t taking the rows a multi-step call of the same batch would draw.
   */
  outputDropout: { p: number; rng: Rng } | null = null;
  /** Post-reset membrane of the last forward (with gradient in multi-step training); null after a single-step
   *  inference step, which does not compute it. */
  lastMembrane: Tensor | null = null;

  private v: Tensor | null = null;
  /** Rows of v that start over at v0 with the next step (resetSamples), or null. */
  private fresh: Uint8Array | null = null;
  /** Memory of the single-step inference state, reused by every sequence (grows to the largest batch seen). */
  private stateMemory: Float32Array | null = null;
  private stepIndex = 0;
  /** Seed of the calibration dropout's mask in the current single-step sequence (drawn at its first step). */
  private dropoutSeed = 0;

  constructor(opts: NeuronOptions, defaults: Required<Pick<NeuronOptions, "theta" | "tau" | "reset" | "v0Fraction">>) {
    super();
    const theta = opts.theta ?? defaults.theta;
    if (!(theta > 0)) throw new Error(`${this.constructor.name}: threshold must be > 0, got ${theta}`);
    this.theta = this.registerBuffer("theta", Tensor.from([theta], [1]));
    this.tau = opts.tau ?? defaults.tau;
    this.hardReset = (opts.reset ?? defaults.reset) === "hard";
    this.v0Fraction = opts.v0Fraction ?? defaults.v0Fraction;
    this.surrogate = makeSurrogate(opts.surrogate ?? "triangle", opts.surrogateParam);
  }

  get thresholdValue(): number {
    return this.theta.data[0]!;
  }

  dynamics(): NeuronDynamics {
    const theta = this.thresholdValue;
    return {
      theta,
      tau: this.tau,
      hardReset: this.hardReset,
      v0: this.v0Fraction * theta,
      surrogate: this.surrogate,
      outputScale: this.scaleOutput ? theta : 1,
    };
  }

  /** Time steps done since the last reset in single-step mode. */
  get step(): number {
    return this.stepIndex;
  }

  resetState(): void {
    this.v = null;
    this.fresh = null;
    this.stepIndex = 0;
    this.lastMembrane = null;
    this.monitor?.endSequence();
  }

  override selectSamples(rows: Int32Array): void {
    if (this.v) {
      const B = this.v.shape[0]!;
      // rows of the first axis are contiguous in either layout: the state keeps its layout
      const keep = this.v.layout === "blocked16" && this.v.ndim >= 4;
      const src = keep ? this.v.storage : this.v.data;
      this.v = new Tensor(gatherRows(src, B, rows), [rows.length, ...this.v.shape.slice(1)], false, keep ? this.v.layout : "plain");
      const f = this.fresh;
      if (f) this.fresh = Uint8Array.from(rows, (r) => f[r]!);
    }
    this.monitor?.selectSamples(rows);
  }

  override resetSamples(rows: Int32Array): void {
    if (this.v) {
      const B = this.v.shape[0]!;
      // marked here, set to v0 by the next step's kernel while it reads those rows anyway (a separate fill was 6 %
      // of anytime inference)
      this.fresh ??= new Uint8Array(B);
      for (const r of rows) {
        if (!(r >= 0 && r < B)) throw new RangeError(`resetSamples: row ${r} is outside the batch of ${B}`);
        this.fresh[r] = 1;
      }
    }
    this.monitor?.resetSamples(rows);
  }

  /** Sets the rows marked by resetSamples to v0 now (for a step that does not take the flags). */
  private applyFresh(): void {
    const f = this.fresh;
    if (!f || !this.v) return;
    const state = this.v.storage;
    const inner = state.length / f.length;
    const v0 = this.dynamics().v0;
    for (let r = 0; r < f.length; r++) if (f[r]) state.fill(v0, r * inner, (r + 1) * inner);
    this.fresh = null;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 2) throw new ShapeError(this.constructor.name, `expects [N, ...], got ${fmtShape(x.shape)}`);
    const d = this.dynamics();
    let out: Tensor;
    if (this.stepMode === "multi") {
      const T = this.T;
      if (x.shape[0]! % T !== 0) {
        throw new ShapeError(this.constructor.name, `multi-step input ${fmtShape(x.shape)} is not time-folded over T=${T}`);
      }
      const r = neuronMultiStep(x, T, d);
      out = r.output;
      this.lastMembrane = r.membrane;
      const B = x.shape[0]! / T;
      this.monitor?.recordSequence(r.spikes01, T, B, x.layout);
      if (this.rcs?.enabled) {
        // R_t uses the 0/1 spikes; dividing a θ-scaled output by θ keeps the gradient path through the op
        const S = d.outputScale === 1 ? r.output : mul(r.output, 1 / d.outputScale);
        const tb = [T, B, ...x.shape.slice(1)];
        this.rcs.push(this.layerName, rcsSnnStat(S.reshape(tb), r.membrane.reshape(tb), d.theta));
      }
    } else {
      // without a tape nothing reads the membrane of a single step
      out = this.singleStep(x, d, { keepMembrane: isGradEnabled() });
    }
    return this.applyOutputDropout(out);
  }

  /**
   * Single-step inference after a batch norm or a TEBN in eval mode: the norm (and TEBN's per-row p_t) is folded into
   * this step's kernel (one read of the conv output instead of a write and a read per layer). Same numbers as running
   * the layers one after the other.
   */
  override forwardAfter(prev: Module, x: Tensor): Tensor | null {
    if (this.stepMode !== "single" || isGradEnabled()) return null;
    if (x.ndim < 2) throw new ShapeError(this.constructor.name, `expects [N, ...], got ${fmtShape(x.shape)}`);
    // exactly these classes: a subclass may change what forward does
    if (prev.constructor === TEBN) {
      // a TEBN (direct-trained LIF nets): its batch norm and each row's p_t, in one read of the conv output
      const folded = (prev as TEBN).foldIntoStep(x);
      if (!folded) return null;
      return this.applyOutputDropout(this.singleStep(x, this.dynamics(), { ...folded, keepMembrane: false }));
    }
    const norm = prev.constructor === BatchNorm2d || prev.constructor === BatchNorm1d ? (prev as BatchNorm2d | BatchNorm1d) : null;
    if (!norm || norm.training) return null;
    const inputAffine = norm.evalInputAffine(x);
    return this.applyOutputDropout(this.singleStep(x, this.dynamics(), { inputAffine, keepMembrane: false }));
  }

  private singleStep(x: Tensor, d: NeuronDynamics, opts: StepInferenceOptions): Tensor {
    if (!this.v && !isGradEnabled() && (this.stateMemory?.length ?? 0) < x.size) this.stateMemory = new Float32Array(x.size);
    // the kernel takes the pending resets on the inference path; a step under a tape composes ops and cannot
    if (isGradEnabled()) this.applyFresh();
    const fresh = this.fresh;
    this.fresh = null;
    const r = neuronStep(x, this.v, d, { ...opts, stateMemory: this.stateMemory, fresh });
    this.v = r.v;
    this.lastMembrane = r.membrane;
    this.stepIndex++;
    this.monitor?.recordStep(r.spikes01, x.shape[0]!, x.layout);
    return r.output;
  }

  private applyOutputDropout(out: Tensor): Tensor {
    if (!this.outputDropout || !(this.outputDropout.p > 0)) return out;
    const { p, rng } = this.outputDropout;
    if (this.stepMode === "single") {
      // One seed per sequence and the rows of step t at index offset t·n: exactly the mask a time-folded run of the
      // same batch draws (one seed per layer, in layer order), so both step modes calibrate identically.
      if (this.stepIndex === 1) this.dropoutSeed = p < 1 ? rng.nextU32() : 0;
      return dropoutSeeded(out, p, this.dropoutSeed, ((this.stepIndex - 1) * out.size) % 2 ** 32);
    }
    return dropout(out, p, true, rng);
  }

  /** Multi-step on an explicit [T, B, ...] sequence (sets T from axis 0); returns [T, B, ...]. */
  forwardSequence(x: Tensor): Tensor {
    if (x.ndim < 3) throw new ShapeError(this.constructor.name, `forwardSequence expects [T, B, ...], got ${fmtShape(x.shape)}`);
    if (this.stepMode !== "multi") throw new Error(`${this.constructor.name}: forwardSequence needs multi-step mode`);
    this.setTimeSteps(x.shape[0]!);
    return this.call(x.reshape([x.shape[0]! * x.shape[1]!, ...x.shape.slice(2)])).reshape(x.shape);
  }

  override describe(): string {
    return `${this.constructor.name}(θ=${+this.thresholdValue.toPrecision(6)}, τ=${this.tau}, ${this.hardReset ? "hard" : "soft"} reset, v0=${this.v0Fraction}θ, surrogate=${this.surrogate.name}(${this.surrogate.param}), ${this.stepMode}-step)`;
  }
}

/** Integrate-and-fire for converted networks: soft reset, v0 = θ/2, no leak, outputs θ·S (spec §5.3). */
export class IFNode extends BaseNeuron {
  protected readonly scaleOutput = true;
  constructor(opts: NeuronOptions = {}) {
    super(opts, { theta: 1, tau: 1, reset: "soft", v0Fraction: 0.5 });
  }
}

/** Leaky integrate-and-fire for direct training: hard reset, τ = 0.5 after the reset, θ = 1, v0 = 0 (spec §6.1). */
export class LIFNode extends BaseNeuron {
  protected readonly scaleOutput = false;
  constructor(opts: NeuronOptions = {}) {
    super(opts, { theta: 1, tau: 0.5, reset: "hard", v0Fraction: 0 });
  }
}
