// 3x3 convolution (stride 1, padding 1) by Winograd's minimal filtering F(2x2, 3x3) on nChw16c activations.
//
// Why: a direct 3x3 conv spends 36 multiply-adds per 2x2 output tile and channel pair; F(2x2, 3x3) spends 16, plus
// transforms that cost per channel, not per channel pair. oneDNN 2.6's direct kernel already runs at the FP32 peak
// on the 32-channel layers of the SNN models, and its own Winograd (jit_wino_4x3) was not faster on them (measured),
// so the remaining speed is in doing fewer multiplications with transforms kept in L1.
//
// Per image and chunk of up to 12 tiles (so that the transformed tiles V and the products M stay in L1):
//   V[xi][tile][c] = (B^T d B)[xi]              input transform, 16 channels per vector
//   M[xi][tile][k] = sum_c V[xi][tile][c] U[xi][c][k]   16 small GEMMs (register-blocked: 12 tiles x 32 outputs)
//   y[tile] = A^T M A (+ bias)                   output transform, written to nChw16c
// with U = G g G^T the transformed weights. The backward pass for x is the same computation with the weights
// flipped and their in/out channels swapped. The weight gradient stays on oneDNN: its transpose F(3x3, 2x2) was
// written and measured at parity with oneDNN's direct kernel (0.93-1.05x on the vgg-small shapes), so not kept. Rounding differs from a direct conv by a few ulps of the transform
// sums (the test bound is the one the oneDNN kernels meet: 1e-4 relative to the output's scale).
#include <immintrin.h>
#include <omp.h>
#include <cstdlib>
#include <cstring>
#include <vector>
#include "common.h"

namespace spikecut {
namespace {

constexpr int kTiles = 12;  // tiles per chunk = rows of the GEMM register block

bool& enabledFlag() {
  static bool on = [] {
    const char* e = std::getenv("SPIKECUT_WINOGRAD");
    return !(e && (std::strcmp(e, "0") == 0 || std::strcmp(e, "off") == 0));
  }();
  return on;
}

// U[xi][c][k] (xi = 4i + j) of weights w[k][c][3][3]; flipped: the weights of the backward pass for x, i.e. a conv
// from k channels to c channels with w'[c][k][a][b] = w[k][c][2-a][2-b] (then U is indexed [xi][k][c]).
void transformWeights(const float* w, int64_t K, int64_t C, bool flipped, float* U) {
  const int64_t in = flipped ? K : C, out = flipped ? C : K;
  for (int64_t k = 0; k < K; k++)
    for (int64_t c = 0; c < C; c++) {
      const float* src = w + (k * C + c) * 9;
      float g[3][3];
      for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) g[a][b] = flipped ? src[(2 - a) * 3 + (2 - b)] : src[a * 3 + b];
      float t[4][3];
      for (int b = 0; b < 3; b++) {
        t[0][b] = g[0][b];
        t[1][b] = 0.5f * (g[0][b] + g[1][b] + g[2][b]);
        t[2][b] = 0.5f * (g[0][b] - g[1][b] + g[2][b]);
        t[3][b] = g[2][b];
      }
      const int64_t row = flipped ? k : c, col = flipped ? c : k;
      for (int i = 0; i < 4; i++) {
        const float u[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]), 0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
        for (int j = 0; j < 4; j++) U[((i * 4 + j) * in + row) * out + col] = u[j];
      }
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

// One 4x4 input tile of 16 channels (rows Wp*16 floats apart in the padded image) -> 16 transformed vectors, xiStride
// floats apart in V.
__attribute__((target("avx512f"))) inline void inputTile(const float* base, int64_t Wp, float* V, int64_t xiStride) {
  __m512 d[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) d[i][j] = _mm512_loadu_ps(base + (i * Wp + j) * 16);
  __m512 t[4][4];
  for (int j = 0; j < 4; j++) {
    t[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
    t[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
    t[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
    t[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
  }
  for (int i = 0; i < 4; i++) {
    _mm512_storeu_ps(V + (i * 4 + 0) * xiStride, _mm512_sub_ps(t[i][0], t[i][2]));
    _mm512_storeu_ps(V + (i * 4 + 1) * xiStride, _mm512_add_ps(t[i][1], t[i][2]));
    _mm512_storeu_ps(V + (i * 4 + 2) * xiStride, _mm512_sub_ps(t[i][2], t[i][1]));
    _mm512_storeu_ps(V + (i * 4 + 3) * xiStride, _mm512_sub_ps(t[i][1], t[i][3]));
  }
}

// 16 products of one tile and 16 output channels -> the 2x2 outputs (+ bias), clipped at the image's edge.
__attribute__((target("avx512f"))) inline void outputTile(const float* M, int64_t xiStride, __m512 bias, float* y,
                                                          int64_t OW, int64_t rowsLeft, int64_t colsLeft) {
  __m512 m[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) m[i][j] = _mm512_loadu_ps(M + (i * 4 + j) * xiStride);
  __m512 t[2][4];
  for (int j = 0; j < 4; j++) {
    t[0][j] = _mm512_add_ps(_mm512_add_ps(m[0][j], m[1][j]), m[2][j]);
    t[1][j] = _mm512_sub_ps(_mm512_sub_ps(m[1][j], m[2][j]), m[3][j]);
  }
  for (int i = 0; i < 2 && i < rowsLeft; i++) {
    _mm512_storeu_ps(y + i * OW * 16, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(t[i][0], t[i][1]), t[i][2]), bias));
    if (colsLeft > 1)
      _mm512_storeu_ps(y + (i * OW + 1) * 16, _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(t[i][1], t[i][2]), t[i][3]), bias));
  }
}

struct Scratch {
  std::vector<float> padded, V, M;
};

// y[n][K/16][H][W][16] = conv3x3(x[n][C/16][H][W][16], U) (+ bias); U from transformWeights.
__attribute__((target("avx512f"))) void winograd(const float* x, const float* U, const float* bias, float* y, int64_t N,
                                                 int64_t C, int64_t H, int64_t W, int64_t K) {
  const int64_t th = (H + 1) / 2, tw = (W + 1) / 2, T = th * tw;
  const int64_t Hp = 2 * th + 2, Wp = 2 * tw + 2, CB = C / 16, KB = K / 16;
  const int64_t chunks = (T + kTiles - 1) / kTiles;
  const GemmFn gemm2 = gemmFor<2>(C), gemm1 = gemmFor<1>(C);
  const int64_t vStride = kTiles * C, mStride = kTiles * K;  // floats between consecutive xi in V and M
#pragma omp parallel
  {
    static thread_local Scratch s;
    // the zero border of the padded image is written here, the interior per image below
    s.padded.assign(CB * Hp * Wp * 16, 0.f);
    if (s.V.size() < size_t(16 * vStride)) s.V.resize(16 * vStride);
    if (s.M.size() < size_t(16 * mStride)) s.M.resize(16 * mStride);
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
            inputTile(P + ((cb * Hp + 2 * ty) * Wp + 2 * tx) * 16, Wp, V + r * C + cb * 16, vStride);
        }
        for (int xi = 0; xi < 16; xi++) {
          int64_t kb = 0;
          for (; kb + 2 <= KB; kb += 2)
            gemm2(int(rows), V + xi * vStride, U + xi * C * K + kb * 16, K, M + xi * mStride + kb * 16, K);
          if (kb < KB) gemm1(int(rows), V + xi * vStride, U + xi * C * K + kb * 16, K, M + xi * mStride + kb * 16, K);
        }
        for (int64_t r = 0; r < rows; r++) {
          const int64_t ty = (t0 + r) / tw, tx = (t0 + r) % tw;
          for (int64_t kb = 0; kb < KB; kb++) {
            const __m512 b = bias ? _mm512_loadu_ps(bias + kb * 16) : _mm512_setzero_ps();
            float* out = y + (((n * KB + kb) * H + 2 * ty) * W + 2 * tx) * 16;
            outputTile(M + r * K + kb * 16, mStride, b, out, W, H - 2 * ty, W - 2 * tx);
          }
        }
      }
    }
  }
}

std::vector<float>& weightScratch() {
  static std::vector<float> u;
  return u;
}

}  // namespace

void setWinograd(bool on) { enabledFlag() = on; }
bool winogradEnabled() { return enabledFlag(); }

bool winogradEligible(const ConvP& p) {
  return enabledFlag() && haveAvx512() && p.kh == 3 && p.kw == 3 && p.sh == 1 && p.sw == 1 && p.ph == 1 && p.pw == 1 &&
         p.groups == 1 && p.oh == p.h && p.ow == p.w && p.c % 16 == 0 && p.k % 16 == 0 && supportedChannels(p.c) &&
         supportedChannels(p.k) && p.xb && p.yb;
}

void winogradForward(const ConvP& p, const float* x, const float* w, const float* b, float* y) {
  std::vector<float>& U = weightScratch();
  U.resize(16 * p.c * p.k);
  transformWeights(w, p.k, p.c, false, U.data());
  winograd(x, U.data(), b, y, p.n, p.c, p.h, p.w, p.k);
}

void winogradBackwardData(const ConvP& p, const float* dy, const float* w, float* dx) {
  std::vector<float>& U = weightScratch();
  U.resize(16 * p.c * p.k);
  transformWeights(w, p.k, p.c, true, U.data());
  winograd(dy, U.data(), nullptr, dx, p.n, p.k, p.h, p.w, p.c);
}

}  // namespace spikecut
