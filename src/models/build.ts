/**
 * buildModel: a ModelSpec (or preset name) → SpikingModel for one route.
 *   route "ann": activations QCFS (default), ClipReLU or ReLU; plain BN; run with T = 1 (spec §5.2).
 *   route "snn": LIF (default) or IF neurons; TEBN (default) or plain BN on feature maps; BN1d on vectors.
 * Every random draw comes from one Rng seeded by `seed`, so a seed fixes the network.
 */
import { Rng } from "../engine/random.js";
import { Module } from "../nn/module.js";
import { Sequential } from "../nn/sequential.js";
import { Conv2d } from "../nn/conv.js";
import { Linear } from "../nn/linear.js";
import { BatchNorm1d, BatchNorm2d } from "../nn/batchnorm.js";
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from "../nn/pooling.js";
import { Dropout } from "../nn/dropout.js";
import { Flatten } from "../nn/flatten.js";
import { ReLU } from "../nn/activation.js";
import { BasicBlock } from "../nn/residual.js";
import { QCFS, ClipReLU } from "../snn/qcfs.js";
import { IFNode, LIFNode } from "../snn/neuron.js";
import { TEBN } from "../snn/tebn.js";
import type { SurrogateName } from "../snn/surrogate.js";
import type { LayerGeometry } from "../snn/monitor.js";
import { foldBatchNorm } from "../snn/fold.js";
import { inferShapes, parseModelSpec, type FeatureShape, type ModelSpec } from "./spec.js";
import { presetSpec } from "./presets.js";
import { blockInnerFanout, fanoutFrom, inputMacs } from "./fanout.js";
import { SpikingModel, registerBuilder } from "./spiking-model.js";

export type Route = "ann" | "snn";

export interface BuildOptions {
  route?: Route;
  numClasses?: number;
  /** [C, H, W]; defaults to the spec's inputShape. */
  inputShape?: [number, number, number];
  /** Timesteps: static inputs are repeated T times; TEBN has one p_t per step. Default 1 (ann) / 4 (snn). */
  T?: number;
  /** QCFS quantisation level (ann route). */
  L?: number;
  /** ann route activation. */
  activation?: "qcfs" | "clip" | "relu";
  lambdaInit?: number;
  /** snn route neuron. */
  neuron?: "lif" | "if";
  /** Neuron threshold (default 1) and, for LIF, decay τ (default 0.5). */
  theta?: number;
  tau?: number;
  surrogate?: SurrogateName | "zif";
  surrogateParam?: number;
  /** snn route: TEBN instead of BatchNorm2d (default true for LIF, false for IF). */
  tebn?: boolean;
  /** Fold every BN that follows a conv/linear into it (eval-mode inference only). */
  foldBatchNorm?: boolean;
  seed?: number;
}

export type ResolvedBuildOptions = Required<Omit<BuildOptions, "inputShape" | "surrogateParam">> & {
  inputShape: [number, number, number];
  surrogateParam?: number;
};

export function resolveOptions(spec: ModelSpec, o: BuildOptions): ResolvedBuildOptions {
  const route = o.route ?? "ann";
  if (route !== "ann" && route !== "snn") throw new Error(`buildModel: route must be "ann" or "snn", got ${String(route)}`);
  const inputShape = o.inputShape ?? spec.inputShape;
  if (!inputShape) throw new Error(`buildModel(${spec.name}): no inputShape in the spec or the options`);
  const neuron = o.neuron ?? "lif";
  const r: ResolvedBuildOptions = {
    route,
    numClasses: o.numClasses ?? 10,
    inputShape,
    T: o.T ?? (route === "ann" ? 1 : 4),
    L: o.L ?? 4,
    activation: o.activation ?? "qcfs",
    lambdaInit: o.lambdaInit ?? 8,
    neuron,
    theta: o.theta ?? 1,
    tau: o.tau ?? 0.5,
    surrogate: o.surrogate ?? "triangle",
    surrogateParam: o.surrogateParam,
    tebn: o.tebn ?? (route === "snn" && neuron === "lif"),
    foldBatchNorm: o.foldBatchNorm ?? false,
    seed: o.seed ?? 0,
  };
  if (!Number.isInteger(r.numClasses) || r.numClasses < 2) throw new Error(`buildModel: numClasses must be an integer >= 2, got ${r.numClasses}`);
  if (!Number.isInteger(r.T) || r.T < 1) throw new Error(`buildModel: T must be a positive integer, got ${r.T}`);
  if (!["qcfs", "clip", "relu"].includes(r.activation)) throw new Error(`buildModel: activation must be qcfs, clip or relu, got ${r.activation}`);
  if (!["lif", "if"].includes(r.neuron)) throw new Error(`buildModel: neuron must be lif or if, got ${r.neuron}`);
  return r;
}

export interface ActivationSite {
  module: Module;
  geometry: LayerGeometry;
}

export function buildModel(specOrPreset: ModelSpec | string | unknown, opts: BuildOptions = {}): SpikingModel {
  const spec = typeof specOrPreset === "string" ? presetSpec(specOrPreset) : parseModelSpec(specOrPreset);
  const o = resolveOptions(spec, opts);
  const shapes = inferShapes(spec, o.inputShape, o.numClasses);
  const rng = new Rng(o.seed);
  const convInit = spec.convInit ?? "kaiming_fan_out";

  const makeAct = (): Module => {
    if (o.route === "ann") {
      if (o.activation === "relu") return new ReLU();
      if (o.activation === "clip") return new ClipReLU({ lambdaInit: o.lambdaInit });
      return new QCFS({ L: o.L, lambdaInit: o.lambdaInit });
    }
    const common = { theta: o.theta, surrogate: o.surrogate, surrogateParam: o.surrogateParam };
    return o.neuron === "if" ? new IFNode(common) : new LIFNode({ ...common, tau: o.tau });
  };
  const makeNorm2d = (c: number): Module => (o.route === "snn" && o.tebn ? new TEBN(c, o.T) : new BatchNorm2d(c));

  const net = new Sequential();
  const sites: ActivationSite[] = [];
  const site = (module: Module, index: number, name: string, shape: FeatureShape, fanout: Float32Array): void => {
    let total = 0;
    for (const f of fanout) total += f;
    sites.push({ module, geometry: { name, neurons: shape.reduce((a, b) => a * b, 1), shape: [...shape], fanout, fanoutTotal: total } });
    void index;
  };

  spec.layers.forEach((l, i) => {
    const { input, output } = shapes[i]!;
    const path = `net.${i}`;
    switch (l.type) {
      case "conv":
        net.append(new Conv2d(input[0]!, l.out, l.kernel, { stride: l.stride, padding: l.padding, groups: l.groups, bias: l.bias ?? true, init: convInit, rng }));
        break;
      case "linear":
        net.append(new Linear(input[0]!, output[0]!, { bias: l.bias ?? true, zeroBias: spec.zeroLinearBias ?? false, rng }));
        break;
      case "bn":
        net.append(input.length === 3 ? makeNorm2d(input[0]!) : new BatchNorm1d(input[0]!));
        break;
      case "act": {
        const a = makeAct();
        net.append(a);
        site(a, i, path, input, fanoutFrom(spec.layers, i + 1, input, o.numClasses));
        break;
      }
      case "avgpool":
        net.append(new AvgPool2d(l.kernel, l.stride, l.padding ?? 0));
        break;
      case "maxpool":
        net.append(new MaxPool2d(l.kernel, l.stride, l.padding ?? 0));
        break;
      case "adaptiveavgpool":
        net.append(new AdaptiveAvgPool2d(1));
        break;
      case "flatten":
        net.append(new Flatten(1));
        break;
      case "dropout":
        net.append(new Dropout(l.p, new Rng(o.seed * 7919 + i + 1)));
        break;
      case "block": {
        const b = new BasicBlock(input[0]!, l.out, { stride: l.stride ?? 1, makeAct, makeNorm: makeNorm2d, convInit, rng });
        net.append(b);
        site(b.act1, i, `${path}.act1`, output, blockInnerFanout(output, l.out));
        site(b.act2, i, `${path}.act2`, output, fanoutFrom(spec.layers, i + 1, output, o.numClasses));
        break;
      }
    }
  });

  const model = new SpikingModel(net, spec, o, sites, inputMacs(spec.layers[0]!, shapes[0]!.input, shapes[0]!.output));
  if (o.foldBatchNorm) foldBatchNorm(model.net);
  return model;
}

registerBuilder((spec, opts) => buildModel(spec, opts));
