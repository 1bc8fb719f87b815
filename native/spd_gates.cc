// SPD's causal-importance MLPs, fused: for every row b and subcomponent c, a scalar inner activation
// a[b, c] goes through H GELU neurons to a scalar pre[b, c]. With C = 200 and batch 4096 that is 13 M
// GELUs per matrix per step, the largest cost of a TMS 40-10 step; in JavaScript it is one scalar
// exp at a time, here the loop over the H neurons vectorises. The same arithmetic as
// src/circuits/parameter-decomposition/spd-step.ts's fallback (erf by Abramowitz & Stegun 7.1.26,
// |error| < 1.5e-7, one exp for Φ and φ), so the two paths agree to rounding.
#include "spd_gates.h"
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>
#include <omp.h>

namespace {
constexpr double P = 0.3275911, A1 = 0.254829592, A2 = -0.284496736, A3 = 1.421413741, A4 = -1.453152027, A5 = 1.061405429;
constexpr double INV_SQRT_2PI = 0.3989422804014327;
constexpr double SQRT1_2 = 0.7071067811865476;

// e^y for y ≤ 0, branch-free so the loop over neurons vectorises (glibc's vector exp needs
// -ffast-math): y = n·ln2 + r with |r| ≤ ½ln2, e^r by its Taylor series to r¹³ (relative error
// < 2e-16), times 2ⁿ built in the exponent bits. Below −708 it returns 0 (e^−708 ≈ 3e−308).
inline double expNonPositive(double y) {
  y = y < -708.0 ? -708.0 : y;
  const double n = std::nearbyint(y * 1.4426950408889634);
  const double r = (y - n * 0.6931471803691238) - n * 1.9082149292705877e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const int64_t bits = (int64_t)(n + 1023.0) << 52;
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y <= -708.0 ? 0.0 : p * scale;
}
}  // namespace

void SpdGateForward(const double* a, const double* wIn, const double* bIn, const double* wOut, const double* bOut, int B, int C, int H, double* cdf, double* pdf, double* pre) {
#pragma omp parallel for schedule(static)
  for (int b = 0; b < B; b++) {
    for (int c = 0; c < C; c++) {
      const double av = a[(size_t)b * C + c];
      const double* wi = wIn + (size_t)c * H;
      const double* bi = bIn + (size_t)c * H;
      const double* wo = wOut + (size_t)c * H;
      double* cd = cdf + ((size_t)b * C + c) * H;
      double* pd = pdf + ((size_t)b * C + c) * H;
      double s = 0;
#pragma omp simd reduction(+ : s)
      for (int k = 0; k < H; k++) {
        const double z = av * wi[k] + bi[k];
        const double x = std::fabs(z) * SQRT1_2;
        const double e = expNonPositive(-x * x);
        const double t = 1 / (1 + P * x);
        const double erf = 1 - ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t * e;
        const double Phi = 0.5 * (1 + std::copysign(erf, z));
        cd[k] = Phi;
        pd[k] = INV_SQRT_2PI * e;
        s += z * Phi * wo[k];
      }
      pre[(size_t)b * C + c] = bOut[c] + s;
    }
  }
}

// Gradients accumulate into gwIn, gbIn, gwOut [C·H] and gbOut [C]; da [B·C] is written. Each thread
// sums its own block of rows, then the blocks are added in thread order (deterministic for a given
// thread count).
void SpdGateBackward(const double* a, const double* dpre, const double* wIn, const double* bIn, const double* wOut, int B, int C, int H, const double* cdf, const double* pdf, double* gwIn, double* gbIn, double* gwOut, double* gbOut, double* da) {
  const int threads = omp_get_max_threads();
  const size_t CH = (size_t)C * H;
  std::vector<double> local((size_t)threads * (3 * CH + C), 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int id = omp_get_thread_num();
    double* lwIn = local.data() + (size_t)id * (3 * CH + C);
    double* lbIn = lwIn + CH;
    double* lwOut = lbIn + CH;
    double* lbOut = lwOut + CH;
#pragma omp for schedule(static)
    for (int b = 0; b < B; b++) {
      for (int c = 0; c < C; c++) {
        const double d = dpre[(size_t)b * C + c];
        if (d == 0) {
          da[(size_t)b * C + c] = 0;
          continue;
        }
        const double av = a[(size_t)b * C + c];
        const double* wi = wIn + (size_t)c * H;
        const double* bi = bIn + (size_t)c * H;
        const double* wo = wOut + (size_t)c * H;
        const double* cd = cdf + ((size_t)b * C + c) * H;
        const double* pd = pdf + ((size_t)b * C + c) * H;
        double* gwi = lwIn + (size_t)c * H;
        double* gbi = lbIn + (size_t)c * H;
        double* gwo = lwOut + (size_t)c * H;
        lbOut[c] += d;
        double dav = 0;
#pragma omp simd reduction(+ : dav)
        for (int k = 0; k < H; k++) {
          const double z = av * wi[k] + bi[k];
          const double Phi = cd[k];
          gwo[k] += d * z * Phi;
          const double dz = d * wo[k] * (Phi + z * pd[k]);
          gwi[k] += dz * av;
          gbi[k] += dz;
          dav += dz * wi[k];
        }
        da[(size_t)b * C + c] = dav;
      }
    }
  }
  for (int t = 0; t < threads; t++) {
    const double* l = local.data() + (size_t)t * (3 * CH + C);
    for (size_t j = 0; j < CH; j++) {
      gwIn[j] += l[j];
      gbIn[j] += l[CH + j];
      gwOut[j] += l[2 * CH + j];
    }
    for (int c = 0; c < C; c++) gbOut[c] += l[3 * CH + c];
  }
}
