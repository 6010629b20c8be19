// N-API entry points. Every argument is validated here as well as in TypeScript: a wrong call from JS must end
// in a JS exception, never in a read or write outside the caller's buffers.
#include <napi.h>
#include <cmath>
#include <cstdlib>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string>
#include <utility>
#include "common.h"
#ifdef SPIKECUT_DNNL
#include <dnnl.hpp>
#endif

namespace spikecut {
namespace {

[[noreturn]] void fail(const Napi::CallbackInfo& info, const std::string& fn, const std::string& msg) {
  throw Napi::TypeError::New(info.Env(), "spikecut native " + fn + ": " + msg);
}

struct F32 {
  float* p;
  int64_t n;
};

F32 f32(const Napi::CallbackInfo& info, const char* fn, size_t i, const char* name, bool nullable = false) {
  if (info.Length() <= i) fail(info, fn, std::string("missing argument ") + name);
  Napi::Value v = info[i];
  if (nullable && (v.IsNull() || v.IsUndefined())) return {nullptr, 0};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    fail(info, fn, std::string(name) + " must be a Float32Array");
  auto a = v.As<Napi::Float32Array>();
  return {a.Data(), int64_t(a.ElementLength())};
}

// A typed array of element type T (its napi type `kind`, named `kindName` in errors) with at least `need` elements.
template <class T>
T* typedArg(const Napi::CallbackInfo& info, const char* fn, size_t i, const char* name, int64_t need, napi_typedarray_type kind,
            const char* kindName) {
  if (info.Length() <= i) fail(info, fn, std::string("missing argument ") + name);
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != kind)
    fail(info, fn, std::string(name) + " must be " + kindName);
  auto a = v.As<Napi::TypedArrayOf<T>>();
  if (int64_t(a.ElementLength()) < need)
    fail(info, fn, std::string(name) + " has " + std::to_string(a.ElementLength()) + " elements, needs " + std::to_string(need));
  return a.Data();
}
int32_t* i32(const Napi::CallbackInfo& info, const char* fn, size_t i, const char* name, int64_t need) {
  return typedArg<int32_t>(info, fn, i, name, need, napi_int32_array, "an Int32Array");
}
double* f64(const Napi::CallbackInfo& info, const char* fn, size_t i, const char* name, int64_t need) {
  return typedArg<double>(info, fn, i, name, need, napi_float64_array, "a Float64Array");
}

double num(const Napi::CallbackInfo& info, const char* fn, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) fail(info, fn, std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

bool flag(const Napi::CallbackInfo& info, const char* fn, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsBoolean()) fail(info, fn, std::string(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

// Dimensions are bounded so that products of a few of them stay far from int64 overflow.
constexpr double kMaxDim = double(1 << 30);

int64_t dim(const Napi::CallbackInfo& info, const char* fn, double v, const char* name, int64_t lo = 0) {
  if (!std::isfinite(v) || v != std::floor(v) || v < double(lo) || v > kMaxDim)
    fail(info, fn, std::string(name) + " must be an integer >= " + std::to_string(lo) + ", got " + std::to_string(v));
  return int64_t(v);
}

int64_t field(const Napi::CallbackInfo& info, const char* fn, const Napi::Object& o, const char* name, int64_t lo) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) fail(info, fn, std::string("params.") + name + " must be a number");
  return dim(info, fn, v.As<Napi::Number>().DoubleValue(), name, lo);
}

Napi::Object paramsObj(const Napi::CallbackInfo& info, const char* fn, size_t i) {
  if (info.Length() <= i || !info[i].IsObject()) fail(info, fn, "params must be an object");
  return info[i].As<Napi::Object>();
}

void need(const Napi::CallbackInfo& info, const char* fn, const F32& a, const char* name, int64_t n) {
  if (a.n < n) fail(info, fn, std::string(name) + " has " + std::to_string(a.n) + " elements, needs " + std::to_string(n));
}

int64_t checkedMul(const Napi::CallbackInfo& info, const char* fn, std::initializer_list<int64_t> xs) {
  double d = 1;
  int64_t r = 1;
  for (int64_t x : xs) {
    d *= double(x);
    r *= x;
  }
  if (d > 4e15) fail(info, fn, "tensor too large");
  return r;
}

ConvP convParams(const Napi::CallbackInfo& info, const char* fn, size_t i) {
  Napi::Object o = paramsObj(info, fn, i);
  ConvP p;
  p.n = field(info, fn, o, "n", 0);
  p.c = field(info, fn, o, "c", 1);
  p.h = field(info, fn, o, "h", 1);
  p.w = field(info, fn, o, "w", 1);
  p.k = field(info, fn, o, "k", 1);
  p.kh = field(info, fn, o, "kh", 1);
  p.kw = field(info, fn, o, "kw", 1);
  p.sh = field(info, fn, o, "strideH", 1);
  p.sw = field(info, fn, o, "strideW", 1);
  p.ph = field(info, fn, o, "padH", 0);
  p.pw = field(info, fn, o, "padW", 0);
  p.groups = field(info, fn, o, "groups", 1);
  p.oh = field(info, fn, o, "oh", 1);
  p.ow = field(info, fn, o, "ow", 1);
  auto optFlag = [&](const char* name) {
    Napi::Value v = o.Get(name);
    if (v.IsUndefined()) return false;
    if (!v.IsBoolean()) fail(info, fn, std::string("params.") + name + " must be a boolean");
    return v.As<Napi::Boolean>().Value();
  };
  p.xb = optFlag("xBlocked");
  p.yb = optFlag("yBlocked");
  if (p.xb && p.c % 16) fail(info, fn, "xBlocked needs c to be a multiple of 16");
  if (p.yb && p.k % 16) fail(info, fn, "yBlocked needs k to be a multiple of 16");
  if (p.c % p.groups || p.k % p.groups) fail(info, fn, "groups must divide c and k");
  if (p.h + 2 * p.ph < p.kh || p.w + 2 * p.pw < p.kw) fail(info, fn, "kernel larger than padded input");
  if (p.oh != (p.h + 2 * p.ph - p.kh) / p.sh + 1 || p.ow != (p.w + 2 * p.pw - p.kw) / p.sw + 1)
    fail(info, fn, "oh/ow inconsistent with h, w, kernel, stride and padding");
  return p;
}

PoolP poolParams(const Napi::CallbackInfo& info, const char* fn, size_t i) {
  Napi::Object o = paramsObj(info, fn, i);
  PoolP p;
  p.n = field(info, fn, o, "n", 0);
  p.c = field(info, fn, o, "c", 0);
  p.h = field(info, fn, o, "h", 1);
  p.w = field(info, fn, o, "w", 1);
  p.kh = field(info, fn, o, "kh", 1);
  p.kw = field(info, fn, o, "kw", 1);
  p.sh = field(info, fn, o, "strideH", 1);
  p.sw = field(info, fn, o, "strideW", 1);
  p.ph = field(info, fn, o, "padH", 0);
  p.pw = field(info, fn, o, "padW", 0);
  p.oh = field(info, fn, o, "oh", 0);
  p.ow = field(info, fn, o, "ow", 0);
  Napi::Value ci = o.Get("countIncludePad");
  p.countIncludePad = ci.IsBoolean() ? ci.As<Napi::Boolean>().Value() : true;
  Napi::Value bl = o.Get("blocked");
  p.blocked = bl.IsBoolean() && bl.As<Napi::Boolean>().Value();
  if (p.blocked && p.c % 16) fail(info, fn, "params.blocked needs c to be a multiple of 16");
  if (p.h * p.w > INT32_MAX) fail(info, fn, "plane too large for int32 argmax");
  if (p.oh > (p.h + 2 * p.ph) || p.ow > (p.w + 2 * p.pw)) fail(info, fn, "oh/ow too large");
  return p;
}

NeuronP neuronParams(const Napi::CallbackInfo& info, const char* fn, size_t i) {
  Napi::Object o = paramsObj(info, fn, i);
  NeuronP p;
  p.T = field(info, fn, o, "T", 0);
  p.M = field(info, fn, o, "M", 0);
  auto real = [&](const char* name) {
    Napi::Value v = o.Get(name);
    if (!v.IsNumber()) fail(info, fn, std::string("params.") + name + " must be a number");
    return float(v.As<Napi::Number>().DoubleValue());
  };
  p.theta = real("theta");
  p.tau = real("tau");
  p.v0 = real("v0");
  p.sgParam = real("surrogateParam");
  Napi::Value hr = o.Get("hardReset");
  if (!hr.IsBoolean()) fail(info, fn, "params.hardReset must be a boolean");
  p.hard = hr.As<Napi::Boolean>().Value();
  const int64_t sg = field(info, fn, o, "surrogate", 0);
  if (sg > 2) fail(info, fn, "params.surrogate must be 0, 1 or 2");
  p.sg = int(sg);
  checkedMul(info, fn, {p.T, p.M});
  return p;
}

// ---- entry points ----

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  const char* fn = "gemm";
  const bool ta = flag(info, fn, 0, "transA"), tb = flag(info, fn, 1, "transB");
  const int64_t M = dim(info, fn, num(info, fn, 2, "M"), "M"), N = dim(info, fn, num(info, fn, 3, "N"), "N"),
                K = dim(info, fn, num(info, fn, 4, "K"), "K");
  const float alpha = float(num(info, fn, 5, "alpha"));
  F32 A = f32(info, fn, 6, "A"), B = f32(info, fn, 7, "B");
  const float beta = float(num(info, fn, 8, "beta"));
  F32 C = f32(info, fn, 9, "C");
  need(info, fn, A, "A", checkedMul(info, fn, {M, K}));
  need(info, fn, B, "B", checkedMul(info, fn, {K, N}));
  need(info, fn, C, "C", checkedMul(info, fn, {M, N}));
  if (M && N) {
    if (K == 0) {
      // Nothing to multiply: C = beta*C (BLAS leaves C untouched only when beta == 1).
      for (int64_t i = 0; i < M * N; i++) C.p[i] = beta == 0.f ? 0.f : C.p[i] * beta;
    } else {
      gemm(ta, tb, M, N, K, alpha, A.p, B.p, beta, C.p);
    }
  }
  return info.Env().Undefined();
}

void convSizes(const Napi::CallbackInfo& info, const char* fn, const ConvP& p, int64_t& xs, int64_t& ws, int64_t& ys) {
  xs = checkedMul(info, fn, {p.n, p.c, p.h, p.w});
  ws = checkedMul(info, fn, {p.k, p.c / p.groups, p.kh, p.kw});
  ys = checkedMul(info, fn, {p.n, p.k, p.oh, p.ow});
}

Napi::Value ConvLayouts(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dLayouts";
  ConvP p = convParams(info, fn, 0);
  const bool bias = flag(info, fn, 1, "bias");
  if (p.n == 0) return Napi::Number::New(info.Env(), 0);
  return Napi::Number::New(info.Env(), convLayouts(p, bias));
}

// Which kernel a conv with these parameters (and activation layouts) runs on: "conv1" (first-layer kernels),
// "winograd" (F(2x2, 3x3) for x / y / dx / dy; its weight gradient stays on the dense library) or "dense".
Napi::Value ConvAlgorithm(const Napi::CallbackInfo& info) {
  ConvP p = convParams(info, "convAlgorithm", 0);
  const char* a = conv1Eligible(p) ? "conv1" : (denseIsDnnl() && winogradEligible(p)) ? "winograd" : "dense";
  return Napi::String::New(info.Env(), a);
}

// Byte offset of a Float32Array's data from the previous 64-byte boundary (kernels load whole cache lines).
Napi::Value Misalignment(const Napi::CallbackInfo& info) {
  F32 a = f32(info, "misalignment", 0, "a");
  return Napi::Number::New(info.Env(), double(reinterpret_cast<uintptr_t>(a.p) % 64));
}

Napi::Value ReorderBlocked16(const Napi::CallbackInfo& info) {
  const char* fn = "reorderBlocked16";
  F32 src = f32(info, fn, 0, "src"), dst = f32(info, fn, 1, "dst");
  const int64_t n = dim(info, fn, num(info, fn, 2, "n"), "n"), c = dim(info, fn, num(info, fn, 3, "c"), "c"),
                s = dim(info, fn, num(info, fn, 4, "s"), "s");
  const bool toBlocked = flag(info, fn, 5, "toBlocked");
  if (c % 16) fail(info, fn, "c must be a multiple of 16");
  const int64_t size = checkedMul(info, fn, {n, c, s});
  need(info, fn, src, "src", size);
  need(info, fn, dst, "dst", size);
  if (src.p == dst.p && size) fail(info, fn, "src and dst must not be the same buffer");
  reorder16(src.p, dst.p, n, c, s, toBlocked);
  return info.Env().Undefined();
}

Napi::Value ConvForward(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dForward";
  F32 x = f32(info, fn, 0, "x"), w = f32(info, fn, 1, "w"), b = f32(info, fn, 2, "bias", true), y = f32(info, fn, 3, "y");
  ConvP p = convParams(info, fn, 4);
  int64_t xs, ws, ys;
  convSizes(info, fn, p, xs, ws, ys);
  need(info, fn, x, "x", xs);
  need(info, fn, w, "w", ws);
  need(info, fn, y, "y", ys);
  if (b.p) need(info, fn, b, "bias", p.k);
  if (p.n) convForward(p, x.p, w.p, b.p, y.p);
  return info.Env().Undefined();
}

Napi::Value ConvBackwardData(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dBackwardData";
  F32 dy = f32(info, fn, 0, "dy"), w = f32(info, fn, 1, "w"), dx = f32(info, fn, 2, "dx");
  ConvP p = convParams(info, fn, 3);
  int64_t xs, ws, ys;
  convSizes(info, fn, p, xs, ws, ys);
  need(info, fn, dy, "dy", ys);
  need(info, fn, w, "w", ws);
  need(info, fn, dx, "dx", xs);
  if (p.n) convBackwardData(p, dy.p, w.p, dx.p);
  return info.Env().Undefined();
}

Napi::Value ConvBackward(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dBackward";
  F32 x = f32(info, fn, 0, "x"), dy = f32(info, fn, 1, "dy"), w = f32(info, fn, 2, "w"), dx = f32(info, fn, 3, "dx", true),
      dw = f32(info, fn, 4, "dw", true), db = f32(info, fn, 5, "db", true);
  ConvP p = convParams(info, fn, 6);
  int64_t xs, ws, ys;
  convSizes(info, fn, p, xs, ws, ys);
  need(info, fn, x, "x", xs);
  need(info, fn, dy, "dy", ys);
  need(info, fn, w, "w", ws);
  if (dx.p) need(info, fn, dx, "dx", xs);
  if (dw.p) need(info, fn, dw, "dw", ws);
  if (db.p) need(info, fn, db, "db", p.k);
  if (db.p && !dw.p) fail(info, fn, "db needs dw (the bias gradient comes from the weight pass)");
  if (p.n) {
    convBackward(p, x.p, dy.p, w.p, dx.p, dw.p, db.p);
  } else {
    if (dw.p) std::fill(dw.p, dw.p + ws, 0.f);
    if (db.p) std::fill(db.p, db.p + p.k, 0.f);
  }
  return info.Env().Undefined();
}

Napi::Value ConvBackwardWeights(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dBackwardWeights";
  F32 x = f32(info, fn, 0, "x"), dy = f32(info, fn, 1, "dy"), dw = f32(info, fn, 2, "dw"), db = f32(info, fn, 3, "db", true);
  ConvP p = convParams(info, fn, 4);
  int64_t xs, ws, ys;
  convSizes(info, fn, p, xs, ws, ys);
  need(info, fn, x, "x", xs);
  need(info, fn, dy, "dy", ys);
  need(info, fn, dw, "dw", ws);
  if (db.p) need(info, fn, db, "db", p.k);
  if (p.n) {
    convBackwardWeights(p, x.p, dy.p, dw.p, db.p);
  } else {
    std::fill(dw.p, dw.p + ws, 0.f);
    if (db.p) std::fill(db.p, db.p + p.k, 0.f);
  }
  return info.Env().Undefined();
}

Napi::Value MaxPoolForward(const Napi::CallbackInfo& info) {
  const char* fn = "maxPool2dForward";
  F32 x = f32(info, fn, 0, "x"), y = f32(info, fn, 1, "y");
  PoolP p = poolParams(info, fn, 3);
  const int64_t ys = checkedMul(info, fn, {p.n, p.c, p.oh, p.ow});
  int32_t* am = i32(info, fn, 2, "argmax", ys);
  need(info, fn, x, "x", checkedMul(info, fn, {p.n, p.c, p.h, p.w}));
  need(info, fn, y, "y", ys);
  maxPoolForward(p, x.p, y.p, am);
  return info.Env().Undefined();
}

Napi::Value MaxPoolBackward(const Napi::CallbackInfo& info) {
  const char* fn = "maxPool2dBackward";
  F32 dy = f32(info, fn, 0, "dy"), dx = f32(info, fn, 2, "dx");
  PoolP p = poolParams(info, fn, 3);
  const int64_t ys = checkedMul(info, fn, {p.n, p.c, p.oh, p.ow});
  int32_t* am = i32(info, fn, 1, "argmax", ys);
  need(info, fn, dy, "dy", ys);
  need(info, fn, dx, "dx", checkedMul(info, fn, {p.n, p.c, p.h, p.w}));
  maxPoolBackward(p, dy.p, am, dx.p);
  return info.Env().Undefined();
}

Napi::Value AvgPoolForward(const Napi::CallbackInfo& info) {
  const char* fn = "avgPool2dForward";
  F32 x = f32(info, fn, 0, "x"), y = f32(info, fn, 1, "y");
  PoolP p = poolParams(info, fn, 2);
  need(info, fn, x, "x", checkedMul(info, fn, {p.n, p.c, p.h, p.w}));
  need(info, fn, y, "y", checkedMul(info, fn, {p.n, p.c, p.oh, p.ow}));
  avgPoolForward(p, x.p, y.p);
  return info.Env().Undefined();
}

Napi::Value AvgPoolBackward(const Napi::CallbackInfo& info) {
  const char* fn = "avgPool2dBackward";
  F32 dy = f32(info, fn, 0, "dy"), dx = f32(info, fn, 1, "dx");
  PoolP p = poolParams(info, fn, 2);
  need(info, fn, dy, "dy", checkedMul(info, fn, {p.n, p.c, p.oh, p.ow}));
  need(info, fn, dx, "dx", checkedMul(info, fn, {p.n, p.c, p.h, p.w}));
  avgPoolBackward(p, dy.p, dx.p);
  return info.Env().Undefined();
}

// Optional trailing "blocked" flag (activations stored [N, C/16, S, 16]); C must then be a multiple of 16.
bool blockedArg(const Napi::CallbackInfo& info, const char* fn, size_t idx, int64_t C) {
  if (info.Length() <= idx || info[idx].IsUndefined() || info[idx].IsNull()) return false;
  const bool b = flag(info, fn, idx, "blocked");
  if (b && C % 16) fail(info, fn, "blocked needs C to be a multiple of 16");
  return b;
}

// TEBN's optional per-timestep scale: argument idx, T = its length, which must divide N. {nullptr, 1} when absent.
std::pair<const float*, int64_t> blockScaleArg(const Napi::CallbackInfo& info, const char* fn, size_t idx, int64_t N) {
  if (info.Length() <= idx || info[idx].IsNull() || info[idx].IsUndefined()) return {nullptr, 1};
  F32 p = f32(info, fn, idx, "blockScale");
  if (p.n < 1 || N % p.n != 0) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": blockScale length must divide N");
  return {p.p, p.n};
}

Napi::Value BnTrainForward(const Napi::CallbackInfo& info) {
  const char* fn = "batchNormTrainForward";
  F32 x = f32(info, fn, 0, "x");
  const int64_t N = dim(info, fn, num(info, fn, 1, "N"), "N"), C = dim(info, fn, num(info, fn, 2, "C"), "C"),
                S = dim(info, fn, num(info, fn, 3, "S"), "S");
  F32 g = f32(info, fn, 4, "gamma", true), b = f32(info, fn, 5, "beta", true);
  const float eps = float(num(info, fn, 6, "eps"));
  F32 y = f32(info, fn, 7, "y"), mean = f32(info, fn, 8, "mean"), is = f32(info, fn, 9, "invStd");
  const int64_t n = checkedMul(info, fn, {N, C, S});
  need(info, fn, x, "x", n);
  need(info, fn, y, "y", n);
  need(info, fn, mean, "mean", C);
  need(info, fn, is, "invStd", C);
  if (g.p) need(info, fn, g, "gamma", C);
  if (b.p) need(info, fn, b, "beta", C);
  const auto [ps, T] = blockScaleArg(info, fn, 10, N);
  bnTrainForward(x.p, N, C, S, g.p, b.p, eps, y.p, mean.p, is.p, ps, T, blockedArg(info, fn, 11, C));
  return info.Env().Undefined();
}

Napi::Value BnBackward(const Napi::CallbackInfo& info) {
  const char* fn = "batchNormBackward";
  F32 x = f32(info, fn, 0, "x"), dy = f32(info, fn, 1, "dy");
  const int64_t N = dim(info, fn, num(info, fn, 2, "N"), "N"), C = dim(info, fn, num(info, fn, 3, "C"), "C"),
                S = dim(info, fn, num(info, fn, 4, "S"), "S");
  F32 g = f32(info, fn, 5, "gamma", true), mean = f32(info, fn, 6, "mean"), is = f32(info, fn, 7, "invStd"),
      dx = f32(info, fn, 8, "dx"), dg = f32(info, fn, 9, "dgamma", true), db = f32(info, fn, 10, "dbeta", true);
  const int64_t n = checkedMul(info, fn, {N, C, S});
  need(info, fn, x, "x", n);
  need(info, fn, dy, "dy", n);
  need(info, fn, dx, "dx", n);
  need(info, fn, mean, "mean", C);
  need(info, fn, is, "invStd", C);
  if (g.p) need(info, fn, g, "gamma", C);
  if (dg.p) need(info, fn, dg, "dgamma", C);
  if (db.p) need(info, fn, db, "dbeta", C);
  // optional TEBN arguments: beta (for dL/dp), blockScale p[T], dBlockScale[T]
  const auto [ps, T] = blockScaleArg(info, fn, 12, N);
  const float* bet = nullptr;
  float* dps = nullptr;
  if (ps) {
    F32 bb = f32(info, fn, 11, "beta", true);
    if (bb.p) need(info, fn, bb, "beta", C);
    bet = bb.p;
    if (info.Length() > 13) {
      F32 d = f32(info, fn, 13, "dBlockScale", true);
      if (d.p) need(info, fn, d, "dBlockScale", T);
      dps = d.p;
    }
  }
  bnBackward(x.p, dy.p, N, C, S, g.p, mean.p, is.p, dx.p, dg.p, db.p, bet, ps, T, dps, blockedArg(info, fn, 14, C));
  return info.Env().Undefined();
}

Napi::Value ChannelAffine(const Napi::CallbackInfo& info) {
  const char* fn = "channelAffine";
  F32 x = f32(info, fn, 0, "x");
  const int64_t N = dim(info, fn, num(info, fn, 1, "N"), "N"), C = dim(info, fn, num(info, fn, 2, "C"), "C"),
                S = dim(info, fn, num(info, fn, 3, "S"), "S");
  F32 sc = f32(info, fn, 4, "scale"), sh = f32(info, fn, 5, "shift"), y = f32(info, fn, 6, "y");
  const int64_t n = checkedMul(info, fn, {N, C, S});
  need(info, fn, x, "x", n);
  need(info, fn, y, "y", n);
  need(info, fn, sc, "scale", C);
  need(info, fn, sh, "shift", C);
  channelAffine(x.p, N, C, S, sc.p, sh.p, y.p, blockedArg(info, fn, 7, C));
  return info.Env().Undefined();
}

Napi::Value NeuronForward(const Napi::CallbackInfo& info) {
  const char* fn = "neuronForward";
  F32 x = f32(info, fn, 0, "x"), s = f32(info, fn, 1, "s"), u = f32(info, fn, 2, "u"), h = f32(info, fn, 3, "h");
  NeuronP p = neuronParams(info, fn, 4);
  const int64_t n = p.T * p.M;
  need(info, fn, x, "x", n);
  need(info, fn, s, "s", n);
  need(info, fn, u, "u", n);
  need(info, fn, h, "h", n);
  neuronForward(p, x.p, s.p, u.p, h.p);
  return info.Env().Undefined();
}

Napi::Value NeuronBackward(const Napi::CallbackInfo& info) {
  const char* fn = "neuronBackward";
  F32 gs = f32(info, fn, 0, "gradS", true), gu = f32(info, fn, 1, "gradU", true), h = f32(info, fn, 2, "h"),
      s = f32(info, fn, 3, "s"), dx = f32(info, fn, 4, "dx");
  NeuronP p = neuronParams(info, fn, 5);
  const int64_t n = p.T * p.M;
  if (gs.p) need(info, fn, gs, "gradS", n);
  if (gu.p) need(info, fn, gu, "gradU", n);
  need(info, fn, h, "h", n);
  need(info, fn, s, "s", n);
  need(info, fn, dx, "dx", n);
  neuronBackward(p, gs.p, gu.p, h.p, s.p, dx.p);
  return info.Env().Undefined();
}

// Element-wise kernels run over out.length, like the TypeScript backend; inputs must be at least as long.
template <int NIN>
int64_t eltwiseLen(const Napi::CallbackInfo& info, const char* fn, F32* ins, const F32& out) {
  for (int i = 0; i < NIN; i++) need(info, fn, ins[i], i == 0 ? "a" : "b", out.n);
  return out.n;
}

Napi::Value Add(const Napi::CallbackInfo& info) {
  F32 in[2] = {f32(info, "add", 0, "a"), f32(info, "add", 1, "b")};
  F32 o = f32(info, "add", 2, "out");
  add(in[0].p, in[1].p, o.p, eltwiseLen<2>(info, "add", in, o));
  return info.Env().Undefined();
}
Napi::Value Mul(const Napi::CallbackInfo& info) {
  F32 in[2] = {f32(info, "mul", 0, "a"), f32(info, "mul", 1, "b")};
  F32 o = f32(info, "mul", 2, "out");
  mul(in[0].p, in[1].p, o.p, eltwiseLen<2>(info, "mul", in, o));
  return info.Env().Undefined();
}
Napi::Value Axpby(const Napi::CallbackInfo& info) {
  const char* fn = "axpby";
  F32 in[2] = {f32(info, fn, 0, "a"), f32(info, fn, 2, "b")};
  const float al = float(num(info, fn, 1, "alpha")), be = float(num(info, fn, 3, "beta"));
  F32 o = f32(info, fn, 4, "out");
  axpby(in[0].p, al, in[1].p, be, o.p, eltwiseLen<2>(info, fn, in, o));
  return info.Env().Undefined();
}
Napi::Value Relu(const Napi::CallbackInfo& info) {
  F32 in[1] = {f32(info, "relu", 0, "a")};
  F32 o = f32(info, "relu", 1, "out");
  relu(in[0].p, o.p, eltwiseLen<1>(info, "relu", in, o));
  return info.Env().Undefined();
}
Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  F32 in[2] = {f32(info, "reluBackward", 0, "a"), f32(info, "reluBackward", 1, "g")};
  F32 o = f32(info, "reluBackward", 2, "out");
  reluBackward(in[0].p, in[1].p, o.p, eltwiseLen<2>(info, "reluBackward", in, o));
  return info.Env().Undefined();
}
Napi::Value NeuronStep(const Napi::CallbackInfo& info) {
  const char* fn = "neuronStep";
  F32 x = f32(info, fn, 0, "x"), v = f32(info, fn, 1, "v"), s = f32(info, fn, 2, "s"), u = f32(info, fn, 3, "u", true),
      o = f32(info, fn, 4, "out");
  need(info, fn, v, "v", x.n);
  need(info, fn, s, "s", x.n);
  if (u.p) need(info, fn, u, "u", x.n);
  need(info, fn, o, "out", x.n);
  // optional input affine: scale, shift, C, S (a batch norm in eval mode folded into the step)
  F32 scale{}, shift{};
  int64_t C = 1, S = 1;
  if (info.Length() > 9 && !info[9].IsUndefined() && !info[9].IsNull()) {
    scale = f32(info, fn, 9, "scale");
    shift = f32(info, fn, 10, "shift");
    C = dim(info, fn, num(info, fn, 11, "C"), "C");
    S = dim(info, fn, num(info, fn, 12, "S"), "S");
    need(info, fn, scale, "scale", C);
    need(info, fn, shift, "shift", C);
    if (C == 0 || S == 0 || x.n % (C * S) != 0) fail(info, fn, "x's size must be a multiple of C*S (rows of C channel planes of S elements)");
  }
  const bool blocked = scale.p && blockedArg(info, fn, 13, C);
  // optional per-row scale (one per row of C*S elements), only with the input affine
  F32 rowScale{};
  if (info.Length() > 14 && !info[14].IsUndefined() && !info[14].IsNull()) {
    if (!scale.p) fail(info, fn, "rowScale needs the input affine (scale, shift)");
    rowScale = f32(info, fn, 14, "rowScale");
    need(info, fn, rowScale, "rowScale", x.n / (C * S));
  }
  // optional rows starting over: fresh (a Uint8Array, one flag per row) and v0
  const uint8_t* fresh = nullptr;
  int64_t rowLen = 1;
  float v0 = 0.f;
  if (info.Length() > 15 && !info[15].IsUndefined() && !info[15].IsNull()) {
    if (!info[15].IsTypedArray() || info[15].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) fail(info, fn, "fresh must be a Uint8Array");
    Napi::Uint8Array f = info[15].As<Napi::Uint8Array>();
    const int64_t rows = int64_t(f.ElementLength());
    if (rows == 0 || x.n % rows != 0) fail(info, fn, "fresh must hold one flag per row of x (x's size a multiple of its length)");
    fresh = f.Data();
    rowLen = x.n / rows;
    v0 = float(num(info, fn, 16, "v0"));
  }
  neuronStep(x.p, v.p, s.p, u.p, o.p, x.n, float(num(info, fn, 5, "theta")), float(num(info, fn, 6, "tau")), flag(info, fn, 7, "hardReset"),
             float(num(info, fn, 8, "outputScale")), scale.p, shift.p, rowScale.p, C, S, blocked, fresh, rowLen, v0);
  return info.Env().Undefined();
}
Napi::Value DropoutMask(const Napi::CallbackInfo& info) {
  const char* fn = "dropoutMask";
  F32 m = f32(info, fn, 0, "mask");
  const double p = num(info, fn, 1, "p"), seed = num(info, fn, 2, "seed");
  if (!(p >= 0 && p < 1)) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": p must be in [0, 1)");
  if (!(seed >= 0 && seed <= 4294967295.0) || seed != std::floor(seed)) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": seed must be a uint32");
  // optional C, S: the mask is stored blocked16 [N, C/16, S, 16]; optional offset added to every index
  int64_t C = 0, S = 0;
  if (info.Length() > 3 && !info[3].IsUndefined() && !info[3].IsNull()) {
    C = dim(info, fn, num(info, fn, 3, "C"), "C");
    S = dim(info, fn, num(info, fn, 4, "S"), "S");
    if (C == 0 || C % 16) fail(info, fn, "a blocked mask needs C to be a positive multiple of 16");
    if (S == 0 || m.n % (C * S)) fail(info, fn, "mask's size must be a multiple of C*S");
  }
  double offset = 0;
  if (info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull()) {
    offset = num(info, fn, 5, "offset");
    if (!(offset >= 0 && offset <= 4294967295.0) || offset != std::floor(offset)) fail(info, fn, "offset must be a uint32");
  }
  dropoutMask(m.p, m.n, p, uint32_t(seed), C, S, uint32_t(offset));
  return info.Env().Undefined();
}
Napi::Value ThresholdActForward(const Napi::CallbackInfo& info) {
  const char* fn = "thresholdActForward";
  F32 x = f32(info, fn, 0, "x"), y = f32(info, fn, 1, "y");
  need(info, fn, y, "y", x.n);
  const double lam = num(info, fn, 2, "lambda"), L = num(info, fn, 3, "L");
  if (!(lam > 0)) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": lambda must be > 0");
  if (L < 0 || L != std::floor(L) || L > 1e6) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": L must be a non-negative integer");
  thresholdActForward(x.p, y.p, x.n, float(lam), int(L));
  return info.Env().Undefined();
}
Napi::Value ThresholdActBackward(const Napi::CallbackInfo& info) {
  const char* fn = "thresholdActBackward";
  F32 x = f32(info, fn, 0, "x"), g = f32(info, fn, 1, "g");
  need(info, fn, g, "g", x.n);
  float* dx = nullptr;
  if (!info[2].IsNull() && !info[2].IsUndefined()) {
    F32 d = f32(info, fn, 2, "dx");
    need(info, fn, d, "dx", x.n);
    dx = d.p;
  }
  const double lam = num(info, fn, 3, "lambda"), L = num(info, fn, 4, "L");
  if (!(lam > 0)) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": lambda must be > 0");
  if (L < 0 || L != std::floor(L) || L > 1e6) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": L must be a non-negative integer");
  return Napi::Number::New(info.Env(), thresholdActBackward(x.p, g.p, dx, x.n, float(lam), int(L)));
}
Napi::Value Sum(const Napi::CallbackInfo& info) {
  F32 a = f32(info, "sum", 0, "a");
  return Napi::Number::New(info.Env(), sum(a.p, a.n));
}
Napi::Value Dot(const Napi::CallbackInfo& info) {
  const char* fn = "dot";
  F32 a = f32(info, fn, 0, "a"), b = f32(info, fn, 1, "b");
  need(info, fn, b, "b", a.n);
  return Napi::Number::New(info.Env(), dot(a.p, b.p, a.n));
}
Napi::Value RowSums(const Napi::CallbackInfo& info) {
  const char* fn = "rowSums";
  F32 x = f32(info, fn, 0, "x");
  const int64_t rows = dim(info, fn, num(info, fn, 1, "rows"), "rows");
  if (rows == 0 || x.n % rows != 0) fail(info, fn, "x.length must be a positive multiple of rows");
  const int64_t D = x.n / rows;
  const float* w = nullptr;
  if (!info[2].IsNull()) {
    F32 wa = f32(info, fn, 2, "w");
    need(info, fn, wa, "w", D);
    w = wa.p;
  }
  double* sums = f64(info, fn, 3, "sums", rows);
  double* dots = info[4].IsNull() ? nullptr : f64(info, fn, 4, "dots", rows);
  if (w && !dots) fail(info, fn, "w given without dots");
  rowSums(x.p, rows, D, w, sums, dots);
  return info.Env().Undefined();
}
Napi::Value ScaleRows(const Napi::CallbackInfo& info) {
  const char* fn = "scaleRows";
  F32 x = f32(info, fn, 0, "x");
  const int64_t rows = dim(info, fn, num(info, fn, 1, "rows"), "rows");
  if (rows == 0 || x.n % rows != 0) fail(info, fn, "x.length must be a positive multiple of rows");
  F32 scales = f32(info, fn, 2, "scales"), out = f32(info, fn, 3, "out");
  need(info, fn, scales, "scales", rows);
  need(info, fn, out, "out", x.n);
  scaleRows(x.p, rows, x.n / rows, scales.p, out.p);
  return info.Env().Undefined();
}
Napi::Value RcsAnnForward(const Napi::CallbackInfo& info) {
  const char* fn = "rcsAnnForward";
  F32 x = f32(info, fn, 0, "x");
  const int64_t N = dim(info, fn, num(info, fn, 1, "N"), "N"), F = dim(info, fn, num(info, fn, 2, "F"), "F");
  const int64_t n = checkedMul(info, fn, {N, F});
  if (n > INT32_MAX) fail(info, fn, "N*F must fit an Int32Array index");
  need(info, fn, x, "x", n);
  double* sumSq = f64(info, fn, 3, "sumSq", N);
  F32 rowMax = f32(info, fn, 4, "rowMax");
  need(info, fn, rowMax, "rowMax", N);
  int32_t* rowArg = i32(info, fn, 5, "rowArg", N);
  rcsAnnForward(x.p, N, F, sumSq, rowMax.p, rowArg);
  return info.Env().Undefined();
}
// Arguments shared by both RCS-SNN kernels: s, u ([T, B, D] each), then T, B, D at argument index i.
struct RcsDims {
  int64_t T, B, D;
};
RcsDims rcsDims(const Napi::CallbackInfo& info, const char* fn, const F32& s, const F32& u, size_t i) {
  RcsDims d{dim(info, fn, num(info, fn, i, "T"), "T"), dim(info, fn, num(info, fn, i + 1, "B"), "B"),
            dim(info, fn, num(info, fn, i + 2, "D"), "D")};
  const int64_t n = checkedMul(info, fn, {d.T, d.B, d.D});
  need(info, fn, s, "s", n);
  need(info, fn, u, "u", n);
  return d;
}
Napi::Value RcsSnnForward(const Napi::CallbackInfo& info) {
  const char* fn = "rcsSnnForward";
  F32 s = f32(info, fn, 0, "s"), u = f32(info, fn, 1, "u");
  const RcsDims d = rcsDims(info, fn, s, u, 2);
  const int64_t K = dim(info, fn, num(info, fn, 5, "K"), "K");
  if (K < 1 || K > d.T) fail(info, fn, "K must be in [1, T]");
  const float th = float(num(info, fn, 6, "invTheta"));
  F32 rbar = f32(info, fn, 7, "rbar"), dot = f32(info, fn, 8, "dot"), normR = f32(info, fn, 9, "normR"),
      normRbar = f32(info, fn, 10, "normRbar");
  need(info, fn, rbar, "rbar", checkedMul(info, fn, {d.B, d.D}));
  need(info, fn, dot, "dot", d.T * d.B);
  need(info, fn, normR, "normR", d.T * d.B);
  need(info, fn, normRbar, "normRbar", d.B);
  rcsSnnForward(s.p, u.p, d.T, d.B, d.D, K, th, rbar.p, dot.p, normR.p, normRbar.p);
  return info.Env().Undefined();
}
Napi::Value RcsSnnBackward(const Napi::CallbackInfo& info) {
  const char* fn = "rcsSnnBackward";
  F32 s = f32(info, fn, 0, "s"), u = f32(info, fn, 1, "u"), rbar = f32(info, fn, 2, "rbar");
  const RcsDims d = rcsDims(info, fn, s, u, 3);
  const float th = float(num(info, fn, 6, "invTheta"));
  F32 a = f32(info, fn, 7, "a"), c = f32(info, fn, 8, "c"), ds = f32(info, fn, 9, "ds", true), du = f32(info, fn, 10, "du", true);
  need(info, fn, rbar, "rbar", checkedMul(info, fn, {d.B, d.D}));
  need(info, fn, a, "a", d.T * d.B);
  need(info, fn, c, "c", d.T * d.B);
  if (ds.p) need(info, fn, ds, "ds", d.T * d.B * d.D);
  if (du.p) need(info, fn, du, "du", d.T * d.B * d.D);
  rcsSnnBackward(s.p, u.p, rbar.p, d.T, d.B, d.D, th, a.p, c.p, ds.p, du.p);
  return info.Env().Undefined();
}
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  const char* fn = "sgdStep";
  F32 p = f32(info, fn, 0, "p"), g = f32(info, fn, 1, "g"), buf = f32(info, fn, 2, "buf");
  need(info, fn, g, "g", p.n);
  need(info, fn, buf, "buf", p.n);
  sgdStep(p.p, g.p, buf.p, p.n, float(num(info, fn, 3, "lr")), float(num(info, fn, 4, "momentum")),
          float(num(info, fn, 5, "wd")), flag(info, fn, 6, "nesterov"), flag(info, fn, 7, "firstStep"));
  return info.Env().Undefined();
}
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  const char* fn = "adamStep";
  F32 p = f32(info, fn, 0, "p"), g = f32(info, fn, 1, "g"), m = f32(info, fn, 2, "m"), v = f32(info, fn, 3, "v");
  need(info, fn, g, "g", p.n);
  need(info, fn, m, "m", p.n);
  need(info, fn, v, "v", p.n);
  const double step = num(info, fn, 9, "step");
  if (!(step >= 1)) fail(info, fn, "step must be >= 1");
  adamStep(p.p, g.p, m.p, v.p, p.n, float(num(info, fn, 4, "lr")), float(num(info, fn, 5, "beta1")),
           float(num(info, fn, 6, "beta2")), float(num(info, fn, 7, "eps")), float(num(info, fn, 8, "wd")), step,
           flag(info, fn, 10, "decoupled"));
  return info.Env().Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("dnnl", denseIsDnnl());
  std::string lib = denseLibrary();
  o.Set("dnnlVersion", denseIsDnnl() ? lib.substr(lib.find(' ') + 1) : std::string(""));
  o.Set("isa", isaName());
  o.Set("winograd", winogradEnabled());
  o.Set("winogradTile", winogradTile());
  o.Set("threads", threads());
  return o;
}

// C++ exceptions from oneDNN (dnnl::error) or std::bad_alloc become JS errors instead of aborting.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
#ifdef SPIKECUT_DNNL
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string("spikecut native: oneDNN error: ") + e.what());
#endif
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("spikecut native: ") + e.what());
  }
}

// glibc hands blocks above 128 KB (rising adaptively to at most 32 MB) straight back to the OS on free, and trims
// the heap top above 128 KB, so a training step's multi-MB activations were re-faulted page by page on every
// allocation (perf-notes item 5: 7x on a first-layer conv loop). Keep them in the heap instead, like the tuned
// PyTorch peer (MALLOC_MMAP_THRESHOLD_=32M; trim above 256 MB rather than its 1G, to bound the RSS). The user's own MALLOC_* settings, or
// SPIKECUT_MALLOC_TUNE=0, leave glibc alone.
void tuneMalloc() {
#if defined(__GLIBC__)
  const char* off = std::getenv("SPIKECUT_MALLOC_TUNE");
  if (off && std::string(off) == "0") return;
  if (!std::getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 32 << 20);
  if (!std::getenv("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneMalloc();
  initThreads();
#define EXPORT(name, f) exports.Set(name, Napi::Function::New(env, guarded<f>, name))
  EXPORT("gemm", Gemm);
  EXPORT("conv2dForward", ConvForward);
  EXPORT("conv2dLayouts", ConvLayouts);
  EXPORT("convAlgorithm", ConvAlgorithm);
  EXPORT("reorderBlocked16", ReorderBlocked16);
  EXPORT("misalignment", Misalignment);
  EXPORT("conv2dBackwardData", ConvBackwardData);
  EXPORT("conv2dBackwardWeights", ConvBackwardWeights);
  EXPORT("conv2dBackward", ConvBackward);
  EXPORT("maxPool2dForward", MaxPoolForward);
  EXPORT("maxPool2dBackward", MaxPoolBackward);
  EXPORT("avgPool2dForward", AvgPoolForward);
  EXPORT("avgPool2dBackward", AvgPoolBackward);
  EXPORT("batchNormTrainForward", BnTrainForward);
  EXPORT("batchNormBackward", BnBackward);
  EXPORT("channelAffine", ChannelAffine);
  EXPORT("neuronForward", NeuronForward);
  EXPORT("neuronBackward", NeuronBackward);
  EXPORT("add", Add);
  EXPORT("mul", Mul);
  EXPORT("axpby", Axpby);
  EXPORT("relu", Relu);
  EXPORT("reluBackward", ReluBackward);
  EXPORT("sum", Sum);
  EXPORT("dot", Dot);
  EXPORT("thresholdActForward", ThresholdActForward);
  EXPORT("dropoutMask", DropoutMask);
  EXPORT("neuronStep", NeuronStep);
  EXPORT("thresholdActBackward", ThresholdActBackward);
  EXPORT("rcsAnnForward", RcsAnnForward);
  EXPORT("rowSums", RowSums);
  EXPORT("scaleRows", ScaleRows);
  EXPORT("rcsSnnForward", RcsSnnForward);
  EXPORT("rcsSnnBackward", RcsSnnBackward);
  EXPORT("sgdStep", SgdStep);
  EXPORT("adamStep", AdamStep);
  EXPORT("info", Info);
  // Winograd F(2x2, 3x3) (or F(4x4, 3x3)) for eligible 3x3 convs (off by default; SPIKECUT_WINOGRAD=1 starts on)
  exports.Set("setWinograd", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
    if (i.Length() < 1 || !i[0].IsBoolean()) throw Napi::TypeError::New(i.Env(), "setWinograd(on: boolean)");
    setWinograd(i[0].As<Napi::Boolean>().Value());
    return i.Env().Undefined();
  }));
  exports.Set("setWinogradTile", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
    if (i.Length() < 1 || !i[0].IsNumber()) throw Napi::TypeError::New(i.Env(), "setWinogradTile(m: 2 | 4)");
    setWinogradTile(i[0].As<Napi::Number>().Int32Value());
    return i.Env().Undefined();
  }));
  exports.Set("measurePeakGflops", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
    return Napi::Number::New(i.Env(), measurePeakGflops());
  }));
  exports.Set("measureBandwidth", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
    return Napi::Number::New(i.Env(), measureBandwidth());
  }));
#undef EXPORT
  return exports;
}

}  // namespace
}  // namespace spikecut

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return spikecut::Init(env, exports); }

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitModule)
