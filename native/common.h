// Shared declarations between the N-API bindings (addon.cc) and the compute files.
#pragma once
#include <cstdint>
#include <cstddef>
#include <initializer_list>
#include <vector>

namespace spikecut {

struct ConvP {
  int64_t n, c, h, w, k, kh, kw, sh, sw, ph, pw, groups, oh, ow;
  // the caller's x / dx (xb) and y / dy (yb) are stored nChw16c instead of NCHW
  bool xb = false, yb = false;
};

// plain [N, C, S] <-> blocked [N, C/16, S, 16]; toBlocked selects the direction. C % 16 == 0. (layout.cc)
struct Reorder16Job {
  const float* in;
  float* out;
  int64_t n, c, s;
  bool toBlocked;
};
bool haveAvx512();

// A blocked caller buffer for a kernel that works on plain NCHW: in() gives a plain copy, out() a plain buffer whose
// contents finish() reorders into the caller's blocked one. Non-blocked buffers pass through untouched.
struct Staged {
  std::vector<float> buf;
  const float* in(const float* p, bool blocked, int64_t n, int64_t c, int64_t s);
  float* out(float* p, bool blocked, int64_t n, int64_t c, int64_t s);
  void finish(float* p, bool blocked, int64_t n, int64_t c, int64_t s);
};
// Several reorders in one parallel region (one wake-up of the workers); at most 4 jobs.
void reorder16(std::initializer_list<Reorder16Job> jobs);
void reorder16(const float* in, float* out, int64_t N, int64_t C, int64_t S, bool toBlocked);

struct PoolP {
  int64_t n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
  bool countIncludePad;
  bool blocked = false;  // x and y stored [N, C/16, H, W, 16] (average pooling only)
};

struct NeuronP {
  int64_t T, M;
  float theta, tau, v0, sgParam;
  bool hard;
  int sg;
};

// Dense kernels: dense_dnnl.cc (oneDNN) or dense_fallback.cc (own kernels); exactly one is linked.
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, const float* B, float beta, float* C);
void convForward(const ConvP& p, const float* x, const float* w, const float* b, float* y);
void convBackwardData(const ConvP& p, const float* dy, const float* w, float* dx);
void convBackwardWeights(const ConvP& p, const float* x, const float* dy, float* dw, float* db);
// dx and/or dw may be null (not wanted); db may be null.
void convBackward(const ConvP& p, const float* x, const float* dy, const float* w, float* dx, float* dw, float* db);
// Which conv activations the dense back end reads / writes nChw16c itself: bit 0 x (and dx), bit 1 y (and dy).
// Arguments flagged blocked that it does not take natively are staged through plain buffers.
int convLayouts(const ConvP& p, bool bias);
const char* denseLibrary();  // "oneDNN 2.6.3" or "fallback kernels"
bool denseIsDnnl();

// Own loops (kernels.cc).
// Direct NCHW convolution for one input channel at stride 1 (first layers), used by both dense back ends.
bool conv1Eligible(const ConvP& p);
// 3x3 / stride 1 / padding 1 convs with blocked16 activations by Winograd F(2x2, 3x3) (winograd.cc; dnnl build)
bool winogradEligible(const ConvP& p);
void winogradForward(const ConvP& p, const float* x, const float* w, const float* b, float* y);
void winogradBackwardData(const ConvP& p, const float* dy, const float* w, float* dx);
void setWinograd(bool on);
void setWinogradTile(int m);
bool winogradEnabled();
int winogradTile();
void conv1Forward(const ConvP& p, const float* x, const float* w, const float* b, float* y);
void conv1BackwardWeights(const ConvP& p, const float* x, const float* dy, float* dw, float* db);
void maxPoolForward(const PoolP& p, const float* x, float* y, int32_t* am);
void maxPoolBackward(const PoolP& p, const float* dy, const int32_t* am, float* dx);
void avgPoolForward(const PoolP& p, const float* x, float* y);
void avgPoolBackward(const PoolP& p, const float* dy, float* dx);
void bnTrainForward(const float* x, int64_t N, int64_t C, int64_t S, const float* gamma, const float* beta, float eps,
                    float* y, float* mean, float* invStd, const float* blockScale, int64_t T, bool blocked);
void bnBackward(const float* x, const float* dy, int64_t N, int64_t C, int64_t S, const float* gamma, const float* mean,
                const float* invStd, float* dx, float* dgamma, float* dbeta, const float* beta, const float* blockScale,
                int64_t T, float* dBlockScale, bool blocked);
void channelAffine(const float* x, int64_t N, int64_t C, int64_t S, const float* scale, const float* shift, float* y,
                   bool blocked);
void neuronForward(const NeuronP& p, const float* x, float* s, float* u, float* h);
void neuronBackward(const NeuronP& p, const float* gS, const float* gU, const float* h, const float* s, float* dx);
void add(const float* a, const float* b, float* o, int64_t n);
void mul(const float* a, const float* b, float* o, int64_t n);
void axpby(const float* a, float alpha, const float* b, float beta, float* o, int64_t n);
void relu(const float* a, float* o, int64_t n);
// offset: added to every (plain) index. C > 0: m is stored blocked16 with C channels and S spatial elements (the bits still follow the plain index).
void dropoutMask(float* m, int64_t n, double p, uint32_t seed, int64_t C = 0, int64_t S = 0, uint32_t offset = 0);
// u may be null (membrane not wanted); scale/shift (C channels, S elements per channel plane) fold an eval batch norm
// into the input, or are null.
// rowScale (null, or one per row of C*S elements, with scale/shift) multiplies each row's affine-mapped input: a TEBN
// (batch norm, then p_t of the row's step) folded into the step.
// fresh (null, or one flag per row of rowLen elements): rows whose state starts over at v0 with this step.
void neuronStep(const float* x, float* v, float* s, float* u, float* o, int64_t n, float th, float tau, bool hard, float sc,
                const float* scale, const float* shift, const float* rowScale, int64_t C, int64_t S, bool blocked,
                const uint8_t* fresh, int64_t rowLen, float v0);
void thresholdActForward(const float* x, float* y, int64_t n, float lam, int L);
double thresholdActBackward(const float* x, const float* g, float* dx, int64_t n, float lam, int L);
void reluBackward(const float* a, const float* g, float* o, int64_t n);
double sum(const float* a, int64_t n);
double dot(const float* a, const float* b, int64_t n);
// Per row of x ([rows, D]): its sum and (w not null) its dot product with w, in float64, one thread per row.
void rowSums(const float* x, int64_t rows, int64_t D, const float* w, double* sums, double* dots);
// out row r = x row r * scales[r]; out may be x.
void scaleRows(const float* x, int64_t rows, int64_t D, const float* scales, float* out);
// RCS-ANN statistic (spec §4.1): per sample of F features, Σ relu(x)², and the max of relu(x) with its first index.
void rcsAnnForward(const float* x, int64_t N, int64_t F, double* sumSq, float* rowMax, int32_t* rowArg);
// RCS-SNN statistic (spec §4.2) over rows of D features, row (t, b) at (t*B + b)*D; see backend.ts for the formulas.
void rcsSnnForward(const float* s, const float* u, int64_t T, int64_t B, int64_t D, int64_t K, float invTheta, float* rbar,
                   float* dot, float* normR, float* normRbar);
void rcsSnnBackward(const float* s, const float* u, const float* rbar, int64_t T, int64_t B, int64_t D, float invTheta,
                    const float* a, const float* c, float* ds, float* du);
void sgdStep(float* p, const float* g, float* buf, int64_t n, float lr, float momentum, float wd, bool nesterov, bool first);
void adamStep(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps, float wd,
              double step, bool decoupled);

// Machine (measure.cc).
const char* isaName();  // best ISA the CPU supports: avx512_core / avx2 / sse41 / baseline
int threads();
void initThreads();
double measurePeakGflops();
double measureBandwidth();

}  // namespace spikecut
