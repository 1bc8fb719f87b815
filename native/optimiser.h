// Parameter updates on float32 arrays: PyTorch's Adam rule, and the unit-norm decoder constraint.
#pragma once
#include <cstddef>

// m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr/(1−β1^t) · m/(√v/√(1−β2^t) + ε).
void adam_update(float* p, const float* g, float* m, float* v, size_t n, float lr, float beta1, float beta2, float eps, int t);

// Each row of W [rows, cols] scaled to unit norm (rows of norm < 1e-12 divided by 1e-12, as the tfjs path).
void normalise_rows(float* W, int rows, int cols);

// g_i ← g_i − (g_i·W_i / ‖W_i‖²)·W_i per row: the tangent-space part of the gradient.
void remove_parallel(float* g, const float* W, int rows, int cols);

// Σ g² over several arrays (for clipping by global norm).
double sum_squares(const float* g, size_t n);
void scale(float* g, size_t n, float factor);
