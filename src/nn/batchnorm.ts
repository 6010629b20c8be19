/**
 * Batch norm over [N, C, ...]: batch statistics in training (running stats updated in place, unbiased
 * variance like PyTorch), running statistics in eval. γ/β are excluded from weight decay.
 */
import { Tensor } from "../engine/tensor.js";
import { ShapeError, fmtShape } from "../engine/errors.js";
import { batchNorm, batchNormEvalAffine } from "../engine/index.js";
import { Module } from "./module.js";
import { Parameter } from "./parameter.js";

export interface BatchNormOptions {
  momentum?: number;
  eps?: number;
  affine?: boolean;
}

export abstract class BatchNormBase extends Module {
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly momentum: number;
  readonly eps: number;
  protected abstract readonly expectedRank: number[];

  constructor(readonly numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    this.momentum = opts.momentum ?? 0.1;
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.affine ?? true;
    this.weight = affine ? this.registerParameter("weight", new Parameter(Tensor.ones([numFeatures]), { weightDecay: false })) : null;
    this.bias = affine ? this.registerParameter("bias", new Parameter(Tensor.zeros([numFeatures]), { weightDecay: false })) : null;
    this.runningMean = this.registerBuffer("runningMean", Tensor.zeros([numFeatures]));
    this.runningVar = this.registerBuffer("runningVar", Tensor.ones([numFeatures]));
  }

  private checkInput(x: Tensor): void {
    if (!this.expectedRank.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      throw new ShapeError(this.constructor.name, `expects ${this.expectedRank.map((r) => `${r}-d`).join(" or ")} input with ${this.numFeatures} channels on axis 1, got ${fmtShape(x.shape)}`);
    }
  }

  /**
   * The eval-mode transform for this input as per-channel (scale, shift), rounded exactly as forward() computes
   * it: what a following spiking neuron folds into its step. Only in eval mode.
   */
  evalInputAffine(x: Tensor): { scale: Float32Array; shift: Float32Array } {
    this.checkInput(x);
    if (this.training) throw new Error(`${this.constructor.name}: evalInputAffine needs eval mode`);
    return batchNormEvalAffine(this.weight, this.bias, this.runningMean, this.runningVar, this.eps);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }

  /** Per-channel (scale, shift) of the eval-mode transform y = x·scale + shift, used to fold BN into a conv. */
  evalAffine(): { scale: Float32Array; shift: Float32Array } {
    const C = this.numFeatures;
    const scale = new Float32Array(C);
    const shift = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const g = this.weight ? this.weight.data[c]! : 1;
      const b = this.bias ? this.bias.data[c]! : 0;
      const s = g / Math.sqrt(this.runningVar.data[c]! + this.eps);
      scale[c] = s;
      shift[c] = b - this.runningMean.data[c]! * s;
    }
    return { scale, shift };
  }

  override describe(): string {
    return `${this.constructor.name}(${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum})`;
  }
}

export class BatchNorm2d extends BatchNormBase {
  protected readonly expectedRank = [4];
}

export class BatchNorm1d extends BatchNormBase {
  protected readonly expectedRank = [2, 3];
}
