/**
 * ResNet BasicBlock (spec §7): conv3x3(s) → norm → act → conv3x3 → norm, plus identity or conv1x1(s)+norm
 * shortcut, then the post-addition activation (a neuron too in the SNN routes).
 * The activation and normalisation are factories so the same block serves ANN, QCFS and LIF/TEBN networks.
 */
import type { Tensor } from "../engine/tensor.js";
import { add } from "../engine/index.js";
import { Module } from "./module.js";
import { Conv2d, type Conv2dOptions } from "./conv.js";
import { BatchNorm2d } from "./batchnorm.js";
import { ReLU, Identity } from "./activation.js";
import { Sequential } from "./sequential.js";

export interface BasicBlockOptions {
  stride?: number;
  makeAct?: () => Module;
  makeNorm?: (channels: number) => Module;
  convInit?: Conv2dOptions["init"];
  rng?: Conv2dOptions["rng"];
}

export class BasicBlock extends Module {
  conv1: Conv2d;
  bn1: Module;
  act1: Module;
  conv2: Conv2d;
  bn2: Module;
  /** Identity, or Sequential(conv1x1, norm) when the stride or channel count changes. */
  shortcut: Module;
  act2: Module;
  readonly stride: number;

  constructor(readonly inChannels: number, readonly outChannels: number, opts: BasicBlockOptions = {}) {
    super();
    const s = (this.stride = opts.stride ?? 1);
    const makeAct = opts.makeAct ?? (() => new ReLU());
    const makeNorm = opts.makeNorm ?? ((c: number) => new BatchNorm2d(c));
    const conv = { bias: false, init: opts.convInit, rng: opts.rng };
    this.conv1 = this.registerModule("conv1", new Conv2d(inChannels, outChannels, 3, { ...conv, stride: s, padding: 1 }));
    this.bn1 = this.registerModule("bn1", makeNorm(outChannels));
    this.act1 = this.registerModule("act1", makeAct());
    this.conv2 = this.registerModule("conv2", new Conv2d(outChannels, outChannels, 3, { ...conv, stride: 1, padding: 1 }));
    this.bn2 = this.registerModule("bn2", makeNorm(outChannels));
    this.shortcut = this.registerModule(
      "shortcut",
      s !== 1 || inChannels !== outChannels
        ? new Sequential(new Conv2d(inChannels, outChannels, 1, { ...conv, stride: s }), makeNorm(outChannels))
        : new Identity(),
    );
    this.act2 = this.registerModule("act2", makeAct());
  }

  protected override onChildReplaced(name: string, m: Module): void {
    (this as unknown as Record<string, Module>)[name] = m;
  }

  forward(x: Tensor): Tensor {
    let r = this.conv1.call(x);
    r = this.bn1.call(r);
    r = this.act1.call(r);
    r = this.conv2.call(r);
    r = this.bn2.call(r);
    return this.act2.call(add(r, this.shortcut.call(x)));
  }

  override describe(): string {
    return `BasicBlock(${this.inChannels}, ${this.outChannels}, stride=${this.stride})`;
  }
}
