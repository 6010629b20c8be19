/**
 * Test helpers for the engine: finite-difference gradient checks, backend comparison, error assertions and
 * seeded tensors.
 *
 * gradcheck projects the output on a fixed random cotangent r, so the checked scalar is f(x) = <op(x), r>
 * (accumulated in float64). The analytic gradient is op's backward seeded with r. Numerically: central
 * differences, per element for small inputs, along a few random directions for big ones (one pair of forward
 * calls per direction instead of per element). The float32 rounding of the perturbed inputs is accounted for:
 * the denominator is the perturbation that was actually stored, computed in float64.
 */
import { expect } from "vitest";
import { Rng, Tensor, ShapeError, noGrad, tryNativeBackend, withBackend } from "../../src/engine/index.js";
import type { Shape } from "../../src/engine/index.js";

export interface GradcheckOptions {
  /** Perturbation size (default 1e-3 scaled by max(1, |x|) per element). */
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Inputs up to this many elements are checked element by element (default 48). */
  maxElems?: number;
  /** Random directions for bigger inputs (default 3). */
  directions?: number;
  seed?: number;
}

function project(out: Tensor, r: Float64Array): { f: number; mag: number } {
  let f = 0;
  let mag = 0;
  const d = out.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]! * r[i]!;
    f += v;
    mag += Math.abs(v);
  }
  return { f, mag };
}

/** Checks the backward of fn against central finite differences for every input that requires grad. */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const eps = opts.eps ?? 1e-3;
  const rtol = opts.rtol ?? 2e-2;
  const atol = opts.atol ?? 1e-3;
  const maxElems = opts.maxElems ?? 48;
  const directions = opts.directions ?? 3;
  const rng = new Rng(opts.seed ?? 1234);

  for (const x of inputs) x.zeroGrad();
  const out = fn(...inputs);
  const r = new Float64Array(out.size);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal();
  out.backward(new Tensor(Float32Array.from(r), out.shape));

  const evalF = (): { f: number; mag: number } => noGrad(() => project(fn(...inputs), r));

  inputs.forEach((x, k) => {
    if (!x.requiresGrad) return;
    const g = x.grad?.data ?? new Float32Array(x.size);
    const data = x.data;
    if (x.size <= maxElems) {
      for (let i = 0; i < x.size; i++) {
        const orig = data[i]!;
        const h = eps * Math.max(1, Math.abs(orig));
        data[i] = orig + h;
        const xp = data[i]!;
        const fp = evalF();
        data[i] = orig - h;
        const xm = data[i]!;
        const fm = evalF();
        data[i] = orig;
        const num = (fp.f - fm.f) / (xp - xm);
        const an = g[i]!;
        // float32 rounding noise of the forward, amplified by the division by the step
        const noise = (8 * 2 ** -24 * Math.max(fp.mag, fm.mag)) / (xp - xm);
        const tol = atol + noise + rtol * Math.max(Math.abs(num), Math.abs(an));
        if (!(Math.abs(num - an) <= tol)) {
          throw new Error(`gradcheck: input ${k} ${fmt(x.shape)} element ${i}: analytic ${an}, numeric ${num} (tol ${tol.toExponential(2)})`);
        }
      }
      return;
    }
    const orig = new Float32Array(data);
    for (let dir = 0; dir < directions; dir++) {
      const d = new Float64Array(x.size);
      for (let i = 0; i < d.length; i++) d[i] = rng.normal();
      const dx = new Float64Array(x.size);
      for (let i = 0; i < d.length; i++) data[i] = orig[i]! + eps * Math.max(1, Math.abs(orig[i]!)) * d[i]!;
      for (let i = 0; i < d.length; i++) dx[i] = data[i]!;
      const fp = evalF();
      for (let i = 0; i < d.length; i++) data[i] = orig[i]! - eps * Math.max(1, Math.abs(orig[i]!)) * d[i]!;
      for (let i = 0; i < d.length; i++) dx[i]! -= data[i]!;
      const fm = evalF();
      data.set(orig);
      let an = 0;
      let anMag = 0;
      let step = 0;
      for (let i = 0; i < d.length; i++) {
        an += g[i]! * dx[i]!;
        anMag += Math.abs(g[i]! * dx[i]!);
        step += dx[i]! * dx[i]!;
      }
      step = Math.sqrt(step);
      const num = fp.f - fm.f;
      const noise = 8 * 2 ** -24 * Math.max(fp.mag, fm.mag);
      const tol = atol * step + noise + rtol * Math.max(Math.abs(num), Math.abs(an), 1e-3 * anMag);
      if (!(Math.abs(num - an) <= tol)) {
        throw new Error(`gradcheck: input ${k} ${fmt(x.shape)} direction ${dir}: analytic ${an / step}, numeric ${num / step} (per unit step, tol ${(tol / step).toExponential(2)})`);
      }
    }
  });
}

function fmt(s: Shape): string {
  return `[${s.join(", ")}]`;
}

/** A seeded normal tensor. */
export function randn(shape: Shape, seed: number, requiresGrad = false, std = 1): Tensor {
  return Tensor.randn(shape, new Rng(seed), std, requiresGrad);
}

/** A seeded uniform tensor in [low, high). */
export function rand(shape: Shape, seed: number, low = 0, high = 1, requiresGrad = false): Tensor {
  return Tensor.rand(shape, new Rng(seed), low, high, requiresGrad);
}

/** Expects fn to throw a ShapeError whose message contains every fragment (op name, shapes...). */
export function expectShapeError(fn: () => unknown, ...fragments: string[]): void {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, "expected a ShapeError").toBeInstanceOf(ShapeError);
  const msg = (err as Error).message;
  for (const f of fragments) expect(msg).toContain(f);
}

/** Element-wise closeness with a readable failure. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = "values"): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) {
      throw new Error(`${what}[${i}]: got ${a}, expected ${e} (tol ${tol})`);
    }
  }
}

/** max |a - b| / max |b| (0 when both are all zero). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let mag = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    mag = Math.max(mag, Math.abs(b[i]!));
  }
  return mag === 0 ? diff : diff / mag;
}

export const nativeAvailable = (): boolean => tryNativeBackend() !== null;

/**
 * Runs a case under the JS and the native backend and compares every returned buffer (outputs and
 * gradients) with a relative error below tol. Returns false (nothing compared) when native is unavailable.
 * The case must build its own inputs (deterministically), so both runs see identical data.
 */
export function compareBackends(run: () => ArrayLike<number>[], tol = 1e-4, what = "case"): boolean {
  const native = tryNativeBackend();
  if (!native) return false;
  const ref = withBackend("js", run);
  const got = withBackend(native, run);
  expect(got.length).toBe(ref.length);
  ref.forEach((r, i) => {
    const e = relError(got[i]!, r);
    if (!(e < tol)) throw new Error(`${what}: buffer ${i} differs between native and js backends (relative error ${e})`);
  });
  return true;
}

/** Forward + backward with a fixed cotangent; returns [output, grad of each input requiring grad]. */
export function forwardBackward(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], seed = 99): Float32Array[] {
  for (const x of inputs) x.zeroGrad();
  const out = fn(...inputs);
  const rng = new Rng(seed);
  const r = new Float32Array(out.size);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal();
  out.backward(new Tensor(r, out.shape));
  const res = [new Float32Array(out.data)];
  for (const x of inputs) if (x.requiresGrad) res.push(new Float32Array(x.grad!.data));
  return res;
}
