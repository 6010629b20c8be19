/**
 * Weight initialisers, all drawing from an explicit Rng so a seed fixes the whole network.
 * fan_in/fan_out follow torch.nn.init: for a conv weight [K, C/g, kh, kw], fan_in = C/g·kh·kw, fan_out = K·kh·kw.
 */
import { Tensor, type Shape } from "../engine/tensor.js";
import type { Rng } from "../engine/random.js";

export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`init: fan computation needs at least 2 dimensions, got [${shape.join(", ")}]`);
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i]!;
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** kaiming_normal_(mode, nonlinearity="relu"): N(0, 2/fan). Spec §7 uses fan_out for convs. */
export function kaimingNormal(shape: Shape, rng: Rng, mode: "fan_in" | "fan_out" = "fan_out"): Tensor {
  const f = fans(shape);
  const std = Math.sqrt(2 / (mode === "fan_in" ? f.fanIn : f.fanOut));
  return Tensor.randn(shape, rng, std);
}

/** PyTorch's default for Linear/Conv weights: kaiming_uniform(a=√5) = U(−1/√fan_in, 1/√fan_in). */
export function torchDefaultWeight(shape: Shape, rng: Rng): Tensor {
  const bound = 1 / Math.sqrt(fans(shape).fanIn);
  return Tensor.rand(shape, rng, -bound, bound);
}

/** PyTorch's default bias: U(−1/√fan_in, 1/√fan_in). */
export function torchDefaultBias(n: number, fanIn: number, rng: Rng): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return Tensor.rand([n], rng, -bound, bound);
}
