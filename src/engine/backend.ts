/**
 * The kernel interface every backend implements. Kernels work on raw Float32Array storage (NCHW, row-major,
 * contiguous) and write into caller-allocated outputs, so the native addon reads and writes tensors in place.
 * Shapes are validated by the ops in TypeScript before any kernel is called: kernels may assume valid input.
 *
 * Two implementations: `js` (plain TypeScript, the reference every test compares against, also runs in a
 * browser) and `native` (C++ addon: oneDNN for conv / matmul / pooling, own fused SIMD loops for the rest).
 */

export interface Conv2dParams {
  n: number; // batch
  c: number; // input channels
  h: number;
  w: number;
  k: number; // output channels
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  groups: number;
  oh: number;
  ow: number;
  /** x (and dx) are stored blocked16 ([N, C/16, H, W, 16]) instead of NCHW; needs C % 16 == 0. */
  xBlocked?: boolean;
  /** y (and dy) are stored blocked16; needs K % 16 == 0. */
  yBlocked?: boolean;
}

export interface Pool2dParams {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  oh: number;
  ow: number;
  /** avg pooling only: whether padded cells count in the divisor (PyTorch count_include_pad). */
  countIncludePad: boolean;
  /**
   * x and y (dx and dy) stored blocked16 ([N, C/16, H, W, 16]); needs C % 16 == 0. Max pooling's argmax is then
   * in y's storage order too, and still holds the index within the (n, c) plane (y·W + x), as in plain layout.
   */
  blocked?: boolean;
}

/** Surrogate gradient of the Heaviside spike: 0 triangle (ZIF), 1 sigmoid, 2 arctan. */
export type SurrogateId = 0 | 1 | 2;

export interface NeuronParams {
  /** Number of timesteps. The input is [T, M] flattened: element (t, i) at t*M + i. */
  T: number;
  M: number;
  theta: number;
  /** Multiplicative decay applied after the reset (LIF tau = 0.5; IF = 1). */
  tau: number;
  /** true: hard reset to 0; false: soft reset by subtraction of theta. */
  hardReset: boolean;
  /** Membrane at t = 0 before the first input (LIF 0; converted IF theta/2). */
  v0: number;
  surrogate: SurrogateId;
  /** Surrogate width/sharpness: triangle gamma, sigmoid alpha, arctan alpha. */
  surrogateParam: number;
}

export interface Backend {
  readonly name: "native" | "js";
  /** Human-readable description of the compute path, e.g. "native (oneDNN 2.6, avx512_core, 2 threads)". */
  readonly description: string;

  // ---- dense linear algebra ----
  /** C[M,N] = alpha * op(A) op(B) + beta * C, row-major; op(A) is [M,K], op(B) is [K,N]. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
       A: Float32Array, B: Float32Array, beta: number, C: Float32Array): void;

  // ---- layouts ----
  /** plain [n, c, s] <-> blocked16 [n, c/16, s, 16] (toBlocked picks the direction); c % 16 == 0; dst overwritten. */
  reorderBlocked16(src: Float32Array, dst: Float32Array, n: number, c: number, s: number, toBlocked: boolean): void;
  /**
   * Which conv activations this backend reads and writes blocked16 without a reorder: bit 0 x / dx, bit 1 y / dy.
   * Every kernel accepts the xBlocked / yBlocked flags either way (a backend that does not take a layout natively
   * converts around its plain kernel); this says where a blocked layout saves work.
   */
  conv2dLayouts(p: Conv2dParams, bias: boolean): number;

  // ---- convolution (cross-correlation like PyTorch), weight [k, c/groups, kh, kw] ----
  conv2dForward(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, p: Conv2dParams): void;
  /** dx = conv_transpose(dy, w); dx is overwritten. */
  conv2dBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, p: Conv2dParams): void;
  /** dw (and db when given) are overwritten. */
  conv2dBackwardWeights(x: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array | null, p: Conv2dParams): void;
  /** Both backward passes in one call (the native one shares the blocked dy): dx, dw, db overwritten when given; db needs dw. */
  conv2dBackward(x: Float32Array, dy: Float32Array, w: Float32Array, dx: Float32Array | null, dw: Float32Array | null,
                 db: Float32Array | null, p: Conv2dParams): void;

  // ---- pooling ----
  /** argmax receives, per output cell, the flat input index (within the n,c plane) of the max. */
  maxPool2dForward(x: Float32Array, y: Float32Array, argmax: Int32Array, p: Pool2dParams): void;
  maxPool2dBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array, p: Pool2dParams): void;
  avgPool2dForward(x: Float32Array, y: Float32Array, p: Pool2dParams): void;
  avgPool2dBackward(dy: Float32Array, dx: Float32Array, p: Pool2dParams): void;

  // ---- batch norm over x[N, C, S] (S = spatial size; statistics per channel over N and S) ----
  // `blocked`: x, y, dy, dx stored blocked16 [N, C/16, S, 16] (C % 16 == 0); statistics and parameters per channel as ever.
  /** Training forward: writes y, the batch mean and inverse std (biased variance), per channel. */
  /** With blockScale (TEBN's p_t, length T dividing N): y of sample b is also multiplied by blockScale[b / (N/T)]. */
  batchNormTrainForward(x: Float32Array, N: number, C: number, S: number, gamma: Float32Array | null, beta: Float32Array | null,
                        eps: number, y: Float32Array, mean: Float32Array, invStd: Float32Array, blockScale?: Float32Array | null,
                        blocked?: boolean): void;
  /**
   * dx overwritten; dgamma/dbeta overwritten when given. With blockScale, dy is the gradient of the scaled output
   * and dBlockScale (when given) receives dL/dp_t (beta is then needed to rebuild BN(x)).
   */
  batchNormBackward(x: Float32Array, dy: Float32Array, N: number, C: number, S: number, gamma: Float32Array | null,
                    mean: Float32Array, invStd: Float32Array, dx: Float32Array, dgamma: Float32Array | null, dbeta: Float32Array | null,
                    beta?: Float32Array | null, blockScale?: Float32Array | null, dBlockScale?: Float32Array | null,
                    blocked?: boolean): void;
  /** y = (x - mean) * scale + shift per channel, with scale/shift precomputed by the caller (eval mode). */
  channelAffine(x: Float32Array, N: number, C: number, S: number, scale: Float32Array, shift: Float32Array, y: Float32Array,
                blocked?: boolean): void;

  // ---- fused multi-step neurons (forward over all T, BPTT backward in one call) ----
  /**
   * For t = 0..T-1: H = V + X_t; S = [H - theta > 0]; U = hard ? H*(1-S) : H - theta*S; V = tau*U.
   * V starts at v0. Writes spikes S [T,M] (0/1), post-reset membrane U [T,M], and H [T,M] (saved for backward).
   */
  neuronForward(x: Float32Array, s: Float32Array, u: Float32Array, h: Float32Array, p: NeuronParams): void;
  /**
   * BPTT through the recurrence above with the surrogate dS/dH = sg(H - theta), the reset not detached.
   * gradS and gradU (either may be null) are gradients wrt S and U; writes dx [T,M].
   */
  neuronBackward(gradS: Float32Array | null, gradU: Float32Array | null, h: Float32Array, s: Float32Array,
                 dx: Float32Array, p: NeuronParams): void;

  /**
   * One step of the same dynamics for single-step (anytime) inference, no tape: v [M] holds the membrane carried
   * in (the caller fills it with v0 before the first step) and is updated in place to τ·U; writes s (0/1 spikes),
   * u (post-reset membrane) and out = outputScale·s. `fresh` (one flag per row of x) marks rows whose state starts
   * over at v0 with this step (samples that took finished samples' places): set to v0 first, then stepped.
   */
  neuronStep(x: Float32Array, v: Float32Array, s: Float32Array, u: Float32Array | null, out: Float32Array, theta: number, tau: number,
             hardReset: boolean, outputScale: number, inputScale?: Float32Array | null, inputShift?: Float32Array | null,
             C?: number, S?: number, blocked?: boolean, rowScale?: Float32Array | null, fresh?: Uint8Array | null,
             v0?: number): void;

  // ---- RCS statistics (spec §4), fused ----
  /**
   * RCS-ANN forward over x [N, F] (F features per sample, in storage order): per sample, sumSq[n] = Σ_f max(x, 0)²
   * (float64 sum) and rowMax[n] / rowArg[n] = the largest positive value and the flat index of its first
   * occurrence (0 / −1 when no x > 0).
   */
  rcsAnnForward(x: Float32Array, N: number, F: number, sumSq: Float64Array, rowMax: Float32Array, rowArg: Int32Array): void;
  // ---- RCS-SNN statistic (spec §4.2), fused: rows of D features, row (t, b) at (t·B + b)·D of s and u ----
  // Either layout: one sample's features are contiguous in plain and blocked16 storage, and s, u, rbar and the
  // gradients share it. R = s + max(0, fl32(u·invTheta)).
  /**
   * rbar[b·D + i] = fl32(fl32(Σ_{t = T−K..T−1} R[t,b,i]) / K) (summed in float32 in t order); per row
   * dot[t·B + b] = Σ_i R·rbar, normR[t·B + b] = sqrt(Σ_i R² + 1e-5); normRbar[b] = sqrt(Σ_i rbar² + 1e-5)
   * (float64 sums).
   */
  rcsSnnForward(s: Float32Array, u: Float32Array, T: number, B: number, D: number, K: number, invTheta: number,
                rbar: Float32Array, dot: Float32Array, normR: Float32Array, normRbar: Float32Array): void;
  /**
   * With dR[t,b,i] = a[t·B + b]·rbar[b·D + i] − c[t·B + b]·R[t,b,i] (R̄ is detached): ds = dR and
   * du = fl32(u·invTheta) > 0 ? dR·invTheta : 0, each written when given.
   */
  rcsSnnBackward(s: Float32Array, u: Float32Array, rbar: Float32Array, T: number, B: number, D: number, invTheta: number,
                 a: Float32Array, c: Float32Array, ds: Float32Array | null, du: Float32Array | null): void;

  // ---- fused element-wise (memory-bound hot paths; everything else lives in TypeScript loops) ----
  /** out[i] = a[i] + b[i] (same length). */
  add(a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** out[i] = a[i] * b[i]. */
  mul(a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** out[i] = a[i] * alpha + b[i] * beta. */
  axpby(a: Float32Array, alpha: number, b: Float32Array, beta: number, out: Float32Array): void;
  /** out[i] = max(a[i], 0). */
  relu(a: Float32Array, out: Float32Array): void;
  /** out[i] = a[i] > 0 ? g[i] : 0. */
  reluBackward(a: Float32Array, g: Float32Array, out: Float32Array): void;
  /**
   * Threshold-constrained activation of the conversion route, fused (spec §5.1). With levels L > 0 (QCFS):
   * q = floor(fl32(fl32(fl32(x/λ)·L) + 0.5))/L, y = λ·clamp(q, 0, 1) for x > 0, else 0. With L = 0 (clipped ReLU):
   * q = fl32(x/λ).
   */
  thresholdActForward(x: Float32Array, y: Float32Array, lambda: number, L: number): void;
  /**
   * Its straight-through backward: dx[i] = g[i]·1[x>0]·1[q≤1] (dx may be null); returns
   * ∂λ = Σ g·(q − x/λ) over 0 < x with q ≤ 1, plus Σ g over q > 1 (float64 accumulation).
   */
  thresholdActBackward(x: Float32Array, g: Float32Array, dx: Float32Array | null, lambda: number, L: number): number;
  /**
   * Inverted-dropout mask from a counter-based hash, so native and TypeScript draw identical masks and any
   * element's draw is independent of the thread that computes it: h = mix32(seed ^ (i·0x9E3779B9) mod 2^32)
   * (murmur3 finaliser), mask[i] = h >= floor(p·2^32) ? 1/(1−p) : 0. p in [0, 1). With C and S the mask is stored
   * blocked16 ([N, C/16, S, 16], C % 16 == 0) and each element draws the bits of its plain NCHW index i, so a
   * blocked tensor drops exactly the elements its plain twin drops. `offset` (default 0) is added to every index:
   * step t of a single-step run with offset t·n draws the mask rows of a time-folded [T·B, ...] run.
   */
  dropoutMask(mask: Float32Array, p: number, seed: number, C?: number, S?: number, offset?: number): void;
  /** Sum of all elements (float64 accumulation). */
  sum(a: Float32Array): number;
  /** Σ a[i]·b[i] over equal-length arrays (float64 accumulation across blocks). */
  dot(a: Float32Array, b: Float32Array): number;
  /**
   * Per row of x ([rows, D], D = x.length / rows): sums[r] = Σ_i x[r, i] and, with w ([D]), dots[r] = Σ_i x[r, i]·w[i]
   * (float64, each row summed in index order by one thread, so the result does not depend on the thread count).
   */
  rowSums(x: Float32Array, rows: number, w: Float32Array | null, sums: Float64Array, dots: Float64Array | null): void;
  /** out[r, i] = x[r, i]·scales[r] for each of the `rows` rows of x ([rows, D], D = x.length / rows); out may be x. */
  scaleRows(x: Float32Array, rows: number, scales: Float32Array, out: Float32Array): void;
  /**
   * SGD with momentum and decoupled-or-L2 weight decay, in place:
   * g' = g + wd*p; buf = momentum*buf + g' (buf = g' on the first step, signalled by firstStep); p -= lr*(nesterov ? g' + momentum*buf : buf)
   */
  sgdStep(p: Float32Array, g: Float32Array, buf: Float32Array, lr: number, momentum: number, wd: number,
          nesterov: boolean, firstStep: boolean): void;
  /** AdamW in place (decoupled weight decay when decoupled, L2 added to g otherwise). step is 1-based. */
  adamStep(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, beta1: number, beta2: number,
           eps: number, wd: number, step: number, decoupled: boolean): void;
}
