// The layout reorder shared by both dense back ends: plain NCHW <-> nChw16c ("blocked16" in TypeScript).
#include <immintrin.h>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include "common.h"

namespace spikecut {
namespace {

// ---- NCHW <-> nChw16c reorders ----
// oneDNN's reorder for these runs at ~10 GB/s on the activation shapes here (a 51 MB tensor took 8 ms): a 16x16
// register transpose per tile of 16 channels x 16 pixels, parallel over (image, channel block), moves the same
// data at several times that.
// gcc 12 flags the _mm512_undefined_ps() inside its own unpack intrinsics
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) inline void transpose16(const float* src, int64_t ss, float* dst, int64_t ds, bool stream) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + i * ss);
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // r[4i+k] now holds, in its 128-bit lane L, column 4L+k of rows 4i..4i+3
  for (int k = 0; k < 4; k++) {
    const __m512 a = _mm512_shuffle_f32x4(r[k], r[4 + k], 0x44);
    const __m512 b = _mm512_shuffle_f32x4(r[k], r[4 + k], 0xee);
    const __m512 c = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0x44);
    const __m512 d = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0xee);
    t[k] = _mm512_shuffle_f32x4(a, c, 0x88);
    t[4 + k] = _mm512_shuffle_f32x4(a, c, 0xdd);
    t[8 + k] = _mm512_shuffle_f32x4(b, d, 0x88);
    t[12 + k] = _mm512_shuffle_f32x4(b, d, 0xdd);
  }
  if (stream)
    for (int j = 0; j < 16; j++) _mm512_stream_ps(dst + j * ds, t[j]);
  else
    for (int j = 0; j < 16; j++) _mm512_storeu_ps(dst + j * ds, t[j]);
}
#pragma GCC diagnostic pop

}  // namespace

bool haveAvx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}


// Destinations larger than this go around the caches (non-temporal stores): they cannot stay cached anyway, and
// skipping the read-for-ownership of every destination line cuts a third of the memory traffic.
constexpr int64_t kStreamBytes = int64_t(16) << 20;

namespace {
void reorder16Tile(const Reorder16Job& j, int64_t n, int64_t cb, bool simd) {
  const int64_t C = j.c, S = j.s, CB = C / 16;
  const int64_t plainOff = (n * C + cb * 16) * S, blockOff = (n * CB + cb) * S * 16;
  int64_t s0 = 0;
  if (simd) {
    // streaming stores need 64-byte aligned rows
    const float* rowBase = j.toBlocked ? j.out + blockOff : j.out + plainOff;
    const bool aligned = (reinterpret_cast<uintptr_t>(rowBase) % 64 == 0) && (j.toBlocked || (S * 4) % 64 == 0);
    const bool stream = aligned && j.n * j.c * j.s * 4 >= kStreamBytes;
    for (; s0 + 16 <= S; s0 += 16) {
      if (j.toBlocked) transpose16(j.in + plainOff + s0, S, j.out + blockOff + s0 * 16, 16, stream);
      else transpose16(j.in + blockOff + s0 * 16, 16, j.out + plainOff + s0, S, stream);
    }
  }
  for (int64_t s = s0; s < S; s++)
    for (int64_t c = 0; c < 16; c++) {
      if (j.toBlocked) j.out[blockOff + s * 16 + c] = j.in[plainOff + c * S + s];
      else j.out[plainOff + c * S + s] = j.in[blockOff + s * 16 + c];
    }
}

}  // namespace

// Several reorders in one parallel region: each region costs a wake-up of the sleeping OpenMP workers.
void reorder16(std::initializer_list<Reorder16Job> jobs) {
  const bool simd = haveAvx512();
  constexpr size_t kMaxJobs = 4;
  if (jobs.size() > kMaxJobs) throw std::logic_error("reorder16: more jobs than kMaxJobs");
  Reorder16Job js[kMaxJobs];
  int64_t start[kMaxJobs + 1] = {0, 0, 0, 0, 0};
  int nj = 0;
  for (const auto& j : jobs) {
    js[nj] = j;
    start[nj + 1] = start[nj] + j.n * (j.c / 16);
    nj++;
  }
  const int64_t total = start[nj];
#pragma omp parallel
  {
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < total; i++) {
      int k = 0;
      while (i >= start[k + 1]) k++;
      const int64_t local = i - start[k], cbs = js[k].c / 16;
      reorder16Tile(js[k], local / cbs, local % cbs, simd);
    }
    // non-temporal stores are weakly ordered: fence them before the region's closing barrier
    if (simd) _mm_sfence();
  }
}

void reorder16(const float* in, float* out, int64_t N, int64_t C, int64_t S, bool toBlocked) {
  if (N == 0 || C == 0 || S == 0) return;
  reorder16({Reorder16Job{in, out, N, C, S, toBlocked}});
}


const float* Staged::in(const float* p, bool blocked, int64_t n, int64_t c, int64_t s) {
  if (!blocked) return p;
  buf.resize(size_t(n * c * s));
  reorder16(p, buf.data(), n, c, s, false);
  return buf.data();
}
float* Staged::out(float* p, bool blocked, int64_t n, int64_t c, int64_t s) {
  if (!blocked) return p;
  buf.resize(size_t(n * c * s));
  return buf.data();
}
void Staged::finish(float* p, bool blocked, int64_t n, int64_t c, int64_t s) {
  if (blocked) reorder16(buf.data(), p, n, c, s, true);
}

}  // namespace spikecut
