// Own fused loops for the memory-bound kernels: pooling, batch norm, neuron dynamics, element-wise, optimisers.
// Each kernel is split into a range function compiled for AVX-512 / AVX2 / baseline (target_clones picks one at
// load time via ifunc) and an OpenMP loop over ranges in the single libgomp pool that oneDNN also uses.
#include <immintrin.h>
#include <omp.h>
#include <algorithm>
#include <cmath>
#include <vector>
#include "common.h"

#define SC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
// For loops that call std::fma: the "avx2" target does not include FMA (a libm call per element there).
#define SC_FMA_CLONES __attribute__((target_clones("avx512f", "fma", "default")))

namespace spikecut {
namespace {

// Below this many elements the fork/join costs more than the work.
constexpr int64_t kSerialBelow = 1 << 15;
constexpr int64_t kGrain = 1 << 14;

template <class F>
void parallelRanges(int64_t n, F f) {
  if (n <= kSerialBelow || omp_get_max_threads() == 1) {
    f(0, n);
    return;
  }
  const int64_t chunks = (n + kGrain - 1) / kGrain;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; c++) f(c * kGrain, std::min(n, (c + 1) * kGrain));
}

SC_CLONES void addR(const float* a, const float* b, float* o, int64_t s, int64_t e) {
#pragma omp simd
  for (int64_t i = s; i < e; i++) o[i] = a[i] + b[i];
}
SC_CLONES void mulR(const float* a, const float* b, float* o, int64_t s, int64_t e) {
#pragma omp simd
  for (int64_t i = s; i < e; i++) o[i] = a[i] * b[i];
}
SC_CLONES void axpbyR(const float* a, float al, const float* b, float be, float* o, int64_t s, int64_t e) {
#pragma omp simd
  for (int64_t i = s; i < e; i++) o[i] = a[i] * al + b[i] * be;
}
SC_CLONES void reluR(const float* a, float* o, int64_t s, int64_t e) {
#pragma omp simd
  for (int64_t i = s; i < e; i++) o[i] = a[i] > 0.f ? a[i] : 0.f;
}
SC_CLONES void reluBwdR(const float* a, const float* g, float* o, int64_t s, int64_t e) {
#pragma omp simd
  for (int64_t i = s; i < e; i++) o[i] = a[i] > 0.f ? g[i] : 0.f;
}
// floor(fl32(z·L) + 0.5)/L for z >= 0 by truncation (vectorises, unlike floorf in the baseline clone); the
// clamp keeps the int conversion in range, anything above 2L+1 is far out of [0, 1] anyway. z < 0 (x <= 0) is
// masked by the callers.
// -ffp-contract=fast may fuse z·L + 0.5 into one rounding; the two differ only when z·L lands within half an
// ulp of a level boundary (never for L a power of two, where z·L is exact).
static inline float quantise(float z, float fL) {
  float t = z * fL + 0.5f;
  t = t < 2.f * fL + 1.f ? t : 2.f * fL + 1.f;
  t = t > 0.f ? t : 0.f;
  return float(int(t)) / fL;
}
// QCFS (L > 0) / clipped ReLU (L == 0): float32 steps as in the reference; x/λ is a true division (not x·(1/λ))
// so that the quantisation boundaries match the TypeScript backend bit for bit.
// Templated on the loop-invariant choices (QCFS vs clip, dx wanted) so each inner loop is branch-free and vectorises.
template <bool Q>
SC_CLONES void thrFwdR(const float* x, float* y, float lam, float fL, int64_t s, int64_t e) {
#pragma omp simd
  for (int64_t i = s; i < e; i++) {
    const float xv = x[i];
    const float z = xv / lam;
    const float q = Q ? quantise(z, fL) : z;
    const float r = q > 1.f ? lam : lam * q;
    y[i] = xv > 0.f ? r : 0.f;
  }
}
template <bool Q, bool DX>
SC_CLONES double thrBwdR(const float* x, const float* g, float* dx, float lam, float fL, int64_t s, int64_t e) {
  double total = 0;
  // float lanes within a block, double across blocks (like sum)
  for (int64_t b = s; b < e; b += 4096) {
    const int64_t be = std::min(e, b + 4096);
    float acc = 0.f;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = b; i < be; i++) {
      const float xv = x[i];
      const float z = xv / lam;
      const float q = Q ? quantise(z, fL) : z;
      const float gi = g[i];
      const bool pos = xv > 0.f;
      const bool in = q <= 1.f;
      if (DX) dx[i] = (pos && in) ? gi : 0.f;
      acc += pos ? (in ? gi * (q - z) : gi) : 0.f;
    }
    total += acc;
  }
  return total;
}
double thrBwd(const float* x, const float* g, float* dx, float lam, int L, int64_t s, int64_t e) {
  const float fL = float(L);
  if (L > 0) return dx ? thrBwdR<true, true>(x, g, dx, lam, fL, s, e) : thrBwdR<true, false>(x, g, dx, lam, fL, s, e);
  return dx ? thrBwdR<false, true>(x, g, dx, lam, fL, s, e) : thrBwdR<false, false>(x, g, dx, lam, fL, s, e);
}
// The update of element i from its (possibly affine-mapped) input xi, shared by both segment loops.
template <bool KEEP_U>
inline __attribute__((always_inline)) void neuronStepAt(int64_t i, float xi, float* v, float* s, float* u, float* o,
                                                         float th, float tau, bool hard, float sc) {
  const float h = v[i] + xi;
  const float sp = h - th > 0.f ? 1.f : 0.f;
  const float uv = hard ? (sp > 0.f ? 0.f : h) : h - th * sp;
  s[i] = sp;
  if (KEEP_U) u[i] = uv;
  v[i] = tau * uv;
  o[i] = sp * sc;
}
// One single-step neuron update, optionally with the input batch norm (eval) folded in, x -> x*a + b per channel,
// and optionally without the membrane output: the converted network's inference runs conv -> BN -> IF, and this
// reads the conv output once instead of BN writing it and the neuron reading it again. x*a + b is the same FMA as
// affinePlane (same rounding).
template <bool AFFINE, bool KEEP_U>
inline __attribute__((always_inline)) void neuronStepSeg(const float* x, float* v, float* s, float* u, float* o, float th,
                                                          float tau, bool hard, float sc, float a, float b, int64_t i0,
                                                          int64_t i1) {
#pragma omp simd
  for (int64_t i = i0; i < i1; i++) neuronStepAt<KEEP_U>(i, AFFINE ? std::fma(x[i], a, b) : x[i], v, s, u, o, th, tau, hard, sc);
}
// The same step with the folded batch norm on blocked16 activations: the channel of element i is
// (i / (16·S)) % (C/16) · 16 + i % 16, so the per-lane scale and shift are one vector each over a [S, 16] block.
template <bool KEEP_U>
inline __attribute__((always_inline)) void neuronStepSeg16(const float* x, float* v, float* s, float* u, float* o,
                                                            float th, float tau, bool hard, float sc, const float* a,
                                                            const float* bb, int64_t i0, int64_t i1) {
  for (int64_t j = i0; j < i1; j += 16)
#pragma omp simd
    for (int l = 0; l < 16; l++) neuronStepAt<KEEP_U>(j + l, std::fma(x[j + l], a[l], bb[l]), v, s, u, o, th, tau, hard, sc);
}
// With a row scale too (TEBN's p_t of the row's step): the input is fl(fl(x*a + b)*r), as the batch norm and then
// scaleRows round it. It goes through a small buffer so that -ffp-contract cannot fuse the multiply by r into the
// neuron's add (v + x) as one FMA, which would round differently from the multi-step path. a, b: per lane (LANES
// = 16, blocked16) or one value (LANES = 1).
template <bool KEEP_U, int LANES>
inline __attribute__((always_inline)) void neuronStepSegRow(const float* x, float* v, float* s, float* u, float* o,
                                                             float th, float tau, bool hard, float sc, const float* a,
                                                             const float* bb, float r, int64_t i0, int64_t i1) {
  constexpr int64_t kChunk = 256;
  alignas(64) float in[kChunk];
  for (int64_t c0 = i0; c0 < i1; c0 += kChunk) {
    const int64_t n = std::min(kChunk, i1 - c0);
#pragma omp simd
    for (int64_t k = 0; k < n; k++) {
      const int l = LANES == 1 ? 0 : int(k % LANES);
      in[k] = std::fma(x[c0 + k], a[l], bb[l]) * r;
    }
#pragma omp simd
    for (int64_t k = 0; k < n; k++) neuronStepAt<KEEP_U>(c0 + k, in[k], v, s, u, o, th, tau, hard, sc);
  }
}
SC_FMA_CLONES void neuronStepR(const float* x, float* v, float* s, float* u, float* o, float th, float tau, bool hard,
                                float sc, const float* scale, const float* shift, const float* rowScale, int64_t C,
                                int64_t S, bool blocked, int64_t b, int64_t e) {
  if (scale && blocked) {
    // ranges start and end on 16-element boundaries (the caller's grain is a multiple of 16)
    const int64_t blockLen = 16 * S, CB = C / 16;
    for (int64_t i = b; i < e;) {
      const int64_t blk = i / blockLen, end = std::min(e, (blk + 1) * blockLen);
      const int64_t cb = blk % CB;
      const float *a = scale + cb * 16, *sh = shift + cb * 16;
      if (rowScale) {
        const float r = rowScale[blk / CB];
        if (u) neuronStepSegRow<true, 16>(x, v, s, u, o, th, tau, hard, sc, a, sh, r, i, end);
        else neuronStepSegRow<false, 16>(x, v, s, u, o, th, tau, hard, sc, a, sh, r, i, end);
      } else if (u) neuronStepSeg16<true>(x, v, s, u, o, th, tau, hard, sc, a, sh, i, end);
      else neuronStepSeg16<false>(x, v, s, u, o, th, tau, hard, sc, a, sh, i, end);
      i = end;
    }
    return;
  }
  if (!scale) {
    if (u) return neuronStepSeg<false, true>(x, v, s, u, o, th, tau, hard, sc, 0.f, 0.f, b, e);
    return neuronStepSeg<false, false>(x, v, s, u, o, th, tau, hard, sc, 0.f, 0.f, b, e);
  }
  for (int64_t i = b; i < e;) {
    const int64_t plane = i / S, end = std::min(e, (plane + 1) * S);
    const int64_t ch = plane % C;
    if (rowScale) {
      const float r = rowScale[plane / C];
      if (u) neuronStepSegRow<true, 1>(x, v, s, u, o, th, tau, hard, sc, scale + ch, shift + ch, r, i, end);
      else neuronStepSegRow<false, 1>(x, v, s, u, o, th, tau, hard, sc, scale + ch, shift + ch, r, i, end);
    } else if (u) neuronStepSeg<true, true>(x, v, s, u, o, th, tau, hard, sc, scale[ch], shift[ch], i, end);
    else neuronStepSeg<true, false>(x, v, s, u, o, th, tau, hard, sc, scale[ch], shift[ch], i, end);
    i = end;
  }
}
SC_CLONES void dropoutMaskR(float* m, uint32_t threshold, float keep, uint32_t seed, uint32_t offset, int64_t s, int64_t e) {
#pragma omp simd
  for (int64_t i = s; i < e; i++) {
    uint32_t h = seed ^ ((offset + uint32_t(i)) * 0x9e3779b9u);
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    m[i] = h >= threshold ? keep : 0.f;
  }
}
// The same mask stored blocked16 ([N, C/16, S, 16]): each element draws the bits of its plain NCHW index, so a blocked
// tensor loses exactly the elements its plain twin loses. Rows r = n·C/16 + cb of S·16 elements.
SC_CLONES void dropoutMaskBlockedR(float* m, uint32_t threshold, float keep, uint32_t seed, uint32_t offset, int64_t C, int64_t S,
                                   int64_t r0, int64_t r1) {
  const int64_t CB = C / 16;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t n = r / CB, cb = r % CB;
    const int64_t plain0 = (n * C + cb * 16) * S;  // plain index of (n, cb·16, s = 0)
    float* row = m + r * S * 16;
    for (int64_t sp = 0; sp < S; sp++) {
#pragma omp simd
      for (int64_t c = 0; c < 16; c++) {
        uint32_t h = seed ^ ((offset + uint32_t(plain0 + c * S + sp)) * 0x9e3779b9u);
        h ^= h >> 16;
        h *= 0x85ebca6bu;
        h ^= h >> 13;
        h *= 0xc2b2ae35u;
        h ^= h >> 16;
        row[sp * 16 + c] = h >= threshold ? keep : 0.f;
      }
    }
  }
}
// Float lanes within a block of <= kGrain elements, double across blocks: accurate enough and vectorisable.
SC_CLONES double sumR(const float* a, int64_t s, int64_t e) {
  double total = 0;
  for (int64_t b = s; b < e; b += 4096) {
    const int64_t be = std::min(e, b + 4096);
    float acc = 0.f;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = b; i < be; i++) acc += a[i];
    total += acc;
  }
  return total;
}
SC_CLONES double dotR(const float* a, const float* b, int64_t s, int64_t e) {
  double total = 0;
  for (int64_t k = s; k < e; k += 4096) {
    const int64_t ke = std::min(e, k + 4096);
    float acc = 0.f;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = k; i < ke; i++) acc += a[i] * b[i];
    total += acc;
  }
  return total;
}
SC_CLONES void sgdR(float* p, const float* g, float* buf, float lr, float mom, float wd, bool nest, bool first, int64_t s,
                    int64_t e) {
#pragma omp simd
  for (int64_t i = s; i < e; i++) {
    const float gi = g[i] + wd * p[i];
    const float b = first ? gi : mom * buf[i] + gi;
    buf[i] = b;
    p[i] -= lr * (nest ? gi + mom * b : b);
  }
}
SC_CLONES void adamR(float* p, const float* g, float* m, float* v, float b1, float b2, float eps, float wd, float stepSize,
                     float invSqrtBc2, float decay, bool decoupled, int64_t s, int64_t e) {
#pragma omp simd
  for (int64_t i = s; i < e; i++) {
    float pi = p[i];
    float gi = g[i];
    if (decoupled) pi *= decay; else gi += wd * pi;
    const float mi = b1 * m[i] + (1.f - b1) * gi;
    const float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - stepSize * mi / (std::sqrt(vi) * invSqrtBc2 + eps);
  }
}

// ---- batch norm: one channel per task; a channel of [64,*,28,28] is 200 KB, so the second pass hits L2 ----
// blockScale (TEBN's p_t, optional): y of sample b is multiplied by blockScale[b / blockLen].
SC_CLONES void bnFwdChannel(const float* x, int64_t N, int64_t C, int64_t S, int64_t ch, const float* gamma,
                            const float* beta, float eps, float* y, float* mean, float* invStd, const float* blockScale,
                            int64_t blockLen) {
  double acc = 0;
  for (int64_t b = 0; b < N; b++) {
    const float* xp = x + (b * C + ch) * S;
    float a = 0.f;
#pragma omp simd reduction(+ : a)
    for (int64_t i = 0; i < S; i++) a += xp[i];
    acc += a;
  }
  const int64_t cnt = N * S;
  const float mu = cnt > 0 ? float(acc / double(cnt)) : 0.f;
  double sq = 0;
  for (int64_t b = 0; b < N; b++) {
    const float* xp = x + (b * C + ch) * S;
    float a = 0.f;
#pragma omp simd reduction(+ : a)
    for (int64_t i = 0; i < S; i++) {
      const float d = xp[i] - mu;
      a += d * d;
    }
    sq += a;
  }
  const float is = float(1.0 / std::sqrt((cnt > 0 ? sq / double(cnt) : 0.0) + double(eps)));
  mean[ch] = mu;
  invStd[ch] = is;
  const float scale = (gamma ? gamma[ch] : 1.f) * is;
  const float shift = (beta ? beta[ch] : 0.f) - mu * scale;
  for (int64_t b = 0; b < N; b++) {
    const float* xp = x + (b * C + ch) * S;
    float* yp = y + (b * C + ch) * S;
    const float ps = blockScale ? blockScale[b / blockLen] : 1.f;
    const float sc = scale * ps, sh = shift * ps;
#pragma omp simd
    for (int64_t i = 0; i < S; i++) yp[i] = xp[i] * sc + sh;
  }
}

// With blockScale (TEBN: y = p_t * BN(x)), dy is the gradient of the scaled output: the BN part sees p_t * dy, and
// dpPart[ch * T + t] receives this channel's share of dL/dp_t = sum dy * BN(x) over block t, all from the same pass.
SC_CLONES void bnBwdChannel(const float* x, const float* dy, int64_t N, int64_t C, int64_t S, int64_t ch,
                            const float* gamma, const float* mean, const float* invStd, float* dx, float* dgamma,
                            float* dbeta, const float* beta, const float* blockScale, int64_t blockLen, int64_t T,
                            double* dpPart) {
  const float mu = mean[ch], is = invStd[ch];
  const double gam = gamma ? gamma[ch] : 1.0, bet = beta ? beta[ch] : 0.0;
  double sdy = 0, sdyx = 0;
  for (int64_t b = 0; b < N; b++) {
    const float* xp = x + (b * C + ch) * S;
    const float* gp = dy + (b * C + ch) * S;
    float a = 0.f, c = 0.f;
#pragma omp simd reduction(+ : a, c)
    for (int64_t i = 0; i < S; i++) {
      a += gp[i];
      c += gp[i] * (xp[i] - mu);
    }
    if (blockScale) {
      const int64_t t = b / blockLen;
      const double ps = blockScale[t];
      sdy += ps * a;
      sdyx += ps * c;
      if (dpPart) dpPart[ch * T + t] += gam * is * double(c) + bet * double(a);
    } else {
      sdy += a;
      sdyx += c;
    }
  }
  const double dg = sdyx * is;
  if (dgamma) dgamma[ch] = float(dg);
  if (dbeta) dbeta[ch] = float(sdy);
  const int64_t cnt = N * S;
  const float k = (gamma ? gamma[ch] : 1.f) * is;
  const float mdy = cnt > 0 ? float(sdy / double(cnt)) : 0.f;
  const float mdyx = cnt > 0 ? float(dg / double(cnt)) : 0.f;
  // dx = k*(p*dy - mdy - (x-mu)*is*mdyx), folded into dx = k*p*dy + (x*c1 + c0)
  const float c1 = -k * is * mdyx;
  const float c0 = -k * mdy + k * is * mdyx * mu;
  for (int64_t b = 0; b < N; b++) {
    const float* xp = x + (b * C + ch) * S;
    const float* gp = dy + (b * C + ch) * S;
    float* dp = dx + (b * C + ch) * S;
    const float kp = blockScale ? k * blockScale[b / blockLen] : k;
#pragma omp simd
    for (int64_t i = 0; i < S; i++) dp[i] = kp * gp[i] + xp[i] * c1 + c0;
  }
}

// ---- batch norm on blocked16 activations [N, C/16, S, 16], a vector lane per channel. The work is split into
// rows (one image's [S, 16] block of 16 channels), so the passes run in parallel even when C/16 is smaller than the
// thread count (16 channels: one block); each row's sum is accumulated in float, and the rows are then added in
// image order in double, serially — the same numbers as one task per block walking the batch.
SC_CLONES void rowSum16(const float* xp, int64_t S, float* out) {
  float a[16] = {};
  for (int64_t i = 0; i < S; i++)
#pragma omp simd
    for (int l = 0; l < 16; l++) a[l] += xp[i * 16 + l];
  for (int l = 0; l < 16; l++) out[l] = a[l];
}

SC_CLONES void rowSqDev16(const float* xp, int64_t S, const float* mu, float* out) {
  float a[16] = {};
  for (int64_t i = 0; i < S; i++)
#pragma omp simd
    for (int l = 0; l < 16; l++) {
      const float d = xp[i * 16 + l] - mu[l];
      a[l] += d * d;
    }
  for (int l = 0; l < 16; l++) out[l] = a[l];
}

SC_CLONES void rowNormalise16(const float* xp, float* yp, int64_t S, const float* sc, const float* sh) {
  for (int64_t i = 0; i < S; i++)
#pragma omp simd
    for (int l = 0; l < 16; l++) yp[i * 16 + l] = xp[i * 16 + l] * sc[l] + sh[l];
}

// Σ dy and Σ dy·(x - μ) over one row.
SC_CLONES void rowBwdSums16(const float* xp, const float* gp, int64_t S, const float* mu, float* sumDy, float* sumDyX) {
  float a[16] = {}, c[16] = {};
  for (int64_t i = 0; i < S; i++)
#pragma omp simd
    for (int l = 0; l < 16; l++) {
      a[l] += gp[i * 16 + l];
      c[l] += gp[i * 16 + l] * (xp[i * 16 + l] - mu[l]);
    }
  for (int l = 0; l < 16; l++) {
    sumDy[l] = a[l];
    sumDyX[l] = c[l];
  }
}

SC_CLONES void rowBwdDx16(const float* xp, const float* gp, float* dp, int64_t S, const float* kp, const float* c1,
                          const float* c0) {
  for (int64_t i = 0; i < S; i++)
#pragma omp simd
    for (int l = 0; l < 16; l++) dp[i * 16 + l] = kp[l] * gp[i * 16 + l] + xp[i * 16 + l] * c1[l] + c0[l];
}

// Cloned like the row kernels: the per-channel scale and shift are then computed (FMA-contracted in the AVX-512
// clone) exactly as the one-task-per-block kernel computed them, so the outputs stayed bit-identical.
SC_CLONES void bnFwdBlocked16(const float* x, int64_t N, int64_t C, int64_t S, const float* gamma, const float* beta,
                              float eps, float* y, float* mean, float* invStd, const float* blockScale, int64_t blockLen,
                              bool par) {
  const int64_t CB = C / 16, rows = N * CB, cnt = N * S;
  std::vector<float> part(size_t(rows * 16));
  std::vector<float> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
  // the channel's double sum of its rows' float sums, in image order
  auto reduce = [&](int64_t ch) {
    const int64_t cb = ch / 16, l = ch % 16;
    double acc = 0;
    for (int64_t b = 0; b < N; b++) acc += part[size_t((b * CB + cb) * 16 + l)];
    return acc;
  };
#pragma omp parallel for schedule(static) if (par)
  for (int64_t r = 0; r < rows; r++) rowSum16(x + r * S * 16, S, &part[size_t(r * 16)]);
  for (int64_t ch = 0; ch < C; ch++) mean[ch] = cnt > 0 ? float(reduce(ch) / double(cnt)) : 0.f;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t r = 0; r < rows; r++) rowSqDev16(x + r * S * 16, S, mean + (r % CB) * 16, &part[size_t(r * 16)]);
  for (int64_t ch = 0; ch < C; ch++) {
    const float is = float(1.0 / std::sqrt((cnt > 0 ? reduce(ch) / double(cnt) : 0.0) + double(eps)));
    invStd[ch] = is;
    scale[ch] = (gamma ? gamma[ch] : 1.f) * is;
    shift[ch] = (beta ? beta[ch] : 0.f) - mean[ch] * scale[ch];
  }
#pragma omp parallel for schedule(static) if (par)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t b = r / CB, cb = r % CB;
    const float ps = blockScale ? blockScale[b / blockLen] : 1.f;
    float sc[16], sh[16];
    for (int l = 0; l < 16; l++) {
      sc[l] = scale[cb * 16 + l] * ps;
      sh[l] = shift[cb * 16 + l] * ps;
    }
    rowNormalise16(x + r * S * 16, y + r * S * 16, S, sc, sh);
  }
}

SC_CLONES void bnBwdBlocked16(const float* x, const float* dy, int64_t N, int64_t C, int64_t S, const float* gamma,
                              const float* mean, const float* invStd, float* dx, float* dgamma, float* dbeta,
                              const float* beta, const float* blockScale, int64_t blockLen, int64_t T, double* dpPart,
                              bool par) {
  const int64_t CB = C / 16, rows = N * CB, cnt = N * S;
  std::vector<float> partDy(size_t(rows * 16)), partDyX(size_t(rows * 16));
#pragma omp parallel for schedule(static) if (par)
  for (int64_t r = 0; r < rows; r++)
    rowBwdSums16(x + r * S * 16, dy + r * S * 16, S, mean + (r % CB) * 16, &partDy[size_t(r * 16)], &partDyX[size_t(r * 16)]);
  std::vector<float> k(static_cast<size_t>(C)), c1(static_cast<size_t>(C)), c0(static_cast<size_t>(C));
  for (int64_t ch = 0; ch < C; ch++) {
    const int64_t cb = ch / 16, l = ch % 16;
    const float mu = mean[ch], is = invStd[ch];
    double sdy = 0, sdyx = 0;
    for (int64_t b = 0; b < N; b++) {
      const float a = partDy[size_t((b * CB + cb) * 16 + l)], c = partDyX[size_t((b * CB + cb) * 16 + l)];
      const double ps = blockScale ? blockScale[b / blockLen] : 1.0;
      sdy += ps * a;
      sdyx += ps * c;
      if (blockScale && dpPart) {
        const double gam = gamma ? gamma[ch] : 1.0, bet = beta ? beta[ch] : 0.0;
        dpPart[ch * T + b / blockLen] += gam * is * double(c) + bet * double(a);
      }
    }
    const double dg = sdyx * is;
    if (dgamma) dgamma[ch] = float(dg);
    if (dbeta) dbeta[ch] = float(sdy);
    k[ch] = (gamma ? gamma[ch] : 1.f) * is;
    const float mdy = cnt > 0 ? float(sdy / double(cnt)) : 0.f;
    const float mdyx = cnt > 0 ? float(dg / double(cnt)) : 0.f;
    c1[ch] = -k[ch] * is * mdyx;
    c0[ch] = -k[ch] * mdy + k[ch] * is * mdyx * mu;
  }
#pragma omp parallel for schedule(static) if (par)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t b = r / CB, cb = r % CB;
    const float ps = blockScale ? blockScale[b / blockLen] : 1.f;
    float kp[16];
    for (int l = 0; l < 16; l++) kp[l] = k[cb * 16 + l] * ps;
    rowBwdDx16(x + r * S * 16, dy + r * S * 16, dx + r * S * 16, S, kp, &c1[cb * 16], &c0[cb * 16]);
  }
}

// y = x*scale[c] + shift[c] over one [S, 16] block of 16 channels (the same single-rounding FMA as affinePlane).
SC_FMA_CLONES void affineBlock16(const float* x, float* y, int64_t S, const float* sc, const float* sh) {
  for (int64_t i = 0; i < S; i++)
#pragma omp simd
    for (int l = 0; l < 16; l++) y[i * 16 + l] = std::fma(x[i * 16 + l], sc[l], sh[l]);
}

// An explicit FMA (one rounding, as the TypeScript backend's double arithmetic nearly always gives), so the neuron
// step that folds this map in computes the same value whatever the compiler contracts.
SC_FMA_CLONES void affinePlane(const float* x, float* y, int64_t S, float sc, float sh) {
#pragma omp simd
  for (int64_t i = 0; i < S; i++) y[i] = std::fma(x[i], sc, sh);
}

// ---- neurons: a block of neurons keeps its membrane in a stack buffer across all T (one pass over x) ----
constexpr int64_t kNB = 256;

template <bool HARD>
inline __attribute__((always_inline)) void neuronFwdBlock(const NeuronP& p, const float* x, float* s, float* u, float* h,
                                                          int64_t i0, int64_t len) {
  float V[kNB];
  for (int64_t i = 0; i < len; i++) V[i] = p.v0;
  const float theta = p.theta, tau = p.tau;
  for (int64_t t = 0; t < p.T; t++) {
    const int64_t o = t * p.M + i0;
    const float* xt = x + o;
    float *st = s + o, *ut = u + o, *ht = h + o;
#pragma omp simd
    for (int64_t i = 0; i < len; i++) {
      const float hv = V[i] + xt[i];
      const float sp = hv - theta > 0.f ? 1.f : 0.f;
      const float uv = HARD ? (hv - theta > 0.f ? 0.f : hv) : hv - theta * sp;
      ht[i] = hv;
      st[i] = sp;
      ut[i] = uv;
      V[i] = tau * uv;
    }
  }
}

SC_CLONES void neuronFwdR(const NeuronP& p, const float* x, float* s, float* u, float* h, int64_t b, int64_t e) {
  for (int64_t i0 = b; i0 < e; i0 += kNB) {
    const int64_t len = std::min(kNB, e - i0);
    if (p.hard) neuronFwdBlock<true>(p, x, s, u, h, i0, len);
    else neuronFwdBlock<false>(p, x, s, u, h, i0, len);
  }
}

template <int SG>
inline __attribute__((always_inline)) float surrogate(float u, float a) {
  if (SG == 0) {
    const float r = a - std::fabs(u);
    return r > 0.f ? r / (a * a) : 0.f;
  } else if (SG == 1) {
    const float sg = 1.f / (1.f + std::exp(-a * u));
    return a * sg * (1.f - sg);
  } else {
    const float z = 1.5707963267948966f * a * u;
    return 0.5f * a / (1.f + z * z);
  }
}

template <bool HARD, int SG>
inline __attribute__((always_inline)) void neuronBwdBlock(const NeuronP& p, const float* gS, const float* gU, const float* h,
                                                          const float* s, float* dx, int64_t i0, int64_t len) {
  float D[kNB];
  for (int64_t i = 0; i < len; i++) D[i] = 0.f;
  const float theta = p.theta, tau = p.tau, a = p.sgParam;
  for (int64_t t = p.T - 1; t >= 0; t--) {
    const int64_t o = t * p.M + i0;
    const float *ht = h + o, *st = s + o;
    const float* gst = gS ? gS + o : nullptr;
    const float* gut = gU ? gU + o : nullptr;
    float* dt = dx + o;
#pragma omp simd
    for (int64_t i = 0; i < len; i++) {
      const float hv = ht[i];
      const float dU = (gut ? gut[i] : 0.f) + tau * D[i];
      const float dS = (gst ? gst[i] : 0.f) + dU * (HARD ? -hv : -theta);
      const float dH = dS * surrogate<SG>(hv - theta, a) + dU * (HARD ? 1.f - st[i] : 1.f);
      D[i] = dH;
      dt[i] = dH;
    }
  }
}

template <bool HARD>
inline __attribute__((always_inline)) void neuronBwdSg(const NeuronP& p, const float* gS, const float* gU, const float* h,
                                                       const float* s, float* dx, int64_t i0, int64_t len) {
  if (p.sg == 0) neuronBwdBlock<HARD, 0>(p, gS, gU, h, s, dx, i0, len);
  else if (p.sg == 1) neuronBwdBlock<HARD, 1>(p, gS, gU, h, s, dx, i0, len);
  else neuronBwdBlock<HARD, 2>(p, gS, gU, h, s, dx, i0, len);
}

SC_CLONES void neuronBwdR(const NeuronP& p, const float* gS, const float* gU, const float* h, const float* s, float* dx,
                          int64_t b, int64_t e) {
  for (int64_t i0 = b; i0 < e; i0 += kNB) {
    const int64_t len = std::min(kNB, e - i0);
    if (p.hard) neuronBwdSg<true>(p, gS, gU, h, s, dx, i0, len);
    else neuronBwdSg<false>(p, gS, gU, h, s, dx, i0, len);
  }
}

// PyTorch's avg-pool window: clipped to the padded input for the divisor when countIncludePad.
inline void poolWindow(const PoolP& p, int64_t oy, int64_t ox, int64_t& ys, int64_t& ye, int64_t& xs, int64_t& xe,
                       int64_t& div) {
  ys = oy * p.sh - p.ph;
  xs = ox * p.sw - p.pw;
  ye = std::min(ys + p.kh, p.h + p.ph);
  xe = std::min(xs + p.kw, p.w + p.pw);
  const int64_t padded = (ye - ys) * (xe - xs);
  ys = std::max<int64_t>(ys, 0);
  xs = std::max<int64_t>(xs, 0);
  ye = std::min(ye, p.h);
  xe = std::min(xe, p.w);
  div = p.countIncludePad ? padded : (ye - ys) * (xe - xs);
}

// Non-overlapping 2x2 windows, stride 2, no padding (every window full, divisor 4): the pooling of VGG-style
// nets. Same summation order as the generic loop, and /4 == *0.25 exactly, so results are bit-identical.
inline bool isAvg2x2(const PoolP& p) {
  return p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 && p.ph == 0 && p.pw == 0 && p.oh == p.h / 2 &&
         p.ow == p.w / 2;
}
SC_CLONES void avg2x2FwdPlane(const float* xp, float* yp, int64_t w, int64_t oh, int64_t ow) {
  for (int64_t oy = 0; oy < oh; oy++) {
    const float* r0 = xp + 2 * oy * w;
    const float* r1 = r0 + w;
    float* yr = yp + oy * ow;
#pragma omp simd
    for (int64_t ox = 0; ox < ow; ox++) yr[ox] = (((r0[2 * ox] + r0[2 * ox + 1]) + r1[2 * ox]) + r1[2 * ox + 1]) / 4.f;
  }
}
SC_CLONES void avg2x2BwdPlane(const float* gp, float* dp, int64_t h, int64_t w, int64_t oh, int64_t ow) {
  for (int64_t oy = 0; oy < oh; oy++) {
    float* r0 = dp + 2 * oy * w;
    float* r1 = r0 + w;
    const float* gr = gp + oy * ow;
#pragma omp simd
    for (int64_t ox = 0; ox < ow; ox++) {
      const float g = gr[ox] / 4.f;
      r0[2 * ox] = g;
      r0[2 * ox + 1] = g;
      r1[2 * ox] = g;
      r1[2 * ox + 1] = g;
    }
    if (w > 2 * ow) r0[w - 1] = r1[w - 1] = 0.f;  // odd width: the last column is in no window
  }
  if (h > 2 * oh) std::fill(dp + 2 * oh * w, dp + h * w, 0.f);  // odd height: the last row likewise
}

}  // namespace

void add(const float* a, const float* b, float* o, int64_t n) {
  parallelRanges(n, [&](int64_t s, int64_t e) { addR(a, b, o, s, e); });
}
void mul(const float* a, const float* b, float* o, int64_t n) {
  parallelRanges(n, [&](int64_t s, int64_t e) { mulR(a, b, o, s, e); });
}
void axpby(const float* a, float al, const float* b, float be, float* o, int64_t n) {
  parallelRanges(n, [&](int64_t s, int64_t e) { axpbyR(a, al, b, be, o, s, e); });
}
void relu(const float* a, float* o, int64_t n) {
  parallelRanges(n, [&](int64_t s, int64_t e) { reluR(a, o, s, e); });
}
void reluBackward(const float* a, const float* g, float* o, int64_t n) {
  parallelRanges(n, [&](int64_t s, int64_t e) { reluBwdR(a, g, o, s, e); });
}
void thresholdActForward(const float* x, float* y, int64_t n, float lam, int L) {
  const float fL = float(L);
  if (L > 0) parallelRanges(n, [&](int64_t s, int64_t e) { thrFwdR<true>(x, y, lam, fL, s, e); });
  else parallelRanges(n, [&](int64_t s, int64_t e) { thrFwdR<false>(x, y, lam, fL, s, e); });
}
double thresholdActBackward(const float* x, const float* g, float* dx, int64_t n, float lam, int L) {
  if (n <= kSerialBelow || omp_get_max_threads() == 1) return thrBwd(x, g, dx, lam, L, 0, n);
  const int64_t chunks = (n + kGrain - 1) / kGrain;
  std::vector<double> part(chunks, 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; c++) part[c] = thrBwd(x, g, dx, lam, L, c * kGrain, std::min(n, (c + 1) * kGrain));
  double total = 0;  // fixed order: the result does not depend on the thread count
  for (double p : part) total += p;
  return total;
}
void neuronStep(const float* x, float* v, float* s, float* u, float* o, int64_t n, float th, float tau, bool hard, float sc,
                const float* scale, const float* shift, const float* rowScale, int64_t C, int64_t S, bool blocked,
                const uint8_t* fresh, int64_t rowLen, float v0) {
  parallelRanges(n, [&](int64_t b, int64_t e) {
    // rows that start a new sequence get v0 just before they are stepped, while that part of v is in cache: the
    // reset costs no pass of its own over the state
    if (fresh)
      for (int64_t r = b / rowLen; r * rowLen < e; r++)
        if (fresh[r]) std::fill(v + std::max(b, r * rowLen), v + std::min(e, (r + 1) * rowLen), v0);
    neuronStepR(x, v, s, u, o, th, tau, hard, sc, scale, shift, rowScale, C, S, blocked, b, e);
  });
}
void dropoutMask(float* m, int64_t n, double p, uint32_t seed, int64_t C, int64_t S, uint32_t offset) {
  const uint32_t threshold = uint32_t(std::floor(p * 4294967296.0));
  const float keep = float(1.0 / (1.0 - p));
  if (C > 0) {
    const int64_t rows = n / (S * 16);
#pragma omp parallel for schedule(static) if (n > kSerialBelow)
    for (int64_t r = 0; r < rows; r++) dropoutMaskBlockedR(m, threshold, keep, seed, offset, C, S, r, r + 1);
    return;
  }
  parallelRanges(n, [&](int64_t s, int64_t e) { dropoutMaskR(m, threshold, keep, seed, offset, s, e); });
}
double sum(const float* a, int64_t n) {
  if (n <= kSerialBelow || omp_get_max_threads() == 1) return sumR(a, 0, n);
  const int64_t chunks = (n + kGrain - 1) / kGrain;
  double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
  for (int64_t c = 0; c < chunks; c++) total += sumR(a, c * kGrain, std::min(n, (c + 1) * kGrain));
  return total;
}
double dot(const float* a, const float* b, int64_t n) {
  if (n <= kSerialBelow || omp_get_max_threads() == 1) return dotR(a, b, 0, n);
  const int64_t chunks = (n + kGrain - 1) / kGrain;
  double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
  for (int64_t c = 0; c < chunks; c++) total += dotR(a, b, c * kGrain, std::min(n, (c + 1) * kGrain));
  return total;
}
void rowSums(const float* x, int64_t rows, int64_t D, const float* w, double* sums, double* dots) {
  // rows are independent and each is summed in index order: the same result on any number of threads
#pragma omp parallel for schedule(static) if (rows * D > kSerialBelow && rows > 1)
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * D;
    sums[r] = sumR(xr, 0, D);
    if (w) dots[r] = dotR(xr, w, 0, D);
  }
}
void scaleRows(const float* x, int64_t rows, int64_t D, const float* scales, float* out) {
  parallelRanges(rows * D, [&](int64_t s, int64_t e) {
    for (int64_t r = s / D; s < e; r++) {
      const int64_t end = std::min(e, (r + 1) * D);
      const float a = scales[r];
#pragma omp simd
      for (int64_t i = s; i < end; i++) out[i] = x[i] * a;
      s = end;
    }
  });
}
namespace {
// One sample b of the RCS-SNN statistic: R̄ over the last K steps (float32 sums in t order, as the reference), then
// <R_t, R̄> and |R_t|² per step in float64. R is recomputed from s and u instead of stored: a layer's [T, B, D]
// worth of memory traffic less per pass.
SC_CLONES void rcsFwdSample(const float* s, const float* u, int64_t T, int64_t B, int64_t D, int64_t K, float th,
                            float* rbar, float* dot, float* normR, float* normRbar, int64_t b) {
  float* rb = rbar + b * D;
  std::fill(rb, rb + D, 0.f);
  for (int64_t t = T - K; t < T; t++) {
    const float *sp = s + (t * B + b) * D, *up = u + (t * B + b) * D;
#pragma omp simd
    for (int64_t i = 0; i < D; i++) rb[i] += sp[i] + std::max(0.f, up[i] * th);
  }
  const float fk = float(K);
  double ss = 0;
#pragma omp simd reduction(+ : ss)
  for (int64_t i = 0; i < D; i++) {
    rb[i] /= fk;
    ss += double(rb[i]) * rb[i];
  }
  normRbar[b] = float(std::sqrt(ss + 1e-5));
  for (int64_t t = 0; t < T; t++) {
    const float *sp = s + (t * B + b) * D, *up = u + (t * B + b) * D;
    double d = 0, q = 0;
#pragma omp simd reduction(+ : d, q)
    for (int64_t i = 0; i < D; i++) {
      const float r = sp[i] + std::max(0.f, up[i] * th);
      d += double(r) * rb[i];
      q += double(r) * r;
    }
    dot[t * B + b] = float(d);
    normR[t * B + b] = float(std::sqrt(q + 1e-5));
  }
}
SC_CLONES void rcsBwdRow(const float* sp, const float* up, const float* rb, int64_t D, float th, float a, float c, float* ds,
                         float* du) {
  if (ds && du) {
#pragma omp simd
    for (int64_t i = 0; i < D; i++) {
      const float z = up[i] * th;
      const float g = a * rb[i] - c * (sp[i] + std::max(0.f, z));
      ds[i] = g;
      du[i] = z > 0.f ? g * th : 0.f;
    }
  } else if (ds) {
#pragma omp simd
    for (int64_t i = 0; i < D; i++) ds[i] = a * rb[i] - c * (sp[i] + std::max(0.f, up[i] * th));
  } else if (du) {
#pragma omp simd
    for (int64_t i = 0; i < D; i++) {
      const float z = up[i] * th;
      du[i] = z > 0.f ? (a * rb[i] - c * (sp[i] + z)) * th : 0.f;
    }
  }
}
// One sample of the RCS-ANN statistic: Σ relu(x)² in float64, the largest relu(x) and its first index (-1: none > 0).
SC_CLONES void rcsAnnRow(const float* x, int64_t F, double* sumSq, float* rowMax, int64_t* rowArg) {
  double ss = 0;
  float m = 0.f;
#pragma omp simd reduction(+ : ss) reduction(max : m)
  for (int64_t i = 0; i < F; i++) {
    const float v = std::max(x[i], 0.f);
    ss += double(v) * v;
    m = std::max(m, v);
  }
  *sumSq = ss;
  *rowMax = m;
  *rowArg = -1;
  if (m > 0.f)
    for (int64_t i = 0; i < F; i++)
      if (x[i] == m) {
        *rowArg = i;
        break;
      }
}
}  // namespace

void rcsAnnForward(const float* x, int64_t N, int64_t F, double* sumSq, float* rowMax, int32_t* rowArg) {
#pragma omp parallel for schedule(static) if (N * F > kSerialBelow)
  for (int64_t n = 0; n < N; n++) {
    int64_t arg;
    rcsAnnRow(x + n * F, F, sumSq + n, rowMax + n, &arg);
    rowArg[n] = arg < 0 ? -1 : int32_t(n * F + arg);
  }
}

void rcsSnnForward(const float* s, const float* u, int64_t T, int64_t B, int64_t D, int64_t K, float th, float* rbar,
                   float* dot, float* normR, float* normRbar) {
  // one sample per iteration: its rows are independent of the others, so the result does not depend on threads
#pragma omp parallel for schedule(static) if (T * B * D > kSerialBelow)
  for (int64_t b = 0; b < B; b++) rcsFwdSample(s, u, T, B, D, K, th, rbar, dot, normR, normRbar, b);
}
void rcsSnnBackward(const float* s, const float* u, const float* rbar, int64_t T, int64_t B, int64_t D, float th,
                    const float* a, const float* c, float* ds, float* du) {
  const int64_t rows = T * B;
#pragma omp parallel for schedule(static) if (rows * D > kSerialBelow)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t o = r * D;
    rcsBwdRow(s + o, u + o, rbar + (r % B) * D, D, th, a[r], c[r], ds ? ds + o : nullptr, du ? du + o : nullptr);
  }
}

void sgdStep(float* p, const float* g, float* buf, int64_t n, float lr, float mom, float wd, bool nest, bool first) {
  parallelRanges(n, [&](int64_t s, int64_t e) { sgdR(p, g, buf, lr, mom, wd, nest, first, s, e); });
}
void adamStep(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps, float wd,
              double step, bool decoupled) {
  const double bc1 = 1.0 - std::pow(double(b1), step);
  const double bc2 = 1.0 - std::pow(double(b2), step);
  const float stepSize = float(double(lr) / bc1);
  const float invSqrtBc2 = float(1.0 / std::sqrt(bc2));
  const float decay = 1.f - lr * wd;
  parallelRanges(n, [&](int64_t s, int64_t e) {
    adamR(p, g, m, v, b1, b2, eps, wd, stepSize, invSqrtBc2, decay, decoupled, s, e);
  });
}

void bnTrainForward(const float* x, int64_t N, int64_t C, int64_t S, const float* gamma, const float* beta, float eps,
                    float* y, float* mean, float* invStd, const float* blockScale, int64_t T, bool blocked) {
  const bool par = N * C * S > kSerialBelow;
  const int64_t blockLen = blockScale ? N / T : N;
  if (blocked) {
    bnFwdBlocked16(x, N, C, S, gamma, beta, eps, y, mean, invStd, blockScale, blockLen, par);
    return;
  }
#pragma omp parallel for schedule(static) if (par)
  for (int64_t ch = 0; ch < C; ch++) bnFwdChannel(x, N, C, S, ch, gamma, beta, eps, y, mean, invStd, blockScale, blockLen);
}
void bnBackward(const float* x, const float* dy, int64_t N, int64_t C, int64_t S, const float* gamma, const float* mean,
                const float* invStd, float* dx, float* dgamma, float* dbeta, const float* beta, const float* blockScale,
                int64_t T, float* dBlockScale, bool blocked) {
  const bool par = N * C * S > kSerialBelow;
  const int64_t blockLen = blockScale ? N / T : N;
  std::vector<double> dpPart(blockScale && dBlockScale ? size_t(C * T) : 0, 0.0);
  double* dpp = dpPart.empty() ? nullptr : dpPart.data();
  if (blocked) {
    bnBwdBlocked16(x, dy, N, C, S, gamma, mean, invStd, dx, dgamma, dbeta, beta, blockScale, blockLen, T, dpp, par);
  } else {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t ch = 0; ch < C; ch++)
      bnBwdChannel(x, dy, N, C, S, ch, gamma, mean, invStd, dx, dgamma, dbeta, beta, blockScale, blockLen, T, dpp);
  }
  if (dpp) {
    for (int64_t t = 0; t < T; t++) {
      double acc = 0;
      for (int64_t ch = 0; ch < C; ch++) acc += dpp[ch * T + t];
      dBlockScale[t] = float(acc);
    }
  }
}
void channelAffine(const float* x, int64_t N, int64_t C, int64_t S, const float* scale, const float* shift, float* y,
                   bool blocked) {
  const bool par = N * C * S > kSerialBelow;
  if (blocked) {
    const int64_t CB = C / 16;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t blk = 0; blk < N * CB; blk++) {
      const int64_t cb = blk % CB;
      affineBlock16(x + blk * S * 16, y + blk * S * 16, S, scale + cb * 16, shift + cb * 16);
    }
    return;
  }
#pragma omp parallel for schedule(static) if (par)
  for (int64_t pl = 0; pl < N * C; pl++) {
    const int64_t ch = pl % C;
    affinePlane(x + pl * S, y + pl * S, S, scale[ch], shift[ch]);
  }
}

void neuronForward(const NeuronP& p, const float* x, float* s, float* u, float* h) {
  if (p.T * p.M <= kSerialBelow || omp_get_max_threads() == 1) return neuronFwdR(p, x, s, u, h, 0, p.M);
  const int64_t grain = 4 * kNB;
  const int64_t chunks = (p.M + grain - 1) / grain;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; c++) neuronFwdR(p, x, s, u, h, c * grain, std::min(p.M, (c + 1) * grain));
}
void neuronBackward(const NeuronP& p, const float* gS, const float* gU, const float* h, const float* s, float* dx) {
  if (p.T * p.M <= kSerialBelow || omp_get_max_threads() == 1) return neuronBwdR(p, gS, gU, h, s, dx, 0, p.M);
  const int64_t grain = 4 * kNB;
  const int64_t chunks = (p.M + grain - 1) / grain;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; c++) neuronBwdR(p, gS, gU, h, s, dx, c * grain, std::min(p.M, (c + 1) * grain));
}

namespace {
// Visits the cells of output (oy, ox)'s window that lie inside the input, row by row: f(index within the plane).
template <class F>
inline void forWindow(const PoolP& p, int64_t oy, int64_t ox, F f) {
  const int64_t y0 = oy * p.sh - p.ph, x0 = ox * p.sw - p.pw;
  for (int64_t r = 0; r < p.kh; r++) {
    const int64_t iy = y0 + r;
    if (iy < 0 || iy >= p.h) continue;
    for (int64_t q = 0; q < p.kw; q++) {
      const int64_t ix = x0 + q;
      if (ix >= 0 && ix < p.w) f(iy * p.w + ix);
    }
  }
}
// Max pooling's rule in both layouts (PyTorch's): the first maximal cell wins, and a NaN beats any number.
inline bool replacesMax(float v, float best, bool none) { return none || v > best || (std::isnan(v) && !std::isnan(best)); }

// Max pooling of one [H, W, 16] block: the 16 channels of a pixel are 16 lanes, each with its own maximum.
SC_CLONES void maxPoolFwdBlock16(const PoolP& p, const float* xp, float* yp, int32_t* ap) {
  for (int64_t oy = 0; oy < p.oh; oy++)
    for (int64_t ox = 0; ox < p.ow; ox++) {
      float best[16];
      int32_t bi[16];
      for (int c = 0; c < 16; c++) {
        best[c] = -INFINITY;
        bi[c] = -1;
      }
      forWindow(p, oy, ox, [&](int64_t j) {
        const float* v = xp + j * 16;
#pragma omp simd
        for (int c = 0; c < 16; c++)
          if (replacesMax(v[c], best[c], bi[c] < 0)) {
            best[c] = v[c];
            bi[c] = int32_t(j);
          }
      });
      float* yo = yp + (oy * p.ow + ox) * 16;
      int32_t* ao = ap + (oy * p.ow + ox) * 16;
      for (int c = 0; c < 16; c++) {
        yo[c] = bi[c] < 0 ? -INFINITY : best[c];
        ao[c] = bi[c] < 0 ? 0 : bi[c];
      }
    }
}
}  // namespace

void maxPoolForward(const PoolP& p, const float* x, float* y, int32_t* am) {
  if (p.blocked) {
    const int64_t blocks = p.n * p.c / 16, in = p.h * p.w * 16, out = p.oh * p.ow * 16;
#pragma omp parallel for schedule(static) if (blocks * in > kSerialBelow)
    for (int64_t b = 0; b < blocks; b++) maxPoolFwdBlock16(p, x + b * in, y + b * out, am + b * out);
    return;
  }
  const int64_t planes = p.n * p.c;
#pragma omp parallel for schedule(static) if (planes * p.h * p.w > kSerialBelow)
  for (int64_t pl = 0; pl < planes; pl++) {
    const float* xp = x + pl * p.h * p.w;
    float* yp = y + pl * p.oh * p.ow;
    int32_t* ap = am + pl * p.oh * p.ow;
    for (int64_t oy = 0; oy < p.oh; oy++)
      for (int64_t ox = 0; ox < p.ow; ox++) {
        float best = -INFINITY;
        int64_t bi = -1;
        forWindow(p, oy, ox, [&](int64_t j) {
          if (replacesMax(xp[j], best, bi < 0)) {
            best = xp[j];
            bi = j;
          }
        });
        yp[oy * p.ow + ox] = bi < 0 ? -INFINITY : best;
        ap[oy * p.ow + ox] = bi < 0 ? 0 : int32_t(bi);
      }
  }
}
void maxPoolBackward(const PoolP& p, const float* dy, const int32_t* am, float* dx) {
  if (p.blocked) {
    const int64_t blocks = p.n * p.c / 16, hw = p.h * p.w, ohw = p.oh * p.ow;
#pragma omp parallel for schedule(static) if (blocks * hw * 16 > kSerialBelow)
    for (int64_t b = 0; b < blocks; b++) {
      float* dp = dx + b * hw * 16;
      std::fill(dp, dp + hw * 16, 0.f);
      const float* gp = dy + b * ohw * 16;
      const int32_t* ap = am + b * ohw * 16;
      for (int64_t i = 0; i < ohw; i++)
        for (int c = 0; c < 16; c++) {
          const int32_t j = ap[i * 16 + c];
          if (j >= 0 && j < hw) dp[j * 16 + c] += gp[i * 16 + c];  // argmax comes from JS: never write out of bounds
        }
    }
    return;
  }
  const int64_t planes = p.n * p.c, hw = p.h * p.w, ohw = p.oh * p.ow;
#pragma omp parallel for schedule(static) if (planes * hw > kSerialBelow)
  for (int64_t pl = 0; pl < planes; pl++) {
    float* dp = dx + pl * hw;
    std::fill(dp, dp + hw, 0.f);
    const float* gp = dy + pl * ohw;
    const int32_t* ap = am + pl * ohw;
    for (int64_t i = 0; i < ohw; i++) {
      const int32_t j = ap[i];
      if (j >= 0 && j < hw) dp[j] += gp[i];  // argmax comes from JS: never write out of bounds
    }
  }
}
namespace {
// Average pooling of one [H, W, 16] block: the 16 channels of a pixel are one vector.
SC_CLONES void avgPoolFwdBlock16(const PoolP& p, const float* xp, float* yp) {
  for (int64_t oy = 0; oy < p.oh; oy++)
    for (int64_t ox = 0; ox < p.ow; ox++) {
      int64_t ys, ye, xs, xe, div;
      poolWindow(p, oy, ox, ys, ye, xs, xe, div);
      float acc[16] = {};
      for (int64_t iy = ys; iy < ye; iy++)
        for (int64_t ix = xs; ix < xe; ix++)
#pragma omp simd
          for (int l = 0; l < 16; l++) acc[l] += xp[(iy * p.w + ix) * 16 + l];
      float* o = yp + (oy * p.ow + ox) * 16;
#pragma omp simd
      for (int l = 0; l < 16; l++) o[l] = div > 0 ? acc[l] / float(div) : 0.f;
    }
}
SC_CLONES void avgPoolBwdBlock16(const PoolP& p, const float* gp, float* dp) {
  std::fill(dp, dp + p.h * p.w * 16, 0.f);
  for (int64_t oy = 0; oy < p.oh; oy++)
    for (int64_t ox = 0; ox < p.ow; ox++) {
      int64_t ys, ye, xs, xe, div;
      poolWindow(p, oy, ox, ys, ye, xs, xe, div);
      if (div <= 0) continue;
      float g[16];
#pragma omp simd
      for (int l = 0; l < 16; l++) g[l] = gp[(oy * p.ow + ox) * 16 + l] / float(div);
      for (int64_t iy = ys; iy < ye; iy++)
        for (int64_t ix = xs; ix < xe; ix++)
#pragma omp simd
          for (int l = 0; l < 16; l++) dp[(iy * p.w + ix) * 16 + l] += g[l];
    }
}

}  // namespace

void avgPoolForward(const PoolP& p, const float* x, float* y) {
  const int64_t planes = p.n * p.c;
  if (p.blocked) {
#pragma omp parallel for schedule(static) if (planes * p.h * p.w > kSerialBelow)
    for (int64_t blk = 0; blk < planes / 16; blk++) avgPoolFwdBlock16(p, x + blk * p.h * p.w * 16, y + blk * p.oh * p.ow * 16);
    return;
  }
  if (isAvg2x2(p)) {
#pragma omp parallel for schedule(static) if (planes * p.h * p.w > kSerialBelow)
    for (int64_t pl = 0; pl < planes; pl++) avg2x2FwdPlane(x + pl * p.h * p.w, y + pl * p.oh * p.ow, p.w, p.oh, p.ow);
    return;
  }
#pragma omp parallel for schedule(static) if (planes * p.h * p.w > kSerialBelow)
  for (int64_t pl = 0; pl < planes; pl++) {
    const float* xp = x + pl * p.h * p.w;
    float* yp = y + pl * p.oh * p.ow;
    for (int64_t oy = 0; oy < p.oh; oy++)
      for (int64_t ox = 0; ox < p.ow; ox++) {
        int64_t ys, ye, xs, xe, div;
        poolWindow(p, oy, ox, ys, ye, xs, xe, div);
        float acc = 0.f;
        for (int64_t iy = ys; iy < ye; iy++)
          for (int64_t ix = xs; ix < xe; ix++) acc += xp[iy * p.w + ix];
        yp[oy * p.ow + ox] = div > 0 ? acc / float(div) : 0.f;
      }
  }
}
void avgPoolBackward(const PoolP& p, const float* dy, float* dx) {
  const int64_t planes = p.n * p.c;
  if (p.blocked) {
#pragma omp parallel for schedule(static) if (planes * p.h * p.w > kSerialBelow)
    for (int64_t blk = 0; blk < planes / 16; blk++) avgPoolBwdBlock16(p, dy + blk * p.oh * p.ow * 16, dx + blk * p.h * p.w * 16);
    return;
  }
  if (isAvg2x2(p)) {
#pragma omp parallel for schedule(static) if (planes * p.h * p.w > kSerialBelow)
    for (int64_t pl = 0; pl < planes; pl++) avg2x2BwdPlane(dy + pl * p.oh * p.ow, dx + pl * p.h * p.w, p.h, p.w, p.oh, p.ow);
    return;
  }
#pragma omp parallel for schedule(static) if (planes * p.h * p.w > kSerialBelow)
  for (int64_t pl = 0; pl < planes; pl++) {
    float* dp = dx + pl * p.h * p.w;
    std::fill(dp, dp + p.h * p.w, 0.f);
    const float* gp = dy + pl * p.oh * p.ow;
    for (int64_t oy = 0; oy < p.oh; oy++)
      for (int64_t ox = 0; ox < p.ow; ox++) {
        int64_t ys, ye, xs, xe, div;
        poolWindow(p, oy, ox, ys, ye, xs, xe, div);
        if (div <= 0) continue;
        const float g = gp[oy * p.ow + ox] / float(div);
        for (int64_t iy = ys; iy < ye; iy++)
          for (int64_t ix = xs; ix < xe; ix++) dp[iy * p.w + ix] += g;
      }
  }
}


// ---- single-input-channel convolution (a network's first layer), stride 1, straight on NCHW ----
// oneDNN's kernel for it writes nChw16c, and the reorder back to NCHW cost more than the convolution itself
// (0.4 ms + 0.25 ms on [64,32,28,28]); the layer is bound by writing y (forward) or reading dy (weights), so
// a direct loop over output rows does one pass over the big tensor.
namespace {
// Works on the zero-padded input plane xpad [hp, wp] (hp = h + 2ph, wp = w + 2pw): with output rows laid out at
// the padded row stride wp, every tap t = (r, q) is a plain shift off[t] = r*wp + q, so one long vectorised
// loop over the plane (oh*wp cells) covers all taps with no bounds checks.
struct Pad1 {
  int64_t hp, wp, len, taps;
  int64_t off[64];
  explicit Pad1(const ConvP& p) {
    hp = p.h + 2 * p.ph;
    wp = p.w + 2 * p.pw;
    len = p.oh * wp;  // cells of the output at stride wp (columns >= ow are junk)
    taps = p.kh * p.kw;
    for (int64_t r = 0; r < p.kh; r++)
      for (int64_t q = 0; q < p.kw; q++) off[r * p.kw + q] = r * wp + q;
  }
  // Bytes of scratch per thread: the padded plane (+ kw slack read by junk columns) and one output plane.
  int64_t xpadSize() const { return hp * wp + wp; }
};
void padPlane(const ConvP& p, const Pad1& g, const float* xp, float* xpad) {
  std::fill(xpad, xpad + g.xpadSize(), 0.f);
  for (int64_t iy = 0; iy < p.h; iy++) std::copy(xp + iy * p.w, xp + (iy + 1) * p.w, xpad + (iy + p.ph) * g.wp + p.pw);
}
SC_CLONES void conv1FwdTaps(const Pad1& g, const float* __restrict xpad, const float* __restrict wk, float bias,
                            float* __restrict yv) {
  const int64_t len = g.len;
  if (g.taps == 9) {  // 3x3: all taps in one pass, nine FMAs per vector
    const float w0 = wk[0], w1 = wk[1], w2 = wk[2], w3 = wk[3], w4 = wk[4], w5 = wk[5], w6 = wk[6], w7 = wk[7], w8 = wk[8];
    const float *x0 = xpad + g.off[0], *x1 = xpad + g.off[1], *x2 = xpad + g.off[2], *x3 = xpad + g.off[3],
                *x4 = xpad + g.off[4], *x5 = xpad + g.off[5], *x6 = xpad + g.off[6], *x7 = xpad + g.off[7],
                *x8 = xpad + g.off[8];
#pragma omp simd
    for (int64_t i = 0; i < len; i++)
      yv[i] = bias + w0 * x0[i] + w1 * x1[i] + w2 * x2[i] + w3 * x3[i] + w4 * x4[i] + w5 * x5[i] + w6 * x6[i] +
              w7 * x7[i] + w8 * x8[i];
    return;
  }
#pragma omp simd
  for (int64_t i = 0; i < len; i++) yv[i] = bias;
  for (int64_t t = 0; t < g.taps; t++) {
    const float wv = wk[t];
    const float* xs = xpad + g.off[t];
#pragma omp simd
    for (int64_t i = 0; i < len; i++) yv[i] += wv * xs[i];
  }
}
// The same convolution for 16 output channels at once, written straight into a blocked16 [S, 16] block: per
// output pixel, each tap's input value is broadcast against a vector of the 16 channels' weights (wb[t*16 + l]),
// in the same tap order as conv1FwdTaps; four pixels at a time keep four independent FMA chains in flight.
__attribute__((target("avx512f"))) void conv1FwdBlock16Avx512(const Pad1& g, int64_t oh, int64_t ow, const float* xpad,
                                                              const float* wb, const float* bias16, float* yb) {
  const __m512 bias = _mm512_loadu_ps(bias16);
  for (int64_t oy = 0; oy < oh; oy++) {
    const float* row = xpad + oy * g.wp;
    float* out = yb + oy * ow * 16;
    int64_t ox = 0;
    for (; ox + 4 <= ow; ox += 4) {
      __m512 a0 = bias, a1 = bias, a2 = bias, a3 = bias;
      for (int64_t t = 0; t < g.taps; t++) {
        const __m512 wv = _mm512_loadu_ps(wb + t * 16);
        const float* xs = row + ox + g.off[t];
        a0 = _mm512_fmadd_ps(wv, _mm512_set1_ps(xs[0]), a0);
        a1 = _mm512_fmadd_ps(wv, _mm512_set1_ps(xs[1]), a1);
        a2 = _mm512_fmadd_ps(wv, _mm512_set1_ps(xs[2]), a2);
        a3 = _mm512_fmadd_ps(wv, _mm512_set1_ps(xs[3]), a3);
      }
      _mm512_storeu_ps(out + ox * 16, a0);
      _mm512_storeu_ps(out + ox * 16 + 16, a1);
      _mm512_storeu_ps(out + ox * 16 + 32, a2);
      _mm512_storeu_ps(out + ox * 16 + 48, a3);
    }
    for (; ox < ow; ox++) {
      __m512 a0 = bias;
      for (int64_t t = 0; t < g.taps; t++) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(wb + t * 16), _mm512_set1_ps(row[ox + g.off[t]]), a0);
      _mm512_storeu_ps(out + ox * 16, a0);
    }
  }
}
// Weight gradient of one image for 16 output channels from a blocked16 dy block: per output pixel, the 16
// channels' dy vector times each tap's broadcast input, summed over the image (part[t*16 + l]); partB[l] gets Σ dy.
template <int TAPS>
__attribute__((target("avx512f"))) void conv1DwBlock16Avx512(const Pad1& g, int64_t oh, int64_t ow, const float* xpad,
                                                             const float* dyb, float* part, float* partB) {
  const int64_t taps = TAPS > 0 ? TAPS : g.taps;
  __m512 acc[TAPS > 0 ? TAPS : 64];
  for (int64_t t = 0; t < taps; t++) acc[t] = _mm512_setzero_ps();
  __m512 accB = _mm512_setzero_ps();
  for (int64_t oy = 0; oy < oh; oy++) {
    const float* row = xpad + oy * g.wp;
    const float* gr = dyb + oy * ow * 16;
    for (int64_t ox = 0; ox < ow; ox++) {
      const __m512 gv = _mm512_loadu_ps(gr + ox * 16);
      accB = _mm512_add_ps(accB, gv);
      for (int64_t t = 0; t < taps; t++) acc[t] = _mm512_fmadd_ps(gv, _mm512_set1_ps(row[ox + g.off[t]]), acc[t]);
    }
  }
  for (int64_t t = 0; t < taps; t++) _mm512_storeu_ps(part + t * 16, acc[t]);
  _mm512_storeu_ps(partB, accB);
}
void conv1DwBlock16(const Pad1& g, int64_t oh, int64_t ow, const float* xpad, const float* dyb, float* part, float* partB) {
  if (haveAvx512()) {
    if (g.taps == 9) return conv1DwBlock16Avx512<9>(g, oh, ow, xpad, dyb, part, partB);
    return conv1DwBlock16Avx512<0>(g, oh, ow, xpad, dyb, part, partB);
  }
  std::fill(part, part + g.taps * 16, 0.f);
  std::fill(partB, partB + 16, 0.f);
  for (int64_t oy = 0; oy < oh; oy++)
    for (int64_t ox = 0; ox < ow; ox++) {
      const float* gv = dyb + (oy * ow + ox) * 16;
      for (int l = 0; l < 16; l++) partB[l] += gv[l];
      for (int64_t t = 0; t < g.taps; t++)
        for (int l = 0; l < 16; l++) part[t * 16 + l] = std::fma(gv[l], xpad[oy * g.wp + ox + g.off[t]], part[t * 16 + l]);
    }
}
void conv1FwdBlock16(const Pad1& g, int64_t oh, int64_t ow, const float* xpad, const float* wb, const float* bias16,
                     float* yb) {
  if (haveAvx512()) return conv1FwdBlock16Avx512(g, oh, ow, xpad, wb, bias16, yb);
  for (int64_t oy = 0; oy < oh; oy++)
    for (int64_t ox = 0; ox < ow; ox++) {
      const float* xs = xpad + oy * g.wp + ox;
      float* o = yb + (oy * ow + ox) * 16;
      for (int l = 0; l < 16; l++) o[l] = bias16[l];
      for (int64_t t = 0; t < g.taps; t++)
        for (int l = 0; l < 16; l++) o[l] = std::fma(wb[t * 16 + l], xs[g.off[t]], o[l]);
    }
}
SC_CLONES void conv1DotTaps(const Pad1& g, const float* __restrict xpad, const float* __restrict gv, float* part) {
  if (g.taps == 9) {  // 3x3: one pass, nine vector accumulators
    const float *x0 = xpad + g.off[0], *x1 = xpad + g.off[1], *x2 = xpad + g.off[2], *x3 = xpad + g.off[3],
                *x4 = xpad + g.off[4], *x5 = xpad + g.off[5], *x6 = xpad + g.off[6], *x7 = xpad + g.off[7],
                *x8 = xpad + g.off[8];
    float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0;
    const int64_t len = g.len;
#pragma omp simd reduction(+ : a0, a1, a2, a3, a4, a5, a6, a7, a8)
    for (int64_t i = 0; i < len; i++) {
      const float v = gv[i];
      a0 += v * x0[i];
      a1 += v * x1[i];
      a2 += v * x2[i];
      a3 += v * x3[i];
      a4 += v * x4[i];
      a5 += v * x5[i];
      a6 += v * x6[i];
      a7 += v * x7[i];
      a8 += v * x8[i];
    }
    part[0] = a0, part[1] = a1, part[2] = a2, part[3] = a3, part[4] = a4, part[5] = a5, part[6] = a6, part[7] = a7;
    part[8] = a8;
    return;
  }
  for (int64_t t = 0; t < g.taps; t++) {
    const float* xs = xpad + g.off[t];
    float d = 0.f;
#pragma omp simd reduction(+ : d)
    for (int64_t i = 0; i < g.len; i++) d += gv[i] * xs[i];
    part[t] = d;
  }
}
}  // namespace

bool conv1Eligible(const ConvP& p) {
  return p.c == 1 && p.groups == 1 && p.sh == 1 && p.sw == 1 && p.kh * p.kw <= 64 && p.ph < p.kh && p.pw < p.kw;
}
void conv1Forward(const ConvP& p, const float* x, const float* w, const float* b, float* y) {
  const Pad1 g(p);
#pragma omp parallel if (p.n * p.k * p.oh * p.ow > kSerialBelow)
  {
    const int64_t S = p.oh * p.ow;
    std::vector<float> xpad(g.xpadSize()), yv(g.len);
    // blocked16 output: weights and biases regrouped per block of 16 output channels, [tap][lane]
    const int64_t KB = p.yb ? p.k / 16 : 0;
    std::vector<float> wb(size_t(KB * g.taps * 16)), bb(size_t(KB * 16), 0.f);
    for (int64_t k = 0; k < KB * 16; k++) {
      for (int64_t t = 0; t < g.taps; t++) wb[((k / 16) * g.taps + t) * 16 + k % 16] = w[k * g.taps + t];
      if (b) bb[k] = b[k];
    }
#pragma omp for schedule(static)
    for (int64_t n = 0; n < p.n; n++) {
      padPlane(p, g, x + n * p.h * p.w, xpad.data());
      if (p.yb) {
        for (int64_t cb = 0; cb < KB; cb++)
          conv1FwdBlock16(g, p.oh, p.ow, xpad.data(), wb.data() + cb * g.taps * 16, bb.data() + cb * 16, y + (n * KB + cb) * S * 16);
        continue;
      }
      for (int64_t k = 0; k < p.k; k++) {
        conv1FwdTaps(g, xpad.data(), w + k * g.taps, b ? b[k] : 0.f, yv.data());
        float* yp = y + (n * p.k + k) * S;
        for (int64_t oy = 0; oy < p.oh; oy++) std::copy(yv.data() + oy * g.wp, yv.data() + oy * g.wp + p.ow, yp + oy * p.ow);
      }
    }
  }
}
void conv1BackwardWeights(const ConvP& p, const float* x, const float* dy, float* dw, float* db) {
  const Pad1 g(p);
  if (p.yb) {
    // blocked16 dy: each thread owns whole blocks of 16 output channels and walks the batch in order (the sums do
    // not depend on the thread count)
    const int64_t KB = p.k / 16, S = p.oh * p.ow;
    const int nt = (p.n * p.k * S > kSerialBelow) ? int(std::min<int64_t>(omp_get_max_threads(), KB)) : 1;
#pragma omp parallel num_threads(nt)
    {
      const int64_t T = omp_get_num_threads(), id = omp_get_thread_num();
      const int64_t b0 = KB * id / T, b1 = KB * (id + 1) / T;
      std::vector<float> xpad(g.xpadSize()), part(size_t(g.taps * 16)), partB(16);
      std::vector<double> acc(size_t((b1 - b0) * g.taps * 16), 0.0), accB(size_t((b1 - b0) * 16), 0.0);
      for (int64_t n = 0; n < p.n && b0 < b1; n++) {
        padPlane(p, g, x + n * p.h * p.w, xpad.data());
        for (int64_t cb = b0; cb < b1; cb++) {
          conv1DwBlock16(g, p.oh, p.ow, xpad.data(), dy + (n * KB + cb) * S * 16, part.data(), partB.data());
          for (int64_t i = 0; i < g.taps * 16; i++) acc[(cb - b0) * g.taps * 16 + i] += part[i];
          for (int l = 0; l < 16; l++) accB[(cb - b0) * 16 + l] += partB[l];
        }
      }
      for (int64_t cb = b0; cb < b1; cb++)
        for (int l = 0; l < 16; l++) {
          const int64_t k = cb * 16 + l;
          for (int64_t t = 0; t < g.taps; t++) dw[k * g.taps + t] = float(acc[((cb - b0) * g.taps + t) * 16 + l]);
          if (db) db[k] = float(accB[(cb - b0) * 16 + l]);
        }
    }
    return;
  }
  // Each thread owns a range of output channels and walks the batch: the padded input plane is built once per
  // image and thread; dy is read exactly once in total.
  const int nt = (p.n * p.k * p.oh * p.ow > kSerialBelow) ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(nt)
  {
    const int64_t T = omp_get_num_threads(), id = omp_get_thread_num();
    const int64_t k0 = p.k * id / T, k1 = p.k * (id + 1) / T;
    const int64_t S = p.oh * p.ow;
    std::vector<float> xpad(g.xpadSize()), gv(g.len, 0.f);
    std::vector<double> acc((k1 - k0) * g.taps, 0.0), accB(k1 - k0, 0.0);
    float part[64];
    for (int64_t n = 0; n < p.n && k0 < k1; n++) {
      padPlane(p, g, x + n * p.h * p.w, xpad.data());
      for (int64_t k = k0; k < k1; k++) {
        const float* gp = dy + (n * p.k + k) * S;
        float sb = 0.f;
        for (int64_t oy = 0; oy < p.oh; oy++) {
          const float* gr = gp + oy * p.ow;
          float* dst = gv.data() + oy * g.wp;  // columns ow..wp-1 stay 0
#pragma omp simd reduction(+ : sb)
          for (int64_t ox = 0; ox < p.ow; ox++) {
            dst[ox] = gr[ox];
            sb += gr[ox];
          }
        }
        conv1DotTaps(g, xpad.data(), gv.data(), part);
        for (int64_t t = 0; t < g.taps; t++) acc[(k - k0) * g.taps + t] += part[t];
        accB[k - k0] += sb;
      }
    }
    for (int64_t k = k0; k < k1; k++) {
      for (int64_t t = 0; t < g.taps; t++) dw[k * g.taps + t] = float(acc[(k - k0) * g.taps + t]);
      if (db) db[k] = float(accB[k - k0]);
    }
  }
}

}  // namespace spikecut
