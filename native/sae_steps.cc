#include "sae_steps.h"
#include "optimiser.h"
#include <cblas.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

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

// Σ_b Σ_c (a[b, c] − mean_b a[·, c])², with colMean [d] as scratch (ones [B] holds 1s).
double centred_sum_squares(const float* a, int B, int d, const float* ones, float* colMean) {
  cblas_sgemv(CblasRowMajor, CblasTrans, B, d, 1.0f / B, a, d, ones, 1, 0.0f, colMean, 1);
  double total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
  for (int b = 0; b < B; b++)
    for (int c = 0; c < d; c++) {
      const double dv = a[(size_t)b * d + c] - colMean[c];
      total += dv * dv;
    }
  return total;
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
// gW_dec[j] += act·gScale·G(j, b), gW_encT[j] += gpre·saeIn_b, gb_enc[j] += gpre. G(j, b) is the
// row ∂L/∂x̂ is made of for feature j (one residual for most losses; Matryoshka's depends on j's group).
template <typename RowOf, typename GradRow>
void scatter_feature_grads(size_t n, int d, int h, RowOf rowOf, const int32_t* idx, const float* act, const float* gpre, GradRow G, float gScale,
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
      if (act[e] > 0) axpy(act[e] * gScale, G(j, b), wd, d);
      if (gpre[e] != 0) {
        axpy(gpre[e], saeIn + (size_t)b * d, we, d);
        gb += gpre[e];
      }
    }
    gBenc[j] += gb;
  }
}

// The k-th largest positive value of v[0..n) (0 when there are at most k), and how many are positive.
// A radix select on the bits of positive floats, which order as the floats do: a parallel histogram
// of the high 16 bits finds the bin holding the k-th largest, a second of the low 16 bits within it
// the value. Two passes over v, no copy and no sort.
float kth_largest_positive(const float* v, size_t n, size_t k, size_t& nPositive) {
  auto bits = [](float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
  };
  std::vector<size_t> hist(1 << 16, 0);
  size_t positive = 0;
  auto histogram = [&](auto binOf, auto keep) {
    std::fill(hist.begin(), hist.end(), 0);
#pragma omp parallel
    {
      std::vector<size_t> local(1 << 16, 0);
#pragma omp for schedule(static)
      for (size_t e = 0; e < n; e++)
        if (v[e] > 0 && keep(bits(v[e]))) local[binOf(bits(v[e]))]++;
#pragma omp critical
      for (size_t b = 0; b < local.size(); b++) hist[b] += local[b];
    }
  };
  histogram([](uint32_t u) { return u >> 16; }, [](uint32_t) { return true; });
  for (size_t c : hist) positive += c;
  nPositive = positive;
  if (positive <= k) return 0.0f;
  // Walk down from the largest bin until the k-th value is inside.
  size_t above = 0;
  uint32_t hi = (1 << 16) - 1;
  while (above + hist[hi] < k) above += hist[hi--];
  histogram([](uint32_t u) { return u & 0xffff; }, [hi](uint32_t u) { return (u >> 16) == hi; });
  uint32_t lo = (1 << 16) - 1;
  while (above + hist[lo] < k) above += hist[lo--];
  const uint32_t u = (hi << 16) | lo;
  float t;
  std::memcpy(&t, &u, sizeof t);
  return t;
}

// G(j, b) = buf's row b, for losses whose ∂L/∂x̂ does not depend on the feature.
struct Rows {
  const float* buf;
  int d;
  const float* operator()(int, int b) const { return buf + (size_t)b * d; }
};

// ‖W_i‖ for each of W's h rows of length d.
void row_norms(const float* W, int h, int d, float* norms) {
  for (int i = 0; i < h; i++) norms[i] = std::sqrt((float)sum_squares_row(W + (size_t)i * d, d));
}

// gW_i += (scale·c_i / ‖W_i‖)·W_i: a term's gradient through the row norm, ∂‖W_i‖/∂W_i = W_i/‖W_i‖,
// where the term's ∂/∂‖W_i‖ is scale·c_i (rows with c_i = 0 or ‖W_i‖ = 0 are left alone).
void add_norm_gradient(const float* W, const float* norms, const float* c, float scale, int h, int d, float* gW) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i < h; i++)
    if (c[i] != 0 && norms[i] > 0) axpy(scale * c[i] / norms[i], W + (size_t)i * d, gW + (size_t)i * d, d);
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

// AuxK (Gao et al. 2024) on the dead features (`dead` lists their indices), its gradients added to
// g.W_dec, gW_encT and g.b_enc: α·min(n_dead/k_aux, 1)·mean_B Σ (ê − e)²/Var(e), with e = x − x̂ = −err
// held constant and ê made of each row's k_aux largest dead pre-activations. Returns the term.
double aux_k(const float* pre, const float* saeIn, const float* err, int B, int d, int h, const SaeTensors& p, int kAux, float auxCoefficient,
             const int32_t* dead, int nDead, float* gWencT, const SaeTensors& g, Workspace& w) {
  float* ones = sized(w.ones, B);
  float* colsum = sized(w.colsum, std::max(h, d));
  std::fill(ones, ones + B, 1.0f);
  double auxk = 0;
  const int kA = std::min(kAux, nDead);
  if (nDead > 0 && auxCoefficient > 0 && kA > 0) {
    // e = x − x̂ = −err, a constant. Var(e) = mean_B Σ_d (e − ē)².
    const double var = centred_sum_squares(err, B, d, ones, colsum) / B;
    const double c = var > 1e-12 ? auxCoefficient * std::min((double)nDead / kAux, 1.0) / var : 0.0;
    const size_t BkA = (size_t)B * kA;
    int32_t* aIdx = sized(w.auxIdx, BkA);
    float* aVal = sized(w.auxVal, BkA);
    float* aG = sized(w.auxGval, BkA);
    float* diff = sized(w.diff, (size_t)B * d);
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
    auxk = c * auxSse / B;
    const float aScale = (float)(2.0 * c / B);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
      for (int t = 0; t < kA; t++) {
        const size_t e = (size_t)b * kA + t;
        aG[e] = aVal[e] > 0 ? aScale * dot(diff + (size_t)b * d, p.W_dec + (size_t)aIdx[e] * d, d) : 0.0f;
      }
    scatter_feature_grads(BkA, d, h, [kA](int32_t e) { return e / kA; }, aIdx, aVal, aG, Rows{diff, d}, aScale, saeIn, g.W_dec, gWencT, g.b_enc, w);
  }
  return auxk;
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
    scatter_feature_grads(active, d, h, rowOf, idx, val, gval, Rows{err, d}, gScale, saeIn, g.W_dec, gWencT, g.b_enc, w);
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
  // + (λ/B)·(Σ_B f_i)·W_dec,i/‖W_dec,i‖ from the norm-weighted penalty.
  if (!unitNorm) add_norm_gradient(p.W_dec, weights, fireSum, penalty, h, d, g.W_dec);
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
  scatter_feature_grads(Bk, d, h, [k](int32_t e) { return e / k; }, idx, val, gval, Rows{err, d}, gScale, saeIn, g.W_dec, gWencT, g.b_enc, w);

  s.auxk = aux_k(pre, saeIn, err, B, d, h, p, kAux, auxCoefficient, dead, nDead, gWencT, g, w);
  s.loss = s.mse + s.auxk;

  transpose_into(gWencT, h, d, g.W_enc);
  bias_dec_grad(err, gScale, B, d, h, p, g, ones);
  remove_parallel(g.W_dec, p.W_dec, h, d);  // unit-norm decoder rows: only the tangent part moves them
}

void batch_topk_step(const float* x, int B, int d, int h, const SaeTensors& p, const SaeTensors& g, int k, const int32_t* prefixEnds, int nPrefixes, int kAux,
                     float auxCoefficient, const int32_t* dead, int nDead, Workspace& w, uint8_t* fired, StepStats& s, double& minKept) {
  const size_t Bh = (size_t)B * h, Bd = (size_t)B * d;
  const int G = nPrefixes;
  float* saeIn = sized(w.saeIn, Bd);
  float* err = sized(w.err, Bd);
  float* pre = sized(w.big1, Bh);
  float* ones = sized(w.ones, B);
  float* colsum = sized(w.colsum, std::max(h, d));
  float* gWencT = sized(w.gWencT, (size_t)h * d);
  int32_t* rowStart = sized(w.rowStart, (size_t)B + 1);
  std::fill(ones, ones + B, 1.0f);

  centre_inputs(x, B, d, p.b_dec, saeIn, err, colsum, s);
  pre_activations(saeIn, B, d, h, p, pre);

  // The batch keeps its B·k largest activations a = ReLU(pre). Kept zeros add nothing, so only the
  // positive ones are listed: all of them when there are at most B·k, else those above the
  // (B·k)-th largest value t, and as many equal to t as fill the budget (in row-major order).
  const size_t budget = (size_t)B * k;
  size_t nPos = 0;
  const float t = kth_largest_positive(pre, Bh, budget, nPos);
  // Count per row (in parallel), hand out the ties in row order, then list the entries.
  std::vector<int32_t> rowTies(B, 0);
  size_t above = 0;
#pragma omp parallel for reduction(+ : above) schedule(static)
  for (int b = 0; b < B; b++) {
    const float* r = pre + (size_t)b * h;
    int n = 0, eq = 0;
    for (int j = 0; j < h; j++) {
      n += r[j] > t;
      eq += nPos > budget && r[j] == t;
    }
    rowStart[b + 1] = n;
    rowTies[b] = eq;
    above += n;
  }
  size_t ties = nPos > budget ? budget - above : 0;
  rowStart[0] = 0;
  for (int b = 0; b < B; b++) {
    const int take = (int)std::min<size_t>(ties, (size_t)rowTies[b]);
    ties -= take;
    rowTies[b] = take;
    rowStart[b + 1] += rowStart[b] + take;
  }
  const size_t active = rowStart[B];
  int32_t* idx = sized(w.idx, std::max<size_t>(active, 1));
  float* val = sized(w.val, std::max<size_t>(active, 1));
  float* gval = sized(w.gval, std::max<size_t>(active, 1));
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; b++) {
    const float* r = pre + (size_t)b * h;
    size_t e = rowStart[b];
    int tiesLeft = rowTies[b];
    for (int j = 0; j < h; j++)
      if (r[j] > t || (r[j] == t && tiesLeft > 0 && r[j] > 0 && tiesLeft--)) idx[e] = j, val[e++] = r[j];
  }
  minKept = std::numeric_limits<double>::infinity();
  std::fill(fired, fired + h, 0);
  for (size_t e = 0; e < active; e++) {
    minKept = std::min(minKept, (double)val[e]);
    fired[idx[e]] = 1;
  }

  // Residuals r_g = x̂_{m_g} − x of the nested prefixes (one, the whole dictionary, for plain
  // BatchTopK), built group by group from each row's entries, which are in feature order.
  std::vector<int32_t> groupOf(h);
  for (int gi = 0, j = 0; gi < G; gi++)
    for (; j < prefixEnds[gi]; j++) groupOf[j] = gi;
  float* R = sized(w.big2, (size_t)G * Bd);
  auto res = [&](int gi, int b) { return R + ((size_t)gi * B + b) * d; };
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; b++) {
    size_t e = rowStart[b];
    for (int gi = 0; gi < G; gi++) {
      float* r = res(gi, b);
      std::memcpy(r, gi == 0 ? err + (size_t)b * d : res(gi - 1, b), sizeof(float) * d);
      for (; e < (size_t)rowStart[b + 1] && idx[e] < prefixEnds[gi]; e++) axpy(val[e], p.W_dec + (size_t)idx[e] * d, r, d);
    }
  }
  double prefixSse = 0;
  for (int gi = 0; gi < G; gi++) {
    const double sse = sum_squares(res(gi, 0), Bd);
    prefixSse += sse;
    if (gi == G - 1) s.sse = sse;
  }
  std::memcpy(err, res(G - 1, 0), sizeof(float) * Bd);  // x̂ − x of the whole dictionary, for AuxK
  s.mse = s.sse / B;
  s.sparsity = 0;
  s.l0 = (double)active / B;

  // Group g's features sit in prefixes g…G−1, so their gradient sees R_g = Σ_{g' ≥ g} r_g' (in place).
  for (int gi = G - 2; gi >= 0; gi--) axpy(1.0f, res(gi + 1, 0), res(gi, 0), (int)Bd);
  const float gScale = 2.0f / ((float)B * G);
#pragma omp parallel for schedule(dynamic, 16)
  for (int b = 0; b < B; b++)
    for (int e = rowStart[b]; e < rowStart[b + 1]; e++) gval[e] = gScale * dot(res(groupOf[idx[e]], b), p.W_dec + (size_t)idx[e] * d, d);
  std::fill(g.W_dec, g.W_dec + (size_t)h * d, 0.0f);
  std::fill(gWencT, gWencT + (size_t)h * d, 0.0f);
  std::fill(g.b_enc, g.b_enc + h, 0.0f);
  const int32_t* starts = rowStart;
  auto rowOf = [starts, B](int32_t e) { return (int)(std::upper_bound(starts, starts + B + 1, e) - starts) - 1; };
  auto gradRow = [&](int j, int b) -> const float* { return res(groupOf[j], b); };
  scatter_feature_grads(active, d, h, rowOf, idx, val, gval, gradRow, gScale, saeIn, g.W_dec, gWencT, g.b_enc, w);

  s.auxk = aux_k(pre, saeIn, err, B, d, h, p, kAux, auxCoefficient, dead, nDead, gWencT, g, w);
  s.loss = prefixSse / ((double)B * G) + s.auxk;

  transpose_into(gWencT, h, d, g.W_enc);
  bias_dec_grad(res(0, 0), gScale, B, d, h, p, g, ones);
  remove_parallel(g.W_dec, p.W_dec, h, d);
}

void jumprelu_step(const float* x, const float* y, int B, int dIn, int dOut, int h, const SaeTensors& p, const float* threshold, const SaeTensors& g,
                   float* gThreshold, const JumpReluLoss& o, const float* dead, Workspace& w, uint8_t* fired, StepStats& s) {
  const size_t Bh = (size_t)B * h;
  const float* target = y ? y : x;
  float* saeIn = sized(w.saeIn, (size_t)B * dIn);
  float* err = sized(w.err, (size_t)B * dOut);
  float* pre = sized(w.big1, Bh);
  float* gPre = sized(w.big2, Bh);  // ∂L/∂f first, then ∂L/∂π
  float* ones = sized(w.ones, B);
  float* colsum = sized(w.colsum, std::max(h, dOut));
  float* norms = sized(w.weights, (size_t)h * 4);
  float* theta = norms + h;   // θ⁺ = ReLU(θ)
  float* gNorms = norms + 2 * (size_t)h;
  float* gTheta = norms + 3 * (size_t)h;
  std::fill(ones, ones + B, 1.0f);

  // Σ (y − ȳ)² for the FVU, and the encoder's input (an SAE encodes x − b_dec).
  s.centred = centred_sum_squares(target, B, dOut, ones, colsum);
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; b++)
    for (int c = 0; c < dIn; c++) saeIn[(size_t)b * dIn + c] = x[(size_t)b * dIn + c] - (o.centreInput ? p.b_dec[c] : 0.0f);
  pre_activations(saeIn, B, dIn, h, p, pre);
  for (int i = 0; i < h; i++) theta[i] = std::max(threshold[i], 0.0f);
  row_norms(p.W_dec, h, dOut, norms);

  // f = π·H(π − θ⁺); err = x̂ − y.
  float* f = sized(w.val, Bh);
  long active = 0;
#pragma omp parallel for reduction(+ : active) schedule(static)
  for (int b = 0; b < B; b++)
    for (int j = 0; j < h; j++) {
      const size_t e = (size_t)b * h + j;
      const bool on = pre[e] - theta[j] > 0;
      f[e] = on ? pre[e] : 0.0f;
      active += on;
    }
  for (int b = 0; b < B; b++)
    for (int c = 0; c < dOut; c++) err[(size_t)b * dOut + c] = p.b_dec[c] - target[(size_t)b * dOut + c];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, dOut, h, 1.0f, f, h, p.W_dec, dOut, 1.0f, err, dOut);
  s.sse = sum_squares(err, (size_t)B * dOut);
  s.mse = s.sse / B;
  s.l0 = (double)active / B;
  s.auxk = 0;

  // ∂L/∂f = (2/B)·err·W_decᵀ, then the sparsity and pre-activation terms per entry.
  const float gScale = 2.0f / B;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, h, dOut, gScale, err, dOut, p.W_dec, dOut, 0.0f, gPre, h);
  const float inv = 1.0f / o.bandwidth;
  const bool preAct = o.preActCoefficient >= 0 && dead;
  double sparsity = 0, preActSum = 0;
  std::fill(gNorms, gNorms + 2 * (size_t)h, 0.0f);  // gNorms and gTheta
  std::fill(fired, fired + h, 0);
  // Rows in parallel; each thread sums its rows' per-feature terms, then adds them in.
#pragma omp parallel reduction(+ : sparsity, preActSum)
  {
    std::vector<double> gn(h, 0.0), gt(h, 0.0), window(h, 0.0);
    std::vector<uint8_t> on1(h, 0);
#pragma omp for schedule(static)
    for (int b = 0; b < B; b++)
      for (int j = 0; j < h; j++) {
        const size_t e = (size_t)b * h + j;
        const float u = pre[e] - theta[j];
        const bool on = u > 0;
        const bool inWindow = std::fabs(u * inv) < 0.5f;
        float gf = gPre[e];
        if (o.tanhMode) {
          // λ·mean_B Σ tanh(s·f·‖W‖): reaches f and the decoder norm.
          const float t = std::tanh(o.tanhScale * f[e] * norms[j]);
          sparsity += t;
          const float dArg = (1 - t * t) * (o.l1 * o.tanhScale / B);
          gf += dArg * norms[j];
          gn[j] += dArg * f[e];
        } else {
          sparsity += on;
          window[j] += inWindow;
        }
        float gp = on ? gf : 0.0f;
        if (inWindow) gt[j] += gf * (-theta[j] * inv);  // through f = π·H(π − θ⁺)
        if (preAct && dead[j] > 0 && -u > 0) {
          // c·mean_B Σ ReLU(θ⁺ − π)·‖W‖ on dead features: pulls their pre-activations up.
          const float gb = norms[j] * (o.preActCoefficient / B);
          preActSum += (double)(-u) * norms[j];
          gn[j] += o.preActCoefficient / B * (-u);
          gp -= gb;
          gt[j] += gb;
        }
        if (f[e] > 0) on1[j] = 1;
        gPre[e] = gp;
      }
#pragma omp critical
    for (int j = 0; j < h; j++) {
      gNorms[j] += (float)gn[j];
      gTheta[j] += (float)(gt[j] + (o.tanhMode ? 0.0 : -o.l1 / ((double)B * o.bandwidth) * window[j]));
      fired[j] |= on1[j];
    }
  }
  s.sparsity = sparsity / B;
  s.loss = s.mse + o.l1 * s.sparsity + (preAct ? o.preActCoefficient * preActSum / B : 0.0);
  for (int j = 0; j < h; j++) gThreshold[j] = threshold[j] > 0 ? gTheta[j] : 0.0f;  // θ⁺ = ReLU(θ)

  // W_dec: fᵀ·(2/B)·err, plus (∂L/∂‖W_i‖ / ‖W_i‖)·W_i. W_enc, b_enc from ∂L/∂π; b_dec as an output
  // bias, and (for an SAE) also subtracted from the encoder's input.
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, h, dOut, B, gScale, f, h, err, dOut, 0.0f, g.W_dec, dOut);
  add_norm_gradient(p.W_dec, norms, gNorms, 1.0f, h, dOut, g.W_dec);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dIn, h, B, 1.0f, saeIn, dIn, gPre, h, 0.0f, g.W_enc, h);
  cblas_sgemv(CblasRowMajor, CblasTrans, B, h, 1.0f, gPre, h, ones, 1, 0.0f, g.b_enc, 1);
  cblas_sgemv(CblasRowMajor, CblasTrans, B, dOut, gScale, err, dOut, ones, 1, 0.0f, g.b_dec, 1);
  if (o.centreInput) cblas_sgemv(CblasRowMajor, CblasNoTrans, dIn, h, -1.0f, p.W_enc, h, g.b_enc, 1, 1.0f, g.b_dec, 1);
}

void relu_transcoder_step(const float* x, const float* y, int B, int dIn, int dOut, int h, const SaeTensors& p, const float* bOut, const float* Wskip,
                          const SaeTensors& g, float* gBOut, float* gWskip, float l1, Workspace& w, uint8_t* fired, StepStats& s) {
  const size_t Bh = (size_t)B * h;
  float* xIn = sized(w.saeIn, (size_t)B * dIn);
  float* err = sized(w.err, (size_t)B * dOut);
  float* z = sized(w.big1, Bh);
  float* gA = sized(w.big2, Bh);
  float* ones = sized(w.ones, B);
  float* colsum = sized(w.colsum, std::max(h, dOut));
  float* norms = sized(w.weights, (size_t)h * 2);
  float* fire = norms + h;
  std::fill(ones, ones + B, 1.0f);

  s.centred = centred_sum_squares(y, B, dOut, ones, colsum);
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; b++)
    for (int c = 0; c < dIn; c++) xIn[(size_t)b * dIn + c] = x[(size_t)b * dIn + c] - p.b_dec[c];
  pre_activations(xIn, B, dIn, h, p, z);
  long active = 0;
#pragma omp parallel for reduction(+ : active) schedule(static)
  for (size_t e = 0; e < Bh; e++) {
    z[e] = std::max(z[e], 0.0f);  // the step below reads z > 0 for a > 0
    active += z[e] > 0;
  }
  // err = ŷ − y = z·W_dec + b_out (+ x·W_skip) − y.
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; b++)
    for (int c = 0; c < dOut; c++) err[(size_t)b * dOut + c] = bOut[c] - y[(size_t)b * dOut + c];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, dOut, h, 1.0f, z, h, p.W_dec, dOut, 1.0f, err, dOut);
  if (Wskip) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, dOut, dIn, 1.0f, x, dIn, Wskip, dOut, 1.0f, err, dOut);
  cblas_sgemv(CblasRowMajor, CblasTrans, B, h, 1.0f, z, h, ones, 1, 0.0f, fire, 1);
  row_norms(p.W_dec, h, dOut, norms);
  double sparsity = 0;
  for (int i = 0; i < h; i++) {
    sparsity += (double)fire[i] * norms[i];
    fired[i] = fire[i] > 0;
  }
  s.sse = sum_squares(err, (size_t)B * dOut);
  s.mse = s.sse / B;
  s.sparsity = sparsity / B;
  s.auxk = 0;
  s.loss = s.mse + l1 * s.sparsity;
  s.l0 = (double)active / B;

  // ∂L/∂a = ((2/B)·err·W_decᵀ + (λ/B)·‖W_dec,i‖)·1[a > 0].
  const float gScale = 2.0f / B, penalty = l1 / B;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, h, dOut, gScale, err, dOut, p.W_dec, dOut, 0.0f, gA, h);
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; b++)
    for (int j = 0; j < h; j++) {
      const size_t e = (size_t)b * h + j;
      gA[e] = z[e] > 0 ? gA[e] + penalty * norms[j] : 0.0f;
    }
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, h, dOut, B, gScale, z, h, err, dOut, 0.0f, g.W_dec, dOut);
  add_norm_gradient(p.W_dec, norms, fire, penalty, h, dOut, g.W_dec);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dIn, h, B, 1.0f, xIn, dIn, gA, h, 0.0f, g.W_enc, h);
  cblas_sgemv(CblasRowMajor, CblasTrans, B, h, 1.0f, gA, h, ones, 1, 0.0f, g.b_enc, 1);
  cblas_sgemv(CblasRowMajor, CblasNoTrans, dIn, h, -1.0f, p.W_enc, h, g.b_enc, 1, 0.0f, g.b_dec, 1);  // b_dec only centres the input
  cblas_sgemv(CblasRowMajor, CblasTrans, B, dOut, gScale, err, dOut, ones, 1, 0.0f, gBOut, 1);
  if (Wskip) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dIn, dOut, B, gScale, x, dIn, err, dOut, 0.0f, gWskip, dOut);
}

void gated_step(const float* x, int B, int d, int h, const GatedTensors& p, const GatedTensors& g, float l1, Workspace& w, uint8_t* fired, StepStats& s) {
  const size_t Bh = (size_t)B * h, Bd = (size_t)B * d;
  float* saeIn = sized(w.saeIn, Bd);
  float* err = sized(w.err, Bd);
  float* auxErr = sized(w.diff, Bd);
  float* proj = sized(w.big1, Bh);     // sae_in·W_enc
  float* gMag = sized(w.big2, Bh);     // ∂L/∂π_mag
  float* gGate = sized(w.val, Bh);     // ∂L/∂π_gate
  float* f = sized(w.gval, Bh);        // f, then ∂L/∂proj
  float* gateAct = sized(w.auxVal, Bh);
  float* ones = sized(w.ones, B);
  float* colsum = sized(w.colsum, std::max(h, d));
  float* norms = sized(w.weights, (size_t)h * 3);
  float* scale = norms + h;
  float* gateSum = norms + 2 * (size_t)h;
  std::fill(ones, ones + B, 1.0f);

  centre_inputs(x, B, d, p.b_dec, saeIn, err, colsum, s);  // err = b_dec − x
  std::memcpy(auxErr, err, sizeof(float) * Bd);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, h, d, 1.0f, saeIn, d, p.W_enc, h, 0.0f, proj, h);
  for (int i = 0; i < h; i++) scale[i] = std::exp(p.r_mag[i]);
  row_norms(p.W_dec, h, d, norms);
  long active = 0;
#pragma omp parallel for reduction(+ : active) schedule(static)
  for (int b = 0; b < B; b++)
    for (int j = 0; j < h; j++) {
      const size_t e = (size_t)b * h + j;
      const float gate = proj[e] + p.b_gate[j];
      const float mag = proj[e] * scale[j] + p.b_mag[j];
      f[e] = gate > 0 && mag > 0 ? mag : 0.0f;
      gateAct[e] = std::max(gate, 0.0f);
      active += f[e] > 0;
    }
  // err = x̂ − x through f; auxErr = the gate's reconstruction through the frozen decoder − x.
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, h, 1.0f, f, h, p.W_dec, d, 1.0f, err, d);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, h, 1.0f, gateAct, h, p.W_dec, d, 1.0f, auxErr, d);
  cblas_sgemv(CblasRowMajor, CblasTrans, B, h, 1.0f, gateAct, h, ones, 1, 0.0f, gateSum, 1);
  double sparsity = 0;
  for (int i = 0; i < h; i++) sparsity += (double)gateSum[i] * norms[i];
  std::fill(fired, fired + h, 0);
  for (size_t e = 0; e < Bh; e++)
    if (f[e] > 0) fired[e % h] = 1;
  s.sse = sum_squares(err, Bd);
  s.mse = s.sse / B;
  s.sparsity = sparsity / B;
  s.auxk = sum_squares(auxErr, Bd) / B;  // the auxiliary reconstruction term
  s.loss = s.mse + l1 * s.sparsity + s.auxk;
  s.l0 = (double)active / B;

  // ∂L/∂π_mag = (2/B)·err·W_decᵀ where the gate is open and π_mag > 0; ∂L/∂π_gate = ((2/B)·auxErr·W_decᵀ + (λ/B)·‖W_dec,i‖)·1[π_gate > 0].
  const float gScale = 2.0f / B, penalty = l1 / B;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, h, d, gScale, err, d, p.W_dec, d, 0.0f, gMag, h);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, h, d, gScale, auxErr, d, p.W_dec, d, 0.0f, gGate, h);
  std::fill(g.r_mag, g.r_mag + h, 0.0f);
  float* gProj = gateAct;  // gateAct is not needed past this point
#pragma omp parallel
  {
    std::vector<double> gr(h, 0.0);
#pragma omp for schedule(static)
    for (int b = 0; b < B; b++)
      for (int j = 0; j < h; j++) {
        const size_t e = (size_t)b * h + j;
        const bool open = proj[e] + p.b_gate[j] > 0;
        const float gm = f[e] > 0 ? gMag[e] : 0.0f;  // f > 0 exactly where the gate is open and π_mag > 0
        const float gg = open ? gGate[e] + penalty * norms[j] : 0.0f;
        gMag[e] = gm;
        gGate[e] = gg;
        gProj[e] = gg + gm * scale[j];
        gr[j] += (double)gm * proj[e] * scale[j];
      }
#pragma omp critical
    for (int j = 0; j < h; j++) g.r_mag[j] += (float)gr[j];
  }
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, h, B, 1.0f, saeIn, d, gProj, h, 0.0f, g.W_enc, h);
  cblas_sgemv(CblasRowMajor, CblasTrans, B, h, 1.0f, gGate, h, ones, 1, 0.0f, g.b_gate, 1);
  cblas_sgemv(CblasRowMajor, CblasTrans, B, h, 1.0f, gMag, h, ones, 1, 0.0f, g.b_mag, 1);
  // W_dec: the main reconstruction and the norm-weighted penalty (the auxiliary term sees it frozen).
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, h, d, B, gScale, f, h, err, d, 0.0f, g.W_dec, d);
  add_norm_gradient(p.W_dec, norms, gateSum, penalty, h, d, g.W_dec);
  // b_dec: added to x̂ (not to the frozen auxiliary reconstruction), subtracted from the encoder input.
  float* gProjSum = colsum;
  cblas_sgemv(CblasRowMajor, CblasTrans, B, h, 1.0f, gProj, h, ones, 1, 0.0f, gProjSum, 1);
  cblas_sgemv(CblasRowMajor, CblasTrans, B, d, gScale, err, d, ones, 1, 0.0f, g.b_dec, 1);
  cblas_sgemv(CblasRowMajor, CblasNoTrans, d, h, -1.0f, p.W_enc, h, gProjSum, 1, 1.0f, g.b_dec, 1);
  remove_parallel(g.W_dec, p.W_dec, h, d);
}
