/** softmax / logSoftmax along one axis (max-subtracted, float64 sums). */
import { allocZeroed } from "../memory.js";
import { record } from "../autograd.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Tensor, assertTensor, normAxis, shapeSize } from "../tensor.js";

function layout(op: string, x: Tensor, axis: number): [number, number, number] {
  assertTensor(op, "x", x);
  if (typeof axis !== "number") throw new ShapeError(op, `axis must be a number (input ${fmtShape(x.shape)})`);
  if (x.ndim === 0) throw new ShapeError(op, "needs at least a 1-D input, got a scalar []");
  const ax = normAxis(op, axis, x.ndim);
  return [shapeSize(x.shape.slice(0, ax)), x.shape[ax]!, shapeSize(x.shape.slice(ax + 1))];
}

/** Writes log-softmax of x into out (layout outer, n, inner). */
function logSoftmaxInto(x: Float32Array, out: Float32Array, outer: number, n: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let m = -Infinity;
      for (let k = 0; k < n; k++) {
        const v = x[base + k * inner]!;
        if (v > m) m = v;
      }
      if (m === -Infinity) m = 0;
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(x[base + k * inner]! - m);
      const lse = m + Math.log(s);
      for (let k = 0; k < n; k++) out[base + k * inner] = x[base + k * inner]! - lse;
    }
  }
}

export function softmax(x: Tensor, axis = -1): Tensor {
  const [outer, n, inner] = layout("softmax", x, axis);
  const y = allocZeroed(x.size);
  const xd = x.data;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let m = -Infinity;
      for (let k = 0; k < n; k++) {
        const v = xd[base + k * inner]!;
        if (v > m) m = v;
      }
      if (m === -Infinity) m = 0;
      let s = 0;
      for (let k = 0; k < n; k++) {
        const e = Math.exp(xd[base + k * inner]! - m);
        y[base + k * inner] = e;
        s += e;
      }
      const inv = 1 / s;
      for (let k = 0; k < n; k++) y[base + k * inner]! *= inv;
    }
  }
  return record("softmax", [x], [x.like(y)], ([g]) => {
    // dx = y * (g - sum(g * y))
    const d = allocZeroed(y.length);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * n * inner + j;
        let dot = 0;
        for (let k = 0; k < n; k++) dot += g![base + k * inner]! * y[base + k * inner]!;
        for (let k = 0; k < n; k++) {
          const p = base + k * inner;
          d[p] = y[p]! * (g![p]! - dot);
        }
      }
    }
    return [d];
  })[0];
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const [outer, n, inner] = layout("logSoftmax", x, axis);
  const y = allocZeroed(x.size);
  logSoftmaxInto(x.data, y, outer, n, inner);
  return record("logSoftmax", [x], [x.like(y)], ([g]) => {
    // dx = g - softmax * sum(g)
    const d = allocZeroed(y.length);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * n * inner + j;
        let s = 0;
        for (let k = 0; k < n; k++) s += g![base + k * inner]!;
        for (let k = 0; k < n; k++) {
          const p = base + k * inner;
          d[p] = g![p]! - Math.exp(y[p]!) * s;
        }
      }
    }
    return [d];
  })[0];
}

export { logSoftmaxInto };
