// N-API bindings: typed arrays in, results written in place. Every array's length is checked against
// the shapes given, and a mismatch throws a TypeError naming the argument.
#include "heap_guard.h"
#include <node_api.h>
#include <cblas.h>
#include <omp.h>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <dlfcn.h>
#include "optimiser.h"
#include "sae_steps.h"
#include "lapack.h"
#include "spd_gates.h"

namespace {

struct Args {
  napi_env env;
  size_t argc = 32;
  napi_value argv[32];
  bool failed = false;
  const char* fn;

  Args(napi_env e, napi_callback_info info, const char* name) : env(e), fn(name) { napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr); }

  void fail(const std::string& msg) {
    if (!failed) napi_throw_type_error(env, nullptr, (std::string("featurelab native ") + fn + ": " + msg).c_str());
    failed = true;
  }
  double num(size_t i, const char* name) {
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) fail(std::string(name) + " must be a number");
    return v;
  }
  int integer(size_t i, const char* name) { return (int)num(i, name); }
  bool flag(size_t i, const char* name) {
    bool v = false;
    if (i >= argc || napi_get_value_bool(env, argv[i], &v) != napi_ok) fail(std::string(name) + " must be a boolean");
    return v;
  }
  template <typename T>
  T* array(size_t i, const char* name, napi_typedarray_type want, size_t minLength) {
    bool is = false;
    if (i >= argc || napi_is_typedarray(env, argv[i], &is) != napi_ok || !is) {
      fail(std::string(name) + " must be a typed array");
      return nullptr;
    }
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_get_typedarray_info(env, argv[i], &type, &length, &data, nullptr, nullptr);
    if (type != want) {
      fail(std::string(name) + " has the wrong element type");
      return nullptr;
    }
    if (length < minLength) {
      fail(std::string(name) + " holds " + std::to_string(length) + " values, needs " + std::to_string(minLength));
      return nullptr;
    }
    return static_cast<T*>(data);
  }
  float* f32(size_t i, const char* name, size_t n) { return array<float>(i, name, napi_float32_array, n); }
  double* f64(size_t i, const char* name, size_t n) { return array<double>(i, name, napi_float64_array, n); }
};

// An ArrayBuffer of `bytes` whose memory asks the kernel for transparent huge pages (2 MB): filling a
// fresh 100 MB result then takes 50 page faults instead of 25 000 (0.27 s on a VM where each costs ~10 µs).
// 2 MB-aligned, zero-filled by the kernel on first touch, freed when the buffer is collected.
napi_value HugeBuffer(napi_env env, napi_callback_info info);

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// Small products run on one thread: waking (and, on a busy machine, waiting for) a second costs more
// than it saves below a few MFLOP. For the lifetime of the scope; the thread count is restored after.
struct OneThreadIfSmall {
  int threads = 0;
  OneThreadIfSmall(int M, int N, int K) {
    if (2.0 * M * N * K >= 4e6) return;
    const int t = openblas_get_num_threads();
    if (t > 1) (threads = t, openblas_set_num_threads(1));
  }
  ~OneThreadIfSmall() {
    if (threads > 1) openblas_set_num_threads(threads);
  }
};

// sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc), row-major.
napi_value Sgemm(napi_env env, napi_callback_info info) {
  Args a(env, info, "sgemm");
  const bool tA = a.flag(0, "transA"), tB = a.flag(1, "transB");
  const int M = a.integer(2, "M"), N = a.integer(3, "N"), K = a.integer(4, "K");
  const float alpha = (float)a.num(5, "alpha");
  const int lda = a.integer(7, "lda"), ldb = a.integer(9, "ldb");
  const float beta = (float)a.num(10, "beta");
  const int ldc = a.integer(12, "ldc");
  const float* A = a.f32(6, "A", (size_t)(tA ? K : M) * lda);
  const float* B = a.f32(8, "B", (size_t)(tB ? N : K) * ldb);
  float* C = a.f32(11, "C", (size_t)M * ldc);
  if (a.failed) return nullptr;
  OneThreadIfSmall scope(M, N, K);
  cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  return undefined(env);
}

// dgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc), row-major float64 (RDM Gram
// matrices are computed in double precision, as rsatoolbox does with numpy).
napi_value Dgemm(napi_env env, napi_callback_info info) {
  Args a(env, info, "dgemm");
  const bool tA = a.flag(0, "transA"), tB = a.flag(1, "transB");
  const int M = a.integer(2, "M"), N = a.integer(3, "N"), K = a.integer(4, "K");
  const double alpha = a.num(5, "alpha");
  const int lda = a.integer(7, "lda"), ldb = a.integer(9, "ldb");
  const double beta = a.num(10, "beta");
  const int ldc = a.integer(12, "ldc");
  const double* A = a.f64(6, "A", (size_t)(tA ? K : M) * lda);
  const double* B = a.f64(8, "B", (size_t)(tB ? N : K) * ldb);
  double* C = a.f64(11, "C", (size_t)M * ldc);
  if (a.failed) return nullptr;
  OneThreadIfSmall scope(M, N, K);
  cblas_dgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  return undefined(env);
}

// spdGateForward(a, wIn, bIn, wOut, bOut, B, C, H, cdf, pdf, pre): SPD's causal-importance MLPs (spd_gates.cc).
napi_value SpdGateForwardFn(napi_env env, napi_callback_info info) {
  Args a(env, info, "spdGateForward");
  const int B = a.integer(5, "B"), C = a.integer(6, "C"), H = a.integer(7, "H");
  const size_t BC = (size_t)B * C, CH = (size_t)C * H;
  const double* x = a.f64(0, "a", BC);
  const double* wIn = a.f64(1, "wIn", CH);
  const double* bIn = a.f64(2, "bIn", CH);
  const double* wOut = a.f64(3, "wOut", CH);
  const double* bOut = a.f64(4, "bOut", C);
  double* cdf = a.f64(8, "cdf", BC * H);
  double* pdf = a.f64(9, "pdf", BC * H);
  double* pre = a.f64(10, "pre", BC);
  if (a.failed) return nullptr;
  SpdGateForward(x, wIn, bIn, wOut, bOut, B, C, H, cdf, pdf, pre);
  return undefined(env);
}

// spdGateBackward(a, dpre, wIn, bIn, wOut, B, C, H, cdf, pdf, gwIn, gbIn, gwOut, gbOut, da).
napi_value SpdGateBackwardFn(napi_env env, napi_callback_info info) {
  Args a(env, info, "spdGateBackward");
  const int B = a.integer(5, "B"), C = a.integer(6, "C"), H = a.integer(7, "H");
  const size_t BC = (size_t)B * C, CH = (size_t)C * H;
  const double* x = a.f64(0, "a", BC);
  const double* dpre = a.f64(1, "dpre", BC);
  const double* wIn = a.f64(2, "wIn", CH);
  const double* bIn = a.f64(3, "bIn", CH);
  const double* wOut = a.f64(4, "wOut", CH);
  const double* cdf = a.f64(8, "cdf", BC * H);
  const double* pdf = a.f64(9, "pdf", BC * H);
  double* gwIn = a.f64(10, "gwIn", CH);
  double* gbIn = a.f64(11, "gbIn", CH);
  double* gwOut = a.f64(12, "gwOut", CH);
  double* gbOut = a.f64(13, "gbOut", C);
  double* da = a.f64(14, "da", BC);
  if (a.failed) return nullptr;
  SpdGateBackward(x, dpre, wIn, bIn, wOut, B, C, H, cdf, pdf, gwIn, gbIn, gwOut, gbOut, da);
  return undefined(env);
}

// LAPACK's info as an error naming the routine (0 is success).
napi_value lapackResult(napi_env env, const char* fn, int info) {
  if (info != 0) {
    napi_throw_error(env, nullptr, (std::string("featurelab native ") + fn + ": LAPACK info " + std::to_string(info) + (info > 0 ? " (did not converge)" : " (bad argument)")).c_str());
    return nullptr;
  }
  return undefined(env);
}

// symEig(n, A, w): A (n × n symmetric, row-major) becomes its eigenvectors as rows; w their values, ascending.
napi_value SymEigFn(napi_env env, napi_callback_info info) {
  Args a(env, info, "symEig");
  const int n = a.integer(0, "n");
  double* A = a.f64(1, "A", (size_t)n * n);
  double* w = a.f64(2, "w", (size_t)n);
  if (a.failed) return nullptr;
  return lapackResult(env, "symEig", SymEig(n, A, w));
}

// svd(m, n, A, s, U, Vt): thin SVD of row-major A (m × n, overwritten); k = min(m, n) values in s, descending.
napi_value SvdFn(napi_env env, napi_callback_info info) {
  Args a(env, info, "svd");
  const int m = a.integer(0, "m"), n = a.integer(1, "n"), k = m < n ? m : n;
  double* A = a.f64(2, "A", (size_t)m * n);
  double* s = a.f64(3, "s", (size_t)k);
  double* U = a.f64(4, "U", (size_t)m * k);
  double* Vt = a.f64(5, "Vt", (size_t)k * n);
  if (a.failed) return nullptr;
  return lapackResult(env, "svd", Svd(m, n, A, s, U, Vt));
}

// eigenvalues(n, A, re, im): eigenvalues of a general row-major A (overwritten).
napi_value EigenvaluesFn(napi_env env, napi_callback_info info) {
  Args a(env, info, "eigenvalues");
  const int n = a.integer(0, "n");
  double* A = a.f64(1, "A", (size_t)n * n);
  double* re = a.f64(2, "re", (size_t)n);
  double* im = a.f64(3, "im", (size_t)n);
  if (a.failed) return nullptr;
  return lapackResult(env, "eigenvalues", Eigenvalues(n, A, re, im));
}

void deleteWorkspace(napi_env, void* data, void*) { delete static_cast<Workspace*>(data); }

napi_value CreateWorkspace(napi_env env, napi_callback_info) {
  napi_value ext;
  napi_create_external(env, new Workspace(), deleteWorkspace, nullptr, &ext);
  return ext;
}

Workspace* workspace(Args& a, size_t i) {
  void* data = nullptr;
  if (i >= a.argc || napi_get_value_external(a.env, a.argv[i], &data) != napi_ok) a.fail("workspace must come from createWorkspace()");
  return static_cast<Workspace*>(data);
}

double* writeStats(Args& a, size_t i, const StepStats& s, size_t length = 7) {
  double* out = a.array<double>(i, "stats", napi_float64_array, length);
  if (!out) return nullptr;
  out[0] = s.loss, out[1] = s.mse, out[2] = s.sparsity, out[3] = s.auxk, out[4] = s.l0, out[5] = s.sse, out[6] = s.centred;
  return out;
}

// The dead-feature list of a top-k step, checked against the width.
const int32_t* deadList(Args& a, size_t i, int nDead, int h) {
  const int32_t* dead = a.array<int32_t>(i, "dead", napi_int32_array, nDead);
  if (a.failed) return nullptr;
  for (int j = 0; j < nDead; j++)
    if (dead[j] < 0 || dead[j] >= h) {
      a.fail("dead feature index out of range");
      return nullptr;
    }
  return dead;
}

// Arguments shared by both steps: ws, x, W_enc, W_dec, b_enc, b_dec, gW_enc, gW_dec, gb_enc, gb_dec, B, d, h.
struct StepArgs {
  Workspace* ws;
  const float* x;
  SaeTensors p, g;
  int B, d, h;
};

StepArgs stepArgs(Args& a) {
  StepArgs s{};
  s.ws = workspace(a, 0);
  s.B = a.integer(10, "B"), s.d = a.integer(11, "d"), s.h = a.integer(12, "h");
  if (a.failed) return s;
  const size_t dh = (size_t)s.d * s.h;
  s.x = a.f32(1, "x", (size_t)s.B * s.d);
  s.p = {a.f32(2, "W_enc", dh), a.f32(3, "W_dec", dh), a.f32(4, "b_enc", s.h), a.f32(5, "b_dec", s.d)};
  s.g = {a.f32(6, "grad W_enc", dh), a.f32(7, "grad W_dec", dh), a.f32(8, "grad b_enc", s.h), a.f32(9, "grad b_dec", s.d)};
  return s;
}

// reluStep(ws, x, params…, grads…, B, d, h, l1, unitNorm, fired, stats)
napi_value ReluStep(napi_env env, napi_callback_info info) {
  Args a(env, info, "reluStep");
  StepArgs s = stepArgs(a);
  const float l1 = (float)a.num(13, "l1");
  const bool unitNorm = a.flag(14, "unitNorm");
  uint8_t* fired = a.array<uint8_t>(15, "fired", napi_uint8_array, s.h);
  if (a.failed) return nullptr;
  StepStats st;
  relu_step(s.x, s.B, s.d, s.h, s.p, s.g, l1, unitNorm, *s.ws, fired, st);
  writeStats(a, 16, st);
  return a.failed ? nullptr : undefined(env);
}

// The arguments after ws…h shared by the top-k steps: k, kAux, auxCoefficient, dead (Int32Array), nDead.
struct TopkArgs {
  int k = 0, kAux = 0, nDead = 0;
  float coef = 0;
  const int32_t* dead = nullptr;
};

TopkArgs topkArgs(Args& a, int h) {
  TopkArgs t;
  t.k = a.integer(13, "k"), t.kAux = a.integer(14, "kAux");
  t.coef = (float)a.num(15, "auxCoefficient");
  t.nDead = a.integer(17, "nDead");
  if (!a.failed) t.dead = deadList(a, 16, t.nDead, h);
  if (!a.failed && (t.k < 1 || t.k > h)) a.fail("k must be between 1 and the width");
  if (!a.failed && t.kAux < 1) a.fail("kAux must be at least 1");
  return t;
}

// topkStep(ws, x, params…, grads…, B, d, h, k, kAux, auxCoefficient, dead (Int32Array), nDead, fired, stats)
napi_value TopkStep(napi_env env, napi_callback_info info) {
  Args a(env, info, "topkStep");
  StepArgs s = stepArgs(a);
  const TopkArgs t = topkArgs(a, s.h);
  uint8_t* fired = a.array<uint8_t>(18, "fired", napi_uint8_array, s.h);
  if (a.failed) return nullptr;
  StepStats st;
  topk_step(s.x, s.B, s.d, s.h, s.p, s.g, t.k, t.kAux, t.coef, t.dead, t.nDead, *s.ws, fired, st);
  writeStats(a, 19, st);
  return a.failed ? nullptr : undefined(env);
}

// batchTopkStep(ws, x, params…, grads…, B, d, h, k, kAux, auxCoefficient, dead, nDead, prefixEnds (Int32Array), nPrefixes, fired, stats [8])
// stats[7] is the smallest kept activation (Infinity when none).
napi_value BatchTopkStep(napi_env env, napi_callback_info info) {
  Args a(env, info, "batchTopkStep");
  StepArgs s = stepArgs(a);
  const TopkArgs t = topkArgs(a, s.h);
  const int nPrefixes = a.integer(19, "nPrefixes");
  if (!a.failed && nPrefixes < 1) a.fail("nPrefixes must be at least 1");
  const int32_t* ends = a.failed ? nullptr : a.array<int32_t>(18, "prefixEnds", napi_int32_array, nPrefixes);
  uint8_t* fired = a.array<uint8_t>(20, "fired", napi_uint8_array, s.h);
  for (int i = 0; !a.failed && i < nPrefixes; i++)
    if (ends[i] <= (i == 0 ? 0 : ends[i - 1]) || ends[i] > s.h) a.fail("prefixEnds must rise strictly and stay within the width");
  if (!a.failed && ends[nPrefixes - 1] != s.h) a.fail("the last prefix end must be the width");
  if (a.failed) return nullptr;
  StepStats st;
  double minKept = 0;
  batch_topk_step(s.x, s.B, s.d, s.h, s.p, s.g, t.k, ends, nPrefixes, t.kAux, t.coef, t.dead, t.nDead, *s.ws, fired, st, minKept);
  double* out = writeStats(a, 21, st, 8);
  if (out) out[7] = minKept;
  return a.failed ? nullptr : undefined(env);
}

// The length of an optional typed-array argument (already checked to be one): 0 means absent.
size_t optionalLength(Args& a, size_t i) {
  size_t n = 0;
  napi_get_typedarray_info(a.env, a.argv[i], nullptr, &n, nullptr, nullptr, nullptr);
  return n;
}

// jumpreluStep(ws, x, y, W_enc, W_dec, b_enc, b_dec, threshold, grads of the five…, B, dIn, dOut, h, l1, bandwidth,
//              tanhMode, tanhScale, preActCoefficient (< 0: off), centreInput, dead, fired, stats)
// y and dead may be empty arrays: reconstruct x; no pre-activation loss.
napi_value JumpreluStep(napi_env env, napi_callback_info info) {
  Args a(env, info, "jumpreluStep");
  Workspace* ws = workspace(a, 0);
  const int B = a.integer(13, "B"), dIn = a.integer(14, "dIn"), dOut = a.integer(15, "dOut"), h = a.integer(16, "h");
  if (a.failed) return nullptr;
  const size_t eh = (size_t)dIn * h, dh = (size_t)h * dOut;
  const float* x = a.f32(1, "x", (size_t)B * dIn);
  const float* y = a.f32(2, "y", 0);
  SaeTensors p{a.f32(3, "W_enc", eh), a.f32(4, "W_dec", dh), a.f32(5, "b_enc", h), a.f32(6, "b_dec", dOut)};
  const float* threshold = a.f32(7, "threshold", h);
  SaeTensors g{a.f32(8, "grad W_enc", eh), a.f32(9, "grad W_dec", dh), a.f32(10, "grad b_enc", h), a.f32(11, "grad b_dec", dOut)};
  float* gThreshold = a.f32(12, "grad threshold", h);
  JumpReluLoss o{(float)a.num(17, "l1"), (float)a.num(18, "bandwidth"), (float)a.num(20, "tanhScale"), (float)a.num(21, "preActCoefficient"), a.flag(19, "tanhMode"), a.flag(22, "centreInput")};
  const float* dead = a.f32(23, "dead", 0);
  uint8_t* fired = a.array<uint8_t>(24, "fired", napi_uint8_array, h);
  if (a.failed) return nullptr;
  // Optional arrays: empty means absent; otherwise they must be whole.
  const size_t yLen = optionalLength(a, 2), deadLen = optionalLength(a, 23);
  if (yLen != 0 && yLen < (size_t)B * dOut) a.fail("y holds " + std::to_string(yLen) + " values, needs " + std::to_string((size_t)B * dOut));
  if (deadLen != 0 && deadLen < (size_t)h) a.fail("dead holds " + std::to_string(deadLen) + " values, needs " + std::to_string(h));
  if (!a.failed && yLen == 0 && dIn != dOut) a.fail("without y the output width must equal the input width");
  if (!a.failed && !(o.bandwidth > 0)) a.fail("bandwidth must be > 0");
  if (a.failed) return nullptr;
  StepStats st;
  jumprelu_step(x, yLen ? y : nullptr, B, dIn, dOut, h, p, threshold, g, gThreshold, o, deadLen ? dead : nullptr, *ws, fired, st);
  writeStats(a, 25, st);
  return a.failed ? nullptr : undefined(env);
}

// reluTranscoderStep(ws, x, y, W_enc, W_dec, b_enc, b_dec, b_dec_out, W_skip, grads of the six…, B, dIn, dOut, h, l1, fired, stats)
// W_skip and its gradient may be empty arrays: no skip connection.
napi_value ReluTranscoderStep(napi_env env, napi_callback_info info) {
  Args a(env, info, "reluTranscoderStep");
  Workspace* ws = workspace(a, 0);
  const int B = a.integer(15, "B"), dIn = a.integer(16, "dIn"), dOut = a.integer(17, "dOut"), h = a.integer(18, "h");
  if (a.failed) return nullptr;
  const size_t eh = (size_t)dIn * h, dh = (size_t)h * dOut;
  const float* x = a.f32(1, "x", (size_t)B * dIn);
  const float* y = a.f32(2, "y", (size_t)B * dOut);
  SaeTensors p{a.f32(3, "W_enc", eh), a.f32(4, "W_dec", dh), a.f32(5, "b_enc", h), a.f32(6, "b_dec", dIn)};
  const float* bOut = a.f32(7, "b_dec_out", dOut);
  const float* Wskip = a.f32(8, "W_skip", 0);
  SaeTensors g{a.f32(9, "grad W_enc", eh), a.f32(10, "grad W_dec", dh), a.f32(11, "grad b_enc", h), a.f32(12, "grad b_dec", dIn)};
  float* gBOut = a.f32(13, "grad b_dec_out", dOut);
  float* gWskip = a.f32(14, "grad W_skip", 0);
  const float l1 = (float)a.num(19, "l1");
  uint8_t* fired = a.array<uint8_t>(20, "fired", napi_uint8_array, h);
  if (a.failed) return nullptr;
  const size_t skipLen = optionalLength(a, 8), gSkipLen = optionalLength(a, 14);
  if (skipLen != 0 && (skipLen < (size_t)dIn * dOut || gSkipLen < (size_t)dIn * dOut)) a.fail("W_skip and its gradient must hold dIn·dOut values (or both be empty)");
  if (a.failed) return nullptr;
  StepStats st;
  relu_transcoder_step(x, y, B, dIn, dOut, h, p, bOut, skipLen ? Wskip : nullptr, g, gBOut, skipLen ? gWskip : nullptr, l1, *ws, fired, st);
  writeStats(a, 21, st);
  return a.failed ? nullptr : undefined(env);
}

// gatedStep(ws, x, W_enc, W_dec, b_gate, b_mag, r_mag, b_dec, grads of the six…, B, d, h, l1, fired, stats)
napi_value GatedStep(napi_env env, napi_callback_info info) {
  Args a(env, info, "gatedStep");
  Workspace* ws = workspace(a, 0);
  const int B = a.integer(14, "B"), d = a.integer(15, "d"), h = a.integer(16, "h");
  if (a.failed) return nullptr;
  const size_t dh = (size_t)d * h;
  const float* x = a.f32(1, "x", (size_t)B * d);
  GatedTensors p{a.f32(2, "W_enc", dh), a.f32(3, "W_dec", dh), a.f32(4, "b_gate", h), a.f32(5, "b_mag", h), a.f32(6, "r_mag", h), a.f32(7, "b_dec", d)};
  GatedTensors g{a.f32(8, "grad W_enc", dh), a.f32(9, "grad W_dec", dh), a.f32(10, "grad b_gate", h), a.f32(11, "grad b_mag", h), a.f32(12, "grad r_mag", h), a.f32(13, "grad b_dec", d)};
  const float l1 = (float)a.num(17, "l1");
  uint8_t* fired = a.array<uint8_t>(18, "fired", napi_uint8_array, h);
  if (a.failed) return nullptr;
  StepStats st;
  gated_step(x, B, d, h, p, g, l1, *ws, fired, st);
  writeStats(a, 19, st);
  return a.failed ? nullptr : undefined(env);
}

// adam(p, g, m, v, lr, beta1, beta2, eps, t)
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a(env, info, "adam");
  bool is = false;
  size_t n = 0;
  if (a.argc > 0 && napi_is_typedarray(env, a.argv[0], &is) == napi_ok && is) napi_get_typedarray_info(env, a.argv[0], nullptr, &n, nullptr, nullptr, nullptr);
  float* p = a.f32(0, "param", n);
  const float* g = a.f32(1, "grad", n);
  float* m = a.f32(2, "m", n);
  float* v = a.f32(3, "v", n);
  const float lr = (float)a.num(4, "lr"), b1 = (float)a.num(5, "beta1"), b2 = (float)a.num(6, "beta2"), eps = (float)a.num(7, "eps");
  const int t = a.integer(8, "t");
  if (a.failed) return nullptr;
  adam_update(p, g, m, v, n, lr, b1, b2, eps, t);
  return undefined(env);
}

// normaliseRows(W, rows, cols) and removeParallel(g, W, rows, cols)
napi_value NormaliseRows(napi_env env, napi_callback_info info) {
  Args a(env, info, "normaliseRows");
  const int rows = a.integer(1, "rows"), cols = a.integer(2, "cols");
  float* W = a.f32(0, "W", (size_t)rows * cols);
  if (a.failed) return nullptr;
  normalise_rows(W, rows, cols);
  return undefined(env);
}

napi_value RemoveParallel(napi_env env, napi_callback_info info) {
  Args a(env, info, "removeParallel");
  const int rows = a.integer(2, "rows"), cols = a.integer(3, "cols");
  float* g = a.f32(0, "g", (size_t)rows * cols);
  const float* W = a.f32(1, "W", (size_t)rows * cols);
  if (a.failed) return nullptr;
  remove_parallel(g, W, rows, cols);
  return undefined(env);
}

// sumSquares(g) → number; scale(g, factor)
napi_value SumSquares(napi_env env, napi_callback_info info) {
  Args a(env, info, "sumSquares");
  size_t n = 0;
  bool is = false;
  if (a.argc > 0 && napi_is_typedarray(env, a.argv[0], &is) == napi_ok && is) napi_get_typedarray_info(env, a.argv[0], nullptr, &n, nullptr, nullptr, nullptr);
  const float* g = a.f32(0, "g", n);
  if (a.failed) return nullptr;
  napi_value out;
  napi_create_double(env, sum_squares(g, n), &out);
  return out;
}

napi_value Scale(napi_env env, napi_callback_info info) {
  Args a(env, info, "scale");
  size_t n = 0;
  bool is = false;
  if (a.argc > 0 && napi_is_typedarray(env, a.argv[0], &is) == napi_ok && is) napi_get_typedarray_info(env, a.argv[0], nullptr, &n, nullptr, nullptr, nullptr);
  float* g = a.f32(0, "g", n);
  const float factor = (float)a.num(1, "factor");
  if (a.failed) return nullptr;
  scale(g, n, factor);
  return undefined(env);
}

// info() → { blas, core, blasThreads, ompThreads }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "blas", v);
  napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "core", v);
  napi_create_int32(env, openblas_get_num_threads(), &v);
  napi_set_named_property(env, obj, "blasThreads", v);
  napi_create_int32(env, omp_get_max_threads(), &v);
  napi_set_named_property(env, obj, "ompThreads", v);
  return obj;
}

napi_value HugeBuffer(napi_env env, napi_callback_info info) {
  Args a(env, info, "hugeBuffer");
  const double bytes = a.num(0, "bytes");
  if (a.failed) return nullptr;
  if (!(bytes >= 1 && bytes <= 1e13)) {
    a.fail("bytes must be from 1 to 1e13");
    return nullptr;
  }
  const size_t align = size_t(2) << 20;
  const size_t size = (size_t(bytes) + align - 1) / align * align;
  void* p = nullptr;
  if (posix_memalign(&p, align, size) != 0 || p == nullptr) {
    napi_throw_range_error(env, nullptr, ("featurelab native hugeBuffer: cannot allocate " + std::to_string(size) + " bytes").c_str());
    return nullptr;
  }
  madvise(p, size, MADV_HUGEPAGE);
  int64_t adjusted = 0;
  napi_adjust_external_memory(env, (int64_t)size, &adjusted);
  napi_value ab;
  const napi_status st = napi_create_external_arraybuffer(
      env, p, size_t(bytes),
      [](napi_env e, void* data, void* hint) {
        int64_t left = 0;
        napi_adjust_external_memory(e, -(int64_t)(uintptr_t)hint, &left);
        free(data);
      },
      (void*)(uintptr_t)size, &ab);
  if (st != napi_ok) {
    free(p);
    napi_throw_error(env, nullptr, "featurelab native hugeBuffer: external array buffers are not allowed here");
    return nullptr;
  }
  return ab;
}

// zstd decompression through the system's libzstd (libzstd1, which apt itself depends on), opened at
// run time so that building the addon needs no zstd headers; absent, JavaScript falls back to fzstd.
typedef size_t (*ZstdDecompress)(void*, size_t, const void*, size_t);
typedef unsigned (*ZstdIsError)(size_t);
typedef const char* (*ZstdErrorName)(size_t);
struct Zstd {
  ZstdDecompress decompress = nullptr;
  ZstdIsError isError = nullptr;
  ZstdErrorName errorName = nullptr;
  Zstd() {
    void* lib = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return;
    decompress = (ZstdDecompress)dlsym(lib, "ZSTD_decompress");
    isError = (ZstdIsError)dlsym(lib, "ZSTD_isError");
    errorName = (ZstdErrorName)dlsym(lib, "ZSTD_getErrorName");
    if (!decompress || !isError || !errorName) decompress = nullptr;
  }
};
const Zstd& zstd() {
  static Zstd z;
  return z;
}

// zstdDecompress(input: Uint8Array, output: Uint8Array): bytes written; throws on corrupt input. Without
// libzstd, returns -1.
napi_value ZstdDecompressFn(napi_env env, napi_callback_info info) {
  Args a(env, info, "zstdDecompress");
  uint8_t* in = a.array<uint8_t>(0, "input", napi_uint8_array, 0);
  uint8_t* out = a.array<uint8_t>(1, "output", napi_uint8_array, 0);
  if (a.failed) return nullptr;
  size_t inLen = 0, outLen = 0;
  napi_typedarray_type t;
  napi_get_typedarray_info(env, a.argv[0], &t, &inLen, nullptr, nullptr, nullptr);
  napi_get_typedarray_info(env, a.argv[1], &t, &outLen, nullptr, nullptr, nullptr);
  napi_value result;
  const Zstd& z = zstd();
  if (!z.decompress) {
    napi_create_double(env, -1, &result);
    return result;
  }
  const size_t n = z.decompress(out, outLen, in, inLen);
  if (z.isError(n)) {
    napi_throw_error(env, nullptr, (std::string("zstd: ") + z.errorName(n)).c_str());
    return nullptr;
  }
  napi_create_double(env, (double)n, &result);
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  const struct {
    const char* name;
    napi_callback fn;
  } fns[] = {{"sgemm", Sgemm},       {"dgemm", Dgemm}, {"createWorkspace", CreateWorkspace}, {"reluStep", ReluStep},   {"topkStep", TopkStep}, {"batchTopkStep", BatchTopkStep}, {"jumpreluStep", JumpreluStep}, {"reluTranscoderStep", ReluTranscoderStep}, {"gatedStep", GatedStep},
             {"adam", Adam},         {"normaliseRows", NormaliseRows},     {"removeParallel", RemoveParallel},
             {"sumSquares", SumSquares}, {"scale", Scale},                 {"info", Info},
             {"hugeBuffer", HugeBuffer}, {"zstdDecompress", ZstdDecompressFn}, {"symEig", SymEigFn},
             {"svd", SvdFn}, {"eigenvalues", EigenvaluesFn}, {"spdGateForward", SpdGateForwardFn}, {"spdGateBackward", SpdGateBackwardFn}};
  for (const auto& f : fns) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  AddHeapGuard(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
