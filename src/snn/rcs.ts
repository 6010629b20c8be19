/**
 * RCS regulariser (spec §4), both versions. Activation layers push one per-sample statistic r_{l,n} (shape [B],
 * differentiable) into a shared collector during the forward pass when it is enabled; rcsLoss turns the
 * collected F[n, l] and the per-step outputs into
 *     L_RCS = (1/L) Σ_l max_n ( m_n · r_{l,n} ),   m_n = Π_{t ∈ last K'} 1[argmax O_t(n) = y_n]  (detached)
 */
import { allocUninit, allocZeroed } from "../engine/memory.js";
import { getBackend } from "../engine/backends.js";
import { Tensor } from "../engine/tensor.js";
import { ShapeError, fmtShape } from "../engine/errors.js";
import { record } from "../engine/autograd.js";
import { max, mean, mul, stack } from "../engine/index.js";

/** β = rcs_n = 0.3 in the reference (spec §4.2). */
export const RCS_TAIL_FRACTION = 0.3;

/** Number of trailing steps used for R̄ and the mask: int(T·β), 0 meaning all T (spec §12.7). */
export function rcsTailSteps(T: number, fraction = RCS_TAIL_FRACTION): number {
  const k = Math.trunc(T * fraction + 1e-9);
  return k === 0 ? T : k;
}

export class RcsCollector {
  enabled = false;
  private readonly stats: { layer: string; r: Tensor }[] = [];

  push(layer: string, r: Tensor): void {
    if (!this.enabled) return;
    if (r.ndim !== 1)
      throw new ShapeError("RcsCollector.push", `layer ${layer}: expected a per-sample vector [B], got ${fmtShape(r.shape)}`);
    this.stats.push({ layer, r });
  }
  /** Per-layer statistics in forward order. */
  get layers(): readonly { layer: string; r: Tensor }[] {
    return this.stats;
  }
  get size(): number {
    return this.stats.length;
  }
  clear(): void {
    this.stats.length = 0;
  }
}

/**
 * RCS-ANN statistic (§4.1) from a layer's pre-activation x [N, ...]:
 *   r_n = max_{batch, features}(x⁺) / sqrt(mean_features((x⁺_n)²) + 1e-5)
 * The numerator is batch-global (§12.6); gradients flow through both max and RMS.
 */
export function rcsAnnStat(x: Tensor): Tensor {
  if (x.ndim < 2) throw new ShapeError("rcsAnnStat", `expects [N, ...], got ${fmtShape(x.shape)}`);
  // One fused op: it runs on every activation of every training step, where the composed relu/max/mul/mean/
  // sqrt/div chain cost as much as the convolutions. Its forward pass over x is a backend kernel: as a TypeScript
  // loop it still took ~90 ms of a vgg-small QCFS step that costs 110 ms without RCS (batch 128).
  const N = x.shape[0]!;
  const F = x.size / N;
  // Sums over each sample's features and a max over everything: the order of the features within a sample does
  // not matter, so a blocked16 x is read as stored (each sample's row is contiguous in either layout) and dx is
  // returned in x's layout.
  const xd = x.storage;
  const sumSq = new Float64Array(N);
  const rowMax = new Float32Array(N);
  const rowArg = new Int32Array(N);
  getBackend().rcsAnnForward(xd, N, F, sumSq, rowMax, rowArg);
  let M = 0;
  let arg = -1; // first maximal element of x⁺ (the max's gradient goes there, like engine max); -1: all ≤ 0
  for (let n = 0; n < N; n++) {
    if (rowMax[n]! > M) {
      M = rowMax[n]!;
      arg = rowArg[n]!;
    }
  }
  const sigma = new Float64Array(N);
  for (let n = 0; n < N; n++) sigma[n] = Math.sqrt(sumSq[n]! / F + 1e-5);
  const r = allocZeroed(N);
  for (let n = 0; n < N; n++) r[n] = M / sigma[n]!;
  const out = new Tensor(r, [N]);
  return record(
    "rcsAnnStat",
    [x],
    [out],
    ([g]) => {
      // r_n = M/σ_n, σ_n = sqrt(Σ_f x⁺²/F + 1e-5): ∂r_n/∂x_nf = −M·x⁺_nf/(F·σ_n³) for x > 0; ∂r_n/∂M = 1/σ_n
      const dx = allocZeroed(x.size);
      let dM = 0;
      for (let n = 0; n < N; n++) {
        const gn = g![n]!;
        if (gn === 0) continue;
        const sn = sigma[n]!;
        dM += gn / sn;
        const c = (-gn * M) / (F * sn * sn * sn);
        for (let i = n * F, e = i + F; i < e; i++) {
          const v = xd[i]!;
          dx[i] = v > 0 ? c * v : 0;
        }
      }
      if (arg >= 0) dx[arg]! += dM;
      return [dx];
    },
    { layoutAware: true },
  )[0];
}

/**
 * RCS-SNN statistic (§4.2) from spikes S and membranes U (both [T, B, ...], U post-reset pre-leak):
 *   R_t = S_t + relu(U_t/θ);  R̄ = stopgrad(mean of the last int(0.3·T) steps, all if 0);
 *   c_n = mean_t <R_t, R̄> / (sqrt(|R_t|²+1e-5)·sqrt(|R̄|²+1e-5));  r_n = 1/(c_n + 1e-5)
 * One fused op (backend.rcsSnnForward / rcsSnnBackward): composed from element-wise ops and axis sums it made a
 * direct-training step with RCS 5.3× slower than without (2359 vs 444 ms on vgg-small, T = 4, batch 128).
 */
export function rcsSnnStat(spikes: Tensor, membrane: Tensor, theta: number): Tensor {
  if (spikes.ndim < 3 || spikes.size !== membrane.size || spikes.shape[0] !== membrane.shape[0] || spikes.shape[1] !== membrane.shape[1]) {
    throw new ShapeError(
      "rcsSnnStat",
      `expects spikes and membrane [T, B, ...] of one shape, got ${fmtShape(spikes.shape)} and ${fmtShape(membrane.shape)}`,
    );
  }
  if (!(theta > 0)) throw new RangeError(`rcsSnnStat: threshold must be > 0, got ${theta}`);
  const T = spikes.shape[0]!;
  const B = spikes.shape[1]!;
  const D = spikes.size / (T * B);
  // Each sample's D features are contiguous in either layout, and the statistic pairs R_t with R̄ feature by
  // feature and sums within a sample: both are read as stored, as long as they share a layout.
  const [S, U] = spikes.layout === membrane.layout ? [spikes, membrane] : [spikes.toLayout("plain"), membrane.toLayout("plain")];
  const K = rcsTailSteps(T);
  const invTheta = Math.fround(1 / theta);
  const be = getBackend();
  const rbar = allocUninit(B * D);
  const dot = new Float32Array(T * B);
  const normR = new Float32Array(T * B);
  const normRbar = new Float32Array(B);
  be.rcsSnnForward(S.storage, U.storage, T, B, D, K, invTheta, rbar, dot, normR, normRbar);
  // cos_{t,b} = dot / (|R_t|·|R̄|) in float32 like the composed ops; c_b = mean_t cos; r_b = 1 / (c_b + 1e-5)
  const c = new Float64Array(B);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) c[b]! += Math.fround(dot[t * B + b]! / Math.fround(normR[t * B + b]! * normRbar[b]!));
  }
  // c_b + 1e-5 in float32, the denominator of r_b and of its derivative
  const den = Float32Array.from(c, (cb) => Math.fround(cb / T) + 1e-5);
  const r = allocUninit(B);
  for (let b = 0; b < B; b++) r[b] = 1 / den[b]!;
  const out = new Tensor(r, [B]);
  return record(
    "rcsSnnStat",
    [S, U],
    [out],
    ([g]) => {
      // dr/dc = −1/(c + 1e-5)²; dc/dcos = 1/T; dcos/dR_t = R̄/(|R_t||R̄|) − dot·R_t/(|R_t|³|R̄|)
      const a = new Float32Array(T * B);
      const cc = new Float32Array(T * B);
      for (let b = 0; b < B; b++) {
        const dcos = -g![b]! / (den[b]! * den[b]!) / T;
        for (let t = 0; t < T; t++) {
          const j = t * B + b;
          const nr = normR[j]!;
          const nb = normRbar[b]!;
          a[j] = dcos / (nr * nb);
          cc[j] = (dcos * dot[j]!) / (nr * nr * nr * nb);
        }
      }
      const ds = S.requiresGrad ? allocUninit(S.size) : null;
      const du = U.requiresGrad ? allocUninit(U.size) : null;
      be.rcsSnnBackward(S.storage, U.storage, rbar, T, B, D, invTheta, a, cc, ds, du);
      return [ds, du];
    },
    { layoutAware: true },
  )[0]!;
}

/** m_n over the last K' per-step outputs (not accumulated), 1 where every one of them is correct. */
export function rcsMask(outputs: Tensor, labels: Int32Array | readonly number[]): Float32Array {
  if (outputs.ndim !== 3) throw new ShapeError("rcsMask", `expects outputs [T, B, K], got ${fmtShape(outputs.shape)}`);
  const [T, B, K] = outputs.shape as [number, number, number];
  if (labels.length !== B) throw new ShapeError("rcsMask", `${labels.length} labels for a batch of ${B}`);
  const Kt = rcsTailSteps(T);
  const m = allocZeroed(B).fill(1);
  const o = outputs.data;
  for (let t = T - Kt; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const base = (t * B + b) * K;
      let best = 0;
      for (let k = 1; k < K; k++) if (o[base + k]! > o[base + best]!) best = k; // first maximal index
      if (best !== labels[b]) m[b] = 0;
    }
  }
  return m;
}

/**
 * L_RCS from the collector's statistics and the per-step outputs O [T, B, K]; a differentiable scalar
 * (0 with no layers). Multiply by α and add to the task loss.
 */
export function rcsLoss(collector: RcsCollector, outputs: Tensor, labels: Int32Array | readonly number[], T?: number): Tensor {
  if (T !== undefined && outputs.shape[0] !== T) {
    throw new ShapeError("rcsLoss", `outputs ${fmtShape(outputs.shape)} do not have T=${T} steps`);
  }
  const stats = collector.layers;
  if (!stats.length) return Tensor.scalar(0);
  const B = outputs.shape[1]!;
  for (const s of stats) {
    if (s.r.shape[0] !== B) {
      throw new ShapeError("rcsLoss", `layer ${s.layer} pushed ${s.r.shape[0]} values for a batch of ${B} (an ANN must run with T = 1)`);
    }
  }
  const mask = new Tensor(rcsMask(outputs, labels), [1, B]);
  const F = stack(
    stats.map((s) => s.r),
    0,
  ); // [L, B]
  return mean(max(mul(F, mask), 1));
}
