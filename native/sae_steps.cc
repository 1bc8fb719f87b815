#include "sae_steps.h"
#include "optimiser.h"
#include <cblas.h>
#include <algorithm>
#include <cmath>
#include <cstring>

namespace {

template <typename T>
T* sized(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// saeIn = x − b_dec; err = b_dec − x (a product f·W_dec added to it gives x̂ − x); Σ (x − x̄)².
void centre_inputs(const float* x, int B, int d, const float* b_dec, float* saeIn, float* err, float* colsum, StepStats& s) {
  std::fill(colsum, colsum + d, 0.0f);
  for (int b = 0; b < B; b++)
    for (int c = 0; c < d; c++) colsum[c] += x[(size_t)b * d + c];
  double centred = 0;
#pragma omp parallel for reduction(+ : centred) schedule(static)
  for (int b = 0; b < B; b++) {
    for (int c = 0; c < d; c++) {
      const float xv = x[(size_t)b * d + c];
      const float v = xv - b_dec[c];
      saeIn[(size_t)b * d + c] = v;
      err[(size_t)b * d + c] = -v;
      const double dev = xv - colsum[c] / B;
      centred += dev * dev;
    }
  }
  s.centred = centred;
}

// pre = b_enc + saeIn·W_enc, [B, h].
void pre_activations(const float* saeIn, int B, int d, int h, const SaeTensors& p, float* pre) {
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; b++) std::memcpy(pre + (size_t)b * h, p.b_enc, sizeof(float) * h);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, h, d, 1.0f, saeIn, d, p.W_enc, h, 1.0f, pre, h);
}

// ∂L/∂b_dec = Σ_B ∂L/∂x̂ − W_enc·(∂L/∂b_enc): b_dec is added to x̂ and subtracted from the encoder input.
void bias_dec_grad(const float* err, float gScale, int B, int d, int h, const SaeTensors& p, const SaeTensors& g, const float* ones) {
  cblas_sgemv(CblasRowMajor, CblasTrans, B, d, gScale, err, d, ones, 1, 0.0f, g.b_dec, 1);
  cblas_sgemv(CblasRowMajor, CblasNoTrans, d, h, -1.0f, p.W_enc, h, g.b_enc, 1, 1.0f, g.b_dec, 1);
}

double sum_squares_row(const float* a, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)a[i] * a[i];
  return s;
}

float dot(const float* a, const float* b, int n) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

void axpy(float alpha, const float* x, float* y, int n) {
#pragma omp simd
  for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

// The k largest of values[0..n) (through `columns` when given): a min-heap of the best k seen, so
// most entries cost one comparison. Writes column indices and values, unordered.
void top_k(const float* values, const int32_t* columns, int n, int k, int32_t* outIdx, float* outVal) {
  auto at = [&](int i) { return columns ? values[columns[i]] : values[i]; };
  auto col = [&](int i) { return columns ? columns[i] : i; };
  // heap on (value, index); the root is the smallest kept value.
  for (int i = 0; i < k; i++) {
    outVal[i] = at(i);
    outIdx[i] = col(i);
  }
  auto siftDown = [&](int i) {
    for (;;) {
      int l = 2 * i + 1, r = l + 1, m = i;
      if (l < k && outVal[l] < outVal[m]) m = l;
      if (r < k && outVal[r] < outVal[m]) m = r;
      if (m == i) return;
      std::swap(outVal[i], outVal[m]);
      std::swap(outIdx[i], outIdx[m]);
      i = m;
    }
  };
  for (int i = k / 2 - 1; i >= 0; i--) siftDown(i);
  for (int i = k; i < n; i++) {
    const float v = at(i);
    if (v > outVal[0]) {
      outVal[0] = v;
      outIdx[0] = col(i);
      siftDown(0);
    }
  }
}

// Sparse entries e (row rowOf(e), feature idx[e], activation act[e], ∂L/∂pre gpre[e]) scattered per
// feature, each feature's rows summed in parallel without races:
// gW_dec[j] += act·gScale·G_b, gW_encT[j] += gpre·saeIn_b, gb_enc[j] += gpre.
template <typename RowOf>
void scatter_feature_grads(size_t n, int d, int h, RowOf rowOf, const int32_t* idx, const float* act, const float* gpre, const float* G, float gScale,
                           const float* saeIn, float* gWdec, float* gWencT, float* gBenc, Workspace& w) {
  int32_t* offsets = sized(w.offsets, (size_t)h + 1);
  int32_t* order = sized(w.order, n);
  std::fill(offsets, offsets + h + 1, 0);
  for (size_t e = 0; e < n; e++) offsets[idx[e] + 1]++;
  for (int j = 0; j < h; j++) offsets[j + 1] += offsets[j];
  std::vector<int32_t> cursor(offsets, offsets + h);
  for (size_t e = 0; e < n; e++) order[cursor[idx[e]]++] = (int32_t)e;
#pragma omp parallel for schedule(dynamic, 16)
  for (int j = 0; j < h; j++) {
    float* wd = gWdec + (size_t)j * d;
    float* we = gWencT + (size_t)j * d;
    float gb = 0;
    for (int o = offsets[j]; o < offsets[j + 1]; o++) {
      const int32_t e = order[o];
      const int b = rowOf(e);
      if (act[e] > 0) axpy(act[e] * gScale, G + (size_t)b * d, wd, d);
      if (gpre[e] != 0) {
        axpy(gpre[e], saeIn + (size_t)b * d, we, d);
        gb += gpre[e];
      }
    }
    gBenc[j] += gb;
  }
}

// out [d, h] = inT [h, d] transposed, in cache-sized blocks.
void transpose_into(const float* inT, int h, int d, float* out) {
  const int T = 64;
#pragma omp parallel for collapse(2) schedule(static)
  for (int j0 = 0; j0 < h; j0 += T)
    for (int c0 = 0; c0 < d; c0 += T)
      for (int j = j0; j < std::min(h, j0 + T); j++)
        for (int c = c0; c < std::min(d, c0 + T); c++) out[(size_t)c * h + j] = inT[(size_t)j * d + c];
}

}  // namespace

void relu_step(const float* x, int B, int d, int h, const SaeTensors& p, const SaeTensors& g, float l1, bool unitNorm, Workspace& w,
               uint8_t* fired, StepStats& s) {
  const size_t Bh = (size_t)B * h, Bd = (size_t)B * d;
  float* saeIn = sized(w.saeIn, Bd);
  float* err = sized(w.err, Bd);
  float* f = sized(w.big1, Bh);
  float* ones = sized(w.ones, B);
  float* fireSum = sized(w.colsum, std::max(h, d));
  float* weights = sized(w.weights, h);
  int32_t* rowStart = sized(w.rowStart, (size_t)B + 1);
  std::fill(ones, ones + B, 1.0f);

  centre_inputs(x, B, d, p.b_dec, saeIn, err, fireSum, s);
  pre_activations(saeIn, B, d, h, p, f);
  // f = ReLU(pre) in place, counting each row's active features.
  rowStart[0] = 0;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; b++) {
    float* fr = f + (size_t)b * h;
    int n = 0;
    for (int j = 0; j < h; j++) {
      if (fr[j] > 0) n++;
      else fr[j] = 0;
    }
    rowStart[b + 1] = n;
  }
  for (int b = 0; b < B; b++) rowStart[b + 1] += rowStart[b];
  const size_t active = rowStart[B];
  // Below this density the products involving f run on its nonzeros instead of dense sgemm: most of
  // a ReLU SAE's training (L0 ≪ width) takes this path; the first steps from init are dense.
  const bool sparse = active * 8 < Bh;
  int32_t* idx = sparse ? sized(w.idx, active) : nullptr;
  float* val = sparse ? sized(w.val, active) : nullptr;
  float* gval = sparse ? sized(w.gval, active) : nullptr;
  if (sparse) {
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
      const float* fr = f + (size_t)b * h;
      size_t e = rowStart[b];
      for (int j = 0; j < h; j++)
        if (fr[j] > 0) idx[e] = j, val[e++] = fr[j];
    }
    std::fill(fireSum, fireSum + h, 0.0f);
    for (size_t e = 0; e < active; e++) fireSum[idx[e]] += val[e];
  } else {
    // Σ_B f per feature (f ≥ 0, so > 0 exactly for features that fired).
    cblas_sgemv(CblasRowMajor, CblasTrans, B, h, 1.0f, f, h, ones, 1, 0.0f, fireSum, 1);
  }
  double sparsity = 0;
#pragma omp parallel for reduction(+ : sparsity) schedule(static)
  for (int i = 0; i < h; i++) {
    weights[i] = unitNorm ? 1.0f : std::sqrt((float)sum_squares_row(p.W_dec + (size_t)i * d, d));
    sparsity += (double)fireSum[i] * weights[i];
    fired[i] = fireSum[i] > 0;
  }
  // err = x̂ − x.
  if (sparse) {
#pragma omp parallel for schedule(dynamic, 16)
    for (int b = 0; b < B; b++)
      for (int e = rowStart[b]; e < rowStart[b + 1]; e++) axpy(val[e], p.W_dec + (size_t)idx[e] * d, err + (size_t)b * d, d);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, h, 1.0f, f, h, p.W_dec, d, 1.0f, err, d);
  }
  s.sse = sum_squares(err, Bd);
  s.mse = s.sse / B;
  s.sparsity = sparsity / B;
  s.auxk = 0;
  s.loss = s.mse + l1 * s.sparsity;
  s.l0 = (double)active / B;

  const float gScale = 2.0f / B;  // ∂L/∂x̂ = (2/B)·err
  const float penalty = l1 / B;
  // ∂L/∂pre = (2/B)·err·W_decᵀ + (λ/B)·w where f > 0, else 0.
  if (sparse) {
#pragma omp parallel for schedule(dynamic, 16)
    for (int b = 0; b < B; b++)
      for (int e = rowStart[b]; e < rowStart[b + 1]; e++) gval[e] = gScale * dot(err + (size_t)b * d, p.W_dec + (size_t)idx[e] * d, d) + penalty * weights[idx[e]];
    float* gWencT = sized(w.gWencT, (size_t)h * d);
    std::fill(g.W_dec, g.W_dec + (size_t)h * d, 0.0f);
    std::fill(gWencT, gWencT + (size_t)h * d, 0.0f);
    std::fill(g.b_enc, g.b_enc + h, 0.0f);
    const int32_t* starts = rowStart;
    auto rowOf = [starts, B](int32_t e) { return (int)(std::upper_bound(starts, starts + B + 1, e) - starts) - 1; };
    scatter_feature_grads(active, d, h, rowOf, idx, val, gval, err, gScale, saeIn, g.W_dec, gWencT, g.b_enc, w);
    transpose_into(gWencT, h, d, g.W_enc);
  } else {
    float* gPre = sized(w.big2, Bh);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, h, d, gScale, err, d, p.W_dec, d, 0.0f, gPre, h);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
      float* gr = gPre + (size_t)b * h;
      const float* fr = f + (size_t)b * h;
#pragma omp simd
      for (int j = 0; j < h; j++) gr[j] = fr[j] > 0 ? gr[j] + penalty * weights[j] : 0.0f;
    }
    cblas_sgemv(CblasRowMajor, CblasTrans, B, h, 1.0f, gPre, h, ones, 1, 0.0f, g.b_enc, 1);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, h, d, B, gScale, f, h, err, d, 0.0f, g.W_dec, d);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, h, B, 1.0f, saeIn, d, gPre, h, 0.0f, g.W_enc, h);
  }
  if (!unitNorm) {
    // + (λ/B)·(Σ_B f_i)·W_dec,i/‖W_dec,i‖ from the norm-weighted penalty.
#pragma omp parallel for schedule(static)
    for (int i = 0; i < h; i++)
      if (weights[i] > 0 && fireSum[i] != 0) axpy(penalty * fireSum[i] / weights[i], p.W_dec + (size_t)i * d, g.W_dec + (size_t)i * d, d);
  }
  bias_dec_grad(err, gScale, B, d, h, p, g, ones);
  if (unitNorm) remove_parallel(g.W_dec, p.W_dec, h, d);
}

void topk_step(const float* x, int B, int d, int h, const SaeTensors& p, const SaeTensors& g, int k, int kAux, float auxCoefficient,
               const int32_t* dead, int nDead, Workspace& w, uint8_t* fired, StepStats& s) {
  const size_t Bh = (size_t)B * h, Bd = (size_t)B * d, Bk = (size_t)B * k;
  float* saeIn = sized(w.saeIn, Bd);
  float* err = sized(w.err, Bd);
  float* pre = sized(w.big1, Bh);
  float* ones = sized(w.ones, B);
  float* colsum = sized(w.colsum, std::max(h, d));
  float* gWencT = sized(w.gWencT, (size_t)h * d);
  int32_t* idx = sized(w.idx, Bk);
  float* val = sized(w.val, Bk);
  float* gval = sized(w.gval, Bk);
  std::fill(ones, ones + B, 1.0f);

  centre_inputs(x, B, d, p.b_dec, saeIn, err, colsum, s);
  pre_activations(saeIn, B, d, h, p, pre);
  long active = 0;
#pragma omp parallel for reduction(+ : active) schedule(static)
  for (int b = 0; b < B; b++) {
    float* v = val + (size_t)b * k;
    top_k(pre + (size_t)b * h, nullptr, h, k, idx + (size_t)b * k, v);
    float* e = err + (size_t)b * d;
    for (int t = 0; t < k; t++) {
      v[t] = std::max(v[t], 0.0f);
      if (v[t] > 0) {
        active++;
        axpy(v[t], p.W_dec + (size_t)idx[(size_t)b * k + t] * d, e, d);  // err = x̂ − x
      }
    }
  }
  std::fill(fired, fired + h, 0);
  for (size_t e = 0; e < Bk; e++)
    if (val[e] > 0) fired[idx[e]] = 1;
  s.sse = sum_squares(err, Bd);
  s.mse = s.sse / B;
  s.sparsity = 0;
  s.l0 = (double)active / B;

  const float gScale = 2.0f / B;
  // ∂L/∂pre at kept, positive entries: (2/B)·err_b·W_dec,j.
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; b++)
    for (int t = 0; t < k; t++) {
      const size_t e = (size_t)b * k + t;
      gval[e] = val[e] > 0 ? gScale * dot(err + (size_t)b * d, p.W_dec + (size_t)idx[e] * d, d) : 0.0f;
    }
  std::fill(g.W_dec, g.W_dec + (size_t)h * d, 0.0f);
  std::fill(gWencT, gWencT + (size_t)h * d, 0.0f);
  std::fill(g.b_enc, g.b_enc + h, 0.0f);
  scatter_feature_grads(Bk, d, h, [k](int32_t e) { return e / k; }, idx, val, gval, err, gScale, saeIn, g.W_dec, gWencT, g.b_enc, w);

  s.auxk = 0;
  const int kA = std::min(kAux, nDead);
  if (nDead > 0 && auxCoefficient > 0 && kA > 0) {
    // e = x − x̂ = −err, a constant. Var(e) = mean_B Σ_d (e − ē)².
    cblas_sgemv(CblasRowMajor, CblasTrans, B, d, 1.0f / B, err, d, ones, 1, 0.0f, colsum, 1);
    double var = 0;
#pragma omp parallel for reduction(+ : var) schedule(static)
    for (int b = 0; b < B; b++)
      for (int c = 0; c < d; c++) {
        const double dv = err[(size_t)b * d + c] - colsum[c];
        var += dv * dv;
      }
    var /= B;
    const double c = var > 1e-12 ? auxCoefficient * std::min((double)nDead / kAux, 1.0) / var : 0.0;
    const size_t BkA = (size_t)B * kA;
    int32_t* aIdx = sized(w.auxIdx, BkA);
    float* aVal = sized(w.auxVal, BkA);
    float* aG = sized(w.auxGval, BkA);
    float* diff = sized(w.diff, Bd);
    double auxSse = 0;
#pragma omp parallel for reduction(+ : auxSse) schedule(static)
    for (int b = 0; b < B; b++) {
      float* v = aVal + (size_t)b * kA;
      int32_t* ix = aIdx + (size_t)b * kA;
      top_k(pre + (size_t)b * h, dead, nDead, kA, ix, v);
      float* df = diff + (size_t)b * d;
      for (int q = 0; q < d; q++) df[q] = err[(size_t)b * d + q];  // ê − e = ê + err
      for (int t = 0; t < kA; t++) {
        v[t] = std::max(v[t], 0.0f);
        if (v[t] > 0) axpy(v[t], p.W_dec + (size_t)ix[t] * d, df, d);
      }
      for (int q = 0; q < d; q++) auxSse += (double)df[q] * df[q];
    }
    s.auxk = c * auxSse / B;
    const float aScale = (float)(2.0 * c / B);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
      for (int t = 0; t < kA; t++) {
        const size_t e = (size_t)b * kA + t;
        aG[e] = aVal[e] > 0 ? aScale * dot(diff + (size_t)b * d, p.W_dec + (size_t)aIdx[e] * d, d) : 0.0f;
      }
    scatter_feature_grads(BkA, d, h, [kA](int32_t e) { return e / kA; }, aIdx, aVal, aG, diff, aScale, saeIn, g.W_dec, gWencT, g.b_enc, w);
  }
  s.loss = s.mse + s.auxk;

  transpose_into(gWencT, h, d, g.W_enc);
  bias_dec_grad(err, gScale, B, d, h, p, g, ones);
  remove_parallel(g.W_dec, p.W_dec, h, d);  // unit-norm decoder rows: only the tangent part moves them
}
