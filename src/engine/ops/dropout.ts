/** Inverted dropout: zero with probability p, scale survivors by 1/(1-p); identity when not training. */
import { allocUninit, allocZeroed } from "../memory.js";
import { record } from "../autograd.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Rng, globalRng } from "../random.js";
import { Tensor, assertTensor, blockDims } from "../tensor.js";
import { getBackend } from "../backends.js";

export function dropout(x: Tensor, p: number, training: boolean, rng: Rng = globalRng): Tensor {
  assertTensor("dropout", "x", x);
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new ShapeError("dropout", `p must be a number in [0, 1], got ${String(p)} (input ${fmtShape(x.shape)})`);
  }
  if (typeof training !== "boolean") throw new ShapeError("dropout", `training must be a boolean, got ${typeof training} (input ${fmtShape(x.shape)})`);
  if (!(rng instanceof Rng)) throw new ShapeError("dropout", `rng must be an Rng (input ${fmtShape(x.shape)})`);
  if (!training || p === 0) return x;
  // one draw from the generator seeds a counter-based mask (same bits on every backend and thread count)
  return dropoutSeeded(x, p, p < 1 ? rng.nextU32() : 0, 0);
}

/**
 * Dropout with the mask's seed given, and `offset` added to every element's (plain) index: step t of a
 * single-step run with offset t·x.size draws the rows of the mask a time-folded [T·B, ...] run draws from the same
 * seed. Checked by `dropout`; this assumes 0 < p ≤ 1 and a uint32 seed.
 */
export function dropoutSeeded(x: Tensor, p: number, seed: number, offset: number): Tensor {
  const n = x.size;
  const be = getBackend();
  const mask = p < 1 ? allocUninit(n) : allocZeroed(n);
  // A blocked x keeps its layout: its mask is written blocked with each element's bits drawn from its plain index,
  // so the same elements drop as in plain layout (reading x.data instead made a plain copy, and the next conv a
  // reorder).
  const [, C, S] = x.layout === "blocked16" ? blockDims(x.shape) : [];
  if (p < 1) be.dropoutMask(mask, p, seed, C, S, offset);
  const y = allocUninit(n);
  be.mul(x.storage, mask, y);
  return record(
    "dropout",
    [x],
    [new Tensor(y, x.shape, false, x.layout)],
    ([g]) => {
      const d = allocUninit(n);
      getBackend().mul(g!, mask, d);
      return [d];
    },
    { layoutAware: true },
  )[0];
}
