/** Reductions: sum / mean / max over all or some axes, argmax. Accumulation in float64. */
import { allocZeroed } from "../memory.js";
import { record } from "../autograd.js";
import { getBackend } from "../backends.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Tensor, assertTensor, normAxis, shapeSize, type Shape } from "../tensor.js";
import { expandTo, sumToShape } from "./broadcast.js";

export type Axes = number | readonly number[] | undefined | null;

/** Sorted, de-duplicated, non-negative axes (all axes when undefined). */
export function normAxes(op: string, axis: Axes, shape: Shape): number[] {
  const nd = shape.length;
  if (axis === undefined || axis === null) return Array.from({ length: nd }, (_, i) => i);
  const list = typeof axis === "number" ? [axis] : axis;
  if (!Array.isArray(list as unknown)) throw new ShapeError(op, `axis must be a number or an array of numbers, got ${typeof axis} (input ${fmtShape(shape)})`);
  const out: number[] = [];
  for (const a of list) {
    if (typeof a !== "number" || !Number.isInteger(a) || a < -nd || a >= Math.max(nd, 1) || (nd === 0 && a !== 0 && a !== -1)) {
      throw new ShapeError(op, `axis ${String(a)} is out of range for input ${fmtShape(shape)}`);
    }
    const n = nd === 0 ? 0 : a < 0 ? a + nd : a;
    if (out.includes(n)) throw new ShapeError(op, `axis ${a} repeated in ${JSON.stringify(list)} for input ${fmtShape(shape)}`);
    out.push(n);
  }
  if (nd === 0) return [];
  return out.sort((x, y) => x - y);
}

function reducedShapes(shape: Shape, axes: number[], keepDims: boolean): { kept: number[]; out: number[] } {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = keepDims ? kept : shape.filter((_, i) => !axes.includes(i));
  return { kept, out };
}

export function sum(a: Tensor, axis?: Axes, keepDims = false): Tensor {
  assertTensor("sum", "a", a);
  const axes = normAxes("sum", axis, a.shape);
  const { kept, out } = reducedShapes(a.shape, axes, keepDims);
  let y: Float32Array;
  if (shapeSize(kept) === 1) y = Float32Array.of(getBackend().sum(a.data));
  else {
    y = sumToShape(a.data, a.shape, kept);
    if (y === a.data) y = new Float32Array(y);
  }
  return record("sum", [a], [new Tensor(y, out)], ([g]) => [expandTo(g!, kept, a.shape)])[0];
}

export function mean(a: Tensor, axis?: Axes, keepDims = false): Tensor {
  assertTensor("mean", "a", a);
  const axes = normAxes("mean", axis, a.shape);
  const { kept, out } = reducedShapes(a.shape, axes, keepDims);
  const count = a.size / Math.max(shapeSize(kept), 1);
  if (count === 0) throw new ShapeError("mean", `cannot average over an empty axis of ${fmtShape(a.shape)}`);
  let y: Float32Array;
  if (shapeSize(kept) === 1) y = Float32Array.of(getBackend().sum(a.data) / count);
  else {
    y = sumToShape(a.data, a.shape, kept);
    if (y === a.data) y = new Float32Array(y);
    else for (let i = 0; i < y.length; i++) y[i]! /= count;
  }
  return record("mean", [a], [new Tensor(y, out)], ([g]) => {
    const d = expandTo(g!, kept, a.shape);
    const r = d === g ? allocZeroed(d.length) : d;
    const inv = 1 / count;
    for (let i = 0; i < r.length; i++) r[i] = d[i]! * inv;
    return [r];
  })[0];
}

/**
 * For each output cell, the flat input index of its first maximum over the reduced axes.
 * Single axis: (outer, n, inner) loops; several axes: via an index permutation.
 */
function argmaxIndex(op: string, x: Float32Array, shape: Shape, axes: number[]): Int32Array {
  if (axes.length === 0) {
    const idx = new Int32Array(x.length);
    for (let i = 0; i < idx.length; i++) idx[i] = i;
    return idx;
  }
  const R = axes.reduce((p, ax) => p * shape[ax]!, 1);
  if (R === 0) throw new ShapeError(op, `cannot reduce over an empty axis of ${fmtShape(shape)}`);
  const contiguous = axes[axes.length - 1]! - axes[0]! === axes.length - 1;
  if (contiguous) {
    const outer = shapeSize(shape.slice(0, axes[0]!));
    const inner = shapeSize(shape.slice(axes[axes.length - 1]! + 1));
    const idx = new Int32Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * R * inner + j;
        let best = x[base]!;
        let bi = base;
        for (let r = 1; r < R; r++) {
          const p = base + r * inner;
          const v = x[p]!;
          if (v > best || (v !== v && best === best)) {
            best = v;
            bi = p;
          }
        }
        idx[o * inner + j] = bi;
      }
    }
    return idx;
  }
  // general: enumerate input indices in (kept axes..., reduced axes...) order
  const nd = shape.length;
  const perm = [...Array.from({ length: nd }, (_, i) => i).filter((i) => !axes.includes(i)), ...axes];
  const strides = new Array<number>(nd);
  for (let i = nd - 1, acc = 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i]!;
  }
  const n = x.length;
  const src = new Int32Array(n);
  const ctr = new Array<number>(nd).fill(0);
  let off = 0;
  for (let p = 0; p < n; p++) {
    src[p] = off;
    for (let d = nd - 1; d >= 0; d--) {
      const ax = perm[d]!;
      ctr[d]!++;
      off += strides[ax]!;
      if (ctr[d]! < shape[ax]!) break;
      off -= strides[ax]! * shape[ax]!;
      ctr[d] = 0;
    }
  }
  const m = n / R;
  const idx = new Int32Array(m);
  for (let o = 0; o < m; o++) {
    let bi = src[o * R]!;
    let best = x[bi]!;
    for (let r = 1; r < R; r++) {
      const p = src[o * R + r]!;
      const v = x[p]!;
      if (v > best || (v !== v && best === best)) {
        best = v;
        bi = p;
      }
    }
    idx[o] = bi;
  }
  return idx;
}

/** Maximum over all or some axes; the gradient goes to the first maximal element only. */
export function max(a: Tensor, axis?: Axes, keepDims = false): Tensor {
  assertTensor("max", "a", a);
  const axes = normAxes("max", axis, a.shape);
  if (a.size === 0) throw new ShapeError("max", `cannot take the max of an empty tensor ${fmtShape(a.shape)}`);
  const { out } = reducedShapes(a.shape, axes, keepDims);
  const idx = argmaxIndex("max", a.data, a.shape, axes);
  const y = allocZeroed(idx.length);
  for (let i = 0; i < y.length; i++) y[i] = a.data[idx[i]!]!;
  return record("max", [a], [new Tensor(y, out)], ([g]) => {
    const d = allocZeroed(a.size);
    for (let i = 0; i < idx.length; i++) d[idx[i]!]! += g![i]!;
    return [d];
  })[0];
}

/** Index of the first maximum along one axis (no gradient). Shape: the input without that axis, flattened. */
export function argmax(a: Tensor, axis = -1): Int32Array {
  assertTensor("argmax", "a", a);
  if (typeof axis !== "number") throw new ShapeError("argmax", `axis must be a number (input ${fmtShape(a.shape)})`);
  if (a.ndim === 0) return Int32Array.of(0);
  const ax = normAxis("argmax", axis, a.ndim);
  const n = a.shape[ax]!;
  if (n === 0) throw new ShapeError("argmax", `axis ${axis} of ${fmtShape(a.shape)} is empty`);
  const inner = shapeSize(a.shape.slice(ax + 1));
  const flat = argmaxIndex("argmax", a.data, a.shape, [ax]);
  const res = new Int32Array(flat.length);
  for (let i = 0; i < res.length; i++) res[i] = Math.floor(flat[i]! / inner) % n;
  return res;
}
