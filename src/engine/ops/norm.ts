/** Batch normalisation over x[N, C, ...] (statistics per channel over N and the trailing dims). */
import { allocUninit, allocZeroed } from "../memory.js";
import { needsGrad, record } from "../autograd.js";
import { getBackend } from "../backends.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Tensor, assertTensor, shapeSize } from "../tensor.js";

export interface BatchNormOptions {
  /** Batch statistics (and running-stat update) when true; running statistics when false. Default false, as PyTorch's functional form. */
  training?: boolean;
  momentum?: number;
  eps?: number;
}

function checkVec(name: string, t: Tensor | null | undefined, C: number, x: Tensor): Tensor | null {
  if (t === null || t === undefined) return null;
  assertTensor("batchNorm", name, t);
  if (t.ndim !== 1 || t.shape[0] !== C) {
    throw new ShapeError("batchNorm", `${name} ${fmtShape(t.shape)} must be [${C}] for input ${fmtShape(x.shape)}`);
  }
  return t;
}

/** r = (1 - momentum) r + momentum * batch stat, with the unbiased variance rebuilt from the kernel's invStd. */
export function updateRunningStats(rm: Tensor, rv: Tensor, mean: Float32Array, invStd: Float32Array, cnt: number,
                                   momentum: number, eps: number): void {
  const corr = cnt / (cnt - 1);
  const m = rm.data;
  const v = rv.data;
  for (let c = 0; c < m.length; c++) {
    const is = invStd[c]!;
    const varB = 1 / (is * is) - eps;
    m[c] = (1 - momentum) * m[c]! + momentum * mean[c]!;
    v[c] = (1 - momentum) * v[c]! + momentum * Math.max(varB, 0) * corr;
  }
}

/**
 * training: y = (x - mean_B) / sqrt(var_B + eps) * gamma + beta with biased batch variance, and running stats
 * updated in place: r = (1 - momentum) r + momentum * stat (unbiased variance), like PyTorch.
 * eval: the same with the running statistics (batch statistics when none are given).
 */
/**
 * The eval-mode batch norm as y = x·scale + shift per channel, rounded exactly as batchNorm's eval path computes
 * it, so a kernel that folds it into its input (the inference neuron step) gives the same numbers.
 */
export function batchNormEvalAffine(gamma: Tensor | null, beta: Tensor | null, runningMean: Tensor, runningVar: Tensor,
                                    eps: number): { scale: Float32Array; shift: Float32Array; inv: Float32Array } {
  const C = runningMean.size;
  const scale = new Float32Array(C);
  const shift = new Float32Array(C);
  const inv = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    inv[c] = 1 / Math.sqrt(runningVar.data[c]! + eps);
    scale[c] = (gamma ? gamma.data[c]! : 1) * inv[c]!;
    shift[c] = (beta ? beta.data[c]! : 0) - runningMean.data[c]! * scale[c]!;
  }
  return { scale, shift, inv };
}

export function batchNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, runningMean: Tensor | null,
                          runningVar: Tensor | null, opts: BatchNormOptions = {}): Tensor {
  const op = "batchNorm";
  assertTensor(op, "x", x);
  if (x.ndim < 2) throw new ShapeError(op, `input must be [N, C, ...], got ${fmtShape(x.shape)}`);
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const S = shapeSize(x.shape.slice(2));
  const ga = checkVec("gamma", gamma, C, x);
  const be = checkVec("beta", beta, C, x);
  const rm = checkVec("runningMean", runningMean, C, x);
  const rv = checkVec("runningVar", runningVar, C, x);
  const training = opts.training ?? false;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  if (typeof training !== "boolean") throw new ShapeError(op, `training must be a boolean (input ${fmtShape(x.shape)})`);
  if (typeof momentum !== "number" || !(momentum >= 0 && momentum <= 1)) throw new ShapeError(op, `momentum must be in [0, 1], got ${String(momentum)}`);
  if (typeof eps !== "number" || !(eps > 0)) throw new ShapeError(op, `eps must be a positive number, got ${String(eps)}`);
  if ((rm === null) !== (rv === null)) throw new ShapeError(op, "runningMean and runningVar must be given together");

  const inputs = [x, ...(ga ? [ga] : []), ...(be ? [be] : [])];
  const y = allocUninit(x.size);
  const backend = getBackend();
  // blocked16 activations ([N, C, H, W] stored nChw16c) stay blocked: the kernels take the layout
  const blocked = x.layout === "blocked16" && x.ndim === 4;

  if (training || rm === null || rv === null) {
    const cnt = N * S;
    if (cnt <= 1) throw new ShapeError(op, `needs more than one value per channel in training, got input ${fmtShape(x.shape)}`);
    const mean = allocZeroed(C);
    const invStd = allocZeroed(C);
    const xs = blocked ? x.storage : x.data;
    backend.batchNormTrainForward(xs, N, C, S, ga ? ga.data : null, be ? be.data : null, eps, y, mean, invStd, null, blocked);
    if (training && rm && rv) updateRunningStats(rm, rv, mean, invStd, cnt, momentum, eps);
    const out = new Tensor(y, x.shape, false, blocked ? "blocked16" : "plain");
    return record(
      op,
      inputs,
      [out],
      ([g]) => {
        const dx = allocUninit(x.size);
        const dgamma = ga && ga.requiresGrad ? allocZeroed(C) : null;
        const dbeta = be && be.requiresGrad ? allocZeroed(C) : null;
        getBackend().batchNormBackward(xs, g!, N, C, S, ga ? ga.data : null, mean, invStd, dx, dgamma, dbeta, null, null, null, blocked);
        const res: (Float32Array | null)[] = [x.requiresGrad ? dx : null];
        if (ga) res.push(dgamma);
        if (be) res.push(dbeta);
        return res;
      },
      { layoutAware: blocked },
    )[0];
  }

  // eval: a per-channel affine map with precomputed scale and shift
  const { scale, shift, inv } = batchNormEvalAffine(ga, be, rm, rv, eps);
  if (blocked && !needsGrad(inputs)) {
    backend.channelAffine(x.storage, N, C, S, scale, shift, y, true);
    return new Tensor(y, x.shape, false, "blocked16");
  }
  const mu = new Float32Array(rm.data); // snapshot: the running stats may change before backward
  backend.channelAffine(x.data, N, C, S, scale, shift, y);
  return record(op, inputs, [x.like(y)], ([g]) => {
    const gd = g!;
    const dx = x.requiresGrad ? allocUninit(x.size) : null;
    const wantG = ga !== null && ga.requiresGrad;
    const wantB = be !== null && be.requiresGrad;
    const dgamma = wantG ? allocZeroed(C) : null;
    const dbeta = wantB ? allocZeroed(C) : null;
    for (let c = 0; c < C; c++) {
      const sc = scale[c]!;
      const m = mu[c]!;
      let sg = 0;
      let sgx = 0;
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * S;
        if (dx) for (let i = 0; i < S; i++) dx[base + i] = gd[base + i]! * sc;
        if (wantG || wantB) {
          for (let i = 0; i < S; i++) {
            const gi = gd[base + i]!;
            sg += gi;
            sgx += gi * (x.data[base + i]! - m);
          }
        }
      }
      if (dgamma) dgamma[c] = sgx * inv[c]!;
      if (dbeta) dbeta[c] = sg;
    }
    const res: (Float32Array | null)[] = [dx];
    if (ga) res.push(dgamma);
    if (be) res.push(dbeta);
    return res;
  })[0];
}
