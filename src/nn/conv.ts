import { Tensor } from "../engine/tensor.js";
import { Rng, globalRng } from "../engine/random.js";
import { ShapeError, fmtShape } from "../engine/errors.js";
import { conv2d } from "../engine/index.js";
import { Module } from "./module.js";
import { Parameter } from "./parameter.js";
import { kaimingNormal, torchDefaultBias, torchDefaultWeight, fans } from "./init.js";

export type Pair = number | [number, number];
export const pair = (v: Pair): [number, number] => (typeof v === "number" ? [v, v] : v);

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  groups?: number;
  bias?: boolean;
  /** "kaiming_fan_out" (spec §7, bias 0) or "torch" (PyTorch's default, for ResNet which has no custom init). */
  init?: "kaiming_fan_out" | "torch";
  rng?: Rng;
}

export class Conv2d extends Module {
  readonly weight: Parameter;
  bias: Parameter | null;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly groups: number;

  constructor(readonly inChannels: number, readonly outChannels: number, kernel: Pair, opts: Conv2dOptions = {}) {
    super();
    this.kernel = pair(kernel);
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
    this.groups = opts.groups ?? 1;
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new ShapeError("Conv2d", `channels ${inChannels}->${outChannels} are not divisible by groups ${this.groups}`);
    }
    const rng = opts.rng ?? globalRng;
    const shape = [outChannels, inChannels / this.groups, ...this.kernel];
    const init = opts.init ?? "kaiming_fan_out";
    this.weight = this.registerParameter("weight", new Parameter(init === "torch" ? torchDefaultWeight(shape, rng) : kaimingNormal(shape, rng, "fan_out")));
    this.bias = opts.bias ?? true
      ? this.registerParameter("bias", new Parameter(init === "torch" ? torchDefaultBias(outChannels, fans(shape).fanIn, rng) : Tensor.zeros([outChannels])))
      : null;
  }

  /** Used by foldAffine when the conv was built without a bias. */
  registerBias(p: Parameter): void {
    this.bias = this.registerParameter("bias", p);
  }

  /** Output spatial size for an input of h×w (throws naming the layer geometry when it does not fit). */
  outputSize(h: number, w: number): [number, number] {
    const oh = Math.floor((h + 2 * this.padding[0] - this.kernel[0]) / this.stride[0]) + 1;
    const ow = Math.floor((w + 2 * this.padding[1] - this.kernel[1]) / this.stride[1]) + 1;
    if (oh < 1 || ow < 1) throw new ShapeError("Conv2d", `kernel ${this.kernel.join("x")} does not fit input ${h}x${w} with padding ${this.padding.join(",")}`);
    return [oh, ow];
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new ShapeError("Conv2d", `expects [N, ${this.inChannels}, H, W], got ${fmtShape(x.shape)}`);
    }
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, groups: this.groups });
  }

  /** Folds a following per-channel affine y·scale + shift (an eval-mode BN) into this conv. */
  foldAffine(scale: Float32Array, shift: Float32Array): void {
    foldAffineInto(this, this.outChannels, scale, shift);
  }

  override describe(): string {
    return `Conv2d(${this.inChannels}, ${this.outChannels}, kernel=${this.kernel.join("x")}, stride=${this.stride.join(",")}, padding=${this.padding.join(",")}${this.groups > 1 ? `, groups=${this.groups}` : ""}${this.bias ? "" : ", bias=false"})`;
  }
}

/** w[k, ...] *= scale[k]; b[k] = b[k]·scale[k] + shift[k], registering a bias when the layer had none. */
export function foldAffineInto(layer: { weight: Parameter; bias: Parameter | null }, out: number, scale: Float32Array, shift: Float32Array): void {
  if (scale.length !== out || shift.length !== out) {
    throw new ShapeError("foldAffine", `${scale.length} scales / ${shift.length} shifts for ${out} output channels`);
  }
  const w = layer.weight.data;
  const per = w.length / out;
  for (let k = 0; k < out; k++) for (let i = 0; i < per; i++) w[k * per + i]! *= scale[k]!;
  if (!layer.bias) {
    const b = new Parameter(Tensor.zeros([out]));
    (layer as unknown as { registerBias(p: Parameter): void }).registerBias(b);
  }
  const b = layer.bias!.data;
  for (let k = 0; k < out; k++) b[k] = b[k]! * scale[k]! + shift[k]!;
}
