/** Shape ops that move data: permute / transpose, concat, stack, repeatTime (reshape/slice/index live on Tensor). */
import { allocZeroed } from "../memory.js";
import { record } from "../autograd.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Tensor, assertTensor, normAxis, shapeSize, type Shape } from "../tensor.js";

/** Copies x (shape) into a new buffer laid out in the order of perm. */
function permuteData(x: Float32Array, shape: Shape, perm: readonly number[]): Float32Array {
  const nd = shape.length;
  const out = allocZeroed(x.length);
  if (x.length === 0) return out;
  const inStrides = new Array<number>(nd);
  for (let i = nd - 1, acc = 1; i >= 0; i--) {
    inStrides[i] = acc;
    acc *= shape[i]!;
  }
  const dims = perm.map((p) => shape[p]!);
  const st = perm.map((p) => inStrides[p]!);
  // 2-D transpose (the common case, also [B, M, N] with a batch dim): blocked for cache locality
  if (nd >= 2 && perm[nd - 1] === nd - 2 && perm[nd - 2] === nd - 1 && perm.slice(0, nd - 2).every((p, i) => p === i)) {
    const R = shape[nd - 2]!;
    const C = shape[nd - 1]!;
    const batch = x.length / (R * C);
    const BS = 32;
    for (let b = 0; b < batch; b++) {
      const base = b * R * C;
      for (let i0 = 0; i0 < R; i0 += BS) {
        const i1 = Math.min(i0 + BS, R);
        for (let j0 = 0; j0 < C; j0 += BS) {
          const j1 = Math.min(j0 + BS, C);
          for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[base + j * R + i] = x[base + i * C + j]!;
        }
      }
    }
    return out;
  }
  const inner = dims[nd - 1]!;
  const is = st[nd - 1]!;
  const ctr = new Array<number>(nd).fill(0);
  let off = 0;
  for (let o = 0; o < out.length; o += inner) {
    if (is === 1 && inner >= 64) out.set(x.subarray(off, off + inner), o);
    else for (let i = 0; i < inner; i++) out[o + i] = x[off + i * is]!;
    for (let d = nd - 2; d >= 0; d--) {
      ctr[d]!++;
      off += st[d]!;
      if (ctr[d]! < dims[d]!) break;
      off -= st[d]! * dims[d]!;
      ctr[d] = 0;
    }
  }
  return out;
}

export function permute(a: Tensor, dims: readonly number[]): Tensor {
  assertTensor("permute", "a", a);
  const nd = a.ndim;
  if (!Array.isArray(dims as unknown) || dims.length !== nd) {
    throw new ShapeError("permute", `dims ${JSON.stringify(dims)} must list each of the ${nd} axes of ${fmtShape(a.shape)} once`);
  }
  const perm = dims.map((d) => {
    if (typeof d !== "number" || !Number.isInteger(d) || d < -nd || d >= nd) {
      throw new ShapeError("permute", `axis ${String(d)} in ${JSON.stringify(dims)} is out of range for ${fmtShape(a.shape)}`);
    }
    return d < 0 ? d + nd : d;
  });
  if (new Set(perm).size !== nd) throw new ShapeError("permute", `dims ${JSON.stringify(dims)} repeat an axis of ${fmtShape(a.shape)}`);
  const outShape = perm.map((p) => a.shape[p]!);
  if (perm.every((p, i) => p === i)) {
    return record("permute", [a], [new Tensor(new Float32Array(a.data), outShape)], ([g]) => [g!])[0];
  }
  const inv = new Array<number>(nd);
  perm.forEach((p, i) => (inv[p] = i));
  const out = new Tensor(permuteData(a.data, a.shape, perm), outShape);
  return record("permute", [a], [out], ([g]) => [permuteData(g!, outShape, inv)])[0];
}

export function transpose(a: Tensor, d0: number, d1: number): Tensor {
  assertTensor("transpose", "a", a);
  const nd = a.ndim;
  const x = normAxis("transpose", d0, nd);
  const y = normAxis("transpose", d1, nd);
  const perm = Array.from({ length: nd }, (_, i) => i);
  perm[x] = y;
  perm[y] = x;
  return permute(a, perm);
}

export function concat(ts: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(ts as unknown) || ts.length === 0) throw new ShapeError("concat", "needs a non-empty array of tensors");
  ts.forEach((t, i) => assertTensor("concat", `ts[${i}]`, t));
  const first = ts[0]!;
  const nd = first.ndim;
  if (nd === 0) throw new ShapeError("concat", "cannot concatenate 0-d tensors (use stack)");
  const ax = normAxis("concat", axis, nd);
  let total = 0;
  for (const t of ts) {
    const ok = t.ndim === nd && t.shape.every((d, i) => i === ax || d === first.shape[i]);
    if (!ok) {
      throw new ShapeError("concat", `shapes ${ts.map((u) => fmtShape(u.shape)).join(", ")} differ outside axis ${ax}`);
    }
    total += t.shape[ax]!;
  }
  const outShape = [...first.shape];
  outShape[ax] = total;
  const outer = shapeSize(first.shape.slice(0, ax));
  const inner = shapeSize(first.shape.slice(ax + 1));
  const rowOut = total * inner;
  const y = allocZeroed(outer * rowOut);
  const offs: number[] = [];
  let off = 0;
  for (const t of ts) {
    offs.push(off);
    const blk = t.shape[ax]! * inner;
    if (outer === 1) y.set(t.data, off);
    else for (let o = 0; o < outer; o++) y.set(t.data.subarray(o * blk, (o + 1) * blk), o * rowOut + off);
    off += blk;
  }
  return record("concat", ts, [new Tensor(y, outShape)], ([g]) =>
    ts.map((t, k) => {
      if (!t.requiresGrad) return null;
      const blk = t.shape[ax]! * inner;
      if (outer === 1) return g!.slice(offs[k]!, offs[k]! + blk);
      const d = allocZeroed(t.size);
      for (let o = 0; o < outer; o++) d.set(g!.subarray(o * rowOut + offs[k]!, o * rowOut + offs[k]! + blk), o * blk);
      return d;
    }),
  )[0];
}

export function stack(ts: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(ts as unknown) || ts.length === 0) throw new ShapeError("stack", "needs a non-empty array of tensors");
  ts.forEach((t, i) => assertTensor("stack", `ts[${i}]`, t));
  const shape = ts[0]!.shape;
  for (const t of ts) {
    if (t.ndim !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError("stack", `all tensors must have the same shape, got ${ts.map((u) => fmtShape(u.shape)).join(", ")}`);
    }
  }
  const ax = normAxis("stack", axis, shape.length + 1);
  const unsq = [...shape.slice(0, ax), 1, ...shape.slice(ax)];
  return concat(ts.map((t) => t.reshape(unsq)), ax);
}

/** [B, ...] -> [T, B, ...]: the same input at every timestep (direct encoding); backward sums over T. */
export function repeatTime(x: Tensor, T: number): Tensor {
  assertTensor("repeatTime", "x", x);
  if (!Number.isInteger(T) || T < 1) throw new ShapeError("repeatTime", `T must be a positive integer, got ${T} (input ${fmtShape(x.shape)})`);
  const n = x.size;
  const y = allocZeroed(n * T);
  for (let t = 0; t < T; t++) y.set(x.data, t * n);
  return record("repeatTime", [x], [new Tensor(y, [T, ...x.shape])], ([g]) => {
    const d = new Float32Array(g!.subarray(0, n));
    for (let t = 1; t < T; t++) {
      const o = t * n;
      for (let i = 0; i < n; i++) d[i]! += g![o + i]!;
    }
    return [d];
  })[0];
}
