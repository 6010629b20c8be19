/**
 * Independent float64 reference implementations (direct loops, no im2col, no GEMM) used to check the
 * forward values of the engine's ops.
 */

export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[i * K + k]! * b[k * N + j]!;
      c[i * N + j] = s;
    }
  }
  return c;
}

export interface ConvRefArgs {
  n: number; c: number; h: number; w: number; k: number; kh: number; kw: number;
  sh: number; sw: number; ph: number; pw: number; groups: number;
}

export function conv2dRef(x: ArrayLike<number>, wt: ArrayLike<number>, bias: ArrayLike<number> | null, p: ConvRefArgs): { y: Float64Array; oh: number; ow: number } {
  const oh = Math.floor((p.h + 2 * p.ph - p.kh) / p.sh) + 1;
  const ow = Math.floor((p.w + 2 * p.pw - p.kw) / p.sw) + 1;
  const cg = p.c / p.groups;
  const kg = p.k / p.groups;
  const y = new Float64Array(p.n * p.k * oh * ow);
  for (let b = 0; b < p.n; b++) {
    for (let o = 0; o < p.k; o++) {
      const g = Math.floor(o / kg);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let s = bias ? bias[o]! : 0;
          for (let ci = 0; ci < cg; ci++) {
            const cin = g * cg + ci;
            for (let r = 0; r < p.kh; r++) {
              const iy = oy * p.sh - p.ph + r;
              if (iy < 0 || iy >= p.h) continue;
              for (let q = 0; q < p.kw; q++) {
                const ix = ox * p.sw - p.pw + q;
                if (ix < 0 || ix >= p.w) continue;
                s += x[((b * p.c + cin) * p.h + iy) * p.w + ix]! * wt[((o * cg + ci) * p.kh + r) * p.kw + q]!;
              }
            }
          }
          y[((b * p.k + o) * oh + oy) * ow + ox] = s;
        }
      }
    }
  }
  return { y, oh, ow };
}

/** Pooling reference over [planes, h, w]; avg counts padded cells (count_include_pad). */
export function pool2dRef(x: ArrayLike<number>, planes: number, h: number, w: number, k: number, s: number, pad: number,
                          mode: "max" | "avg"): Float64Array {
  const oh = Math.floor((h + 2 * pad - k) / s) + 1;
  const ow = Math.floor((w + 2 * pad - k) / s) + 1;
  const y = new Float64Array(planes * oh * ow);
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity;
        let sum = 0;
        const ye = Math.min(oy * s - pad + k, h + pad);
        const xe = Math.min(ox * s - pad + k, w + pad);
        const count = (ye - (oy * s - pad)) * (xe - (ox * s - pad));
        for (let r = 0; r < k; r++) {
          for (let q = 0; q < k; q++) {
            const iy = oy * s - pad + r;
            const ix = ox * s - pad + q;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const v = x[(p * h + iy) * w + ix]!;
            best = Math.max(best, v);
            sum += v;
          }
        }
        y[(p * oh + oy) * ow + ox] = mode === "max" ? best : sum / count;
      }
    }
  }
  return y;
}

/** Direct float64 gradients of conv2dRef for an output gradient gy: the adjoint loops of the forward. */
export function conv2dBackwardRef(x: ArrayLike<number>, wt: ArrayLike<number>, gy: ArrayLike<number>, p: ConvRefArgs): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const oh = Math.floor((p.h + 2 * p.ph - p.kh) / p.sh) + 1;
  const ow = Math.floor((p.w + 2 * p.pw - p.kw) / p.sw) + 1;
  const cg = p.c / p.groups;
  const kg = p.k / p.groups;
  const dx = new Float64Array(p.n * p.c * p.h * p.w);
  const dw = new Float64Array(p.k * cg * p.kh * p.kw);
  const db = new Float64Array(p.k);
  for (let b = 0; b < p.n; b++) {
    for (let o = 0; o < p.k; o++) {
      const g = Math.floor(o / kg);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const go = gy[((b * p.k + o) * oh + oy) * ow + ox]!;
          db[o] += go;
          for (let ci = 0; ci < cg; ci++) {
            const cin = g * cg + ci;
            for (let r = 0; r < p.kh; r++) {
              const iy = oy * p.sh - p.ph + r;
              if (iy < 0 || iy >= p.h) continue;
              for (let q = 0; q < p.kw; q++) {
                const ix = ox * p.sw - p.pw + q;
                if (ix < 0 || ix >= p.w) continue;
                const xi = ((b * p.c + cin) * p.h + iy) * p.w + ix;
                const wi = ((o * cg + ci) * p.kh + r) * p.kw + q;
                dx[xi] += go * wt[wi]!;
                dw[wi] += go * x[xi]!;
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}
