#include "optimiser.h"
#include <cmath>
#include <algorithm>

void adam_update(float* p, const float* g, float* m, float* v, size_t n, float lr, float beta1, float beta2, float eps, int t) {
  const float c1 = 1.0f - std::pow(beta1, (float)t);
  const float c2 = std::sqrt(1.0 - std::pow((double)beta2, (double)t));
  const float step = lr / c1;
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step * (mi / (std::sqrt(vi) / c2 + eps));
  }
}

void normalise_rows(float* W, int rows, int cols) {
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; r++) {
    float* row = W + (size_t)r * cols;
    double ss = 0;
    for (int c = 0; c < cols; c++) ss += (double)row[c] * row[c];
    const float inv = 1.0f / std::max((float)std::sqrt(ss), 1e-12f);
    for (int c = 0; c < cols; c++) row[c] *= inv;
  }
}

void remove_parallel(float* g, const float* W, int rows, int cols) {
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; r++) {
    float* gr = g + (size_t)r * cols;
    const float* wr = W + (size_t)r * cols;
    double dot = 0, ww = 0;
    for (int c = 0; c < cols; c++) {
      dot += (double)gr[c] * wr[c];
      ww += (double)wr[c] * wr[c];
    }
    const float along = (float)(dot / std::max(ww, 1e-12));
    for (int c = 0; c < cols; c++) gr[c] -= along * wr[c];
  }
}

double sum_squares(const float* g, size_t n) {
  double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
  for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
  return s;
}

void scale(float* g, size_t n, float factor) {
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; i++) g[i] *= factor;
}
