/**
 * NumPy broadcasting machinery shared by the element-wise ops: shape resolution, a merged-dimension plan
 * (adjacent dimensions that are contiguous for every operand collapse into one, size-1 output dims vanish),
 * a strided binary loop driven by an op code (no per-element closures), reduction of a broadcast gradient
 * back to an operand's shape, and materialising a broadcast view.
 */
import { allocZeroed } from "../memory.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Tensor, type Shape, shapeSize } from "../tensor.js";

/** Broadcast result shape of several shapes, or a ShapeError naming the op and all shapes. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  let rank = 0;
  for (const s of shapes) rank = Math.max(rank, s.length);
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const off = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      const o = out[off + i]!;
      if (d === o || d === 1) continue;
      if (o === 1) out[off + i] = d;
      else {
        throw new ShapeError(op, `shapes ${shapes.map(fmtShape).join(" and ")} cannot be broadcast together`);
      }
    }
  }
  return out;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A broadcast iteration plan over an output shape for k operands: merged dims and one stride vector per
 * operand (0 along broadcast dims). The last dim is the inner loop.
 */
export interface Plan {
  dims: number[];
  strides: number[][];
  size: number;
}

export function makePlan(outShape: Shape, shapes: Shape[]): Plan {
  const rank = outShape.length;
  const k = shapes.length;
  const full: number[][] = [];
  for (const s of shapes) {
    const st = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let i = s.length - 1; i >= 0; i--) {
      const d = s[i]!;
      st[rank - s.length + i] = d === 1 ? 0 : acc;
      acc *= d;
    }
    full.push(st);
  }
  const dims: number[] = [];
  const strides: number[][] = shapes.map(() => []);
  for (let i = 0; i < rank; i++) {
    const d = outShape[i]!;
    if (d === 1) continue;
    const last = dims.length - 1;
    let merge = last >= 0;
    if (merge) {
      for (let j = 0; j < k; j++) {
        if (strides[j]![last] !== full[j]![i]! * d) {
          merge = false;
          break;
        }
      }
    }
    if (merge) {
      dims[last] = dims[last]! * d;
      for (let j = 0; j < k; j++) strides[j]![last] = full[j]![i]!;
    } else {
      dims.push(d);
      for (let j = 0; j < k; j++) strides[j]!.push(full[j]![i]!);
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    for (let j = 0; j < k; j++) strides[j]!.push(0);
  }
  return { dims, strides, size: shapeSize(outShape) };
}

export enum Bin {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
  Max = 4,
  Min = 5,
}

function innerBinary(code: Bin, a: Float32Array, ao: number, as: number, b: Float32Array, bo: number, bs: number,
                     out: Float32Array, oo: number, n: number): void {
  switch (code) {
    case Bin.Add:
      if (bs === 0) {
        const v = b[bo]!;
        for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as]! + v;
      } else for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as]! + b[bo + i * bs]!;
      break;
    case Bin.Sub:
      for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as]! - b[bo + i * bs]!;
      break;
    case Bin.Mul:
      if (bs === 0) {
        const v = b[bo]!;
        for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as]! * v;
      } else for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as]! * b[bo + i * bs]!;
      break;
    case Bin.Div:
      for (let i = 0; i < n; i++) out[oo + i] = a[ao + i * as]! / b[bo + i * bs]!;
      break;
    case Bin.Max:
      for (let i = 0; i < n; i++) {
        const x = a[ao + i * as]!;
        const y = b[bo + i * bs]!;
        out[oo + i] = x >= y || x !== x ? x : y;
      }
      break;
    case Bin.Min:
      for (let i = 0; i < n; i++) {
        const x = a[ao + i * as]!;
        const y = b[bo + i * bs]!;
        out[oo + i] = x <= y || x !== x ? x : y;
      }
      break;
  }
}

/** out = a (op) b with broadcasting to outShape (out must have outShape's size). */
export function binaryBroadcast(code: Bin, a: Float32Array, aShape: Shape, b: Float32Array, bShape: Shape,
                                outShape: Shape, out: Float32Array): void {
  const plan = makePlan(outShape, [aShape, bShape]);
  const { dims } = plan;
  const sa = plan.strides[0]!;
  const sb = plan.strides[1]!;
  const nd = dims.length;
  const inner = dims[nd - 1]!;
  const ia = sa[nd - 1]!;
  const ib = sb[nd - 1]!;
  if (nd === 1) {
    innerBinary(code, a, 0, ia, b, 0, ib, out, 0, inner);
    return;
  }
  const idx = new Array<number>(nd - 1).fill(0);
  let ao = 0;
  let bo = 0;
  for (let oo = 0; oo < plan.size; oo += inner) {
    innerBinary(code, a, ao, ia, b, bo, ib, out, oo, inner);
    // odometer over the outer dims
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      ao += sa[d]!;
      bo += sb[d]!;
      if (idx[d]! < dims[d]!) break;
      ao -= sa[d]! * dims[d]!;
      bo -= sb[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
}

/** Materialises src (of shape `from`) broadcast to shape `to`. Returns src itself when the shapes match. */
export function expandTo(src: Float32Array, from: Shape, to: Shape): Float32Array {
  if (sameShape(from, to)) return src;
  const n = shapeSize(to);
  const out = allocZeroed(n);
  if (src.length === 1) return out.fill(src[0]!);
  const plan = makePlan(to, [from]);
  const { dims } = plan;
  const s = plan.strides[0]!;
  const nd = dims.length;
  const inner = dims[nd - 1]!;
  const is = s[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let so = 0;
  for (let oo = 0; oo < n; oo += inner) {
    if (is === 0) out.fill(src[so]!, oo, oo + inner);
    else if (is === 1 && inner >= 64) out.set(src.subarray(so, so + inner), oo);
    else for (let i = 0; i < inner; i++) out[oo + i] = src[so + i * is]!;
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      so += s[d]!;
      if (idx[d]! < dims[d]!) break;
      so -= s[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Sums g (of shape `from`) over the broadcast dimensions down to shape `to` (to must broadcast to from).
 * Accumulates in float64. Returns g itself when the shapes have the same size.
 */
export function sumToShape(g: Float32Array, from: Shape, to: Shape): Float32Array {
  const m = shapeSize(to);
  if (m === g.length) return g;
  if (m === 1) {
    let acc = 0;
    for (let i = 0; i < g.length; i++) acc += g[i]!;
    return Float32Array.of(acc);
  }
  const plan = makePlan(from, [to]);
  const { dims } = plan;
  const s = plan.strides[0]!;
  const nd = dims.length;
  const inner = dims[nd - 1]!;
  const is = s[nd - 1]!;
  const acc = new Float64Array(m);
  const idx = new Array<number>(nd).fill(0);
  let to_ = 0;
  for (let go = 0; go < g.length; go += inner) {
    if (is === 0) {
      let sum = 0;
      for (let i = 0; i < inner; i++) sum += g[go + i]!;
      acc[to_]! += sum;
    } else for (let i = 0; i < inner; i++) acc[to_ + i * is]! += g[go + i]!;
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      to_ += s[d]!;
      if (idx[d]! < dims[d]!) break;
      to_ -= s[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
  return Float32Array.from(acc);
}

/** A plain number becomes a constant scalar tensor; tensors pass through; anything else is a ShapeError. */
export function asTensor(op: string, name: string, v: Tensor | number): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v === "number") return Tensor.scalar(v);
  throw new ShapeError(op, `argument ${name} must be a Tensor or a number, got ${v === null ? "null" : typeof v}`);
}
