/**
 * Task losses on per-step outputs O[T, B, K] (spec §6.3), composed from engine ops so autograd handles them:
 * - `mean`: CE((1/T)·Σ_t O_t, y) (with optional label smoothing); the ANN route has T = 1.
 * - `tet`:  (1−λ)·(1/T)·Σ_t CE(O_t, y) + λ·MSE(O, φ), MSE averaged over all T·B·K elements, λ = 1e-3, φ = 1;
 *           the MSE term is dropped when λ = 0 (as in the reference).
 * And the combination with the RCS regulariser (spec §4.3): loss = task + α·L_RCS.
 */
import { add, crossEntropy, mean, mseLoss, mul } from "../engine/index.js";
import { ShapeError } from "../engine/errors.js";
import { Tensor } from "../engine/tensor.js";

export type Labels = Int32Array | readonly number[];

export interface TaskLossOptions {
  type: "mean" | "tet";
  /** TET weight of the MSE term. */
  lambda?: number;
  /** TET MSE target. */
  phi?: number;
  labelSmoothing?: number;
}

function checkOutputs(op: string, out: Tensor, labels: Labels): void {
  if (out.ndim !== 3) throw new ShapeError(op, `outputs must be [T, B, K], got [${out.shape.join(", ")}]`);
  if (labels.length !== out.shape[1]) throw new ShapeError(op, `${labels.length} labels for a batch of ${out.shape[1]}`);
}

/** CE on the mean output over time. */
export function meanOutputLoss(out: Tensor, labels: Labels, labelSmoothing = 0): Tensor {
  checkOutputs("meanOutputLoss", out, labels);
  const avg = out.shape[0] === 1 ? out.reshape(out.shape.slice(1)) : mean(out, 0);
  return crossEntropy(avg, labels as Int32Array, { labelSmoothing });
}

/** TET loss (Deng et al. 2022): per-step CE averaged over time plus λ·MSE(O, φ). */
export function tetLoss(out: Tensor, labels: Labels, opts: { lambda?: number; phi?: number; labelSmoothing?: number } = {}): Tensor {
  checkOutputs("tetLoss", out, labels);
  const lambda = opts.lambda ?? 1e-3;
  const phi = opts.phi ?? 1;
  const [T, B, K] = out.shape as [number, number, number];
  // every step has the same batch size, so the mean over T·B rows equals the mean over t of the per-step means
  const rep = new Int32Array(T * B);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) rep[t * B + b] = labels[b]!;
  const ce = crossEntropy(out.reshape([T * B, K]), rep, { labelSmoothing: opts.labelSmoothing ?? 0 });
  if (lambda === 0) return ce;
  return add(mul(ce, 1 - lambda), mul(mseLoss(out, phi), lambda));
}

/** The task loss chosen by the config. */
export function taskLoss(out: Tensor, labels: Labels, opts: TaskLossOptions): Tensor {
  return opts.type === "tet"
    ? tetLoss(out, labels, opts)
    : meanOutputLoss(out, labels, opts.labelSmoothing ?? 0);
}

/** loss = task + α·rcs (rcs ignored when α = 0 or null). */
export function withRegulariser(task: Tensor, rcs: Tensor | null, alpha: number): Tensor {
  if (!rcs || alpha === 0) return task;
  return add(task, mul(rcs, alpha));
}

/** Per-sample predictions from the mean (equivalently the sum) of the outputs over time: first maximal class. */
export function predictions(out: Tensor): Int32Array {
  const [T, B, K] = out.shape as [number, number, number];
  const pred = new Int32Array(B);
  const d = out.data;
  const acc = new Float64Array(K);
  for (let b = 0; b < B; b++) {
    acc.fill(0);
    for (let t = 0; t < T; t++) {
      const o = (t * B + b) * K;
      for (let k = 0; k < K; k++) acc[k]! += d[o + k]!;
    }
    let best = 0;
    for (let k = 1; k < K; k++) if (acc[k]! > acc[best]!) best = k;
    pred[b] = best;
  }
  return pred;
}

/** Number of correct predictions (argmax of the mean output over time). */
export function countCorrect(out: Tensor, labels: Labels): number {
  const p = predictions(out);
  let c = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === labels[i]) c++;
  return c;
}
