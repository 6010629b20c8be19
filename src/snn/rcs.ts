/**
 * RCS regulariser (spec §4), both versions. Activation layers push one per-sample statistic r_{l,n} (shape [B],
 * differentiable) into a shared collector during the forward pass when it is enabled; rcsLoss turns the
 * collected F[n, l] and the per-step outputs into
 *     L_RCS = (1/L) Σ_l max_n ( m_n · r_{l,n} ),   m_n = Π_{t ∈ last K'} 1[argmax O_t(n) = y_n]  (detached)
 */
import { allocZeroed } from "../engine/memory.js";
import { Tensor } from "../engine/tensor.js";
import { ShapeError, fmtShape } from "../engine/errors.js";
import { record } from "../engine/autograd.js";
import { add, div, max, mean, mul, relu, sqrt, stack, sum } from "../engine/index.js";

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
  // One fused op (two passes over x): it runs on every activation of every training step, where the composed
  // relu/max/mul/mean/sqrt/div chain cost as much as the convolutions.
  const N = x.shape[0]!;
  const F = x.size / N;
  // Sums over each sample's features and a max over everything: the order of the features within a sample does
  // not matter, so a blocked16 x is read as stored (each sample's row is contiguous in either layout) and dx is
  // returned in x's layout.
  const xd = x.storage;
  let M = 0;
  let arg = -1; // first maximal element of x⁺ (the max's gradient goes there, like engine max); -1: all ≤ 0
  const sigma = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let i = n * F, e = i + F; i < e; i++) {
      const xv = xd[i]!;
      const v = xv > 0 ? xv : 0; // a select, not a branch: the sign of a pre-activation is a coin flip
      ss += v * v;
      if (v > M) {
        M = v;
        arg = i;
      }
    }
    sigma[n] = Math.sqrt(ss / F + 1e-5);
  }
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
 */
export function rcsSnnStat(spikes: Tensor, membrane: Tensor, theta: number): Tensor {
  if (spikes.ndim < 3 || spikes.size !== membrane.size) {
    throw new ShapeError(
      "rcsSnnStat",
      `expects spikes and membrane [T, B, ...] of one shape, got ${fmtShape(spikes.shape)} and ${fmtShape(membrane.shape)}`,
    );
  }
  const T = spikes.shape[0]!;
  const B = spikes.shape[1]!;
  const D = spikes.size / (T * B);
  const R = add(spikes.reshape([T, B, D]), relu(mul(membrane.reshape([T, B, D]), 1 / theta)));
  const K = rcsTailSteps(T);
  const rbar = allocZeroed(B * D);
  const rd = R.data;
  for (let t = T - K; t < T; t++) {
    const off = t * B * D;
    for (let i = 0; i < B * D; i++) rbar[i]! += rd[off + i]!;
  }
  const nbar = allocZeroed(B);
  for (let b = 0; b < B; b++) {
    let ss = 0;
    for (let i = 0; i < D; i++) {
      const v = (rbar[b * D + i]! /= K);
      ss += v * v;
    }
    nbar[b] = Math.sqrt(ss + 1e-5);
  }
  const Rbar = new Tensor(rbar, [1, B, D]);
  const dot = sum(mul(R, Rbar), 2); // [T, B]
  const nR = sqrt(add(sum(mul(R, R), 2), 1e-5));
  const cos = div(dot, mul(nR, new Tensor(nbar, [1, B])));
  const c = mean(cos, 0); // [B]
  return div(1, add(c, 1e-5));
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
