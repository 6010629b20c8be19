/**
 * Event emulation from a static image, the way N-MNIST was recorded (Orchard et al. 2015): the image
 * moves along three small saccades (a triangle, ~100 ms each) in front of a DVS, and a pixel emits an
 * event whenever its log intensity has changed by more than a contrast threshold since its last event:
 * ON (p = 1) for an increase, OFF (p = 0) for a decrease; one event per threshold crossing, timestamps
 * interpolated linearly inside the simulation step. Options: per-pixel threshold mismatch (Gaussian,
 * fixed per pixel, as in real sensors), per-event threshold noise, and a refractory period during which
 * a pixel cannot fire (its reference level still follows the signal).
 */
import { Rng } from "../engine/random.js";
import type { EventStream } from "./events/types.js";

export interface EmulateOptions {
  /** Sensor size (default 34×34, N-MNIST's; the image is centred). */
  width?: number;
  height?: number;
  /** Contrast threshold on log intensity (default 0.2). */
  threshold?: number;
  /** Std of the per-pixel threshold mismatch (default 0.03). */
  thresholdMismatch?: number;
  /** Std of per-event threshold noise (default 0.01). */
  thresholdNoise?: number;
  /** Refractory period, µs (default 500). */
  refractoryUs?: number;
  /** Saccade amplitude in pixels (default 3). */
  amplitude?: number;
  /** Duration of each of the three saccades, µs (default 100 000). */
  saccadeUs?: number;
  /** Simulation step, µs (default 1000). */
  stepUs?: number;
  /** Offset added inside the log: log(I/255 + eps) (default 0.1). */
  eps?: number;
  seed?: number;
}

/** Emulates events for one grey image (uint8, [ih, iw]). */
export function emulateEvents(img: Uint8Array, iw: number, ih: number, opts: EmulateOptions = {}): EventStream {
  const W = opts.width ?? 34;
  const H = opts.height ?? 34;
  const C = opts.threshold ?? 0.2;
  const mismatch = opts.thresholdMismatch ?? 0.03;
  const noise = opts.thresholdNoise ?? 0.01;
  const refr = opts.refractoryUs ?? 500;
  const A = opts.amplitude ?? 3;
  const sacc = opts.saccadeUs ?? 100_000;
  const dt = opts.stepUs ?? 1000;
  const eps = opts.eps ?? 0.1;
  const rng = new Rng(opts.seed ?? 0);
  const n = W * H;
  const thr = new Float64Array(n);
  for (let i = 0; i < n; i++) thr[i] = Math.max(0.01, C + mismatch * rng.normal());
  const ox = (W - iw) / 2 - A / 2;
  const oy = (H - ih) / 2 - A / 2;
  // triangle path: (0,0) -> (A/2, A) -> (A, 0) -> (0, 0), one saccade per edge
  const path = [[0, 0], [A / 2, A], [A, 0], [0, 0]] as const;
  const pos = (t: number): [number, number] => {
    const s = Math.min(2, Math.floor(t / sacc));
    const u = Math.min(1, (t - s * sacc) / sacc);
    const a = path[s]!;
    const b = path[s + 1]!;
    return [a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u];
  };
  // the image on a zero canvas with a wide margin, so bilinear samples need no bounds checks; the shift
  // is the same for every pixel, so the interpolation weights are computed once per step
  const mg = Math.ceil(Math.abs(ox) + Math.abs(oy) + A) + 3;
  const cw = W + iw + 2 * mg;
  const ch = H + ih + 2 * mg;
  const canvas = new Float64Array(cw * ch);
  for (let y = 0; y < ih; y++) for (let x = 0; x < iw; x++) canvas[(y + mg) * cw + x + mg] = img[y * iw + x]! / 255;
  // log(v + eps) for v in [0, 1] from a table with linear interpolation (error < 1e-6)
  const LUT = 4096;
  const lut = new Float64Array(LUT + 2);
  for (let i = 0; i <= LUT + 1; i++) lut[i] = Math.log(i / LUT + eps);
  const logI = (sx: number, sy: number, buf: Float64Array) => {
    const cx = -ox - sx;
    const cy = -oy - sy;
    const ix = Math.floor(cx);
    const iy = Math.floor(cy);
    const ax = cx - ix;
    const ay = cy - iy;
    const w00 = (1 - ax) * (1 - ay);
    const w01 = ax * (1 - ay);
    const w10 = (1 - ax) * ay;
    const w11 = ax * ay;
    for (let y = 0; y < H; y++) {
      let c = (y + iy + mg) * cw + ix + mg;
      const row = y * W;
      for (let x = 0; x < W; x++, c++) {
        const v = w00 * canvas[c]! + w01 * canvas[c + 1]! + w10 * canvas[c + cw]! + w11 * canvas[c + cw + 1]!;
        const f = v * LUT;
        const k = f | 0;
        buf[row + x] = lut[k]! + (f - k) * (lut[k + 1]! - lut[k]!);
      }
    }
  };
  const ref = new Float64Array(n);
  const prev = new Float64Array(n);
  const cur = new Float64Array(n);
  const last = new Float64Array(n).fill(-Infinity);
  let [sx, sy] = pos(0);
  logI(sx, sy, ref);
  prev.set(ref);
  const ex: number[] = [];
  const ey: number[] = [];
  const et: number[] = [];
  const ep: number[] = [];
  const steps = Math.round((3 * sacc) / dt);
  for (let k = 1; k <= steps; k++) {
    const tk = k * dt;
    [sx, sy] = pos(tk);
    logI(sx, sy, cur);
    for (let i = 0; i < n; i++) {
      const L = cur[i]!;
      const L0 = prev[i]!;
      for (;;) {
        const d = L - ref[i]!;
        const ad = Math.abs(d);
        // noise is drawn only near the threshold (|noise| beyond 6 sigma never matters in practice)
        if (ad < thr[i]! - 6 * noise) break;
        const th = Math.max(0.01, thr[i]! + (noise > 0 ? noise * rng.normal() : 0));
        if (ad < th) break;
        const sign = d > 0 ? 1 : -1;
        ref[i]! += sign * th;
        // time at which the signal crossed the new reference (linear in the step)
        const frac = L === L0 ? 1 : Math.min(1, Math.max(0, (ref[i]! - L0) / (L - L0)));
        const te = tk - dt + frac * dt;
        if (te - last[i]! < refr) continue;
        last[i] = te;
        ex.push(i % W);
        ey.push((i / W) | 0);
        et.push(Math.round(te));
        ep.push(sign > 0 ? 1 : 0);
      }
      prev[i] = L;
    }
  }
  // sort by time (stable: pixel order within equal timestamps)
  const order = Array.from(et.keys()).sort((a, b) => et[a]! - et[b]! || a - b);
  const m = order.length;
  const s: EventStream = { x: new Uint16Array(m), y: new Uint16Array(m), t: new Float64Array(m), p: new Uint8Array(m), width: W, height: H, meta: { format: "nmnist", emulated: true } };
  for (let j = 0; j < m; j++) {
    const i = order[j]!;
    s.x[j] = ex[i]!;
    s.y[j] = ey[i]!;
    s.t[j] = et[i]!;
    s.p[j] = ep[i]!;
  }
  return s;
}
