/** Top-k along the last axis: values (differentiable) sorted descending, and their indices. */
import { allocZeroed } from "../memory.js";
import { record } from "../autograd.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Tensor, assertTensor } from "../tensor.js";

export function topk(x: Tensor, k: number): { values: Tensor; indices: Int32Array } {
  assertTensor("topk", "x", x);
  if (x.ndim === 0) throw new ShapeError("topk", "needs at least a 1-D input, got a scalar []");
  const n = x.shape[x.ndim - 1]!;
  if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k > n) {
    throw new ShapeError("topk", `k=${String(k)} must be an integer in [0, ${n}] for input ${fmtShape(x.shape)}`);
  }
  const rows = n === 0 ? 0 : x.size / n;
  const vals = allocZeroed(rows * k);
  const idx = new Int32Array(rows * k);
  const xd = x.data;
  const order = new Int32Array(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    if (k === 1) {
      // fast path: first maximum
      let bi = 0;
      let best = xd[base]!;
      for (let j = 1; j < n; j++) {
        const v = xd[base + j]!;
        if (v > best || (v !== v && best === best)) {
          best = v;
          bi = j;
        }
      }
      vals[r] = best;
      idx[r] = bi;
      continue;
    }
    if (k <= 16 && selectSmallK(xd, base, n, k, vals, idx, r * k)) continue;
    for (let j = 0; j < n; j++) order[j] = j;
    // descending by value, ties by lower index (stable); NaN counts as the largest, like PyTorch
    order.sort((i, j) => {
      const a = xd[base + i]!;
      const b = xd[base + j]!;
      if (a !== a) return b !== b ? i - j : -1;
      if (b !== b) return 1;
      return a > b ? -1 : a < b ? 1 : i - j;
    });
    for (let j = 0; j < k; j++) {
      const o = order[j]!;
      idx[r * k + j] = o;
      vals[r * k + j] = xd[base + o]!;
    }
  }
  const values = new Tensor(vals, [...x.shape.slice(0, -1), k]);
  record("topk", [x], [values], ([g]) => {
    const d = allocZeroed(x.size);
    for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) d[r * n + idx[r * k + j]!]! += g![r * k + j]!;
    return [d];
  });
  return { values, indices: idx };
}

/**
 * Top-k of one row by insertion into a sorted buffer (O(n k), no comparator closure): the fast path for the
 * small k of cutoff policies. Returns false (nothing written) when the row holds a NaN.
 */
function selectSmallK(x: Float32Array, base: number, n: number, k: number, vals: Float32Array, idx: Int32Array, o: number): boolean {
  if (k === 0) return true;
  let m = 0; // filled entries in vals/idx[o .. o+m)
  for (let j = 0; j < n; j++) {
    const v = x[base + j]!;
    if (v !== v) return false;
    if (m === k && !(v > vals[o + k - 1]!)) continue;
    // insertion point: after every entry >= v (earlier indices win ties)
    let p = m === k ? k - 1 : m;
    while (p > 0 && vals[o + p - 1]! < v) {
      vals[o + p] = vals[o + p - 1]!;
      idx[o + p] = idx[o + p - 1]!;
      p--;
    }
    vals[o + p] = v;
    idx[o + p] = j;
    if (m < k) m++;
  }
  return true;
}
