/** Losses: cross-entropy over logits (with label smoothing) and mean squared error. */
import { allocZeroed } from "../memory.js";
import { record } from "../autograd.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Tensor, assertTensor, shapeSize } from "../tensor.js";
import { Bin, asTensor, binaryBroadcast, broadcastShapes, sameShape, sumToShape } from "./broadcast.js";
import { logSoftmaxInto } from "./softmax.js";

export type Reduction = "mean" | "sum" | "none";

export interface CrossEntropyOptions {
  labelSmoothing?: number;
  reduction?: Reduction;
}

function checkReduction(op: string, r: unknown): Reduction {
  if (r !== "mean" && r !== "sum" && r !== "none") throw new ShapeError(op, `reduction must be "mean", "sum" or "none", got ${JSON.stringify(r)}`);
  return r;
}

/** Validated integer class labels (Int32Array, number[] or a 1-D tensor of integers). */
function checkLabels(labels: unknown, N: number, K: number, logits: Tensor): Int32Array {
  const op = "crossEntropy";
  let arr: ArrayLike<number>;
  if (labels instanceof Int32Array) arr = labels;
  else if (Array.isArray(labels)) arr = labels as number[];
  else if (labels instanceof Tensor) {
    if (labels.ndim !== 1) throw new ShapeError(op, `labels tensor must be 1-D, got ${fmtShape(labels.shape)} (logits ${fmtShape(logits.shape)})`);
    arr = labels.data;
  } else throw new ShapeError(op, `labels must be an Int32Array or a number[], got ${labels === null ? "null" : typeof labels} (logits ${fmtShape(logits.shape)})`);
  if (arr.length !== N) throw new ShapeError(op, `${arr.length} labels for logits ${fmtShape(logits.shape)} (need ${N})`);
  const out = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const v = arr[i]!;
    if (typeof v !== "number" || !Number.isInteger(v)) throw new ShapeError(op, `label ${i} is ${String(v)}, not an integer (logits ${fmtShape(logits.shape)})`);
    if (v < 0 || v >= K) throw new ShapeError(op, `label ${i} is ${v}, out of range [0, ${K}) for logits ${fmtShape(logits.shape)}`);
    out[i] = v;
  }
  return out;
}

/**
 * Cross-entropy of logits[N, K] against integer labels, with label smoothing eps: the target is
 * (1 - eps) one-hot + eps / K (PyTorch's definition). reduction "mean" (default) averages over N.
 */
export function crossEntropy(logits: Tensor, labels: Int32Array | number[] | Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = "crossEntropy";
  assertTensor(op, "logits", logits);
  if (logits.ndim !== 2) throw new ShapeError(op, `logits must be 2-D [N, K], got ${fmtShape(logits.shape)}`);
  const [N, K] = logits.shape as [number, number];
  if (K < 1) throw new ShapeError(op, `logits ${fmtShape(logits.shape)} have no classes`);
  const eps = opts.labelSmoothing ?? 0;
  if (typeof eps !== "number" || !(eps >= 0 && eps <= 1)) throw new ShapeError(op, `labelSmoothing must be in [0, 1], got ${String(eps)}`);
  const reduction = checkReduction(op, opts.reduction ?? "mean");
  const y = checkLabels(labels, N, K, logits);
  const logp = allocZeroed(logits.size);
  logSoftmaxInto(logits.data, logp, N, K, 1);
  const per = allocZeroed(N);
  const onW = 1 - eps;
  const offW = eps / K;
  let total = 0;
  for (let i = 0; i < N; i++) {
    const row = i * K;
    let l = -onW * logp[row + y[i]!]!;
    if (eps > 0) {
      let s = 0;
      for (let k = 0; k < K; k++) s += logp[row + k]!;
      l -= offW * s;
    }
    per[i] = l;
    total += l;
  }
  let out: Tensor;
  if (reduction === "none") out = new Tensor(per, [N]);
  else out = new Tensor(Float32Array.of(reduction === "mean" ? (N > 0 ? total / N : NaN) : total), []);
  return record(op, [logits], [out], ([g]) => {
    // d loss_i / d logits_ik = softmax_ik - target_ik
    const d = allocZeroed(logits.size);
    for (let i = 0; i < N; i++) {
      const gi = reduction === "none" ? g![i]! : reduction === "mean" ? g![0]! / N : g![0]!;
      const row = i * K;
      for (let k = 0; k < K; k++) d[row + k] = gi * (Math.exp(logp[row + k]!) - offW);
      d[row + y[i]!]! -= gi * onW;
    }
    return [d];
  })[0];
}

/** Mean squared error (b broadcast against a; a plain number allowed). */
export function mseLoss(a: Tensor, b0: Tensor | number, reduction: Reduction = "mean"): Tensor {
  const op = "mseLoss";
  assertTensor(op, "a", a);
  const b = asTensor(op, "b", b0);
  checkReduction(op, reduction);
  const shape = sameShape(a.shape, b.shape) ? a.shape : broadcastShapes(op, a.shape, b.shape);
  const diff = allocZeroed(shapeSize(shape));
  binaryBroadcast(Bin.Sub, a.data, a.shape, b.data, b.shape, shape, diff);
  const n = diff.length;
  let out: Tensor;
  if (reduction === "none") {
    const y = allocZeroed(n);
    for (let i = 0; i < n; i++) y[i] = diff[i]! * diff[i]!;
    out = new Tensor(y, shape);
  } else {
    let s = 0;
    for (let i = 0; i < n; i++) s += diff[i]! * diff[i]!;
    out = new Tensor(Float32Array.of(reduction === "mean" ? s / n : s), []);
  }
  return record(op, [a, b], [out], ([g]) => {
    const d = allocZeroed(n);
    if (reduction === "none") for (let i = 0; i < n; i++) d[i] = 2 * diff[i]! * g![i]!;
    else {
      const k = (2 * g![0]!) / (reduction === "mean" ? n : 1);
      for (let i = 0; i < n; i++) d[i] = k * diff[i]!;
    }
    let gb: Float32Array | null = null;
    if (b.requiresGrad) {
      const r = sumToShape(d, shape, b.shape);
      gb = allocZeroed(r.length);
      for (let i = 0; i < r.length; i++) gb[i] = -r[i]!;
    }
    return [a.requiresGrad ? sumToShape(d, shape, a.shape) : null, gb];
  })[0];
}
