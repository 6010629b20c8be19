/**
 * The plain TypeScript reference backend: every kernel as straightforward loops. Tests compare the native
 * addon against it, and it runs wherever the addon cannot (browser, no compiler). Loops are ordered for
 * contiguous inner access (ikj GEMM, im2col conv) so it stays usable for small models, but clarity wins
 * over speed here.
 */
import type { Backend, Conv2dParams, NeuronParams, Pool2dParams } from "../backend.js";

// ---- GEMM ------------------------------------------------------------------------------------------------

function transposeInto(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[base + c]!;
  }
  return out;
}

// Blocking K keeps a panel of B rows hot in cache while a row of C is accumulated.
const KB = 128;

function gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
              A: Float32Array, B: Float32Array, beta: number, C: Float32Array): void {
  const mn = M * N;
  if (beta === 0) C.fill(0, 0, mn);
  else if (beta !== 1) for (let i = 0; i < mn; i++) C[i] = C[i]! * beta;
  if (K === 0 || alpha === 0) return;

  if (transB) {
    // op(B)[k,n] = B[n*K + k]: rows of A and B are both contiguous along K, so use dot products.
    const a = transA ? transposeInto(A, K, M) : A;
    for (let i = 0; i < M; i++) {
      const ai = i * K;
      const ci = i * N;
      for (let j = 0; j < N; j++) {
        const bj = j * K;
        let acc = 0;
        for (let k = 0; k < K; k++) acc += a[ai + k]! * B[bj + k]!;
        C[ci + j] = C[ci + j]! + alpha * acc;
      }
    }
    return;
  }
  for (let k0 = 0; k0 < K; k0 += KB) {
    const k1 = Math.min(K, k0 + KB);
    for (let i = 0; i < M; i++) {
      const ci = i * N;
      for (let k = k0; k < k1; k++) {
        const av = alpha * (transA ? A[k * M + i]! : A[i * K + k]!);
        if (av === 0) continue;
        const bk = k * N;
        for (let j = 0; j < N; j++) C[ci + j] = C[ci + j]! + av * B[bk + j]!;
      }
    }
  }
}

// ---- convolution (im2col per image and group) -------------------------------------------------------------

/** col[(ci*kh + r)*kw + s, oy*ow + ox] = x[c0 + ci, oy*sh - ph + r, ox*sw - pw + s] (0 outside). */
function im2col(x: Float32Array, xOff: number, c0: number, cg: number, p: Conv2dParams, col: Float32Array): void {
  const { h, w, kh, kw, strideH, strideW, padH, padW, oh, ow } = p;
  const ohw = oh * ow;
  let row = 0;
  for (let ci = 0; ci < cg; ci++) {
    const plane = xOff + (c0 + ci) * h * w;
    for (let r = 0; r < kh; r++) {
      for (let s = 0; s < kw; s++, row++) {
        const base = row * ohw;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * strideH - padH + r;
          const o = base + oy * ow;
          if (iy < 0 || iy >= h) {
            col.fill(0, o, o + ow);
            continue;
          }
          const xr = plane + iy * w;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * strideW - padW + s;
            col[o + ox] = ix >= 0 && ix < w ? x[xr + ix]! : 0;
          }
        }
      }
    }
  }
}

/** Adjoint of im2col: accumulates col into dx. */
function col2im(col: Float32Array, dx: Float32Array, xOff: number, c0: number, cg: number, p: Conv2dParams): void {
  const { h, w, kh, kw, strideH, strideW, padH, padW, oh, ow } = p;
  const ohw = oh * ow;
  let row = 0;
  for (let ci = 0; ci < cg; ci++) {
    const plane = xOff + (c0 + ci) * h * w;
    for (let r = 0; r < kh; r++) {
      for (let s = 0; s < kw; s++, row++) {
        const base = row * ohw;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * strideH - padH + r;
          if (iy < 0 || iy >= h) continue;
          const xr = plane + iy * w;
          const o = base + oy * ow;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * strideW - padW + s;
            if (ix >= 0 && ix < w) dx[xr + ix] = dx[xr + ix]! + col[o + ox]!;
          }
        }
      }
    }
  }
}

// ---- layouts ------------------------------------------------------------------------------------------------

/** plain [n, c, s] <-> blocked16 [n, c/16, s, 16]; also for max pooling's Int32Array argmax. */
function reorderBlocked16<A extends Float32Array | Int32Array>(src: A, dst: A, n: number, c: number, s: number, toBlocked: boolean): void {
  const cb = c / 16;
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < cb; b++) {
      const plain = (i * c + b * 16) * s;
      const block = (i * cb + b) * s * 16;
      for (let j = 0; j < s; j++) {
        for (let l = 0; l < 16; l++) {
          if (toBlocked) dst[block + j * 16 + l] = src[plain + l * s + j]!;
          else dst[plain + l * s + j] = src[block + j * 16 + l]!;
        }
      }
    }
  }
}

/** Channel of flat element i of a blocked16 [N, C/16, S, 16] array. */
function blockedChannel(i: number, C: number, S: number): number {
  return (Math.floor(i / (16 * S)) % (C / 16)) * 16 + (i % 16);
}

/** The reference kernels work on NCHW: blocked arguments are converted around them. */
function plainIn(a: Float32Array, blocked: boolean | undefined, n: number, c: number, s: number): Float32Array {
  if (!blocked) return a;
  const out = new Float32Array(n * c * s);
  reorderBlocked16(a, out, n, c, s, false);
  return out;
}
function plainOut(a: Float32Array, blocked: boolean | undefined): Float32Array {
  return blocked ? new Float32Array(a.length) : a;
}
function finishOut(tmp: Float32Array, a: Float32Array, blocked: boolean | undefined, n: number, c: number, s: number): void {
  if (blocked) reorderBlocked16(tmp, a, n, c, s, true);
}

function conv2dForward(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, p: Conv2dParams): void {
  const xs = plainIn(x, p.xBlocked, p.n, p.c, p.h * p.w);
  const ys = plainOut(y, p.yBlocked);
  conv2dForwardPlain(xs, w, bias, ys, p);
  finishOut(ys, y, p.yBlocked, p.n, p.k, p.oh * p.ow);
}

function conv2dForwardPlain(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, p: Conv2dParams): void {
  const { n, c, h, k, kh, kw, oh, ow, groups } = p;
  const cg = c / groups;
  const kg = k / groups;
  const ckk = cg * kh * kw;
  const ohw = oh * ow;
  const col = new Float32Array(ckk * ohw);
  for (let b = 0; b < n; b++) {
    const xOff = b * c * h * p.w;
    for (let g = 0; g < groups; g++) {
      im2col(x, xOff, g * cg, cg, p, col);
      const yOff = (b * k + g * kg) * ohw;
      gemm(false, false, kg, ohw, ckk, 1, w.subarray(g * kg * ckk, (g + 1) * kg * ckk), col, 0,
           y.subarray(yOff, yOff + kg * ohw));
    }
    if (bias) {
      for (let o = 0; o < k; o++) {
        const bv = bias[o]!;
        const base = (b * k + o) * ohw;
        for (let i = 0; i < ohw; i++) y[base + i] = y[base + i]! + bv;
      }
    }
  }
}

function conv2dBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, p: Conv2dParams): void {
  const dxs = plainOut(dx, p.xBlocked);
  conv2dBackwardDataPlain(plainIn(dy, p.yBlocked, p.n, p.k, p.oh * p.ow), w, dxs, p);
  finishOut(dxs, dx, p.xBlocked, p.n, p.c, p.h * p.w);
}

function conv2dBackwardDataPlain(dy: Float32Array, w: Float32Array, dx: Float32Array, p: Conv2dParams): void {
  const { n, c, h, k, kh, kw, oh, ow, groups } = p;
  const cg = c / groups;
  const kg = k / groups;
  const ckk = cg * kh * kw;
  const ohw = oh * ow;
  const col = new Float32Array(ckk * ohw);
  dx.fill(0, 0, n * c * h * p.w);
  for (let b = 0; b < n; b++) {
    const xOff = b * c * h * p.w;
    for (let g = 0; g < groups; g++) {
      const dyOff = (b * k + g * kg) * ohw;
      gemm(true, false, ckk, ohw, kg, 1, w.subarray(g * kg * ckk, (g + 1) * kg * ckk),
           dy.subarray(dyOff, dyOff + kg * ohw), 0, col);
      col2im(col, dx, xOff, g * cg, cg, p);
    }
  }
}

function conv2dBackward(x: Float32Array, dy: Float32Array, w: Float32Array, dx: Float32Array | null, dw: Float32Array | null,
                        db: Float32Array | null, p: Conv2dParams): void {
  if (db && !dw) throw new Error("conv2dBackward: db needs dw");
  if (dx) conv2dBackwardData(dy, w, dx, p);
  if (dw) conv2dBackwardWeights(x, dy, dw, db, p);
}

function conv2dBackwardWeights(x: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array | null, p: Conv2dParams): void {
  conv2dBackwardWeightsPlain(plainIn(x, p.xBlocked, p.n, p.c, p.h * p.w), plainIn(dy, p.yBlocked, p.n, p.k, p.oh * p.ow), dw, db, p);
}

function conv2dBackwardWeightsPlain(x: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array | null, p: Conv2dParams): void {
  const { n, c, h, k, kh, kw, oh, ow, groups } = p;
  const cg = c / groups;
  const kg = k / groups;
  const ckk = cg * kh * kw;
  const ohw = oh * ow;
  const col = new Float32Array(ckk * ohw);
  dw.fill(0, 0, k * ckk);
  for (let b = 0; b < n; b++) {
    const xOff = b * c * h * p.w;
    for (let g = 0; g < groups; g++) {
      im2col(x, xOff, g * cg, cg, p, col);
      const dyOff = (b * k + g * kg) * ohw;
      gemm(false, true, kg, ckk, ohw, 1, dy.subarray(dyOff, dyOff + kg * ohw), col, 1,
           dw.subarray(g * kg * ckk, (g + 1) * kg * ckk));
    }
  }
  if (db) {
    for (let o = 0; o < k; o++) {
      let acc = 0;
      for (let b = 0; b < n; b++) {
        const base = (b * k + o) * ohw;
        for (let i = 0; i < ohw; i++) acc += dy[base + i]!;
      }
      db[o] = acc;
    }
  }
}

// ---- pooling ---------------------------------------------------------------------------------------------

function maxPool2dForward(x: Float32Array, y: Float32Array, argmax: Int32Array, p: Pool2dParams): void {
  if (p.blocked) {
    const ys = new Float32Array(y.length), as = new Int32Array(argmax.length);
    maxPool2dForward(plainIn(x, true, p.n, p.c, p.h * p.w), ys, as, { ...p, blocked: false });
    reorderBlocked16(ys, y, p.n, p.c, p.oh * p.ow, true);
    reorderBlocked16(as, argmax, p.n, p.c, p.oh * p.ow, true);
    return;
  }
  const { n, c, h, w, kh, kw, strideH, strideW, padH, padW, oh, ow } = p;
  const planes = n * c;
  for (let pl = 0; pl < planes; pl++) {
    const xOff = pl * h * w;
    const yOff = pl * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * strideH - padH;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * strideW - padW;
        let best = -Infinity;
        let bi = -1;
        for (let r = 0; r < kh; r++) {
          const iy = y0 + r;
          if (iy < 0 || iy >= h) continue;
          for (let s = 0; s < kw; s++) {
            const ix = x0 + s;
            if (ix < 0 || ix >= w) continue;
            const v = x[xOff + iy * w + ix]!;
            // NaN propagates like PyTorch: the first NaN wins and stays.
            if (bi < 0 || v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
              best = v;
              bi = iy * w + ix;
            }
          }
        }
        const o = yOff + oy * ow + ox;
        y[o] = bi < 0 ? -Infinity : best;
        argmax[o] = bi < 0 ? 0 : bi;
      }
    }
  }
}

function maxPool2dBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array, p: Pool2dParams): void {
  if (p.blocked) {
    const as = new Int32Array(argmax.length), dxs = new Float32Array(p.n * p.c * p.h * p.w);
    reorderBlocked16(argmax, as, p.n, p.c, p.oh * p.ow, false);
    maxPool2dBackward(plainIn(dy, true, p.n, p.c, p.oh * p.ow), as, dxs, { ...p, blocked: false });
    reorderBlocked16(dxs, dx, p.n, p.c, p.h * p.w, true);
    return;
  }
  const { n, c, h, w, oh, ow } = p;
  const planes = n * c;
  dx.fill(0, 0, planes * h * w);
  for (let pl = 0; pl < planes; pl++) {
    const xOff = pl * h * w;
    const yOff = pl * oh * ow;
    for (let i = 0; i < oh * ow; i++) {
      const j = xOff + argmax[yOff + i]!;
      dx[j] = dx[j]! + dy[yOff + i]!;
    }
  }
}

/** PyTorch's divisor: the window clipped to the padded input, or to the real input without countIncludePad. */
function poolWindow(p: Pool2dParams, oy: number, ox: number): [number, number, number, number, number] {
  let ys = oy * p.strideH - p.padH;
  let xs = ox * p.strideW - p.padW;
  let ye = Math.min(ys + p.kh, p.h + p.padH);
  let xe = Math.min(xs + p.kw, p.w + p.padW);
  const padded = (ye - ys) * (xe - xs);
  ys = Math.max(ys, 0);
  xs = Math.max(xs, 0);
  ye = Math.min(ye, p.h);
  xe = Math.min(xe, p.w);
  const div = p.countIncludePad ? padded : (ye - ys) * (xe - xs);
  return [ys, ye, xs, xe, div];
}

function avgPool2dForward(x: Float32Array, y: Float32Array, p: Pool2dParams): void {
  if (p.blocked) {
    const ys = plainOut(y, true);
    avgPool2dForward(plainIn(x, true, p.n, p.c, p.h * p.w), ys, { ...p, blocked: false });
    finishOut(ys, y, true, p.n, p.c, p.oh * p.ow);
    return;
  }
  const { n, c, h, w, oh, ow } = p;
  for (let pl = 0; pl < n * c; pl++) {
    const xOff = pl * h * w;
    const yOff = pl * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const [ys, ye, xs, xe, div] = poolWindow(p, oy, ox);
        let acc = 0;
        for (let iy = ys; iy < ye; iy++) for (let ix = xs; ix < xe; ix++) acc += x[xOff + iy * w + ix]!;
        y[yOff + oy * ow + ox] = div > 0 ? acc / div : 0;
      }
    }
  }
}

function avgPool2dBackward(dy: Float32Array, dx: Float32Array, p: Pool2dParams): void {
  if (p.blocked) {
    const dxs = plainOut(dx, true);
    avgPool2dBackward(plainIn(dy, true, p.n, p.c, p.oh * p.ow), dxs, { ...p, blocked: false });
    finishOut(dxs, dx, true, p.n, p.c, p.h * p.w);
    return;
  }
  const { n, c, h, w, oh, ow } = p;
  dx.fill(0, 0, n * c * h * w);
  for (let pl = 0; pl < n * c; pl++) {
    const xOff = pl * h * w;
    const yOff = pl * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const [ys, ye, xs, xe, div] = poolWindow(p, oy, ox);
        if (div <= 0) continue;
        const g = dy[yOff + oy * ow + ox]! / div;
        for (let iy = ys; iy < ye; iy++) for (let ix = xs; ix < xe; ix++) dx[xOff + iy * w + ix] = dx[xOff + iy * w + ix]! + g;
      }
    }
  }
}

// ---- batch norm --------------------------------------------------------------------------------------------

function batchNormTrainForward(x: Float32Array, N: number, C: number, S: number, gamma: Float32Array | null,
                               beta: Float32Array | null, eps: number, y: Float32Array, mean: Float32Array,
                               invStd: Float32Array, blockScale: Float32Array | null = null, blocked = false): void {
  if (blocked) {
    const ys = plainOut(y, true);
    batchNormTrainForward(plainIn(x, true, N, C, S), N, C, S, gamma, beta, eps, ys, mean, invStd, blockScale);
    finishOut(ys, y, true, N, C, S);
    return;
  }
  const cnt = N * S;
  const blockLen = blockScale ? N / blockScale.length : N;
  for (let ch = 0; ch < C; ch++) {
    // Two passes (mean, then centred squares) in float64: no cancellation for large-mean channels.
    let acc = 0;
    for (let b = 0; b < N; b++) {
      const base = (b * C + ch) * S;
      for (let i = 0; i < S; i++) acc += x[base + i]!;
    }
    const mu = cnt > 0 ? acc / cnt : 0;
    let sq = 0;
    for (let b = 0; b < N; b++) {
      const base = (b * C + ch) * S;
      for (let i = 0; i < S; i++) {
        const d = x[base + i]! - mu;
        sq += d * d;
      }
    }
    const is = 1 / Math.sqrt((cnt > 0 ? sq / cnt : 0) + eps);
    mean[ch] = mu;
    invStd[ch] = is;
    const scale = (gamma ? gamma[ch]! : 1) * is;
    const shift = (beta ? beta[ch]! : 0) - mu * scale;
    for (let b = 0; b < N; b++) {
      const base = (b * C + ch) * S;
      const ps = blockScale ? blockScale[Math.floor(b / blockLen)]! : 1;
      for (let i = 0; i < S; i++) y[base + i] = (x[base + i]! * scale + shift) * ps;
    }
  }
}

function batchNormBackward(x: Float32Array, dy: Float32Array, N: number, C: number, S: number, gamma: Float32Array | null,
                           mean: Float32Array, invStd: Float32Array, dx: Float32Array, dgamma: Float32Array | null,
                           dbeta: Float32Array | null, beta: Float32Array | null = null, blockScale: Float32Array | null = null,
                           dBlockScale: Float32Array | null = null, blocked = false): void {
  if (blocked) {
    const dxs = plainOut(dx, true);
    batchNormBackward(plainIn(x, true, N, C, S), plainIn(dy, true, N, C, S), N, C, S, gamma, mean, invStd, dxs, dgamma, dbeta, beta,
                      blockScale, dBlockScale);
    finishOut(dxs, dx, true, N, C, S);
    return;
  }
  const cnt = N * S;
  const T = blockScale ? blockScale.length : 1;
  const blockLen = N / T;
  const dp = new Float64Array(T);
  for (let ch = 0; ch < C; ch++) {
    const mu = mean[ch]!;
    const is = invStd[ch]!;
    const gam = gamma ? gamma[ch]! : 1;
    const bet = beta ? beta[ch]! : 0;
    let sdy = 0;
    let sdyx = 0;
    for (let b = 0; b < N; b++) {
      const base = (b * C + ch) * S;
      const t = Math.floor(b / blockLen);
      const ps = blockScale ? blockScale[t]! : 1;
      for (let i = 0; i < S; i++) {
        const g = dy[base + i]!;
        const xc = x[base + i]! - mu;
        sdy += ps * g;
        sdyx += ps * g * xc;
        // dL/dp_t = sum dy * BN(x) over block t
        if (blockScale) dp[t]! += g * (gam * is * xc + bet);
      }
    }
    const dg = sdyx * is; // sum (p dy) * xhat
    if (dgamma) dgamma[ch] = dg;
    if (dbeta) dbeta[ch] = sdy;
    // dx = gamma*is * (p dy - mean(p dy) - xhat * mean(p dy*xhat))
    const k = gam * is;
    const mdy = cnt > 0 ? sdy / cnt : 0;
    const mdyx = cnt > 0 ? dg / cnt : 0;
    for (let b = 0; b < N; b++) {
      const base = (b * C + ch) * S;
      const ps = blockScale ? blockScale[Math.floor(b / blockLen)]! : 1;
      for (let i = 0; i < S; i++) {
        const xh = (x[base + i]! - mu) * is;
        dx[base + i] = k * (ps * dy[base + i]! - mdy - xh * mdyx);
      }
    }
  }
  if (blockScale && dBlockScale) for (let t = 0; t < T; t++) dBlockScale[t] = dp[t]!;
}

function channelAffine(x: Float32Array, N: number, C: number, S: number, scale: Float32Array, shift: Float32Array,
                       y: Float32Array, blocked = false): void {
  if (blocked) {
    for (let i = 0; i < N * C * S; i++) {
      const ch = blockedChannel(i, C, S);
      y[i] = x[i]! * scale[ch]! + shift[ch]!;
    }
    return;
  }
  for (let b = 0; b < N; b++) {
    for (let ch = 0; ch < C; ch++) {
      const base = (b * C + ch) * S;
      const sc = scale[ch]!;
      const sh = shift[ch]!;
      for (let i = 0; i < S; i++) y[base + i] = x[base + i]! * sc + sh;
    }
  }
}

// ---- neurons -------------------------------------------------------------------------------------------------

/** dS/dH evaluated at u = H - theta. */
export function surrogateGrad(id: number, param: number, u: number): number {
  if (id === 0) {
    const a = param - Math.abs(u);
    return a > 0 ? a / (param * param) : 0;
  }
  if (id === 1) {
    const sg = 1 / (1 + Math.exp(-param * u));
    return param * sg * (1 - sg);
  }
  const z = (Math.PI / 2) * param * u;
  return param / 2 / (1 + z * z);
}

function neuronForward(x: Float32Array, s: Float32Array, u: Float32Array, h: Float32Array, p: NeuronParams): void {
  const { T, M, hardReset } = p;
  // Parameters rounded to float32 so the recurrence is bit-identical to the native float kernel.
  const theta = Math.fround(p.theta);
  const tau = Math.fround(p.tau);
  for (let i = 0; i < M; i++) {
    let v = Math.fround(p.v0);
    for (let t = 0; t < T; t++) {
      const j = t * M + i;
      // Math.fround keeps the recurrence in float32 like the native kernel.
      const hv = Math.fround(v + x[j]!);
      const sp = hv - theta > 0 ? 1 : 0;
      const uv = hardReset ? (sp ? 0 : hv) : Math.fround(hv - theta * sp);
      h[j] = hv;
      s[j] = sp;
      u[j] = uv;
      v = Math.fround(tau * uv);
    }
  }
}

function neuronBackward(gradS: Float32Array | null, gradU: Float32Array | null, h: Float32Array, s: Float32Array,
                        dx: Float32Array, p: NeuronParams): void {
  const { T, M, theta, tau, hardReset, surrogate, surrogateParam } = p;
  for (let i = 0; i < M; i++) {
    let dH = 0; // gradient wrt H_{t+1}, which is the gradient wrt V_t
    for (let t = T - 1; t >= 0; t--) {
      const j = t * M + i;
      const hv = h[j]!;
      const sp = s[j]!;
      const dU = (gradU ? gradU[j]! : 0) + tau * dH;
      // U = H(1-S) (hard) or H - theta*S (soft); S depends on H through the surrogate (reset not detached).
      const dS = (gradS ? gradS[j]! : 0) + dU * (hardReset ? -hv : -theta);
      dH = dS * surrogateGrad(surrogate, surrogateParam, hv - theta) + dU * (hardReset ? 1 - sp : 1);
      dx[j] = dH;
    }
  }
}

// ---- element-wise and optimisers -----------------------------------------------------------------------------

function sgdStep(p: Float32Array, g: Float32Array, buf: Float32Array, lr: number, momentum: number, wd: number,
                 nesterov: boolean, firstStep: boolean): void {
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]! + wd * p[i]!;
    const b = firstStep ? gi : momentum * buf[i]! + gi;
    buf[i] = b;
    p[i] = p[i]! - lr * (nesterov ? gi + momentum * b : b);
  }
}

function adamStep(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, beta1: number,
                  beta2: number, eps: number, wd: number, step: number, decoupled: boolean): void {
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  const stepSize = lr / bc1;
  const sqrtBc2 = Math.sqrt(bc2);
  const decay = decoupled ? 1 - lr * wd : 1;
  for (let i = 0; i < p.length; i++) {
    let pi = p[i]!;
    let gi = g[i]!;
    if (!decoupled) gi += wd * pi;
    else pi *= decay;
    const mi = beta1 * m[i]! + (1 - beta1) * gi;
    const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
  }
}

export const jsBackend: Backend = {
  name: "js",
  description: "js (TypeScript reference kernels)",
  gemm,
  reorderBlocked16,
  conv2dLayouts: () => 0,
  conv2dForward,
  conv2dBackwardData,
  conv2dBackwardWeights,
  conv2dBackward,
  maxPool2dForward,
  maxPool2dBackward,
  avgPool2dForward,
  avgPool2dBackward,
  batchNormTrainForward,
  batchNormBackward,
  channelAffine,
  neuronForward,
  neuronBackward,
  add(a, b, out) {
    for (let i = 0; i < out.length; i++) out[i] = a[i]! + b[i]!;
  },
  mul(a, b, out) {
    for (let i = 0; i < out.length; i++) out[i] = a[i]! * b[i]!;
  },
  axpby(a, alpha, b, beta, out) {
    for (let i = 0; i < out.length; i++) out[i] = a[i]! * alpha + b[i]! * beta;
  },
  relu(a, out) {
    for (let i = 0; i < out.length; i++) {
      const v = a[i]!;
      out[i] = v > 0 ? v : 0;
    }
  },
  reluBackward(a, g, out) {
    for (let i = 0; i < out.length; i++) out[i] = a[i]! > 0 ? g[i]! : 0;
  },
  neuronStep(x, v, s, u, out, theta, tau, hardReset, outputScale, inputScale, inputShift, C = 1, S = 1, blocked = false, rowScale = null, fresh = null, v0 = 0) {
    if (fresh) {
      if (fresh.length === 0 || x.length % fresh.length !== 0) throw new Error(`neuronStep: fresh must hold one flag per row of x, got ${fresh.length} for ${x.length} elements`);
      const rowLen = x.length / fresh.length;
      for (let r = 0; r < fresh.length; r++) if (fresh[r]) v.fill(Math.fround(v0), r * rowLen, (r + 1) * rowLen);
    }
    const th = Math.fround(theta);
    const ta = Math.fround(tau);
    const sc = Math.fround(outputScale);
    if (inputScale && (!inputShift || inputScale.length !== C || inputShift.length !== C || x.length % (C * S) !== 0)) {
      throw new Error(`neuronStep: input affine needs scale and shift of C=${C} and x of whole [C=${C}, S=${S}] rows, got ${x.length} elements`);
    }
    if (rowScale && (!inputScale || rowScale.length !== x.length / (C * S))) {
      throw new Error(`neuronStep: rowScale needs the input affine and one value per row of ${C * S} elements, got ${rowScale.length} for ${x.length} elements`);
    }
    for (let i = 0; i < x.length; i++) {
      // the folded batch norm rounds where channelAffine does, so fused and unfused steps agree bit for bit
      const ch = inputScale ? (blocked ? blockedChannel(i, C, S) : Math.floor(i / S) % C) : 0;
      let xi = inputScale ? Math.fround(x[i]! * inputScale[ch]! + inputShift![ch]!) : x[i]!;
      // a folded TEBN: the row's p_t, rounded as scaleRows rounds it
      if (rowScale) xi = Math.fround(xi * rowScale[Math.floor(i / (C * S))]!);
      // float32 rounding at the same points as the fused multi-step kernels, so both modes agree bit for bit
      const hv = Math.fround(v[i]! + xi);
      const sp = hv - th > 0 ? 1 : 0;
      const uv = hardReset ? (sp ? 0 : hv) : Math.fround(hv - th * sp);
      s[i] = sp;
      if (u) u[i] = uv;
      v[i] = ta * uv;
      out[i] = sp * sc;
    }
  },
  dropoutMask(mask, p, seed, C, S, offset = 0) {
    const threshold = Math.floor(p * 4294967296);
    const keep = Math.fround(1 / (1 - p));
    const sd = seed >>> 0;
    // blocked16 storage [N, C/16, S, 16]: storage index j holds plain index ((n·C + cb·16 + c)·S + s)
    const plainIndex = C && S
      ? (j: number): number => {
        const c = j % 16, s = Math.floor(j / 16) % S, r = Math.floor(j / (16 * S));
        const cb = r % (C / 16), n = Math.floor(r / (C / 16));
        return (n * C + cb * 16 + c) * S + s;
      }
      : (j: number): number => j;
    for (let j = 0; j < mask.length; j++) {
      const i = offset + plainIndex(j);
      let h = (sd ^ Math.imul(i, 0x9e3779b9)) >>> 0;
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b) >>> 0;
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35) >>> 0;
      h ^= h >>> 16;
      mask[j] = h >>> 0 >= threshold ? keep : 0;
    }
  },
  thresholdActForward(x, y, lambda, L) {
    const fr = Math.fround;
    const lam = fr(lambda);
    for (let i = 0; i < x.length; i++) {
      const xv = x[i]!;
      if (!(xv > 0)) {
        y[i] = 0;
        continue;
      }
      const z = fr(xv / lam);
      const q = L > 0 ? Math.floor(fr(fr(z * L) + 0.5)) / L : z;
      y[i] = q > 1 ? lam : lam * q;
    }
  },
  thresholdActBackward(x, g, dx, lambda, L) {
    const fr = Math.fround;
    const lam = fr(lambda);
    let dl = 0;
    if (dx) dx.fill(0);
    for (let i = 0; i < x.length; i++) {
      const xv = x[i]!;
      if (!(xv > 0)) continue;
      const z = fr(xv / lam);
      const q = L > 0 ? Math.floor(fr(fr(z * L) + 0.5)) / L : z;
      const gi = g[i]!;
      if (q <= 1) {
        if (dx) dx[i] = gi;
        dl += gi * (q - xv / lam);
      } else dl += gi;
    }
    return dl;
  },
  sum(a) {
    let acc = 0;
    for (let i = 0; i < a.length; i++) acc += a[i]!;
    return acc;
  },
  dot(a, b) {
    let acc = 0;
    for (let i = 0; i < a.length; i++) acc += a[i]! * b[i]!;
    return acc;
  },
  rowSums(x, rows, w, sums, dots) {
    const D = x.length / rows;
    for (let r = 0; r < rows; r++) {
      let s = 0;
      let d = 0;
      for (let i = 0, j = r * D; i < D; i++, j++) {
        s += x[j]!;
        if (w) d += x[j]! * w[i]!;
      }
      sums[r] = s;
      if (dots) dots[r] = d;
    }
  },
  scaleRows(x, rows, scales, out) {
    const D = x.length / rows;
    for (let r = 0; r < rows; r++) {
      const a = scales[r]!;
      for (let j = r * D, e = j + D; j < e; j++) out[j] = x[j]! * a;
    }
  },
  rcsAnnForward(x, N, F, sumSq, rowMax, rowArg) {
    for (let n = 0; n < N; n++) {
      let ss = 0;
      let m = 0;
      let arg = -1;
      for (let i = n * F, e = i + F; i < e; i++) {
        const v = x[i]! > 0 ? x[i]! : 0;
        ss += v * v;
        if (v > m) {
          m = v;
          arg = i;
        }
      }
      sumSq[n] = ss;
      rowMax[n] = m;
      rowArg[n] = arg;
    }
  },
  rcsSnnForward(s, u, T, B, D, K, invTheta, rbar, dot, normR, normRbar) {
    const th = Math.fround(invTheta);
    const R = (j: number): number => Math.fround(s[j]! + Math.max(0, Math.fround(u[j]! * th)));
    for (let b = 0; b < B; b++) {
      const o = b * D;
      rbar.fill(0, o, o + D);
      for (let t = T - K; t < T; t++) {
        const row = (t * B + b) * D;
        for (let i = 0; i < D; i++) rbar[o + i] = rbar[o + i]! + R(row + i);
      }
      let ss = 0;
      for (let i = 0; i < D; i++) {
        const v = (rbar[o + i] = rbar[o + i]! / K);
        ss += v * v;
      }
      normRbar[b] = Math.sqrt(ss + 1e-5);
      for (let t = 0; t < T; t++) {
        const row = (t * B + b) * D;
        let d = 0;
        let q = 0;
        for (let i = 0; i < D; i++) {
          const r = R(row + i);
          d += r * rbar[o + i]!;
          q += r * r;
        }
        dot[t * B + b] = d;
        normR[t * B + b] = Math.sqrt(q + 1e-5);
      }
    }
  },
  rcsSnnBackward(s, u, rbar, T, B, D, invTheta, a, c, ds, du) {
    const th = Math.fround(invTheta);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const row = (t * B + b) * D;
        const at = a[t * B + b]!;
        const ct = c[t * B + b]!;
        for (let i = 0; i < D; i++) {
          const z = Math.fround(u[row + i]! * th);
          const r = Math.fround(s[row + i]! + Math.max(0, z));
          const g = Math.fround(Math.fround(at * rbar[b * D + i]!) - Math.fround(ct * r));
          if (ds) ds[row + i] = g;
          if (du) du[row + i] = z > 0 ? g * th : 0;
        }
      }
    }
  },
  sgdStep,
  adamStep,
};
