/** matmul and linear on the backend's GEMM. */
import { allocUninit, allocZeroed } from "../memory.js";
import { record } from "../autograd.js";
import { getBackend } from "../backends.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Tensor, assertTensor, shapeSize } from "../tensor.js";

/**
 * a[..., M, K] @ b[K, N] -> [..., M, N] (leading dims of a fold into M: one GEMM), or
 * a[..., M, K] @ b[..., K, N] with identical leading dims (one GEMM per batch entry).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  assertTensor("matmul", "a", a);
  assertTensor("matmul", "b", b);
  if (a.ndim < 2 || b.ndim < 2) {
    throw new ShapeError("matmul", `needs tensors with at least 2 dimensions, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const M = a.shape[a.ndim - 2]!;
  const K = a.shape[a.ndim - 1]!;
  const K2 = b.shape[b.ndim - 2]!;
  const N = b.shape[b.ndim - 1]!;
  if (K !== K2) {
    throw new ShapeError("matmul", `inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${K} vs ${K2})`);
  }
  const lead = a.shape.slice(0, -2);
  const be = getBackend();
  if (b.ndim === 2) {
    const Mt = shapeSize(lead) * M;
    const y = allocUninit(Mt * N);
    be.gemm(false, false, Mt, N, K, 1, a.data, b.data, 0, y);
    return record("matmul", [a, b], [new Tensor(y, [...lead, M, N])], ([g]) => {
      const bk = getBackend();
      let da: Float32Array | null = null;
      let db: Float32Array | null = null;
      if (a.requiresGrad) {
        da = allocUninit(a.size);
        bk.gemm(false, true, Mt, K, N, 1, g!, b.data, 0, da);
      }
      if (b.requiresGrad) {
        db = allocUninit(b.size);
        bk.gemm(true, false, K, N, Mt, 1, a.data, g!, 0, db);
      }
      return [da, db];
    })[0];
  }
  const leadB = b.shape.slice(0, -2);
  if (leadB.length !== lead.length || leadB.some((d, i) => d !== lead[i])) {
    throw new ShapeError("matmul", `batch dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (b must be 2-D or share a's leading dims)`);
  }
  const batch = shapeSize(lead);
  const sa = M * K;
  const sb = K * N;
  const sy = M * N;
  const y = allocZeroed(batch * sy);
  for (let i = 0; i < batch; i++) {
    be.gemm(false, false, M, N, K, 1, a.data.subarray(i * sa, (i + 1) * sa), b.data.subarray(i * sb, (i + 1) * sb), 0,
      y.subarray(i * sy, (i + 1) * sy));
  }
  return record("matmul", [a, b], [new Tensor(y, [...lead, M, N])], ([g]) => {
    const bk = getBackend();
    const da = a.requiresGrad ? allocZeroed(a.size) : null;
    const db = b.requiresGrad ? allocZeroed(b.size) : null;
    for (let i = 0; i < batch; i++) {
      const gi = g!.subarray(i * sy, (i + 1) * sy);
      if (da) bk.gemm(false, true, M, K, N, 1, gi, b.data.subarray(i * sb, (i + 1) * sb), 0, da.subarray(i * sa, (i + 1) * sa));
      if (db) bk.gemm(true, false, K, N, M, 1, a.data.subarray(i * sa, (i + 1) * sa), gi, 0, db.subarray(i * sb, (i + 1) * sb));
    }
    return [da, db];
  })[0];
}

/** y = x w^T + b with x[..., in], w[out, in], b[out] (optional). */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  assertTensor("linear", "x", x);
  assertTensor("linear", "w", w);
  if (b !== undefined && b !== null) assertTensor("linear", "b", b);
  const bias = b ?? null;
  if (w.ndim !== 2) throw new ShapeError("linear", `weight must be 2-D [out, in], got ${fmtShape(w.shape)}`);
  const [O, I] = w.shape as [number, number];
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== I) {
    throw new ShapeError("linear", `input ${fmtShape(x.shape)} does not end in the weight's in-features ${I} (weight ${fmtShape(w.shape)})`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== O)) {
    throw new ShapeError("linear", `bias ${fmtShape(bias.shape)} must be [${O}] for weight ${fmtShape(w.shape)}`);
  }
  const lead = x.shape.slice(0, -1);
  const N = shapeSize(lead);
  const y = allocUninit(N * O);
  if (bias) for (let r = 0; r < N; r++) y.set(bias.data, r * O);
  getBackend().gemm(false, true, N, O, I, 1, x.data, w.data, bias ? 1 : 0, y);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record("linear", inputs, [new Tensor(y, [...lead, O])], ([g]) => {
    const bk = getBackend();
    let dx: Float32Array | null = null;
    let dw: Float32Array | null = null;
    let db: Float32Array | null = null;
    if (x.requiresGrad) {
      dx = allocUninit(x.size);
      bk.gemm(false, false, N, I, O, 1, g!, w.data, 0, dx);
    }
    if (w.requiresGrad) {
      dw = allocUninit(w.size);
      bk.gemm(true, false, O, I, N, 1, g!, x.data, 0, dw);
    }
    if (bias && bias.requiresGrad) {
      const acc = new Float64Array(O);
      for (let r = 0; r < N; r++) {
        const o = r * O;
        for (let j = 0; j < O; j++) acc[j]! += g![o + j]!;
      }
      db = Float32Array.from(acc);
    }
    return [dx, dw, db];
  })[0];
}
