import { Tensor } from "../engine/tensor.js";
import { Rng, globalRng } from "../engine/random.js";
import { ShapeError, fmtShape } from "../engine/errors.js";
import { linear } from "../engine/index.js";
import { Module } from "./module.js";
import { Parameter } from "./parameter.js";
import { torchDefaultBias, torchDefaultWeight } from "./init.js";
import { foldAffineInto } from "./conv.js";

export interface LinearOptions {
  bias?: boolean;
  /** Spec §7 zeroes Linear biases in VGG; PyTorch's default draws them uniformly. */
  zeroBias?: boolean;
  rng?: Rng;
}

export class Linear extends Module {
  readonly weight: Parameter;
  bias: Parameter | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    const rng = opts.rng ?? globalRng;
    this.weight = this.registerParameter("weight", new Parameter(torchDefaultWeight([outFeatures, inFeatures], rng)));
    this.bias = opts.bias ?? true
      ? this.registerParameter("bias", new Parameter(opts.zeroBias ? Tensor.zeros([outFeatures]) : torchDefaultBias(outFeatures, inFeatures, rng)))
      : null;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ShapeError("Linear", `expects [N, ${this.inFeatures}], got ${fmtShape(x.shape)}`);
    }
    return linear(x, this.weight, this.bias ?? undefined);
  }

  registerBias(p: Parameter): void {
    this.bias = this.registerParameter("bias", p);
  }

  /** Folds a following per-feature affine y·scale + shift (an eval-mode BN1d) into this layer. */
  foldAffine(scale: Float32Array, shift: Float32Array): void {
    foldAffineInto(this, this.outFeatures, scale, shift);
  }

  override describe(): string {
    return `Linear(${this.inFeatures}, ${this.outFeatures}${this.bias ? "" : ", bias=false"})`;
  }
}
