// Machine facts for the bench and info(): ISA, thread count, FMA peak and copy bandwidth, measured here.
#include <immintrin.h>
#include <omp.h>
#include <pthread.h>
#include <csignal>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>
#include "common.h"

namespace spikecut {

static int gThreads = 2;

void initThreads() {
  // Two threads by default: the target machines have 2 vCPUs shared with the Node main thread's own work.
  int t = 2;
  if (const char* e = std::getenv("SPIKECUT_THREADS")) {
    const int v = std::atoi(e);
    if (v > 0 && v <= 1024) t = v;
  }
  gThreads = t;
  omp_set_num_threads(t);
  // Start the OpenMP workers with the asynchronous signals blocked (threads inherit the creator's mask), so a
  // process-directed signal is never handled on a worker while it runs a oneDNN kernel; the main thread keeps
  // handling them.
  sigset_t all, old;
  sigfillset(&all);
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigdelset(&all, s);
  pthread_sigmask(SIG_BLOCK, &all, &old);
#pragma omp parallel
  { (void)omp_get_thread_num(); }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

int threads() { return gThreads; }

const char* isaName() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    return "avx512_core";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  if (__builtin_cpu_supports("sse4.1")) return "sse41";
  return "baseline";
}

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// 24 independent FMA chains cover latency (4) x ports (2) with room to spare.
__attribute__((target("avx512f"))) double fmaLoop512(int64_t iters) {
  __m512 acc[24];
#pragma GCC unroll 24
  for (int i = 0; i < 24; i++) acc[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 24; i++) s = _mm512_add_ps(s, acc[i]);
  float out[16];
  _mm512_storeu_ps(out, s);
  return double(iters) * 24 * 16 * 2 + out[0] * 0.0;
}

__attribute__((target("avx2,fma"))) double fmaLoop256(int64_t iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps(float(i) * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return double(iters) * 12 * 8 * 2 + out[0] * 0.0;
}

double fmaLoopBase(int64_t iters) {
  float acc[32];
  for (int i = 0; i < 32; i++) acc[i] = float(i) * 1e-3f;
  for (int64_t it = 0; it < iters; it++) {
#pragma omp simd
    for (int i = 0; i < 32; i++) acc[i] = acc[i] * 0.999999f + 1e-7f;
  }
  float s = 0;
  for (int i = 0; i < 32; i++) s += acc[i];
  return double(iters) * 32 * 2 + s * 0.0;
}

}  // namespace

double measurePeakGflops() {
  const char* isa = isaName();
  double (*loop)(int64_t) = std::strcmp(isa, "avx512_core") == 0 ? fmaLoop512
                            : std::strcmp(isa, "avx2") == 0       ? fmaLoop256
                                                                  : fmaLoopBase;
  const int64_t iters = 2'000'000;
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    double flops = 0;
    const double t0 = now();
#pragma omp parallel reduction(+ : flops)
    flops += loop(iters);
    const double dt = now() - t0;
    best = std::max(best, flops / dt * 1e-9);
  }
  return best;
}

// Copy of a 6.4 MB tensor (the size of a [64,32,28,28] activation): bytes read + written per second.
double measureBandwidth() {
  const int64_t n = 64 * 32 * 28 * 28;
  std::vector<float> a(n, 1.f), b(n, 0.f);
  std::vector<double> times;
  for (int rep = 0; rep < 30; rep++) {
    const double t0 = now();
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < 64; c++) std::memcpy(b.data() + c * (n / 64), a.data() + c * (n / 64), n / 64 * sizeof(float));
    times.push_back(now() - t0);
  }
  std::sort(times.begin(), times.end());
  return 2.0 * n * sizeof(float) / times[times.size() / 2] * 1e-9;
}

}  // namespace spikecut
