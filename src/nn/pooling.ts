import type { Tensor } from "../engine/tensor.js";
import { ShapeError, fmtShape } from "../engine/errors.js";
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from "../engine/index.js";
import { Module } from "./module.js";
import { pair, type Pair } from "./conv.js";

abstract class Pool2d extends Module {
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  constructor(kernel: Pair, stride?: Pair, padding: Pair = 0) {
    super();
    this.kernel = pair(kernel);
    this.stride = pair(stride ?? kernel);
    this.padding = pair(padding);
  }
  outputSize(h: number, w: number): [number, number] {
    const oh = Math.floor((h + 2 * this.padding[0] - this.kernel[0]) / this.stride[0]) + 1;
    const ow = Math.floor((w + 2 * this.padding[1] - this.kernel[1]) / this.stride[1]) + 1;
    if (oh < 1 || ow < 1) throw new ShapeError(this.constructor.name, `kernel ${this.kernel.join("x")} does not fit input ${h}x${w}`);
    return [oh, ow];
  }
  protected check(x: Tensor): void {
    if (x.ndim !== 4) throw new ShapeError(this.constructor.name, `expects [N, C, H, W], got ${fmtShape(x.shape)}`);
  }
  override describe(): string {
    return `${this.constructor.name}(kernel=${this.kernel.join("x")}, stride=${this.stride.join(",")}, padding=${this.padding.join(",")})`;
  }
}

export class AvgPool2d extends Pool2d {
  forward(x: Tensor): Tensor {
    this.check(x);
    return avgPool2d(x, this.kernel, this.stride, this.padding);
  }
}

export class MaxPool2d extends Pool2d {
  forward(x: Tensor): Tensor {
    this.check(x);
    return maxPool2d(x, this.kernel, this.stride, this.padding);
  }
}

/** Global average pooling to 1×1 (the only output size the presets need). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: 1 = 1) {
    super();
    if (outputSize !== 1) throw new ShapeError("AdaptiveAvgPool2d", `only output size 1 is supported, got ${outputSize}`);
  }
  forward(x: Tensor): Tensor {
    if (x.ndim !== 4) throw new ShapeError("AdaptiveAvgPool2d", `expects [N, C, H, W], got ${fmtShape(x.shape)}`);
    return adaptiveAvgPool2d(x, 1);
  }
  override describe(): string {
    return "AdaptiveAvgPool2d(1)";
  }
}
