/**
 * Activation memory: op outputs and gradients allocated inside `tidy` come from a free list and go back to it
 * when the scope ends, so a training step reuses the previous step's buffers instead of faulting in fresh ones.
 *
 * Why: a fresh 51 MB Float32Array costs ~20 ms (calloc → mmap → page faults on first touch → munmap when the GC
 * frees it) where rewriting a warm buffer costs ~3 ms, and glibc will not keep blocks above 32 MB in its heap.
 * A T = 4 SNN step allocates dozens of such buffers; without reuse that was a third of the step.
 *
 * Safety: at the end of a scope every tensor made over a buffer that goes back to the pool is released (its
 * storage reads as empty, so the next op on it fails its size check) instead of silently sharing memory with a
 * later step, as tf.tidy disposes tensors. Tensors returned by the scope's function are kept (they become ordinary
 * garbage-collected memory). Outside any scope, allocation is a plain `new Float32Array` and nothing is pooled.
 *
 * A raw Float32Array taken from a tensor (`.data`, `.storage`) is valid inside its scope only. The strict mode
 * (`setPoolDetach(true)`, SPIKECUT_POOL_DETACH=1, on in the test suite) also detaches the buffer itself, so such an
 * array reads as empty too. It is not the default: every detach gives the memory a new ArrayBuffer object, which V8
 * counts as fresh external memory, and the full garbage collections that followed (one per step, with their
 * marking thread on one of the two cores) made inference 30 % slower.
 */
import { Tensor } from "./tensor.js";
import { loadAddon } from "./native/index.js";

/** Buffers below this many floats are cheap to allocate and are never pooled. */
const MIN_POOLED = 1 << 15;
/** Idle bytes the pool may hold before it lets the GC have what it frees (shapes change, e.g. a last batch). */
let idleLimitBytes = 3 * 1024 ** 3;

/**
 * Pooled buffers are 64 bytes longer than their size class and their views start at the first 64-byte boundary:
 * glibc puts large blocks at 16 bytes past a page, and every AVX-512 load of a 16-aligned array splits across two
 * cache lines (oneDNN's convolutions, which read blocked16 activations in place, and our own vector loops).
 */
const PAD = 64;
const viewOffset = new WeakMap<ArrayBuffer, number>();
let misalignment: ((a: Float32Array) => number) | null | undefined;

function alignedOffset(buf: ArrayBuffer): number {
  if (misalignment === undefined) {
    const r = loadAddon();
    misalignment = "addon" in r && typeof r.addon.misalignment === "function" ? r.addon.misalignment : null;
  }
  if (!misalignment) return 0;
  const mis = misalignment(new Float32Array(buf, 0, 1));
  return (PAD - mis) % PAD;
}

/** Moves a pooled buffer to a new ArrayBuffer object (detaching every old view); the memory and its offset stay. */
function transferPooled(buf: ArrayBuffer): ArrayBuffer {
  const off = viewOffset.get(buf) ?? 0;
  const moved = structuredClone(buf, { transfer: [buf] });
  viewOffset.set(moved, off);
  return moved;
}

/** Whether a is the whole view the pool handed out for its buffer (not a subarray of it). */
export function isPoolView(a: Float32Array): boolean {
  return a.byteOffset === (viewOffset.get(a.buffer as ArrayBuffer) ?? 0);
}

const free = new Map<number, ArrayBuffer[]>();
let idleBytes = 0;
/** One open tidy scope: the buffers it handed out and the tensors made over them. */
interface Scope {
  buffers: Set<ArrayBuffer>;
  tensors: Tensor[];
}
/** Open scopes, innermost last. */
const scopes: Scope[] = [];
/** The open scope that owns each handed-out buffer (a kept buffer moves to the enclosing scope). */
const ownerOf = new WeakMap<ArrayBuffer, Scope>();
let detach = process.env.SPIKECUT_POOL_DETACH === "1";

/**
 * Strict mode: buffers going back to the pool are also detached (moved to a new ArrayBuffer object), so a raw
 * array kept past its scope reads as empty instead of seeing a later step's values. Slower (see above).
 */
export function setPoolDetach(on: boolean): void {
  detach = on;
}

/** Registers a tensor made over a pooled buffer of an open scope, so the scope can release it (Tensor calls this). */
export function trackPooledTensor(t: Tensor): void {
  if (scopes.length === 0) return;
  const scope = ownerOf.get(t.storage.buffer as ArrayBuffer);
  if (scope) scope.tensors.push(t);
}
/** Hand-out serial of every buffer from allocUninit/allocZeroed, so autograd can tell a fresh gradient buffer. */
let serial = 0;
const handedAt = new WeakMap<ArrayBuffer, number>();
/** Buffers that became a leaf's .grad through adoptAsLeafGrad: the only ones recycleLeafGrad may take back. */
const leafGradBuffers = new WeakSet<ArrayBuffer>();

/**
 * Buffers are pooled by size class (8 classes per power of two, at most 12.5% slack), not exact size: anytime
 * inference shrinks its batch by a few samples at every step, and exact sizes would fill the pool with buffers
 * that are never asked for again.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 64) return 64;
  const k = Math.floor(Math.log2(bytes)) - 3;
  const step = 2 ** k;
  return Math.ceil(bytes / step) * step;
}

/**
 * An idle buffer of the smallest class in [bytes, 2·bytes), or undefined. When anytime inference drops samples the
 * batch shrinks step by step into smaller size classes; lending it the previous step's larger buffers (at most
 * twice the size) saved the fresh, page-faulting allocation that was 13 % of its time.
 */
function idleBuffer(bytes: number): ArrayBuffer | undefined {
  const exact = free.get(bytes)?.pop();
  if (exact) return exact;
  let best = 0;
  for (const [size, list] of free) if (size > bytes && size < 2 * bytes && list.length > 0 && (best === 0 || size < best)) best = size;
  return best ? free.get(best)!.pop() : undefined;
}

function take(n: number): Float32Array | null {
  if (scopes.length === 0 || n < MIN_POOLED) return null;
  const bytes = sizeClass(n * 4) + PAD;
  let buf = idleBuffer(bytes);
  if (buf) idleBytes -= buf.byteLength;
  else {
    buf = new ArrayBuffer(bytes);
    viewOffset.set(buf, alignedOffset(buf));
  }
  const scope = scopes[scopes.length - 1]!;
  scope.buffers.add(buf);
  ownerOf.set(buf, scope);
  handedAt.set(buf, ++serial);
  return new Float32Array(buf, viewOffset.get(buf)!, n);
}

/** The current hand-out serial: buffers allocated after this call have a larger one. */
export function allocSerial(): number {
  return serial;
}

/** Whether this array's buffer came from allocUninit/allocZeroed after the given serial. */
export function allocatedSince(a: Float32Array, since: number): boolean {
  return (handedAt.get(a.buffer as ArrayBuffer) ?? 0) > since;
}

/**
 * Makes a freshly allocated gradient buffer the long-lived .grad of a leaf without copying it: the open scope no
 * longer returns it to the pool. The caller guarantees nothing else references the buffer. Later,
 * recycleLeafGrad gives it back, so a training loop's parameter gradients reuse the same memory every step.
 */
export function adoptAsLeafGrad(a: Float32Array): void {
  const buf = a.buffer as ArrayBuffer;
  ownerOf.get(buf)?.buffers.delete(buf);
  ownerOf.delete(buf);
  leafGradBuffers.add(buf);
}

/**
 * Returns a leaf gradient's memory to the pool (the optimiser's zeroGrad does this). Only buffers adopted by
 * autograd are taken; the transfer detaches every view, so a reference kept to the old .grad reads as empty
 * instead of seeing the next step's gradient. Returns whether the buffer was taken.
 */
export function recycleLeafGrad(a: Float32Array): boolean {
  const buf = a.buffer as ArrayBuffer;
  if (!leafGradBuffers.has(buf)) return false;
  leafGradBuffers.delete(buf);
  if (ownerOf.has(buf)) return false;
  const bytes = buf.byteLength;
  // only buffers of a pooled size class can be handed out again
  if (bytes < MIN_POOLED * 4 + PAD || sizeClass(bytes - PAD) !== bytes - PAD || idleBytes + bytes > idleLimitBytes) return false;
  const moved = transferPooled(buf);
  let list = free.get(bytes);
  if (!list) free.set(bytes, (list = []));
  list.push(moved);
  idleBytes += bytes;
  return true;
}

/** n floats, all zero. Pooled inside `tidy`. */
export function allocZeroed(n: number): Float32Array {
  const a = take(n);
  if (!a) return unpooled(n);
  return a.fill(0);
}

function unpooled(n: number): Float32Array {
  const a = new Float32Array(n);
  handedAt.set(a.buffer as ArrayBuffer, ++serial);
  return a;
}

/**
 * n floats with unspecified contents (a reused buffer keeps its previous values): only for outputs that the
 * caller overwrites completely. Pooled inside `tidy`.
 */
export function allocUninit(n: number): Float32Array {
  const a = take(n) ?? unpooled(n);
  if (poison) a.fill(NaN);
  return a;
}

let poison = process.env.SPIKECUT_POISON_UNINIT === "1";
/**
 * Tests switch this on: every uninitialised allocation is filled with NaN, so a kernel that reads (or adds into)
 * an output it was supposed to overwrite shows up as a NaN in the comparison against the reference.
 */
export function setPoisonUninit(on: boolean): void {
  poison = on;
}

/** Whether allocations are currently pooled. */
export function inTidyScope(): boolean {
  return scopes.length > 0;
}

function collectKept(value: unknown, out: Set<ArrayBuffer>, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== "object") return;
  if (value instanceof Tensor) {
    out.add(value.storage.buffer as ArrayBuffer);
    if (value.grad) out.add(value.grad.storage.buffer as ArrayBuffer);
    return;
  }
  if (ArrayBuffer.isView(value)) {
    out.add(value.buffer as ArrayBuffer);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectKept(v, out, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectKept(v, out, depth + 1);
  }
}

function release(scope: Scope, kept: Set<ArrayBuffer>): void {
  const parent = scopes[scopes.length - 1];
  for (const t of scope.tensors) {
    const buf = t.storage.buffer as ArrayBuffer;
    if (!scope.buffers.has(buf)) continue; // adopted as a leaf gradient: no longer the scope's
    if (kept.has(buf)) parent?.tensors.push(t);
    else t.releaseStorage();
  }
  for (const buf of scope.buffers) {
    if (kept.has(buf)) {
      // a kept buffer stays owned by the enclosing scope, if any; at top level it becomes ordinary GC memory
      if (parent) {
        parent.buffers.add(buf);
        ownerOf.set(buf, parent);
      } else ownerOf.delete(buf);
      continue;
    }
    ownerOf.delete(buf);
    const bytes = buf.byteLength;
    if (idleBytes + bytes > idleLimitBytes) continue;
    // in strict mode, transferring detaches every view of the old buffer, so nothing outside can reach this memory
    const pooled = detach ? transferPooled(buf) : buf;
    let list = free.get(bytes);
    if (!list) free.set(bytes, (list = []));
    list.push(pooled);
    idleBytes += bytes;
  }
}

/**
 * Runs fn with pooled activation memory. Tensors (and typed arrays) in fn's result, directly or in an array or
 * plain object, survive the scope; every other pooled buffer allocated inside returns to the pool and the tensors
 * made over it are released.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = { buffers: new Set(), tensors: [] };
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    release(scope, new Set());
    throw e;
  }
  scopes.pop();
  const kept = new Set<ArrayBuffer>();
  collectKept(result, kept);
  release(scope, kept);
  return result;
}

/** Drops every idle buffer (the GC frees them) and optionally changes how much idle memory the pool keeps. */
export function clearPool(limitBytes?: number): void {
  free.clear();
  idleBytes = 0;
  if (limitBytes !== undefined) idleLimitBytes = limitBytes;
}

export function poolStats(): { idleBytes: number; idleBuffers: number; openScopes: number } {
  let idleBuffers = 0;
  for (const l of free.values()) idleBuffers += l.length;
  return { idleBytes, idleBuffers, openScopes: scopes.length };
}
