/**
 * Tensor: float32, row-major contiguous storage in a Float32Array, NCHW for images, [T, B, ...] for time.
 * Views (reshape) share storage; every op allocates its output, so storage is never mutated behind the
 * tape's back (optimisers mutate parameters under noGrad).
 */
import { GradNode, isGradEnabled, record, runBackward } from "./autograd.js";
import { allocUninit, recycleLeafGrad, trackPooledTensor } from "./memory.js";
import { getBackend } from "./backends.js";
import { ShapeError, fmtShape } from "./errors.js";
import { Rng, globalRng } from "./random.js";

export type Shape = readonly number[];
export type NestedArray = number | NestedArray[];

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape)) throw new ShapeError(op, `shape must be an array of integers, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(op, `shape ${fmtShape(shape)} has an invalid dimension ${d}`);
  }
}

/**
 * Memory layout of a tensor's storage. `plain`: row-major (NCHW for images). `blocked16`: the last three dims
 * [C, H, W] stored as [C/16, H, W, 16] (oneDNN's nChw16c), every leading dim a batch dim; C % 16 == 0. Convolutions
 * on the native oneDNN path read and write blocked16 directly, so activations stay blocked between layers instead
 * of being reordered on every call; any consumer that reads `.data` gets plain values (converted once, cached).
 */
export type Layout = "plain" | "blocked16";

/** Whether a tensor of this shape can be stored blocked16. */
export function canBlock16(shape: Shape): boolean {
  return shape.length >= 3 && shape[shape.length - 3]! % 16 === 0 && shapeSize(shape) > 0;
}

/** [leading, C, H·W] of a blocked16-capable shape: the dims a reorder works on. */
export function blockDims(shape: Shape): [number, number, number] {
  const r = shape.length;
  return [shapeSize(shape.slice(0, r - 3)), shape[r - 3]!, shape[r - 2]! * shape[r - 1]!];
}

/** The reorder between the two layouts, on the active backend. */
export function relayout(src: Float32Array, shape: Shape, toBlocked: boolean, dst?: Float32Array): Float32Array {
  const out = dst ?? allocUninit(src.length);
  const [n, c, s] = blockDims(shape);
  getBackend().reorderBlocked16(src, out, n, c, s, toBlocked);
  return out;
}

/** The storage of every released tensor: zero elements, so any op on it fails its size check. */
const RELEASED = new Float32Array(0);

export class Tensor {
  /**
   * The storage as laid out in memory (see `layout`); kernels that understand the layout read this. Empty once the
   * tensor was released: it wrapped pooled memory of a tidy scope that ended without returning it.
   */
  readonly storage: Float32Array;
  readonly layout: Layout;
  /** Plain copy of a blocked tensor's values, made on the first `.data` read. */
  private plainCache: Float32Array | null = null;
  readonly shape: Shape;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  /** The op that produced this tensor (null for leaves and for tensors made under noGrad). */
  gradNode: GradNode | null = null;
  outputIndex = 0;

  constructor(data: Float32Array, shape: Shape, requiresGrad = false, layout: Layout = "plain") {
    checkShape("Tensor", shape);
    if (!(data instanceof Float32Array)) throw new ShapeError("Tensor", "data must be a Float32Array");
    const n = shapeSize(shape);
    if (data.length !== n) {
      throw new ShapeError("Tensor", `data has ${data.length} elements but shape ${fmtShape(shape)} needs ${n}`);
    }
    if (layout !== "plain" && (layout !== "blocked16" || !canBlock16(shape))) {
      throw new ShapeError("Tensor", `layout ${String(layout)} is not possible for shape ${fmtShape(shape)} (blocked16 needs [..., C, H, W] with C a multiple of 16)`);
    }
    this.storage = data;
    this.layout = layout;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = requiresGrad;
    trackPooledTensor(this);
  }

  /** Called by the pool when this tensor's memory goes back to it: the tensor reads as empty from then on. */
  releaseStorage(): void {
    (this as { storage: Float32Array }).storage = RELEASED;
    this.plainCache = null;
  }

  /**
   * The values in plain row-major order. For a blocked tensor this is a copy made once (read-only in spirit:
   * writing into it does not change the tensor).
   */
  get data(): Float32Array {
    if (this.layout === "plain") return this.storage;
    if (!this.plainCache) this.plainCache = relayout(this.storage, this.shape, false, new Float32Array(this.storage.length));
    return this.plainCache;
  }

  get size(): number {
    return this.storage.length;
  }
  get ndim(): number {
    return this.shape.length;
  }
  dim(axis: number): number {
    return this.shape[normAxis("dim", axis, this.ndim)]!;
  }

  /** A new tensor with this one's shape wrapping the given data (no autograd link). */
  like(data: Float32Array): Tensor {
    return new Tensor(data, this.shape);
  }

  // ---- creation ---------------------------------------------------------------------------------------
  static zeros(shape: Shape, requiresGrad = false): Tensor {
    checkShape("zeros", shape);
    return new Tensor(new Float32Array(shapeSize(shape)), shape, requiresGrad);
  }
  static ones(shape: Shape, requiresGrad = false): Tensor {
    return Tensor.full(shape, 1, requiresGrad);
  }
  static full(shape: Shape, value: number, requiresGrad = false): Tensor {
    checkShape("full", shape);
    return new Tensor(new Float32Array(shapeSize(shape)).fill(value), shape, requiresGrad);
  }
  static randn(shape: Shape, rng: Rng = globalRng, std = 1, requiresGrad = false): Tensor {
    checkShape("randn", shape);
    const d = new Float32Array(shapeSize(shape));
    for (let i = 0; i < d.length; i++) d[i] = rng.normal() * std;
    return new Tensor(d, shape, requiresGrad);
  }
  static rand(shape: Shape, rng: Rng = globalRng, low = 0, high = 1, requiresGrad = false): Tensor {
    checkShape("rand", shape);
    const d = new Float32Array(shapeSize(shape));
    for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * rng.uniform();
    return new Tensor(d, shape, requiresGrad);
  }
  static arange(n: number): Tensor {
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = i;
    return new Tensor(d, [n]);
  }
  /** From a (nested) JS array, or a flat array/typed array plus an explicit shape. */
  static from(values: NestedArray | ArrayLike<number>, shape?: Shape, requiresGrad = false): Tensor {
    if (shape) {
      const flat = Float32Array.from(values as ArrayLike<number>);
      return new Tensor(flat, shape, requiresGrad);
    }
    const inferred: number[] = [];
    let v: NestedArray = values as NestedArray;
    while (Array.isArray(v)) {
      inferred.push(v.length);
      v = v[0] as NestedArray;
    }
    const flat = new Float32Array(shapeSize(inferred));
    let k = 0;
    const walk = (a: NestedArray, depth: number): void => {
      if (depth === inferred.length) {
        if (typeof a !== "number") throw new ShapeError("Tensor.from", "ragged nested array");
        flat[k++] = a;
        return;
      }
      if (!Array.isArray(a) || a.length !== inferred[depth]) throw new ShapeError("Tensor.from", "ragged nested array");
      for (const x of a) walk(x, depth + 1);
    };
    walk(values as NestedArray, 0);
    return new Tensor(flat, inferred, requiresGrad);
  }
  static scalar(v: number): Tensor {
    return new Tensor(Float32Array.of(v), []);
  }

  // ---- reading -------------------------------------------------------------------------------------------
  item(): number {
    if (this.size !== 1) throw new ShapeError("item", `needs a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return this.data[0]!;
  }
  toArray(): NestedArray {
    if (this.ndim === 0) return this.data[0]!;
    const build = (offset: number, depth: number): NestedArray => {
      const n = this.shape[depth]!;
      if (depth === this.ndim - 1) return Array.from(this.data.subarray(offset, offset + n));
      const stride = shapeSize(this.shape.slice(depth + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(offset + i * stride, depth + 1));
      return out;
    };
    return build(0, 0);
  }
  toString(): string {
    return `Tensor(${fmtShape(this.shape)}${this.requiresGrad ? ", requiresGrad" : ""})`;
  }

  // ---- autograd ------------------------------------------------------------------------------------------
  /** Backpropagates from this tensor. A non-scalar needs an explicit gradient of its own shape. */
  backward(grad?: Tensor): void {
    if (!this.requiresGrad) throw new Error(`backward: ${this.toString()} does not require grad`);
    let seed: Float32Array;
    if (grad === undefined) {
      if (this.size !== 1) {
        throw new ShapeError("backward", `called on a non-scalar ${fmtShape(this.shape)} without a gradient; pass one of the same shape`);
      }
      seed = Float32Array.of(1);
    } else {
      if (grad.size !== this.size) {
        throw new ShapeError("backward", `gradient shape ${fmtShape(grad.shape)} does not match tensor shape ${fmtShape(this.shape)}`);
      }
      // no copy: autograd never writes into a gradient buffer it did not allocate itself
      seed = grad.layout === this.layout ? grad.storage : this.layout === "plain" ? grad.data : relayout(grad.data, this.shape, true);
    }
    runBackward(this, seed);
  }
  /** Same storage, cut from the tape. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, false, this.layout);
  }
  /** A copy of the storage, cut from the tape. */
  clone(): Tensor {
    return new Tensor(new Float32Array(this.storage), this.shape, false, this.layout);
  }
  /**
   * The same values in the given layout (this tensor itself when it already is). Differentiable. Turning an
   * activation blocked16 once at the edge of a conv stack is what lets the layers after it skip their reorders.
   */
  toLayout(layout: Layout): Tensor {
    if (layout === this.layout) return this;
    if (layout === "blocked16" && !canBlock16(this.shape)) {
      throw new ShapeError("toLayout", `blocked16 needs [..., C, H, W] with C a multiple of 16, got ${fmtShape(this.shape)}`);
    }
    const toBlocked = layout === "blocked16";
    const out = new Tensor(relayout(this.storage, this.shape, toBlocked), this.shape, false, layout);
    if (isGradEnabled() && this.requiresGrad) {
      record("toLayout", [this], [out], ([g]) => [relayout(g!, this.shape, !toBlocked)], { layoutAware: true });
    }
    return out;
  }
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }
  zeroGrad(): void {
    this.grad = null;
  }
  /**
   * Drops .grad and gives its memory back to the activation pool when autograd allocated it, so the next backward
   * reuses it instead of faulting in a fresh buffer (what a training loop wants every step). The old gradient
   * array is detached: a reference kept to it reads as empty instead of silently changing.
   */
  releaseGrad(): void {
    if (this.grad) recycleLeafGrad(this.grad.storage);
    this.grad = null;
  }

  // ---- views ---------------------------------------------------------------------------------------------
  /** Same storage, new shape; one dimension may be -1. */
  reshape(shape: Shape): Tensor {
    const target = resolveShape("reshape", this.shape, shape);
    // blocked16 survives a reshape of the leading (batch) dims only: [T·B, C, H, W] <-> [T, B, C, H, W]
    const keep = this.layout === "blocked16" && target.length >= 3 && sameTail(this.shape, target);
    // any other reshape of a blocked tensor (a flatten before a linear layer) reorders once, into pooled memory
    if (this.layout === "blocked16" && !keep) return this.toLayout("plain").reshape(target);
    const out = keep ? new Tensor(this.storage, target, false, this.layout) : new Tensor(this.data, target);
    if (isGradEnabled() && this.requiresGrad) {
      record("reshape", [this], [out], ([g]) => [g!], { layoutAware: keep });
    }
    return out;
  }
  view(shape: Shape): Tensor {
    return this.reshape(shape);
  }
  flatten(startAxis = 0): Tensor {
    const a = normAxis("flatten", startAxis, this.ndim);
    return this.reshape([...this.shape.slice(0, a), shapeSize(this.shape.slice(a))]);
  }
  /** Rows [start, end) of the first axis; shares storage (a contiguous block). */
  slice(start: number, end: number = this.shape[0]!): Tensor {
    if (this.ndim === 0) throw new ShapeError("slice", "cannot slice a scalar");
    const n = this.shape[0]!;
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
      throw new ShapeError("slice", `range [${start}, ${end}) is out of bounds for axis 0 of ${fmtShape(this.shape)}`);
    }
    const inner = shapeSize(this.shape.slice(1));
    // rows of the first axis are contiguous in blocked16 too when that axis is a batch axis
    const keep = this.layout === "blocked16" && this.ndim >= 4;
    const src = keep ? this.storage : this.data;
    const out = new Tensor(src.subarray(start * inner, end * inner), [end - start, ...this.shape.slice(1)], false, keep ? this.layout : "plain");
    if (isGradEnabled() && this.requiresGrad) {
      const total = this.size;
      record(
        "slice",
        [this],
        [out],
        ([g]) => {
          const full = new Float32Array(total);
          full.set(g!, start * inner);
          return [full];
        },
        { layoutAware: keep },
      );
    }
    return out;
  }
  /** Row i of the first axis, with that axis removed. */
  index(i: number): Tensor {
    if (this.ndim === 0) throw new ShapeError("index", "cannot index a scalar");
    const n = this.shape[0]!;
    if (!Number.isInteger(i) || i < -n || i >= n) {
      throw new ShapeError("index", `index ${i} is out of bounds for axis 0 of ${fmtShape(this.shape)}`);
    }
    if (i < 0) i += n;
    return this.slice(i, i + 1).reshape(this.shape.slice(1));
  }
}

function sameTail(a: Shape, b: Shape): boolean {
  for (let i = 1; i <= 3; i++) if (a[a.length - i] !== b[b.length - i]) return false;
  return true;
}

export function normAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= Math.max(ndim, 1)) {
    throw new ShapeError(op, `axis ${axis} is out of range for a tensor with ${ndim} dimensions`);
  }
  return axis < 0 ? axis + ndim : axis;
}

export function resolveShape(op: string, from: Shape, to: Shape): number[] {
  const total = shapeSize(from);
  const out = [...to];
  const neg = out.indexOf(-1);
  if (neg !== -1) {
    if (out.indexOf(-1, neg + 1) !== -1) throw new ShapeError(op, `only one -1 allowed in ${fmtShape(to)}`);
    const rest = shapeSize(out.filter((_, i) => i !== neg));
    if (rest === 0 || total % rest !== 0) {
      throw new ShapeError(op, `cannot reshape ${fmtShape(from)} to ${fmtShape(to)}`);
    }
    out[neg] = total / rest;
  }
  checkShape(op, out);
  if (shapeSize(out) !== total) throw new ShapeError(op, `cannot reshape ${fmtShape(from)} (${total} elements) to ${fmtShape(to)}`);
  return out;
}

export function assertTensor(op: string, name: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new ShapeError(op, `argument ${name} must be a Tensor, got ${t === null ? "null" : typeof t}`);
}
