/**
 * Element-wise ops with NumPy broadcasting. Same-shape add/mul/relu go through the backend's fused kernels;
 * the rest are plain loops (memory-bound, no per-element closures). Gradients of broadcast operands are summed
 * back to the operand's shape.
 */
import { allocUninit, allocZeroed } from "../memory.js";
import { record } from "../autograd.js";
import { getBackend } from "../backends.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Tensor, assertTensor, type Shape } from "../tensor.js";
import { Bin, asTensor, binaryBroadcast, broadcastShapes, expandTo, sameShape, sumToShape } from "./broadcast.js";

type Operand = Tensor | number;

/** dst = -src (dst may be src). */
function negate(src: Float32Array, dst: Float32Array = allocZeroed(src.length)): Float32Array {
  for (let i = 0; i < dst.length; i++) dst[i] = -src[i]!;
  return dst;
}

/** out = a (op) b broadcast (same-shape add/sub/mul go through sameShapeBinary). */
function compute(code: Bin, a: Tensor, b: Tensor, outShape: Shape): Float32Array {
  const out = allocZeroed(sizeOf(outShape));
  binaryBroadcast(code, a.data, a.shape, b.data, b.shape, outShape, out);
  return out;
}

function sizeOf(s: Shape): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

function prepare(op: string, a0: Operand, b0: Operand): [Tensor, Tensor, Shape] {
  const a = asTensor(op, "a", a0);
  const b = asTensor(op, "b", b0);
  const shape = sameShape(a.shape, b.shape) ? a.shape : broadcastShapes(op, a.shape, b.shape);
  return [a, b, shape];
}

/**
 * Same-shape add/sub/mul on the backend's kernels, in the operands' layout: element-wise, so a blocked16 operand
 * is read as stored and the result stays blocked (a residual connection adds two blocked activations; through plain
 * copies that cost two reorders, and a third in the next conv). With one operand of each layout the plain one is
 * converted once, differentiably. Null for operands of different shapes (broadcasting).
 */
function sameShapeBinary(op: "add" | "sub" | "mul", a: Tensor, b: Tensor): Tensor | null {
  if (!sameShape(a.shape, b.shape)) return null;
  const layout = a.layout === "plain" && b.layout === "plain" ? "plain" : "blocked16";
  const x = a.toLayout(layout);
  const z = b.toLayout(layout);
  const be = getBackend();
  const y = allocUninit(x.size);
  if (op === "add") be.add(x.storage, z.storage, y);
  else if (op === "sub") be.axpby(x.storage, 1, z.storage, -1, y);
  else be.mul(x.storage, z.storage, y);
  const out = new Tensor(y, x.shape, false, layout);
  return record(
    op,
    [x, z],
    [out],
    ([g]) => {
      if (op === "add") return [x.requiresGrad ? g! : null, z.requiresGrad ? g! : null];
      if (op === "sub") return [x.requiresGrad ? g! : null, z.requiresGrad ? negate(g!) : null];
      const product = (other: Tensor): Float32Array => {
        const d = allocUninit(g!.length);
        be.mul(g!, other.storage, d);
        return d;
      };
      return [x.requiresGrad ? product(z) : null, z.requiresGrad ? product(x) : null];
    },
    { layoutAware: true },
  )[0];
}

export function add(a0: Operand, b0: Operand): Tensor {
  const [a, b, shape] = prepare("add", a0, b0);
  const same = sameShapeBinary("add", a, b);
  if (same) return same;
  const out = new Tensor(compute(Bin.Add, a, b, shape), shape);
  return record("add", [a, b], [out], ([g]) => [
    a.requiresGrad ? sumToShape(g!, shape, a.shape) : null,
    b.requiresGrad ? sumToShape(g!, shape, b.shape) : null,
  ])[0];
}

export function sub(a0: Operand, b0: Operand): Tensor {
  const [a, b, shape] = prepare("sub", a0, b0);
  const same = sameShapeBinary("sub", a, b);
  if (same) return same;
  const out = new Tensor(compute(Bin.Sub, a, b, shape), shape);
  return record("sub", [a, b], [out], ([g]) => {
    let gb: Float32Array | null = null;
    if (b.requiresGrad) {
      const r = sumToShape(g!, shape, b.shape);
      gb = r === g ? negate(r) : negate(r, r);
    }
    return [a.requiresGrad ? sumToShape(g!, shape, a.shape) : null, gb];
  })[0];
}

export function mul(a0: Operand, b0: Operand): Tensor {
  const [a, b, shape] = prepare("mul", a0, b0);
  // a tensor times a scalar: one backend pass over the storage, in whatever layout it is (the broadcasting loop
  // below reads a plain copy of a blocked tensor and took 11 ms for 3.2M elements)
  if (b.size === 1 && sameShape(a.shape, shape)) return scaleBlocks(a, b, 1);
  if (a.size === 1 && sameShape(b.shape, shape)) return scaleBlocks(b, a, 1);
  const same = sameShapeBinary("mul", a, b);
  if (same) return same;
  const out = new Tensor(compute(Bin.Mul, a, b, shape), shape);
  return record("mul", [a, b], [out], ([g]) => {
    const n = g!.length;
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (a.requiresGrad) {
      const t = allocZeroed(n);
      if (b.size === n) getBackend().mul(g!, b.data, t);
      else binaryBroadcast(Bin.Mul, g!, shape, b.data, b.shape, shape, t);
      ga = sumToShape(t, shape, a.shape);
    }
    if (b.requiresGrad) {
      const t = allocZeroed(n);
      if (a.size === n) getBackend().mul(g!, a.data, t);
      else binaryBroadcast(Bin.Mul, g!, shape, a.data, a.shape, shape, t);
      gb = sumToShape(t, shape, b.shape);
    }
    return [ga, gb];
  })[0];
}

/**
 * y[k, ...] = scales[k]·x[k, ...] for `blocks` equal leading blocks of x (contiguous in either layout, so x's layout
 * is kept, and the gradient's): one backend pass forward and backward, ∂scales[k] one dot product per block. A
 * tensor times a scalar is the case of one block; TEBN scales each timestep block of a time-folded tensor by its p_t.
 */
export function scaleBlocks(x: Tensor, scales: Tensor, blocks: number): Tensor {
  assertTensor("scaleBlocks", "x", x);
  assertTensor("scaleBlocks", "scales", scales);
  if (!(Number.isInteger(blocks) && blocks >= 1) || scales.size !== blocks || x.size % blocks !== 0) {
    throw new ShapeError("scaleBlocks", `scales ${fmtShape(scales.shape)} do not fit ${blocks} blocks of ${fmtShape(x.shape)}`);
  }
  const be = getBackend();
  const xd = x.storage;
  const y = allocUninit(xd.length);
  be.scaleRows(xd, blocks, scales.data, y);
  return record(
    "scaleBlocks",
    [x, scales],
    [new Tensor(y, x.shape, false, x.layout)],
    ([g]) => {
      let dx: Float32Array | null = null;
      if (x.requiresGrad) {
        dx = allocUninit(g!.length);
        be.scaleRows(g!, blocks, scales.data, dx);
      }
      let ds: Float32Array | null = null;
      if (scales.requiresGrad) {
        // g and x share the output's layout, so each block's sum is the same in any layout
        const block = g!.length / blocks;
        ds = new Float32Array(blocks);
        for (let k = 0; k < blocks; k++) ds[k] = be.dot(g!.subarray(k * block, (k + 1) * block), xd.subarray(k * block, (k + 1) * block));
      }
      return [dx, ds];
    },
    { layoutAware: true },
  )[0];
}

export function div(a0: Operand, b0: Operand): Tensor {
  const [a, b, shape] = prepare("div", a0, b0);
  const y = compute(Bin.Div, a, b, shape);
  const out = new Tensor(y, shape);
  return record("div", [a, b], [out], ([g]) => {
    const n = g!.length;
    const t = allocZeroed(n); // g / b
    binaryBroadcast(Bin.Div, g!, shape, b.data, b.shape, shape, t);
    let gb: Float32Array | null = null;
    if (b.requiresGrad) {
      // d(a/b)/db = -(a/b)/b = -y/b
      const u = allocZeroed(n);
      for (let i = 0; i < n; i++) u[i] = -t[i]! * y[i]!;
      gb = sumToShape(u, shape, b.shape);
    }
    return [a.requiresGrad ? sumToShape(t, shape, a.shape) : null, gb];
  })[0];
}

function maxMin(op: string, code: Bin, a0: Operand, b0: Operand): Tensor {
  const [a, b, shape] = prepare(op, a0, b0);
  const out = new Tensor(compute(code, a, b, shape), shape);
  const isMax = code === Bin.Max;
  return record(op, [a, b], [out], ([g]) => {
    // PyTorch convention: ties split the gradient equally between the two operands
    const av = expandTo(a.data, a.shape, shape);
    const bv = expandTo(b.data, b.shape, shape);
    const n = g!.length;
    const ga = a.requiresGrad ? allocZeroed(n) : null;
    const gb = b.requiresGrad ? allocZeroed(n) : null;
    for (let i = 0; i < n; i++) {
      const x = av[i]!;
      const z = bv[i]!;
      const gi = g![i]!;
      if (x === z) {
        if (ga) ga[i] = gi * 0.5;
        if (gb) gb[i] = gi * 0.5;
      } else if (isMax ? x > z : x < z) {
        if (ga) ga[i] = gi;
      } else if (gb) gb[i] = gi;
    }
    return [ga && sumToShape(ga, shape, a.shape), gb && sumToShape(gb, shape, b.shape)];
  })[0];
}

export function maximum(a: Operand, b: Operand): Tensor {
  return maxMin("maximum", Bin.Max, a, b);
}
export function minimum(a: Operand, b: Operand): Tensor {
  return maxMin("minimum", Bin.Min, a, b);
}

// ---- unary ------------------------------------------------------------------------------------------------

export function neg(a: Tensor): Tensor {
  assertTensor("neg", "a", a);
  const x = a.data;
  const y = allocZeroed(x.length);
  for (let i = 0; i < y.length; i++) y[i] = -x[i]!;
  return record("neg", [a], [a.like(y)], ([g]) => [negate(g!)])[0];
}

export function exp(a: Tensor): Tensor {
  assertTensor("exp", "a", a);
  const x = a.data;
  const y = allocZeroed(x.length);
  for (let i = 0; i < y.length; i++) y[i] = Math.exp(x[i]!);
  return record("exp", [a], [a.like(y)], ([g]) => {
    const d = allocZeroed(y.length);
    getBackend().mul(g!, y, d);
    return [d];
  })[0];
}

export function log(a: Tensor): Tensor {
  assertTensor("log", "a", a);
  const x = a.data;
  const y = allocZeroed(x.length);
  for (let i = 0; i < y.length; i++) y[i] = Math.log(x[i]!);
  return record("log", [a], [a.like(y)], ([g]) => {
    const d = allocZeroed(y.length);
    for (let i = 0; i < d.length; i++) d[i] = g![i]! / x[i]!;
    return [d];
  })[0];
}

export function sqrt(a: Tensor): Tensor {
  assertTensor("sqrt", "a", a);
  const x = a.data;
  const y = allocZeroed(x.length);
  for (let i = 0; i < y.length; i++) y[i] = Math.sqrt(x[i]!);
  return record("sqrt", [a], [a.like(y)], ([g]) => {
    const d = allocZeroed(y.length);
    for (let i = 0; i < d.length; i++) d[i] = (0.5 * g![i]!) / y[i]!;
    return [d];
  })[0];
}

export function pow(a: Tensor, p: number): Tensor {
  assertTensor("pow", "a", a);
  if (typeof p !== "number") throw new ShapeError("pow", `exponent must be a number, got ${typeof p} (input ${fmtShape(a.shape)})`);
  const x = a.data;
  const y = allocZeroed(x.length);
  if (p === 2) for (let i = 0; i < y.length; i++) y[i] = x[i]! * x[i]!;
  else if (p === 0.5) for (let i = 0; i < y.length; i++) y[i] = Math.sqrt(x[i]!);
  else for (let i = 0; i < y.length; i++) y[i] = Math.pow(x[i]!, p);
  return record("pow", [a], [a.like(y)], ([g]) => {
    const d = allocZeroed(y.length);
    if (p === 0) return [d]; // PyTorch: zero gradient for a zero exponent, even at x = 0
    if (p === 2) for (let i = 0; i < d.length; i++) d[i] = 2 * x[i]! * g![i]!;
    else if (p === 1) d.set(g!);
    else for (let i = 0; i < d.length; i++) d[i] = p * Math.pow(x[i]!, p - 1) * g![i]!;
    return [d];
  })[0];
}

export function abs(a: Tensor): Tensor {
  assertTensor("abs", "a", a);
  const x = a.data;
  const y = allocZeroed(x.length);
  for (let i = 0; i < y.length; i++) y[i] = Math.abs(x[i]!);
  return record("abs", [a], [a.like(y)], ([g]) => {
    const d = allocZeroed(y.length);
    for (let i = 0; i < d.length; i++) {
      const v = x[i]!;
      d[i] = v > 0 ? g![i]! : v < 0 ? -g![i]! : 0;
    }
    return [d];
  })[0];
}

export function relu(a: Tensor): Tensor {
  assertTensor("relu", "a", a);
  // element-wise: works on the storage in whatever layout it has, and keeps it
  const y = allocZeroed(a.size);
  getBackend().relu(a.storage, y);
  const out = new Tensor(y, a.shape, false, a.layout);
  return record(
    "relu",
    [a],
    [out],
    ([g]) => {
      const d = allocZeroed(y.length);
      getBackend().reluBackward(a.storage, g!, d);
      return [d];
    },
    { layoutAware: true },
  )[0];
}

export function sigmoid(a: Tensor): Tensor {
  assertTensor("sigmoid", "a", a);
  const x = a.data;
  const y = allocZeroed(x.length);
  for (let i = 0; i < y.length; i++) {
    const v = x[i]!;
    // stable on both tails
    if (v >= 0) y[i] = 1 / (1 + Math.exp(-v));
    else {
      const e = Math.exp(v);
      y[i] = e / (1 + e);
    }
  }
  return record("sigmoid", [a], [a.like(y)], ([g]) => {
    const d = allocZeroed(y.length);
    for (let i = 0; i < d.length; i++) d[i] = g![i]! * y[i]! * (1 - y[i]!);
    return [d];
  })[0];
}

export function tanh(a: Tensor): Tensor {
  assertTensor("tanh", "a", a);
  const x = a.data;
  const y = allocZeroed(x.length);
  for (let i = 0; i < y.length; i++) y[i] = Math.tanh(x[i]!);
  return record("tanh", [a], [a.like(y)], ([g]) => {
    const d = allocZeroed(y.length);
    for (let i = 0; i < d.length; i++) d[i] = g![i]! * (1 - y[i]! * y[i]!);
    return [d];
  })[0];
}

/**
 * Clamps to [min, max] (either bound may be null/undefined = unbounded). Gradient passes where
 * min <= x <= max (closed interval, as PyTorch); with min > max every output is max (PyTorch).
 */
export function clamp(a: Tensor, min?: number | null, max?: number | null): Tensor {
  assertTensor("clamp", "a", a);
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (typeof lo !== "number" || typeof hi !== "number" || Number.isNaN(lo) || Number.isNaN(hi)) {
    throw new ShapeError("clamp", `bounds must be numbers or null, got min=${String(min)}, max=${String(max)} (input ${fmtShape(a.shape)})`);
  }
  const x = a.data;
  const y = allocZeroed(x.length);
  for (let i = 0; i < y.length; i++) {
    const v = x[i]!;
    y[i] = v < lo ? (lo > hi ? hi : lo) : v > hi ? hi : v;
  }
  return record("clamp", [a], [a.like(y)], ([g]) => {
    const d = allocZeroed(y.length);
    for (let i = 0; i < d.length; i++) {
      const v = x[i]!;
      d[i] = v >= lo && v <= hi ? g![i]! : 0;
    }
    return [d];
  })[0];
}

/** floor(x) forward, identity gradient (straight-through estimator, as in QCFS quantisation). */
export function floorSte(a: Tensor): Tensor {
  assertTensor("floorSte", "a", a);
  const x = a.data;
  const y = allocZeroed(x.length);
  for (let i = 0; i < y.length; i++) y[i] = Math.floor(x[i]!);
  return record("floorSte", [a], [a.like(y)], ([g]) => [g!])[0];
}

/** cond ? a : b element-wise with broadcasting over all three; cond (nonzero = true) gets no gradient. */
export function where(cond: Tensor, a0: Operand, b0: Operand): Tensor {
  assertTensor("where", "cond", cond);
  const a = asTensor("where", "a", a0);
  const b = asTensor("where", "b", b0);
  const shape =
    sameShape(cond.shape, a.shape) && sameShape(a.shape, b.shape) ? a.shape : broadcastShapes("where", cond.shape, a.shape, b.shape);
  const c = expandTo(cond.data, cond.shape, shape);
  const av = expandTo(a.data, a.shape, shape);
  const bv = expandTo(b.data, b.shape, shape);
  const y = allocZeroed(c.length);
  for (let i = 0; i < y.length; i++) y[i] = c[i]! !== 0 ? av[i]! : bv[i]!;
  return record("where", [a, b], [new Tensor(y, shape)], ([g]) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (a.requiresGrad) {
      const t = allocZeroed(y.length);
      for (let i = 0; i < t.length; i++) t[i] = c[i]! !== 0 ? g![i]! : 0;
      ga = sumToShape(t, shape, a.shape);
    }
    if (b.requiresGrad) {
      const t = allocZeroed(y.length);
      for (let i = 0; i < t.length; i++) t[i] = c[i]! !== 0 ? 0 : g![i]!;
      gb = sumToShape(t, shape, b.shape);
    }
    return [ga, gb];
  })[0];
}
