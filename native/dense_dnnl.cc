// Dense kernels on oneDNN: sgemm, and convolution primitives with oneDNN's blocked layouts (nChw16c) inside
// each call. The JS tensors are plain NCHW, so each call reorders NCHW -> blocked on the way in and back on the
// way out where the primitive chose a blocked layout (it keeps plain nchw for 1-channel inputs). Primitives,
// reorders, blocked buffers and scratchpads are cached per shape so the hot path allocates nothing.
#include <dnnl.hpp>
#include <immintrin.h>
#include <initializer_list>
#include <map>
#include <memory>
#include <tuple>
#include <vector>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>
#include <pthread.h>
#include "common.h"

namespace spikecut {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& eng() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& strm() {
  static dnnl::stream s(eng());
  return s;
}

// oneDNN implementations built on its sgemm JIT kernels ("gemm:jit", "gemm:jit:..."; not "brg:..."), which
// move rsp into the heap while they run (see gemm() below).
bool usesSgemmKernels(const std::string& impl) {
  return impl.find("gemm") != std::string::npos && impl.find("brg") == std::string::npos;
}

// Blocks the asynchronous signals on the calling thread for its lifetime (pending ones arrive afterwards).
struct SignalBlock {
  sigset_t old;
  bool on;
  explicit SignalBlock(bool enable) : on(enable) {
    if (!on) return;
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    pthread_sigmask(SIG_BLOCK, &all, &old);
  }
  ~SignalBlock() {
    if (on) pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
};

// One activation or weight argument of a primitive: the caller's buffer (NCHW, or nChw16c when the caller's tensor
// is blocked) and, when the primitive wants another layout, a cached buffer in that layout plus the reorder.
struct Port {
  memory user, prim;
  // the primitive's layout over a caller's buffer that is already nChw16c (no copy)
  memory direct;
  dnnl::reorder re;
  bool needsReorder = false;
  // the primitive wants nChw16c: plain NCHW <-> nChw16c by reorder16 instead of oneDNN's reorder, and a caller's
  // blocked16 buffer is bound as is (`direct`)
  bool own16 = false;
  int64_t n = 0, c = 0, spatial = 0;
  // a blocked caller buffer for a primitive that does not take nChw16c goes through this plain copy
  std::vector<float> staging;
  float* outPtr = nullptr;
  bool outBlocked = false;
  void init(const memory::desc& userMd, const memory::desc& primMd, bool input) {
    user = memory(userMd, eng(), DNNL_MEMORY_NONE);
    needsReorder = userMd != primMd;
    const memory::dims d = userMd.dims();
    if (d.size() == 4) {
      n = d[0];
      c = d[1];
      spatial = d[2] * d[3];
    }
    const bool blocked16 = d.size() == 4 && d[1] % 16 == 0 && primMd == memory::desc(d, dt::f32, tag::nChw16c);
    if (needsReorder) {
      prim = memory(primMd, eng());
      if (blocked16 && userMd == memory::desc(d, dt::f32, tag::nchw)) {
        own16 = true;
        direct = memory(primMd, eng(), DNNL_MEMORY_NONE);
      } else {
        re = input ? dnnl::reorder(user, prim) : dnnl::reorder(prim, user);
      }
    } else {
      prim = user;
    }
  }
  float* stage(int64_t rows) {
    staging.resize(size_t(rows * c * spatial));
    return staging.data();
  }
  // Input: bind the caller's pointer and bring the data into the primitive's layout. rows < n: only the first rows
  // are real (the primitive runs on a padded batch).
  memory& in(const float* p, int64_t rows = -1, bool blocked = false) {
    const int64_t r = rows < 0 ? n : rows;
    if (blocked) {
      if (own16) {
        if (r == n) {
          direct.set_data_handle(const_cast<float*>(p));
          return direct;
        }
        std::memcpy(prim.get_data_handle(), p, size_t(r * c * spatial) * sizeof(float));
        return prim;
      }
      float* plain = stage(r);
      reorder16(p, plain, r, c, spatial, false);
      p = plain;
    }
    user.set_data_handle(const_cast<float*>(p));
    if (needsReorder) {
      if (own16) reorder16(p, static_cast<float*>(prim.get_data_handle()), r, c, spatial, true);
      else re.execute(strm(), user, prim);
    }
    return prim;
  }
  // Output: the primitive writes the returned memory; finish() moves it to the caller's buffer.
  memory& out(float* p, bool blocked = false, int64_t rows = -1) {
    outPtr = p;
    outBlocked = blocked;
    if (blocked) {
      if (own16) {
        if (rows < 0 || rows == n) {
          direct.set_data_handle(p);
          return direct;
        }
        return prim;
      }
      user.set_data_handle(stage(n));
      return prim;
    }
    user.set_data_handle(p);
    return prim;
  }
  void finish(int64_t rows = -1) {
    const int64_t r = rows < 0 ? n : rows;
    if (outBlocked && own16) {
      if (r != n) {
        strm().wait();
        std::memcpy(outPtr, prim.get_data_handle(), size_t(r * c * spatial) * sizeof(float));
      }
      return;
    }
    if (needsReorder) {
      if (own16) {
        strm().wait();
        reorder16(static_cast<const float*>(prim.get_data_handle()), static_cast<float*>(user.get_data_handle()), r, c, spatial, false);
      } else {
        re.execute(strm(), prim, user);
      }
    }
    if (outBlocked) {
      strm().wait();
      reorder16(staging.data(), outPtr, r, c, spatial, true);
    }
  }
};

using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                       int64_t, int64_t, int>;
Key keyOf(const ConvP& p, int flag) {
  return Key{p.n, p.c, p.h, p.w, p.k, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.groups, flag};
}

struct Geometry {
  memory::dims src, wei, dst, bias, strides, padL, padR;
  memory::desc srcUser, weiUser, dstUser, biasMd;
  memory::desc srcAny, weiAny, dstAny;
  explicit Geometry(const ConvP& p) {
    src = {p.n, p.c, p.h, p.w};
    dst = {p.n, p.k, p.oh, p.ow};
    bias = {p.k};
    const bool g = p.groups > 1;
    wei = g ? memory::dims{p.groups, p.k / p.groups, p.c / p.groups, p.kh, p.kw} : memory::dims{p.k, p.c, p.kh, p.kw};
    strides = {p.sh, p.sw};
    padL = {p.ph, p.pw};
    // Right padding that reproduces PyTorch's floor output size (never negative; oneDNN floors the same way).
    padR = {std::max<int64_t>(0, (p.oh - 1) * p.sh + p.kh - p.h - p.ph),
            std::max<int64_t>(0, (p.ow - 1) * p.sw + p.kw - p.w - p.pw)};
    srcUser = memory::desc(src, dt::f32, tag::nchw);
    dstUser = memory::desc(dst, dt::f32, tag::nchw);
    weiUser = memory::desc(wei, dt::f32, g ? tag::goihw : tag::oihw);
    biasMd = memory::desc(bias, dt::f32, tag::x);
    srcAny = memory::desc(src, dt::f32, tag::any);
    dstAny = memory::desc(dst, dt::f32, tag::any);
    weiAny = memory::desc(wei, dt::f32, tag::any);
  }
};

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

dnnl::convolution_forward::primitive_desc fwdPd(const Geometry& g, bool bias) {
  auto d = bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                                  g.srcAny, g.weiAny, g.biasMd, g.dstAny, g.strides, g.padL, g.padR)
                : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                                  g.srcAny, g.weiAny, g.dstAny, g.strides, g.padL, g.padR);
  return dnnl::convolution_forward::primitive_desc(d, userScratchpad(), eng());
}

struct FwdEntry {
  bool jitGemm = false;
  dnnl::convolution_forward prim;
  Port src, wei, dst;
  memory bias, scratch;
  bool hasBias;
};
struct BwdDataEntry {
  bool jitGemm = false;
  dnnl::convolution_backward_data prim;
  Port dy, wei, dx;
  memory scratch;
};
struct BwdWeiEntry {
  bool jitGemm = false;
  dnnl::convolution_backward_weights prim;
  Port src, dy, dw;
  memory db, scratch;
  bool hasBias;
};

std::map<Key, std::unique_ptr<FwdEntry>> fwdCache;
std::map<Key, std::unique_ptr<BwdDataEntry>> bdCache;
std::map<Key, std::unique_ptr<BwdWeiEntry>> bwCache;

FwdEntry& fwdEntry(const ConvP& p, bool bias) {
  auto& slot = fwdCache[keyOf(p, bias)];
  if (!slot) {
    Geometry g(p);
    auto pd = fwdPd(g, bias);
    auto e = std::make_unique<FwdEntry>();
    e->prim = dnnl::convolution_forward(pd);
    e->jitGemm = usesSgemmKernels(pd.impl_info_str());
    e->src.init(g.srcUser, pd.src_desc(), true);
    e->wei.init(g.weiUser, pd.weights_desc(), true);
    e->dst.init(g.dstUser, pd.dst_desc(), false);
    e->bias = memory(g.biasMd, eng(), DNNL_MEMORY_NONE);
    e->scratch = memory(pd.scratchpad_desc(), eng());
    e->hasBias = bias;
    slot = std::move(e);
  }
  return *slot;
}

BwdDataEntry& bdEntry(const ConvP& p) {
  auto& slot = bdCache[keyOf(p, 0)];
  if (!slot) {
    Geometry g(p);
    auto hint = fwdPd(g, false);
    dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, g.srcAny, g.weiAny, g.dstAny,
                                            g.strides, g.padL, g.padR);
    dnnl::convolution_backward_data::primitive_desc pd(d, userScratchpad(), eng(), hint);
    auto e = std::make_unique<BwdDataEntry>();
    e->prim = dnnl::convolution_backward_data(pd);
    e->jitGemm = usesSgemmKernels(pd.impl_info_str());
    e->dy.init(g.dstUser, pd.diff_dst_desc(), true);
    e->wei.init(g.weiUser, pd.weights_desc(), true);
    e->dx.init(g.srcUser, pd.diff_src_desc(), false);
    e->scratch = memory(pd.scratchpad_desc(), eng());
    slot = std::move(e);
  }
  return *slot;
}

BwdWeiEntry& bwEntry(const ConvP& p, bool bias) {
  auto& slot = bwCache[keyOf(p, bias)];
  if (!slot) {
    Geometry g(p);
    auto hint = fwdPd(g, bias);
    auto d = bias ? dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, g.srcAny, g.weiAny,
                                                             g.biasMd, g.dstAny, g.strides, g.padL, g.padR)
                  : dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, g.srcAny, g.weiAny,
                                                             g.dstAny, g.strides, g.padL, g.padR);
    dnnl::convolution_backward_weights::primitive_desc pd(d, userScratchpad(), eng(), hint);
    auto e = std::make_unique<BwdWeiEntry>();
    e->prim = dnnl::convolution_backward_weights(pd);
    e->jitGemm = usesSgemmKernels(pd.impl_info_str());
    e->src.init(g.srcUser, pd.src_desc(), true);
    e->dy.init(g.dstUser, pd.diff_dst_desc(), true);
    e->dw.init(g.weiUser, pd.diff_weights_desc(), false);
    e->db = memory(g.biasMd, eng(), DNNL_MEMORY_NONE);
    e->scratch = memory(pd.scratchpad_desc(), eng());
    e->hasBias = bias;
    slot = std::move(e);
  }
  return *slot;
}

}  // namespace

const char* denseLibrary() {
  static char buf[64];
  if (!buf[0]) {
    const dnnl_version_t* v = dnnl_version();
    snprintf(buf, sizeof buf, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
  }
  return buf;
}
bool denseIsDnnl() { return true; }

// GEMM through the matmul primitive, cached per (transposes, shape, alpha, beta), or dnnl_sgemm for the shapes
// preferSgemm picks. In oneDNN <= 3.11 the sgemm JIT kernels (jit_avx512_common_gemm_f32 / jit_avx_gemm_f32) point
// rsp at a heap workspace, so any signal delivered while they run (V8's SIGPROF under --cpu-prof, a profiler, a
// timer) writes its frame into the heap: glibc aborts later with "corrupted size vs. prev_size" (oneDNN issue
// #4845, fixed upstream in 3.11). The matmul primitive runs brgemm kernels that keep rsp on the stack; sgemm calls,
// and a matmul that ever picks the gemm-based implementation, run inside a SignalBlock.
namespace {
struct GemmEntry {
  dnnl::matmul prim;
  memory a, b, c, scratch;
  bool jitGemm = false;
};
using GemmKey = std::tuple<bool, bool, int64_t, int64_t, int64_t, uint32_t, uint32_t>;
std::map<GemmKey, std::unique_ptr<GemmEntry>> gemmCache;

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

GemmEntry& gemmEntry(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, float beta) {
  auto& slot = gemmCache[GemmKey{ta, tb, M, N, K, bitsOf(alpha), bitsOf(beta)}];
  if (!slot) {
    memory::desc aMd({M, K}, dt::f32, ta ? memory::dims{1, M} : memory::dims{K, 1});
    memory::desc bMd({K, N}, dt::f32, tb ? memory::dims{1, K} : memory::dims{N, 1});
    memory::desc cMd({M, N}, dt::f32, memory::dims{N, 1});
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    if (alpha != 1.f) attr.set_output_scales(0, {alpha});
    if (beta != 0.f) {
      dnnl::post_ops po;
      po.append_sum(beta);
      attr.set_post_ops(po);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(aMd, bMd, cMd), attr, eng());
    auto e = std::make_unique<GemmEntry>();
    e->prim = dnnl::matmul(pd);
    e->a = memory(aMd, eng(), DNNL_MEMORY_NONE);
    e->b = memory(bMd, eng(), DNNL_MEMORY_NONE);
    e->c = memory(cMd, eng(), DNNL_MEMORY_NONE);
    e->scratch = memory(pd.scratchpad_desc(), eng());
    e->jitGemm = usesSgemmKernels(pd.impl_info_str());
    slot = std::move(e);
  }
  return *slot;
}

}  // namespace

// oneDNN 2.6's matmul (brgemm) runs wide, short products -- many output columns, few terms each, as in a linear
// layer's backward passes -- at 140-170 GFLOP/s where its JIT sgemm reaches 190-225 (measured on this machine's
// AVX-512 Xeon, both interleaved: [128,256]x[256,3136] 1.30 vs 1.05 ms, [256,128]^T x[128,3136] 1.31 vs 1.04,
// [256,1024]^T x[1024,3136] 8.2 vs 7.3); forward-shaped products (long K, few columns) are the other way round
// ([128,3136]x[3136,256]^T 1.00 vs 1.08, 512^3 1.22 vs 1.32). A fixed rule, so a run is reproducible.
bool preferSgemm(bool ta, int64_t N, int64_t K) { return N >= 2048 && (ta || K <= 256); }

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, const float* B, float beta,
          float* C) {
  if (M == 0 || N == 0) return;
  if (preferSgemm(ta, N, K)) {
    // the sgemm kernels move rsp into the heap: no asynchronous signal may run on this thread meanwhile (the
    // OpenMP workers were started with them blocked, native/measure.cc)
    SignalBlock guard(true);
    const dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, ta ? M : K, B, tb ? K : N,
                                        beta, C, N);
    if (st != dnnl_success) throw std::runtime_error("dnnl_sgemm failed with status " + std::to_string(int(st)));
    return;
  }
  GemmEntry& e = gemmEntry(ta, tb, M, N, K, alpha, beta);
  e.a.set_data_handle(const_cast<float*>(A));
  e.b.set_data_handle(const_cast<float*>(B));
  e.c.set_data_handle(C);
  SignalBlock guard(e.jitGemm);
  e.prim.execute(strm(), {{DNNL_ARG_SRC, e.a}, {DNNL_ARG_WEIGHTS, e.b}, {DNNL_ARG_DST, e.c}, {DNNL_ARG_SCRATCHPAD, e.scratch}});
  strm().wait();
}

// Forward passes of anytime inference shrink the batch as samples stop, so every step can bring a new batch size,
// and a new oneDNN primitive (a JIT compile) per size cost more than the work saved. Batches of 16 and more run on
// a primitive for the next multiple of 16: the padded images are computed from stale rows of the blocked buffer and
// never copied out. Only when both activations go through reorder16 (which copies exactly the real rows).
int64_t paddedBatch(int64_t n) { return n < 16 ? n : (n + 15) / 16 * 16; }

int convLayouts(const ConvP& p, bool bias) {
  // the first-layer kernels write (and read dy) blocked16 themselves
  if (conv1Eligible(p)) return p.k % 16 == 0 ? 2 : 0;
  ConvP q = p;
  q.n = paddedBatch(p.n);
  FwdEntry& e = fwdEntry(q, bias);
  return (e.src.own16 ? 1 : 0) | (e.dst.own16 ? 2 : 0);
}

namespace {

void runForward(FwdEntry* e, const ConvP& p, const float* x, const float* w, const float* b, float* y) {
  const int64_t rows = p.n;
  SignalBlock guard(e->jitGemm);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e->src.in(x, rows, p.xb)},
                                       {DNNL_ARG_WEIGHTS, e->wei.in(w)},
                                       {DNNL_ARG_DST, e->dst.out(y, p.yb, rows)},
                                       {DNNL_ARG_SCRATCHPAD, e->scratch}};
  if (b) {
    e->bias.set_data_handle(const_cast<float*>(b));
    args[DNNL_ARG_BIAS] = e->bias;
  }
  e->prim.execute(strm(), args);
  e->dst.finish(rows);
  strm().wait();
}

bool inPlace16(const FwdEntry& e) { return e.src.own16 && e.dst.own16; }

}  // namespace

void convForward(const ConvP& p, const float* x, const float* w, const float* b, float* y) {
  if (conv1Eligible(p)) return conv1Forward(p, x, w, b, y);  // c == 1: x is never blocked
  if (winogradEligible(p)) return winogradForward(p, x, w, b, y);
  ConvP q = p;
  q.n = paddedBatch(p.n);
  FwdEntry* e = &fwdEntry(q, b != nullptr);
  if (q.n != p.n && p.xb && p.yb && inPlace16(*e)) {
    // Both activations are the caller's nChw16c buffers: the multiple-of-16 head of the batch and the remainder
    // (< 16 images, its own primitive) run in place. The padded primitive would copy the real rows in and out,
    // which cost anytime inference a seventh of every step at batch 117 (41 ms instead of 36 at 128).
    ConvP head = p, tail = p;
    head.n = p.n / 16 * 16;
    tail.n = p.n - head.n;
    FwdEntry* eh = &fwdEntry(head, b != nullptr);
    FwdEntry* et = &fwdEntry(tail, b != nullptr);
    if (inPlace16(*eh) && inPlace16(*et)) {
      runForward(eh, head, x, w, b, y);
      runForward(et, tail, x + head.n * p.c * p.h * p.w, w, b, y + head.n * p.k * p.oh * p.ow);
      return;
    }
  }
  if (q.n != p.n && !inPlace16(*e)) e = &fwdEntry(p, b != nullptr);
  runForward(e, p, x, w, b, y);
}

void convBackwardData(const ConvP& p, const float* dy, const float* w, float* dx) {
  if (winogradEligible(p)) return winogradBackwardData(p, dy, w, dx);
  BwdDataEntry& e = bdEntry(p);
  SignalBlock guard(e.jitGemm);
  e.prim.execute(strm(), {{DNNL_ARG_DIFF_DST, e.dy.in(dy, -1, p.yb)},
                          {DNNL_ARG_WEIGHTS, e.wei.in(w)},
                          {DNNL_ARG_DIFF_SRC, e.dx.out(dx, p.xb)},
                          {DNNL_ARG_SCRATCHPAD, e.scratch}});
  e.dx.finish();
  strm().wait();
}

void convBackwardWeights(const ConvP& p, const float* x, const float* dy, float* dw, float* db) {
  if (conv1Eligible(p)) return conv1BackwardWeights(p, x, dy, dw, db);
  BwdWeiEntry& e = bwEntry(p, db != nullptr);
  SignalBlock guard(e.jitGemm);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e.src.in(x, -1, p.xb)},
                                       {DNNL_ARG_DIFF_DST, e.dy.in(dy, -1, p.yb)},
                                       {DNNL_ARG_DIFF_WEIGHTS, e.dw.out(dw)},
                                       {DNNL_ARG_SCRATCHPAD, e.scratch}};
  if (db) {
    e.db.set_data_handle(db);
    args[DNNL_ARG_DIFF_BIAS] = e.db;
  }
  e.prim.execute(strm(), args);
  e.dw.finish();
  strm().wait();
}

// Both backward passes in one call: dy is brought into the blocked layout once for the two primitives, in the same
// parallel region as x (two reorders and a wake-up fewer than convBackwardData + convBackwardWeights); activations
// the caller already holds blocked are used where they are.
void convBackward(const ConvP& p, const float* x, const float* dy, const float* w, float* dx, float* dw, float* db) {
  if (winogradEligible(p)) {  // dx by Winograd: no blocked dy to share with the weight gradient's primitive
    if (dx) convBackwardData(p, dy, w, dx);
    if (dw) convBackwardWeights(p, x, dy, dw, db);
    return;
  }
  BwdDataEntry* bd = dx ? &bdEntry(p) : nullptr;
  BwdWeiEntry* bw = dw && !conv1Eligible(p) ? &bwEntry(p, db != nullptr) : nullptr;
  const bool shared = bd && bw && bd->dy.own16 && bw->dy.own16 && bw->src.own16 &&
                      bd->dy.prim.get_desc() == bw->dy.prim.get_desc();
  if (!shared) {
    if (dx) convBackwardData(p, dy, w, dx);
    if (dw) convBackwardWeights(p, x, dy, dw, db);
    return;
  }
  memory dyB = bd->dy.prim;
  memory xB = bw->src.prim;
  if (p.yb) {
    dyB = bd->dy.direct;
    dyB.set_data_handle(const_cast<float*>(dy));
  }
  if (p.xb) {
    xB = bw->src.direct;
    xB.set_data_handle(const_cast<float*>(x));
  }
  const Reorder16Job dyJob{dy, static_cast<float*>(bd->dy.prim.get_data_handle()), p.n, p.k, p.oh * p.ow, true};
  const Reorder16Job xJob{x, static_cast<float*>(bw->src.prim.get_data_handle()), p.n, p.c, p.h * p.w, true};
  if (!p.yb && !p.xb) reorder16({dyJob, xJob});
  else if (!p.yb) reorder16({dyJob});
  else if (!p.xb) reorder16({xJob});
  SignalBlock guard(bd->jitGemm || bw->jitGemm);
  bd->prim.execute(strm(), {{DNNL_ARG_DIFF_DST, dyB},
                            {DNNL_ARG_WEIGHTS, bd->wei.in(w)},
                            {DNNL_ARG_DIFF_SRC, bd->dx.out(dx, p.xb)},
                            {DNNL_ARG_SCRATCHPAD, bd->scratch}});
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, xB},
                                       {DNNL_ARG_DIFF_DST, dyB},
                                       {DNNL_ARG_DIFF_WEIGHTS, bw->dw.out(dw)},
                                       {DNNL_ARG_SCRATCHPAD, bw->scratch}};
  if (db) {
    bw->db.set_data_handle(db);
    args[DNNL_ARG_DIFF_BIAS] = bw->db;
  }
  bw->prim.execute(strm(), args);
  bd->dx.finish();
  bw->dw.finish();
  strm().wait();
}

}  // namespace spikecut
