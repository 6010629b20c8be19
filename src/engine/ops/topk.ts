/** Top-k along the last axis: values (differentiable) sorted descending, and their indices. */
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
  const vals = new Float32Array(rows * k);
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
    const d = new Float32Array(x.size);
    for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) d[r * n + idx[r * k + j]!]! += g![r * k + j]!;
    return [d];
  });
  return { values, indices: idx };
}
