// 3x3 convolution (stride 1, padding 1) by Winograd's minimal filtering F(2x2, 3x3) (or F(4x4, 3x3)) on nChw16c
// activations, for the forward pass and the gradient of the input.
//
// Why: a direct 3x3 conv spends 9 multiply-adds per output and channel pair; F(4x4, 3x3) spends 36 per 4x4 tile
// (2.25 per output) and F(2x2, 3x3) 16 per 2x2 tile (4 per output), plus transforms that cost per channel, not per
// channel pair. oneDNN 2.6's direct kernel runs at the FP32 peak on these layers and its own Winograd (jit_wino_4x3)
// was not faster on them (measured), so the remaining speed is in doing fewer multiplications with the transformed
// tiles kept in L1.
//
// Per image and chunk of tiles (12 for 2x2, 6 for 4x4, so that a chunk's transformed tiles V and products M stay
// in L1 and fill the GEMM's register block), with alpha = tile + 2:
//   V[xi][tile][c] = (B^T d B)[xi]                          input transform, 16 channels per vector
//   M[xi][tile][k] = sum_c V[xi][tile][c] U[xi][c][k]       alpha^2 small GEMMs (register-blocked: tiles x 32)
//   y[tile] = A^T M A (+ bias)                              output transform, written to nChw16c
// with U = G g G^T the transformed weights. The backward pass for x is the same computation with the weights
// flipped and their in/out channels swapped. The weight gradient stays on oneDNN: its transpose F(3x3, 2x2) was
// written and measured at parity with oneDNN's direct kernel (0.93-1.05x on the vgg-small shapes), so not kept.
// Rounding differs from a direct conv (norm-relative error against the TypeScript reference: 1-2.4e-6
// for 4x4, 3.5e-7 for 2x2, 3e-7 for oneDNN's direct kernel).
#include <immintrin.h>
#include <omp.h>
#include <cstdlib>
#include <cstring>
#include <vector>
#include "common.h"

namespace spikecut {
namespace {

// Off by default: on vgg-small it changed whole training steps by 0.96-1.07x (in-process A/B), within the host's
// noise, while it does change the rounding (and so the trajectory) of training. SPIKECUT_WINOGRAD=1 turns it on.
bool& enabledFlag() {
  static bool on = [] {
    const char* e = std::getenv("SPIKECUT_WINOGRAD");
    return e && (std::strcmp(e, "1") == 0 || std::strcmp(e, "on") == 0);
  }();
  return on;
}

// Winograd's matrices for the two tile sizes: G (alpha x 3) transforms weights; B^T and A^T are written out in
// inputRow / outputRow below. F(2x2, 3x3): alpha = 4, points 0, 1, -1, inf; F(4x4, 3x3): alpha = 6, points 0, +-1,
// +-2, inf (Lavin & Gray 2016).
const double kG2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
const double kG4[6][3] = {{1 / 4., 0, 0},          {-1 / 6., -1 / 6., -1 / 6.}, {-1 / 6., 1 / 6., -1 / 6.},
                          {1 / 24., 1 / 12., 1 / 6.}, {1 / 24., -1 / 12., 1 / 6.}, {0, 0, 1}};

// U[xi][c][k] = (G g G^T)[xi] (xi = alpha*i + j) of weights w[k][c][3][3], in double and rounded once; flipped: the
// weights of the backward pass for x, a conv from k channels to c channels with w'[c][k][a][b] = w[k][c][2-a][2-b]
// (then U is indexed [xi][k][c]).
template <int A>
void transformWeights(const float* w, int64_t K, int64_t C, bool flipped, float* U) {
  const double(*G)[3] = A == 4 ? kG2 : kG4;
  const int64_t in = flipped ? K : C, out = flipped ? C : K;
  for (int64_t k = 0; k < K; k++)
    for (int64_t c = 0; c < C; c++) {
      const float* src = w + (k * C + c) * 9;
      double g[3][3];
      for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) g[a][b] = flipped ? src[(2 - a) * 3 + (2 - b)] : src[a * 3 + b];
      double t[A][3];
      for (int i = 0; i < A; i++)
        for (int b = 0; b < 3; b++) t[i][b] = G[i][0] * g[0][b] + G[i][1] * g[1][b] + G[i][2] * g[2][b];
      const int64_t row = flipped ? k : c, col = flipped ? c : k;
      for (int i = 0; i < A; i++)
        for (int j = 0; j < A; j++)
          U[((i * A + j) * in + row) * out + col] = float(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
    }
}

// M[r][0..16*KB) = sum_c V[r][c] U[c][0..16*KB) for R rows; V rows are LDV floats apart (LDV = input channels).
template <int R, int KB, int LDV>
__attribute__((target("avx512f"), always_inline)) inline void gemmBlock(const float* V, const float* U, int64_t ldu,
                                                                       float* M, int64_t ldm) {
  __m512 acc[R][KB];
  for (int r = 0; r < R; r++)
    for (int j = 0; j < KB; j++) acc[r][j] = _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int c = 0; c < LDV; c++) {
    __m512 u[KB];
    for (int j = 0; j < KB; j++) u[j] = _mm512_loadu_ps(U + c * ldu + 16 * j);
    for (int r = 0; r < R; r++) {
      const __m512 v = _mm512_set1_ps(V[r * LDV + c]);
      for (int j = 0; j < KB; j++) acc[r][j] = _mm512_fmadd_ps(v, u[j], acc[r][j]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int j = 0; j < KB; j++) _mm512_storeu_ps(M + r * ldm + 16 * j, acc[r][j]);
}

template <int KB, int LDV>
__attribute__((target("avx512f"))) void gemmRows(int rows, const float* V, const float* U, int64_t ldu, float* M,
                                                 int64_t ldm) {
  switch (rows) {
#define ROWS(n) \
  case n: gemmBlock<n, KB, LDV>(V, U, ldu, M, ldm); break;
    ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7) ROWS(8) ROWS(9) ROWS(10) ROWS(11) ROWS(12)
#undef ROWS
    default: break;
  }
}

using GemmFn = void (*)(int, const float*, const float*, int64_t, float*, int64_t);

template <int KB>
GemmFn gemmFor(int64_t ldv) {
  switch (ldv) {
    case 16: return gemmRows<KB, 16>;
    case 32: return gemmRows<KB, 32>;
    case 48: return gemmRows<KB, 48>;
    case 64: return gemmRows<KB, 64>;
    case 96: return gemmRows<KB, 96>;
    case 128: return gemmRows<KB, 128>;
    case 192: return gemmRows<KB, 192>;
    case 256: return gemmRows<KB, 256>;
    default: return nullptr;
  }
}

bool supportedChannels(int64_t c) { return gemmFor<2>(c) != nullptr; }

// B^T applied to one row of alpha vectors.
template <int A>
__attribute__((target("avx512f"), always_inline)) inline void inputRow(const __m512* d, __m512* v) {
  if constexpr (A == 4) {
    v[0] = _mm512_sub_ps(d[0], d[2]);
    v[1] = _mm512_add_ps(d[1], d[2]);
    v[2] = _mm512_sub_ps(d[2], d[1]);
    v[3] = _mm512_sub_ps(d[1], d[3]);
  } else {
    const __m512 two = _mm512_set1_ps(2.f), four = _mm512_set1_ps(4.f), five = _mm512_set1_ps(5.f);
    const __m512 d4m2 = _mm512_sub_ps(d[4], d[2]), d3m1 = _mm512_sub_ps(d[3], d[1]);
    v[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
    v[1] = _mm512_fnmadd_ps(four, _mm512_add_ps(d[1], d[2]), _mm512_add_ps(d[3], d[4]));
    v[2] = _mm512_fmadd_ps(four, _mm512_sub_ps(d[1], d[2]), _mm512_sub_ps(d[4], d[3]));
    v[3] = _mm512_fmadd_ps(two, d3m1, d4m2);
    v[4] = _mm512_fnmadd_ps(two, d3m1, d4m2);
    v[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
  }
}

// A^T applied to one row of alpha vectors: alpha - 2 outputs.
template <int A>
__attribute__((target("avx512f"), always_inline)) inline void outputRow(const __m512* m, __m512* o) {
  if constexpr (A == 4) {
    o[0] = _mm512_add_ps(_mm512_add_ps(m[0], m[1]), m[2]);
    o[1] = _mm512_sub_ps(_mm512_sub_ps(m[1], m[2]), m[3]);
  } else {
    const __m512 two = _mm512_set1_ps(2.f), four = _mm512_set1_ps(4.f), eight = _mm512_set1_ps(8.f);
    const __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
    const __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
    o[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
    o[1] = _mm512_fmadd_ps(two, d34, d12);
    o[2] = _mm512_fmadd_ps(four, s34, s12);
    o[3] = _mm512_add_ps(_mm512_fmadd_ps(eight, d34, d12), m[5]);
  }
}

// One alpha x alpha input tile of 16 channels (rows Wp*16 floats apart in the padded image) -> B^T d B, alpha^2
// vectors xiStride floats apart in V.
template <int A>
__attribute__((target("avx512f"))) inline void inputTile(const float* base, int64_t Wp, float* V, int64_t xiStride) {
  __m512 t[A][A];
  for (int j = 0; j < A; j++) {
    __m512 d[A], v[A];
    for (int i = 0; i < A; i++) d[i] = _mm512_loadu_ps(base + (i * Wp + j) * 16);
    inputRow<A>(d, v);
    for (int i = 0; i < A; i++) t[i][j] = v[i];
  }
  for (int i = 0; i < A; i++) {
    __m512 v[A];
    inputRow<A>(t[i], v);
    for (int j = 0; j < A; j++) _mm512_storeu_ps(V + (i * A + j) * xiStride, v[j]);
  }
}

// alpha^2 products of one tile and 16 output channels -> the (alpha-2)^2 outputs (+ bias), clipped at the image's edge.
template <int A>
__attribute__((target("avx512f"))) inline void outputTile(const float* M, int64_t xiStride, __m512 bias, float* y,
                                                          int64_t OW, int64_t rowsLeft, int64_t colsLeft) {
  constexpr int m = A - 2;
  __m512 t[m][A];
  for (int j = 0; j < A; j++) {
    __m512 col[A], o[m];
    for (int i = 0; i < A; i++) col[i] = _mm512_loadu_ps(M + (i * A + j) * xiStride);
    outputRow<A>(col, o);
    for (int i = 0; i < m; i++) t[i][j] = o[i];
  }
  for (int i = 0; i < m && i < rowsLeft; i++) {
    __m512 o[m];
    outputRow<A>(t[i], o);
    for (int j = 0; j < m && j < colsLeft; j++) _mm512_storeu_ps(y + (i * OW + j) * 16, _mm512_add_ps(o[j], bias));
  }
}

struct Scratch {
  std::vector<float> padded, V, M;
};

// y[n][K/16][H][W][16] = conv3x3(x[n][C/16][H][W][16], U) (+ bias); U from transformWeights<A>.
template <int A>
__attribute__((target("avx512f"))) void winograd(const float* x, const float* U, const float* bias, float* y, int64_t N,
                                                 int64_t C, int64_t H, int64_t W, int64_t K) {
  constexpr int m = A - 2, XI = A * A;
  // tiles per chunk: the transformed tiles and products of a chunk stay in L1 (and fill the GEMM's register block)
  constexpr int64_t tiles = A == 4 ? 12 : 6;
  const int64_t th = (H + m - 1) / m, tw = (W + m - 1) / m, T = th * tw;
  const int64_t Hp = m * th + 2, Wp = m * tw + 2, CB = C / 16, KB = K / 16;
  const int64_t chunks = (T + tiles - 1) / tiles;
  const GemmFn gemm2 = gemmFor<2>(C), gemm1 = gemmFor<1>(C);
  const int64_t vStride = tiles * C, mStride = tiles * K;  // floats between consecutive xi in V and M
#pragma omp parallel
  {
    static thread_local Scratch s;
    // the zero border of the padded image is written here, the interior per image below
    s.padded.assign(CB * Hp * Wp * 16, 0.f);
    if (s.V.size() < size_t(XI * vStride)) s.V.resize(XI * vStride);
    if (s.M.size() < size_t(XI * mStride)) s.M.resize(XI * mStride);
    float* P = s.padded.data();
    float* V = s.V.data();
    float* M = s.M.data();
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; n++) {
      for (int64_t cb = 0; cb < CB; cb++)
        for (int64_t h = 0; h < H; h++)
          std::memcpy(P + ((cb * Hp + h + 1) * Wp + 1) * 16, x + (((n * CB + cb) * H + h) * W) * 16, W * 16 * sizeof(float));
      for (int64_t ch = 0; ch < chunks; ch++) {
        const int64_t t0 = T * ch / chunks, rows = T * (ch + 1) / chunks - t0;
        for (int64_t r = 0; r < rows; r++) {
          const int64_t ty = (t0 + r) / tw, tx = (t0 + r) % tw;
          for (int64_t cb = 0; cb < CB; cb++)
            inputTile<A>(P + ((cb * Hp + m * ty) * Wp + m * tx) * 16, Wp, V + r * C + cb * 16, vStride);
        }
        for (int xi = 0; xi < XI; xi++) {
          int64_t kb = 0;
          for (; kb + 2 <= KB; kb += 2)
            gemm2(int(rows), V + xi * vStride, U + xi * C * K + kb * 16, K, M + xi * mStride + kb * 16, K);
          if (kb < KB) gemm1(int(rows), V + xi * vStride, U + xi * C * K + kb * 16, K, M + xi * mStride + kb * 16, K);
        }
        for (int64_t r = 0; r < rows; r++) {
          const int64_t ty = (t0 + r) / tw, tx = (t0 + r) % tw;
          for (int64_t kb = 0; kb < KB; kb++) {
            const __m512 b = bias ? _mm512_loadu_ps(bias + kb * 16) : _mm512_setzero_ps();
            float* out = y + (((n * KB + kb) * H + m * ty) * W + m * tx) * 16;
            outputTile<A>(M + r * K + kb * 16, mStride, b, out, W, H - m * ty, W - m * tx);
          }
        }
      }
    }
  }
}

// Output tile edge: 2 for F(2x2, 3x3) (default: its rounding is as close to the reference as a direct conv's,
// norm-relative error 3.5e-7 against oneDNN's 2.9e-7, and in a chained quadratic loss the same 1e-4-level gradient
// differences); 4 for F(4x4, 3x3) (SPIKECUT_WINOGRAD_TILE=4 or setWinogradTile(4): 2.25 instead of 4 products per
// output, measured 1.0-1.4x faster than 2x2 and 1.7x faster than oneDNN's direct kernel at 28x28, but ~10x the
// rounding error: 6.8e-5 elementwise on that loss's output against 7e-6).
int& tileSize() {
  static int m = [] {
    const char* e = std::getenv("SPIKECUT_WINOGRAD_TILE");
    return e && std::strcmp(e, "4") == 0 ? 4 : 2;
  }();
  return m;
}

std::vector<float>& weightScratch() {
  static std::vector<float> u;
  return u;
}

}  // namespace

void setWinograd(bool on) { enabledFlag() = on; }
void setWinogradTile(int m) { tileSize() = m == 4 ? 4 : 2; }
int winogradTile() { return tileSize(); }
bool winogradEnabled() { return enabledFlag(); }

// Where it pays (in-process A/B against oneDNN's direct kernel, forward and dx, 64 images): 28x28 with 32 or 64
// channels 1.4-1.7x faster, 14x14 0.9-1.4x (direct wins when the host is quiet, Winograd when it is loaded), 7x7 and
// 16-channel layers slower (too few tiles or too short a GEMM per tile for the transforms to amortise).
bool winogradEligible(const ConvP& p) {
  return enabledFlag() && haveAvx512() && p.kh == 3 && p.kw == 3 && p.sh == 1 && p.sw == 1 && p.ph == 1 && p.pw == 1 &&
         p.groups == 1 && p.oh == p.h && p.ow == p.w && p.h >= 12 && p.w >= 12 && p.c >= 32 && p.k >= 32 &&
         p.c % 16 == 0 && p.k % 16 == 0 && supportedChannels(p.c) && supportedChannels(p.k) && p.xb && p.yb;
}

namespace {
// out = conv3x3(in) with cin -> cout channels; flipped: the backward pass for x of a conv cout -> cin (weights w of it)
void run(const ConvP& p, const float* in, const float* w, const float* b, float* out, bool flipped) {
  std::vector<float>& U = weightScratch();
  const int64_t cin = flipped ? p.k : p.c, cout = flipped ? p.c : p.k;
  if (tileSize() == 4) {
    U.resize(36 * p.c * p.k);
    transformWeights<6>(w, p.k, p.c, flipped, U.data());
    winograd<6>(in, U.data(), b, out, p.n, cin, p.h, p.w, cout);
  } else {
    U.resize(16 * p.c * p.k);
    transformWeights<4>(w, p.k, p.c, flipped, U.data());
    winograd<4>(in, U.data(), b, out, p.n, cin, p.h, p.w, cout);
  }
}
}  // namespace

void winogradForward(const ConvP& p, const float* x, const float* w, const float* b, float* y) { run(p, x, w, b, y, false); }

void winogradBackwardData(const ConvP& p, const float* dy, const float* w, float* dx) { run(p, dy, w, nullptr, dx, true); }

}  // namespace spikecut
