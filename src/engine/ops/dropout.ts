/** Inverted dropout: zero with probability p, scale survivors by 1/(1-p); identity when not training. */
import { record } from "../autograd.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Rng, globalRng } from "../random.js";
import { Tensor, assertTensor } from "../tensor.js";

export function dropout(x: Tensor, p: number, training: boolean, rng: Rng = globalRng): Tensor {
  assertTensor("dropout", "x", x);
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new ShapeError("dropout", `p must be a number in [0, 1], got ${String(p)} (input ${fmtShape(x.shape)})`);
  }
  if (typeof training !== "boolean") throw new ShapeError("dropout", `training must be a boolean, got ${typeof training} (input ${fmtShape(x.shape)})`);
  if (!(rng instanceof Rng)) throw new ShapeError("dropout", `rng must be an Rng (input ${fmtShape(x.shape)})`);
  if (!training || p === 0) return x;
  const n = x.size;
  const mask = new Float32Array(n);
  if (p < 1) {
    const keep = 1 / (1 - p);
    for (let i = 0; i < n; i++) mask[i] = rng.uniform() >= p ? keep : 0;
  }
  const y = new Float32Array(n);
  const xd = x.data;
  for (let i = 0; i < n; i++) y[i] = xd[i]! * mask[i]!;
  return record("dropout", [x], [x.like(y)], ([g]) => {
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = g![i]! * mask[i]!;
    return [d];
  })[0];
}
