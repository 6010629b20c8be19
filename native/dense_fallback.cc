// Dense kernels without oneDNN: a packed, register-tiled GEMM (GotoBLAS-style panels; a 12 x 2-vector micro-tile
// with AVX-512, 6 x 2 otherwise) compiled three times (AVX-512, AVX2+FMA, baseline SSE) and chosen at load time;
// convolution at stride 1 as direct kernels on zero-padded copies of each image (forward; backward-data as the
// forward of dy with the flipped, transposed weights; the 3 x 3 weight gradient, vectorised over output channels),
// the first layer's one-channel case on the shared direct kernels (kernels.cc), everything else as im2col + that
// GEMM, parallel over images with per-thread scratch reused.
#include <omp.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>
#include "common.h"

namespace spikecut {
namespace {

// Rows of the micro-tile: with 32 vector registers (AVX-512) 12 rows × 2 vectors of accumulators, else 6 × 2 (16
// registers). The broadcast of A comes straight from memory, so it takes a load port, not the shuffle port the
// FMAs share.
template <int V>
constexpr int MRof = V == 16 ? 12 : 6;
constexpr int64_t KC = 256;

struct AlignedBuf {
  float* p = nullptr;
  size_t n = 0;
  float* get(size_t want) {
    if (want > n) {
      std::free(p);
      n = std::max(want, n * 2);
      p = static_cast<float*>(std::aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64));
      if (!p) throw std::bad_alloc();
    }
    return p;
  }
  ~AlignedBuf() { std::free(p); }
};

// C[rows x cols] (+)= alpha * Ap(MR x kc) * Bp(kc x NR), both packed and zero-padded.
template <int V>
inline __attribute__((always_inline)) void microTile(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                                                     int rows, int cols, float alpha) {
  typedef float vec __attribute__((vector_size(V * 4), aligned(4)));
  constexpr int NR = 2 * V, MR = MRof<V>;
  vec acc[MR][2];
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = vec{};
  for (int64_t k = 0; k < kc; k++) {
    vec b0, b1;
    std::memcpy(&b0, Bp + k * NR, sizeof(vec));
    std::memcpy(&b1, Bp + k * NR + V, sizeof(vec));
    for (int r = 0; r < MR; r++) {
      // a splat (x − 0 is x for every x, so no add is emitted; 0 + x is not, for x = −0)
      const vec a = Ap[k * MR + r] - vec{};
      acc[r][0] += a * b0;
      acc[r][1] += a * b1;
    }
  }
  if (rows == MR && cols == NR) {
    for (int r = 0; r < MR; r++) {
      vec c0, c1;
      std::memcpy(&c0, C + r * ldc, sizeof(vec));
      std::memcpy(&c1, C + r * ldc + V, sizeof(vec));
      c0 += alpha * acc[r][0];
      c1 += alpha * acc[r][1];
      std::memcpy(C + r * ldc, &c0, sizeof(vec));
      std::memcpy(C + r * ldc + V, &c1, sizeof(vec));
    }
  } else {
    float tile[MR][NR];
    for (int r = 0; r < MR; r++) {
      std::memcpy(tile[r], &acc[r][0], sizeof(vec));
      std::memcpy(tile[r] + V, &acc[r][1], sizeof(vec));
    }
    for (int r = 0; r < rows; r++)
      for (int c = 0; c < cols; c++) C[r * ldc + c] += alpha * tile[r][c];
  }
}

struct GemmArgs {
  bool ta, tb;
  int64_t M, N, K;
  float alpha;
  const float *A, *B;
  float* C;
};

inline float opA(const GemmArgs& g, int64_t i, int64_t k) { return g.ta ? g.A[k * g.M + i] : g.A[i * g.K + k]; }
inline float opB(const GemmArgs& g, int64_t k, int64_t j) { return g.tb ? g.B[j * g.K + k] : g.B[k * g.N + j]; }

// One KC slice of K for row-blocks [ib0, ib1) and B panels [jp0, jp1) (packed): packs A locally. Serial.
template <int V>
inline __attribute__((always_inline)) void gemmSliceT(const GemmArgs& g, int64_t pc, int64_t kc, const float* Bp,
                                                      int64_t ib0, int64_t ib1, int64_t jp0, int64_t jp1, float* Ap) {
  constexpr int NR = 2 * V, MR = MRof<V>;
  for (int64_t ib = ib0; ib < ib1; ib++) {
    const int64_t i0 = ib * MR;
    const int rows = int(std::min<int64_t>(MR, g.M - i0));
    // as for B: the edge, transposed and plain cases each in their own loops
    if (rows < MR)
      for (int64_t k = 0; k < kc; k++)
        for (int r = 0; r < MR; r++) Ap[k * MR + r] = r < rows ? opA(g, i0 + r, pc + k) : 0.f;
    else if (g.ta)
      for (int64_t k = 0; k < kc; k++) std::memcpy(Ap + k * MR, g.A + (pc + k) * g.M + i0, MR * sizeof(float));
    else
      for (int r = 0; r < MR; r++) {
        const float* src = g.A + (i0 + r) * g.K + pc;
        for (int64_t k = 0; k < kc; k++) Ap[k * MR + r] = src[k];
      }
    for (int64_t jp = jp0; jp < jp1; jp++) {
      const int64_t j0 = jp * NR;
      const int cols = int(std::min<int64_t>(NR, g.N - j0));
      microTile<V>(kc, Ap, Bp + jp * KC * NR, g.C + i0 * g.N + j0, g.N, rows, cols, g.alpha);
    }
  }
}

template <int V>
inline __attribute__((always_inline)) void packBT(const GemmArgs& g, int64_t pc, int64_t kc, float* Bp, int64_t jp) {
  constexpr int NR = 2 * V;
  const int64_t j0 = jp * NR;
  const int cols = int(std::min<int64_t>(NR, g.N - j0));
  float* dst = Bp + jp * KC * NR;
  // each case with its own loops (the transpose flag and the edge test inside one loop kept it scalar and made the
  // packing of a wide, transposed B as slow as the product)
  if (cols < NR)
    for (int64_t k = 0; k < kc; k++)
      for (int c = 0; c < NR; c++) dst[k * NR + c] = c < cols ? opB(g, pc + k, j0 + c) : 0.f;
  else if (!g.tb)
    for (int64_t k = 0; k < kc; k++) std::memcpy(dst + k * NR, g.B + (pc + k) * g.N + j0, NR * sizeof(float));
  else
    for (int c = 0; c < NR; c++) {
      const float* src = g.B + (j0 + c) * g.K + pc;
      for (int64_t k = 0; k < kc; k++) dst[k * NR + c] = src[k];
    }
}

__attribute__((target("avx512f"))) void slice512(const GemmArgs& g, int64_t pc, int64_t kc, const float* Bp, int64_t a,
                                                 int64_t b, int64_t j0, int64_t j1, float* Ap) {
  gemmSliceT<16>(g, pc, kc, Bp, a, b, j0, j1, Ap);
}
__attribute__((target("avx2,fma"))) void slice256(const GemmArgs& g, int64_t pc, int64_t kc, const float* Bp, int64_t a,
                                                  int64_t b, int64_t j0, int64_t j1, float* Ap) {
  gemmSliceT<8>(g, pc, kc, Bp, a, b, j0, j1, Ap);
}
void slice128(const GemmArgs& g, int64_t pc, int64_t kc, const float* Bp, int64_t a, int64_t b, int64_t j0, int64_t j1,
              float* Ap) {
  gemmSliceT<4>(g, pc, kc, Bp, a, b, j0, j1, Ap);
}
void pack512(const GemmArgs& g, int64_t pc, int64_t kc, float* Bp, int64_t jp) { packBT<16>(g, pc, kc, Bp, jp); }
void pack256(const GemmArgs& g, int64_t pc, int64_t kc, float* Bp, int64_t jp) { packBT<8>(g, pc, kc, Bp, jp); }
void pack128(const GemmArgs& g, int64_t pc, int64_t kc, float* Bp, int64_t jp) { packBT<4>(g, pc, kc, Bp, jp); }

struct Kernel {
  int V, MR;
  void (*slice)(const GemmArgs&, int64_t, int64_t, const float*, int64_t, int64_t, int64_t, int64_t, float*);
  void (*pack)(const GemmArgs&, int64_t, int64_t, float*, int64_t);
};

const Kernel& kernel() {
  static const Kernel k = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return Kernel{16, MRof<16>, slice512, pack512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Kernel{8, MRof<8>, slice256, pack256};
    return Kernel{4, MRof<4>, slice128, pack128};
  }();
  return k;
}

thread_local AlignedBuf tlA, tlB;
AlignedBuf sharedB;

void scaleC(float* C, int64_t n, float beta) {
  if (beta == 1.f) return;
  if (beta == 0.f) std::memset(C, 0, n * sizeof(float));
  else
    for (int64_t i = 0; i < n; i++) C[i] *= beta;
}

// B is packed and consumed in chunks of NCP panels (KC × NCP·NR floats: 512 KB with AVX-512), so the panels a row
// block runs over stay in L2 instead of streaming the whole KC × N slice from memory for every row block.
constexpr int64_t NCP = 16;

// Serial GEMM for use inside an already-parallel region (conv over images).
void gemmSerial(const GemmArgs& g, float beta) {
  scaleC(g.C, g.M * g.N, beta);
  const Kernel& kr = kernel();
  const int64_t NR = 2 * kr.V, nPanels = (g.N + NR - 1) / NR, nIb = (g.M + kr.MR - 1) / kr.MR;
  float* Bp = tlB.get(size_t(nPanels * KC * NR));
  float* Ap = tlA.get(size_t(KC * kr.MR));
  for (int64_t pc = 0; pc < g.K; pc += KC) {
    const int64_t kc = std::min(KC, g.K - pc);
    for (int64_t c0 = 0; c0 < nPanels; c0 += NCP) {
      const int64_t c1 = std::min(nPanels, c0 + NCP);
      for (int64_t jp = c0; jp < c1; jp++) kr.pack(g, pc, kc, Bp, jp);
      kr.slice(g, pc, kc, Bp, 0, nIb, c0, c1, Ap);
    }
  }
}

// Each chunk is packed by all threads, then split among them by panels when there are enough (every thread packs
// its own copy of A's rows, a small cost) so that few row blocks (M = 128 is 11) do not leave a thread idle, else
// by row blocks.
void gemmParallel(const GemmArgs& g, float beta) {
  scaleC(g.C, g.M * g.N, beta);
  const Kernel& kr = kernel();
  const int64_t NR = 2 * kr.V, nPanels = (g.N + NR - 1) / NR, nIb = (g.M + kr.MR - 1) / kr.MR;
  float* Bp = sharedB.get(size_t(nPanels * KC * NR));
#pragma omp parallel
  {
    float* Ap = tlA.get(size_t(KC * kr.MR));
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
    auto share = [&](int64_t n, int64_t& a, int64_t& b) {
      const int64_t per = (n + nt - 1) / nt;
      a = std::min(n, t * per);
      b = std::min(n, (t + 1) * per);
    };
    for (int64_t pc = 0; pc < g.K; pc += KC) {
      const int64_t kc = std::min(KC, g.K - pc);
      for (int64_t c0 = 0; c0 < nPanels; c0 += NCP) {
        const int64_t c1 = std::min(nPanels, c0 + NCP);
#pragma omp for schedule(static)
        for (int64_t jp = c0; jp < c1; jp++) kr.pack(g, pc, kc, Bp, jp);
        int64_t a, b;
        if (c1 - c0 >= 2 * nt) {
          share(c1 - c0, a, b);
          kr.slice(g, pc, kc, Bp, 0, nIb, c0 + a, c0 + b, Ap);
        } else {
          share(nIb, a, b);
          kr.slice(g, pc, kc, Bp, a, b, c0, c1, Ap);
        }
#pragma omp barrier
      }
    }
  }
}

void im2col(const ConvP& p, const float* x, int64_t c0, float* col) {
  const int64_t cg = p.c / p.groups, ohw = p.oh * p.ow;
  int64_t row = 0;
  for (int64_t ci = 0; ci < cg; ci++) {
    const float* plane = x + (c0 + ci) * p.h * p.w;
    for (int64_t r = 0; r < p.kh; r++)
      for (int64_t s = 0; s < p.kw; s++, row++) {
        float* o = col + row * ohw;
        for (int64_t oy = 0; oy < p.oh; oy++, o += p.ow) {
          const int64_t iy = oy * p.sh - p.ph + r;
          if (iy < 0 || iy >= p.h) {
            std::fill(o, o + p.ow, 0.f);
            continue;
          }
          const float* xr = plane + iy * p.w;
          for (int64_t ox = 0; ox < p.ow; ox++) {
            const int64_t ix = ox * p.sw - p.pw + s;
            o[ox] = ix >= 0 && ix < p.w ? xr[ix] : 0.f;
          }
        }
      }
  }
}

void col2im(const ConvP& p, const float* col, int64_t c0, float* dx) {
  const int64_t cg = p.c / p.groups, ohw = p.oh * p.ow;
  int64_t row = 0;
  for (int64_t ci = 0; ci < cg; ci++) {
    float* plane = dx + (c0 + ci) * p.h * p.w;
    for (int64_t r = 0; r < p.kh; r++)
      for (int64_t s = 0; s < p.kw; s++, row++) {
        const float* o = col + row * ohw;
        for (int64_t oy = 0; oy < p.oh; oy++, o += p.ow) {
          const int64_t iy = oy * p.sh - p.ph + r;
          if (iy < 0 || iy >= p.h) continue;
          float* xr = plane + iy * p.w;
          for (int64_t ox = 0; ox < p.ow; ox++) {
            const int64_t ix = ox * p.sw - p.pw + s;
            if (ix >= 0 && ix < p.w) xr[ix] += o[ox];
          }
        }
      }
  }
}

thread_local AlignedBuf tlCol, tlDw, tlPad;

// ---- direct convolution (stride 1, one group): the forward pass without im2col ----
// The image is copied once into a zero-padded scratch whose rows are long enough for whole vectors, so the inner
// loop needs no bounds. A tile is NK output channels × R output rows × one vector of output pixels: NK·R independent
// sums stay in registers while the loop runs over input channels and taps, and each step loads R input vectors and
// NK weights (splatted from memory) for NK·R FMAs — enough independent sums to cover the FMA latency on both ports.
// The weights of each block of NK channels are packed [c][r][s][NK] so a step's weights are adjacent.
template <int V>
constexpr int NKof = V == 16 ? 8 : 4;  // 8 × 3 sums of 32 AVX-512 registers, 4 × 3 of 16 otherwise
constexpr int RT = 3;

template <int V, int NK, int R>
inline __attribute__((always_inline)) void directConvTile(const ConvP& p, const float* wpk, const float* b, float* y,
                                                         int64_t k0, int64_t oy, const float* xp, int64_t Hp, int64_t Wp) {
  typedef float vec __attribute__((vector_size(V * 4), aligned(4)));
  const int64_t ohw = p.oh * p.ow;
  for (int64_t ox0 = 0; ox0 < p.ow; ox0 += V) {
    vec acc[NK][R];
    for (int j = 0; j < NK; j++)
      for (int i = 0; i < R; i++) acc[j][i] = vec{};
    for (int64_t c = 0; c < p.c; c++) {
      for (int64_t r = 0; r < p.kh; r++) {
        const float* xr = xp + (c * Hp + oy + r) * Wp + ox0;
        const float* wr = wpk + (c * p.kh + r) * p.kw * NK;
        for (int64_t s = 0; s < p.kw; s++) {
          vec xv[R];
          for (int i = 0; i < R; i++) std::memcpy(&xv[i], xr + i * Wp + s, sizeof(vec));
          for (int j = 0; j < NK; j++) {
            const vec wv = wr[s * NK + j] - vec{};  // a splat (see microTile)
            for (int i = 0; i < R; i++) acc[j][i] += wv * xv[i];
          }
        }
      }
    }
    const int cols = int(std::min<int64_t>(V, p.ow - ox0));
    for (int j = 0; j < NK; j++) {
      const float bias = b ? b[k0 + j] : 0.f;
      for (int i = 0; i < R; i++) {
        float out[V];
        std::memcpy(out, &acc[j][i], sizeof(vec));
        float* yr = y + (k0 + j) * ohw + (oy + i) * p.ow + ox0;
        for (int l = 0; l < cols; l++) yr[l] = out[l] + bias;
      }
    }
  }
}

template <int V, int NK>
inline __attribute__((always_inline)) void directConvRows(const ConvP& p, const float* wpk, const float* b, float* y,
                                                         int64_t k0, const float* xp, int64_t Hp, int64_t Wp) {
  int64_t oy = 0;
  for (; oy + RT <= p.oh; oy += RT) directConvTile<V, NK, RT>(p, wpk, b, y, k0, oy, xp, Hp, Wp);
  for (; oy < p.oh; oy++) directConvTile<V, NK, 1>(p, wpk, b, y, k0, oy, xp, Hp, Wp);
}

// All output channels of one image, from its padded copy xp. wpk: the packed weights of the full NK-channel blocks;
// the remaining channels (K % NK) use the plain weights, which are their own packing for NK = 1.
template <int V>
inline __attribute__((always_inline)) void directConvImage(const ConvP& p, const float* w, const float* wpk, const float* b,
                                                          float* y, const float* xp, int64_t Hp, int64_t Wp) {
  constexpr int NK = NKof<V>;
  const int64_t wstride = p.c * p.kh * p.kw, full = p.k / NK * NK;
  for (int64_t k0 = 0; k0 < full; k0 += NK) directConvRows<V, NK>(p, wpk + k0 * wstride, b, y, k0, xp, Hp, Wp);
  for (int64_t k0 = full; k0 < p.k; k0++) directConvRows<V, 1>(p, w + k0 * wstride, b, y, k0, xp, Hp, Wp);
}

__attribute__((target("avx512f"))) void directConv512(const ConvP& p, const float* w, const float* wpk, const float* b,
                                                      float* y, const float* xp, int64_t Hp, int64_t Wp) {
  directConvImage<16>(p, w, wpk, b, y, xp, Hp, Wp);
}
__attribute__((target("avx2,fma"))) void directConv256(const ConvP& p, const float* w, const float* wpk, const float* b,
                                                       float* y, const float* xp, int64_t Hp, int64_t Wp) {
  directConvImage<8>(p, w, wpk, b, y, xp, Hp, Wp);
}
void directConv128(const ConvP& p, const float* w, const float* wpk, const float* b, float* y, const float* xp, int64_t Hp,
                   int64_t Wp) {
  directConvImage<4>(p, w, wpk, b, y, xp, Hp, Wp);
}

bool directEligible(const ConvP& p) { return p.sh == 1 && p.sw == 1 && p.groups == 1; }

// C planes of h x w into zero-filled planes of Hp x Wp, offset by (ph, pw); a negative offset crops.
void padPlanes(const float* in, int64_t C, int64_t h, int64_t w, int64_t ph, int64_t pw, float* out, int64_t Hp, int64_t Wp) {
  std::fill(out, out + C * Hp * Wp, 0.f);
  const int64_t x0 = std::max<int64_t>(0, -pw), x1 = std::min<int64_t>(w, Wp - pw);
  if (x1 <= x0) return;
  for (int64_t c = 0; c < C; c++)
    for (int64_t iy = 0; iy < h; iy++) {
      const int64_t py = iy + ph;
      if (py < 0 || py >= Hp) continue;
      std::memcpy(out + (c * Hp + py) * Wp + x0 + pw, in + (c * h + iy) * w + x0, size_t(x1 - x0) * sizeof(float));
    }
}

void directConvForward(const ConvP& p, const float* x, const float* w, const float* b, float* y) {
  const int V = kernel().V;
  auto fn = V == 16 ? directConv512 : V == 8 ? directConv256 : directConv128;
  // weights of each full block of NK output channels as [c][r][s][NK]
  const int64_t NK = V == 16 ? NKof<16> : NKof<8>, taps = p.kh * p.kw, wstride = p.c * taps;
  std::vector<float> wpk(size_t(p.k / NK * NK * wstride));
  for (int64_t k0 = 0; k0 + NK <= p.k; k0 += NK)
    for (int64_t t = 0; t < wstride; t++)
      for (int64_t j = 0; j < NK; j++) wpk[size_t(k0 * wstride + t * NK + j)] = w[(k0 + j) * wstride + t];
  // padded input: rows cover every vector of output pixels plus the taps to its right
  const int64_t Hp = p.oh + p.kh - 1;
  const int64_t owr = (p.ow + V - 1) / V * V;
  const int64_t Wp = owr + p.kw - 1;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p.n; n++) {
    float* xp = tlPad.get(size_t(p.c * Hp * Wp));
    padPlanes(x + n * p.c * p.h * p.w, p.c, p.h, p.w, p.ph, p.pw, xp, Hp, Wp);
    fn(p, w, wpk.data(), b, y + n * p.k * p.oh * p.ow, xp, Hp, Wp);
  }
}

// ---- direct weight gradient (stride 1, one group, 3 x 3): dw[k][c][r][s] = sum over images and output pixels of
// dy[k][oy][ox] * xpad[c][oy + r][ox + s]. Vectorised over output channels: dy is transposed per image to
// pixel-major rows of Kp channels (K rounded up to the vector width, zero-padded), and for one vector of output
// channels and CC input channels the CC·9 tap sums stay in registers over a whole image; each pixel loads one dy
// vector and splats each input value straight from memory into its FMA. No unaligned vector loads (the input is
// read one value at a time), no reduction across lanes: the lanes are output channels. Between images the sums are
// kept in a per-thread buffer vacc[c][tap][Kp].
template <int V>
constexpr int CCof = V == 16 ? 3 : 1;  // 27 sums of 32 AVX-512 registers, 9 of 16 otherwise

template <int V, int CC>
inline __attribute__((always_inline)) void directDwTile(const ConvP& p, const float* dyT, int64_t Kp, int64_t kb,
                                                       const float* xp, int64_t Hp, int64_t Wp, int64_t c0, float* vacc) {
  typedef float vec __attribute__((vector_size(V * 4), aligned(4)));
  constexpr int TAPS = 9;
  const int64_t plane = Hp * Wp;
  vec acc[CC][TAPS];
  for (int cc = 0; cc < CC; cc++)
    for (int t = 0; t < TAPS; t++) std::memcpy(&acc[cc][t], vacc + ((c0 + cc) * TAPS + t) * Kp + kb, sizeof(vec));
  for (int64_t oy = 0; oy < p.oh; oy++) {
    // one base pointer per input row, indexed by the pixel: the taps are immediate offsets from it
    const float* rows[CC][3];
    for (int cc = 0; cc < CC; cc++)
      for (int r = 0; r < 3; r++) rows[cc][r] = xp + (c0 + cc) * plane + (oy + r) * Wp;
    const float* g = dyT + oy * p.ow * Kp + kb;
    for (int64_t ox = 0; ox < p.ow; ox++, g += Kp) {
      vec gv;
      std::memcpy(&gv, g, sizeof(vec));
      for (int cc = 0; cc < CC; cc++)
        for (int r = 0; r < 3; r++)
          for (int s = 0; s < 3; s++) acc[cc][r * 3 + s] += (rows[cc][r][ox + s] - vec{}) * gv;  // a splat
    }
  }
  for (int cc = 0; cc < CC; cc++)
    for (int t = 0; t < TAPS; t++) std::memcpy(vacc + ((c0 + cc) * TAPS + t) * Kp + kb, &acc[cc][t], sizeof(vec));
}

template <int V>
inline __attribute__((always_inline)) void directDwImage(const ConvP& p, const float* dyT, int64_t Kp, const float* xp,
                                                        int64_t Hp, int64_t Wp, float* vacc) {
  constexpr int CC = CCof<V>;
  for (int64_t kb = 0; kb < Kp; kb += V) {
    int64_t c0 = 0;
    for (; c0 + CC <= p.c; c0 += CC) directDwTile<V, CC>(p, dyT, Kp, kb, xp, Hp, Wp, c0, vacc);
    for (; c0 < p.c; c0++) directDwTile<V, 1>(p, dyT, Kp, kb, xp, Hp, Wp, c0, vacc);
  }
}
// GCC's predictive commoning would carry the input values shared by neighbouring pixels through stack slots and
// broadcast them on the shuffle port; splatting each from memory into its FMA is the point of this kernel.
#define SC_DW_ATTRS __attribute__((optimize("no-predictive-commoning")))
SC_DW_ATTRS __attribute__((target("avx512f"))) void directDw512(const ConvP& p, const float* dyT, int64_t Kp, const float* xp, int64_t Hp,
                                                    int64_t Wp, float* vacc) {
  directDwImage<16>(p, dyT, Kp, xp, Hp, Wp, vacc);
}
SC_DW_ATTRS __attribute__((target("avx2,fma"))) void directDw256(const ConvP& p, const float* dyT, int64_t Kp, const float* xp, int64_t Hp,
                                                     int64_t Wp, float* vacc) {
  directDwImage<8>(p, dyT, Kp, xp, Hp, Wp, vacc);
}
SC_DW_ATTRS void directDw128(const ConvP& p, const float* dyT, int64_t Kp, const float* xp, int64_t Hp, int64_t Wp, float* vacc) {
  directDwImage<4>(p, dyT, Kp, xp, Hp, Wp, vacc);
}

thread_local AlignedBuf tlDyT;

bool directDwEligible(const ConvP& p) { return directEligible(p) && p.kh == 3 && p.kw == 3; }

// dw only (db is summed by the caller); each thread accumulates its images into a private vacc, summed afterwards.
void directConvBackwardWeights(const ConvP& p, const float* x, const float* dy, float* dw) {
  const int V = kernel().V;
  auto fn = V == 16 ? directDw512 : V == 8 ? directDw256 : directDw128;
  const int64_t Hp = p.oh + p.kh - 1, Wp = p.ow + p.kw - 1, P = p.oh * p.ow;
  const int64_t Kp = (p.k + V - 1) / V * V, taps = p.kh * p.kw;
  const int64_t vsz = p.c * taps * Kp;
  const int nt = omp_get_max_threads();
  std::vector<float*> partial(size_t(nt), nullptr);
#pragma omp parallel
  {
    float* mine = tlDw.get(size_t(vsz));
    std::fill(mine, mine + vsz, 0.f);
    partial[size_t(omp_get_thread_num())] = mine;
    float* xp = tlPad.get(size_t(p.c * Hp * Wp));
    float* dyT = tlDyT.get(size_t(P * Kp));
    std::fill(dyT, dyT + P * Kp, 0.f);  // the padding channels stay zero
#pragma omp for schedule(static)
    for (int64_t n = 0; n < p.n; n++) {
      padPlanes(x + n * p.c * p.h * p.w, p.c, p.h, p.w, p.ph, p.pw, xp, Hp, Wp);
      const float* dyn = dy + n * p.k * P;
      for (int64_t q = 0; q < P; q++)  // contiguous writes; the K reads are K sequential streams
        for (int64_t k = 0; k < p.k; k++) dyT[q * Kp + k] = dyn[k * P + q];
      fn(p, dyT, Kp, xp, Hp, Wp, mine);
    }
  }
  for (int64_t k = 0; k < p.k; k++)
    for (int64_t c = 0; c < p.c; c++)
      for (int64_t t = 0; t < taps; t++) {
        float sum = 0.f;
        for (float* part : partial)
          if (part) sum += part[(c * taps + t) * Kp + k];
        dw[(k * p.c + c) * taps + t] = sum;
      }
}

}  // namespace

const char* denseLibrary() { return "fallback kernels"; }
bool denseIsDnnl() { return false; }

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, const float* B, float beta,
          float* C) {
  GemmArgs g{ta, tb, M, N, K, alpha, A, B, C};
  if (M * N * K < (1 << 18) || omp_get_max_threads() == 1) gemmSerial(g, beta);
  else gemmParallel(g, beta);
}

namespace {
void convForwardPlain(const ConvP& p, const float* x, const float* w, const float* b, float* y) {
  if (conv1Eligible(p)) return conv1Forward(p, x, w, b, y);
  if (directEligible(p)) return directConvForward(p, x, w, b, y);
  const int64_t cg = p.c / p.groups, kg = p.k / p.groups, ckk = cg * p.kh * p.kw, ohw = p.oh * p.ow;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t n = 0; n < p.n; n++) {
    float* col = tlCol.get(size_t(ckk * ohw));
    for (int64_t g = 0; g < p.groups; g++) {
      im2col(p, x + n * p.c * p.h * p.w, g * cg, col);
      gemmSerial(GemmArgs{false, false, kg, ohw, ckk, 1.f, w + g * kg * ckk, col, y + (n * p.k + g * kg) * ohw}, 0.f);
    }
    if (b)
      for (int64_t o = 0; o < p.k; o++) {
        float* yp = y + (n * p.k + o) * ohw;
        for (int64_t i = 0; i < ohw; i++) yp[i] += b[o];
      }
  }
}

void convBackwardDataPlain(const ConvP& p, const float* dy, const float* w, float* dx) {
  if (directEligible(p)) {
    // at stride 1, dx is a direct convolution of dy with the weights transposed (in <-> out) and flipped, padded by
    // k - 1 - pad (a negative pad crops, which the padded copy does by skipping rows and columns)
    ConvP q{p.n, p.k, p.oh, p.ow, p.c, p.kh, p.kw, 1, 1, p.kh - 1 - p.ph, p.kw - 1 - p.pw, 1, p.h, p.w};
    std::vector<float> wt(size_t(p.c * p.k * p.kh * p.kw));
    for (int64_t k = 0; k < p.k; k++)
      for (int64_t c = 0; c < p.c; c++)
        for (int64_t r = 0; r < p.kh; r++)
          for (int64_t s = 0; s < p.kw; s++)
            wt[((c * p.k + k) * p.kh + (p.kh - 1 - r)) * p.kw + (p.kw - 1 - s)] = w[((k * p.c + c) * p.kh + r) * p.kw + s];
    directConvForward(q, dy, wt.data(), nullptr, dx);
    return;
  }
  const int64_t cg = p.c / p.groups, kg = p.k / p.groups, ckk = cg * p.kh * p.kw, ohw = p.oh * p.ow;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t n = 0; n < p.n; n++) {
    float* col = tlCol.get(size_t(ckk * ohw));
    float* dxn = dx + n * p.c * p.h * p.w;
    std::fill(dxn, dxn + p.c * p.h * p.w, 0.f);
    for (int64_t g = 0; g < p.groups; g++) {
      gemmSerial(GemmArgs{true, false, ckk, ohw, kg, 1.f, w + g * kg * ckk, dy + (n * p.k + g * kg) * ohw, col}, 0.f);
      col2im(p, col, g * cg, dxn);
    }
  }
}

// dw = sum over images of dy_n · im2col(x_n)^T; each thread accumulates its images into a private dw, summed afterwards.
void im2colBackwardWeights(const ConvP& p, const float* x, const float* dy, float* dw) {
  const int64_t cg = p.c / p.groups, kg = p.k / p.groups, ckk = cg * p.kh * p.kw, ohw = p.oh * p.ow;
  const int64_t wsz = p.k * ckk;
  const int nt = omp_get_max_threads();
  std::vector<float*> partial(size_t(nt), nullptr);
  std::fill(dw, dw + wsz, 0.f);
#pragma omp parallel
  {
    float* mine = tlDw.get(size_t(wsz));
    std::fill(mine, mine + wsz, 0.f);
    partial[size_t(omp_get_thread_num())] = mine;
    float* col = tlCol.get(size_t(ckk * ohw));
#pragma omp for schedule(dynamic, 1)
    for (int64_t n = 0; n < p.n; n++)
      for (int64_t g = 0; g < p.groups; g++) {
        im2col(p, x + n * p.c * p.h * p.w, g * cg, col);
        gemmSerial(GemmArgs{false, true, kg, ckk, ohw, 1.f, dy + (n * p.k + g * kg) * ohw, col, mine + g * kg * ckk}, 1.f);
      }
  }
  for (float* part : partial)
    if (part)
      for (int64_t i = 0; i < wsz; i++) dw[i] += part[i];
}

void convBackwardWeightsPlain(const ConvP& p, const float* x, const float* dy, float* dw, float* db) {
  if (conv1Eligible(p)) return conv1BackwardWeights(p, x, dy, dw, db);
  const int64_t ohw = p.oh * p.ow;
  if (directDwEligible(p)) directConvBackwardWeights(p, x, dy, dw);
  else im2colBackwardWeights(p, x, dy, dw);
  if (db)
    for (int64_t o = 0; o < p.k; o++) {
      double acc = 0;
      for (int64_t n = 0; n < p.n; n++) {
        const float* g = dy + (n * p.k + o) * ohw;
        for (int64_t i = 0; i < ohw; i++) acc += g[i];
      }
      db[o] = float(acc);
    }
}

}  // namespace

// The fallback kernels work on plain NCHW: blocked activations are staged through plain buffers.
int convLayouts(const ConvP&, bool) { return 0; }

// The plain kernels see params without layout flags (the first-layer kernels would otherwise write blocked16 into
// the staging buffer themselves).
static ConvP plainParams(const ConvP& p) {
  ConvP q = p;
  q.xb = q.yb = false;
  return q;
}

void convForward(const ConvP& p, const float* x, const float* w, const float* b, float* y) {
  Staged sx, sy;
  float* yy = sy.out(y, p.yb, p.n, p.k, p.oh * p.ow);
  convForwardPlain(plainParams(p), sx.in(x, p.xb, p.n, p.c, p.h * p.w), w, b, yy);
  sy.finish(y, p.yb, p.n, p.k, p.oh * p.ow);
}

void convBackwardData(const ConvP& p, const float* dy, const float* w, float* dx) {
  Staged sdy, sdx;
  float* dxx = sdx.out(dx, p.xb, p.n, p.c, p.h * p.w);
  convBackwardDataPlain(plainParams(p), sdy.in(dy, p.yb, p.n, p.k, p.oh * p.ow), w, dxx);
  sdx.finish(dx, p.xb, p.n, p.c, p.h * p.w);
}

void convBackwardWeights(const ConvP& p, const float* x, const float* dy, float* dw, float* db) {
  Staged sx, sdy;
  convBackwardWeightsPlain(plainParams(p), sx.in(x, p.xb, p.n, p.c, p.h * p.w), sdy.in(dy, p.yb, p.n, p.k, p.oh * p.ow), dw, db);
}

void convBackward(const ConvP& p, const float* x, const float* dy, const float* w, float* dx, float* dw, float* db) {
  Staged sx, sdy, sdx;
  const float* xp = sx.in(x, p.xb && dw, p.n, p.c, p.h * p.w);
  const float* dyp = sdy.in(dy, p.yb, p.n, p.k, p.oh * p.ow);
  if (dx) {
    float* dxx = sdx.out(dx, p.xb, p.n, p.c, p.h * p.w);
    convBackwardDataPlain(plainParams(p), dyp, w, dxx);
    sdx.finish(dx, p.xb, p.n, p.c, p.h * p.w);
  }
  if (dw) convBackwardWeightsPlain(plainParams(p), xp, dyp, dw, db);
}

}  // namespace spikecut
