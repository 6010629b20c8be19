/**
 * Threshold-constrained activations of the conversion route (spec §5.1). Each is one custom op with a
 * hand-written backward (straight-through floor, PyTorch's closed-interval clamp convention), so ∂λ is exact:
 *   QCFS:     q = floor(relu(x)/λ·L + 1/2)/L,  y = λ·clamp(q, 0, 1)
 *             ∂y/∂x = 1[x>0]·1[0≤q≤1];   ∂y/∂λ = clamp(q,0,1) − 1[0≤q≤1]·relu(x)/λ
 *   ClipReLU: z = relu(x)/λ,  y = λ·clamp(z, 0, 1)   (same gradients with q := z)
 * λ becomes the IF threshold θ on conversion.
 */
import { allocUninit } from "../engine/memory.js";
import { Tensor } from "../engine/tensor.js";
import { record, needsGrad } from "../engine/autograd.js";
import { getBackend } from "../engine/backends.js";
import { ShapeError, fmtShape } from "../engine/errors.js";
import { Module } from "../nn/module.js";
import { Parameter } from "../nn/parameter.js";
import { rcsAnnStat, type RcsCollector } from "./rcs.js";

function thresholdOp(name: string, x: Tensor, lambda: Tensor, L: number | null): Tensor {
  if (lambda.size !== 1) throw new ShapeError(name, `threshold must have one element, got ${fmtShape(lambda.shape)}`);
  const lam = lambda.data[0]!;
  if (!(lam > 0)) throw new Error(`${name}: threshold λ must be > 0, got ${lam}`);
  const n = x.size;
  const y = allocUninit(n);
  const levels = L ?? 0;
  // element-wise (∂λ sums over all elements): the storage's layout is kept
  getBackend().thresholdActForward(x.storage, y, lam, levels);
  const out = new Tensor(y, x.shape, false, x.layout);
  if (!needsGrad([x, lambda])) return out;
  return record(
    name,
    [x, lambda],
    [out],
    ([g]) => {
      const dx = x.requiresGrad ? allocUninit(n) : null;
      const dl = getBackend().thresholdActBackward(x.storage, g!, dx, lam, levels);
      return [dx, Float32Array.of(dl)];
    },
    { layoutAware: true },
  )[0];
}

export function qcfs(x: Tensor, lambda: Tensor, L = 4): Tensor {
  if (!Number.isInteger(L) || L < 1) throw new Error(`qcfs: quantisation level L must be a positive integer, got ${L}`);
  return thresholdOp("qcfs", x, lambda, L);
}

export function clipRelu(x: Tensor, lambda: Tensor): Tensor {
  return thresholdOp("clipRelu", x, lambda, null);
}

export interface ThresholdActivationOptions {
  /** Initial λ (spec: 8). */
  lambdaInit?: number;
  /** Weight decay on λ (the reference applies it, §12.18; excluded by default like BN). */
  weightDecay?: boolean;
}

abstract class ThresholdActivation extends Module {
  readonly lambda: Parameter;
  rcs: RcsCollector | null = null;
  layerName = "";
  constructor(opts: ThresholdActivationOptions = {}) {
    super();
    this.lambda = this.registerParameter("lambda", new Parameter(Tensor.from([opts.lambdaInit ?? 8], [1]), { weightDecay: opts.weightDecay ?? false }));
  }
  protected abstract apply_(x: Tensor): Tensor;
  forward(x: Tensor): Tensor {
    // RCS-ANN reads the pre-activation, gradients flow through this branch too (spec §4.1)
    if (this.rcs?.enabled) this.rcs.push(this.layerName, rcsAnnStat(x));
    return this.apply_(x);
  }
}

export class QCFS extends ThresholdActivation {
  readonly L: number;
  constructor(opts: ThresholdActivationOptions & { L?: number } = {}) {
    super(opts);
    this.L = opts.L ?? 4;
  }
  protected apply_(x: Tensor): Tensor {
    return qcfs(x, this.lambda, this.L);
  }
  override describe(): string {
    return `QCFS(L=${this.L}, λ=${+this.lambda.data[0]!.toPrecision(6)})`;
  }
}

export class ClipReLU extends ThresholdActivation {
  protected apply_(x: Tensor): Tensor {
    return clipRelu(x, this.lambda);
  }
  override describe(): string {
    return `ClipReLU(λ=${+this.lambda.data[0]!.toPrecision(6)})`;
  }
}
