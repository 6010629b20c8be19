/**
 * Exact per-neuron fan-out from layer geometry: how many synapses of the next weighted layer(s) a spike of
 * neuron i reaches. Through a conv, input (c, h, w) feeds (K/groups) output channels at every output position
 * whose window covers (h, w), so borders get fewer; through pooling the spike lands in every pooling cell that
 * covers it and inherits that cell's fan-out; a linear layer gives every input its out_features; an identity
 * shortcut is an addition, not a synapse.
 */
import type { FeatureShape, LayerSpec } from "./spec.js";
import { convOut } from "./spec.js";

const asPair = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === "number" ? [v, v] : v;

/** cnt[h] = number of output positions along one axis whose window covers input position h. */
function coverCounts(size: number, k: number, s: number, p: number): Float32Array {
  const out = convOut(size, k, s, p);
  const cnt = new Float32Array(size);
  for (let o = 0; o < out; o++) {
    const start = o * s - p;
    for (let j = Math.max(0, start); j < Math.min(size, start + k); j++) cnt[j]! += 1;
  }
  return cnt;
}

interface ConvGeom {
  out: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  groups: number;
}

function convFanout([c, h, w]: number[], g: ConvGeom): Float32Array {
  const ch = coverCounts(h!, g.kernel[0], g.stride[0], g.padding[0]);
  const cw = coverCounts(w!, g.kernel[1], g.stride[1], g.padding[1]);
  const perGroup = g.out / g.groups;
  const f = new Float32Array(c! * h! * w!);
  for (let ci = 0; ci < c!; ci++) {
    for (let y = 0; y < h!; y++) for (let x = 0; x < w!; x++) f[(ci * h! + y) * w! + x] = perGroup * ch[y]! * cw[x]!;
  }
  return f;
}

function poolBack([c, h, w]: number[], k: [number, number], s: [number, number], p: [number, number], next: Float32Array): Float32Array {
  const oh = convOut(h!, k[0], s[0], p[0]);
  const ow = convOut(w!, k[1], s[1], p[1]);
  const f = new Float32Array(c! * h! * w!);
  for (let ci = 0; ci < c!; ci++) {
    for (let py = 0; py < oh; py++) {
      for (let px = 0; px < ow; px++) {
        const v = next[(ci * oh + py) * ow + px]!;
        for (let y = Math.max(0, py * s[0] - p[0]); y < Math.min(h!, py * s[0] - p[0] + k[0]); y++) {
          for (let x = Math.max(0, px * s[1] - p[1]); x < Math.min(w!, px * s[1] - p[1] + k[1]); x++) f[(ci * h! + y) * w! + x]! += v;
        }
      }
    }
  }
  return f;
}

/** Fan-out of a tensor of the given per-sample shape entering layers[j] (the rest of the network). */
export function fanoutFrom(layers: readonly LayerSpec[], j: number, shape: FeatureShape, numClasses: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const l = layers[j];
  if (!l) return new Float32Array(n);
  switch (l.type) {
    case "bn":
    case "dropout":
    case "act": // a neuron directly consuming a neuron has no synapses in between
      return l.type === "act" ? new Float32Array(n) : fanoutFrom(layers, j + 1, shape, numClasses);
    case "flatten":
      return fanoutFrom(layers, j + 1, [n], numClasses);
    case "linear":
      return new Float32Array(n).fill(l.out === "classes" ? numClasses : l.out);
    case "conv":
      return convFanout(shape, {
        out: l.out, kernel: asPair(l.kernel, 1), stride: asPair(l.stride, 1), padding: asPair(l.padding, 0), groups: l.groups ?? 1,
      });
    case "avgpool":
    case "maxpool": {
      const k = asPair(l.kernel, 1);
      const s = asPair(l.stride ?? l.kernel, 1);
      const p = asPair(l.padding, 0);
      const next = fanoutFrom(layers, j + 1, [shape[0]!, convOut(shape[1]!, k[0], s[0], p[0]), convOut(shape[2]!, k[1], s[1], p[1])], numClasses);
      return poolBack(shape, k, s, p, next);
    }
    case "adaptiveavgpool": {
      const next = fanoutFrom(layers, j + 1, [shape[0]!, 1, 1], numClasses);
      return poolBack(shape, [shape[1]!, shape[2]!], [shape[1]!, shape[2]!], [0, 0], next);
    }
    case "block": {
      const s = l.stride ?? 1;
      const f = convFanout(shape, { out: l.out, kernel: [3, 3], stride: [s, s], padding: [1, 1], groups: 1 });
      if (s !== 1 || shape[0] !== l.out) {
        const sc = convFanout(shape, { out: l.out, kernel: [1, 1], stride: [s, s], padding: [0, 0], groups: 1 });
        for (let i = 0; i < n; i++) f[i]! += sc[i]!;
      }
      return f;
    }
  }
}

/** Fan-out of the activation inside a block (after conv1/bn1): conv2, 3×3 stride 1 padding 1. */
export function blockInnerFanout(shape: FeatureShape, out: number): Float32Array {
  return convFanout(shape, { out, kernel: [3, 3], stride: [1, 1], padding: [1, 1], groups: 1 });
}

/** MACs per sample of the first layer on the analog input (spec §11: counted as MACs, not SOPs). */
export function inputMacs(first: LayerSpec, input: FeatureShape, output: FeatureShape): number {
  if (first.type === "conv") {
    const [kh, kw] = asPair(first.kernel, 1);
    return output.reduce((a, b) => a * b, 1) * (input[0]! / (first.groups ?? 1)) * kh * kw;
  }
  if (first.type === "linear") return input.reduce((a, b) => a * b, 1) * output[0]!;
  if (first.type === "block") return output.reduce((a, b) => a * b, 1) * input[0]! * 9;
  return 0;
}
