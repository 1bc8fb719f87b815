// Fused training steps of sparse autoencoders: forward, loss and backward in one call, on row-major
// float32 arrays. Matrix products go to OpenBLAS; the element-wise passes run in OpenMP loops.
// Shapes and names as SAELens: W_enc [d, h], W_dec [h, d], b_enc [h], b_dec [d]; x [B, d].
#pragma once
#include <cstdint>
#include <vector>

struct SaeTensors {
  float* W_enc;
  float* W_dec;
  float* b_enc;
  float* b_dec;
};

struct StepStats {
  double loss = 0, mse = 0, sparsity = 0, auxk = 0;
  double l0 = 0;       // mean active features per row
  double sse = 0;      // Σ (x̂ − x)²
  double centred = 0;  // Σ (x − mean_B x)², for FVU
};

// Scratch memory reused across steps (allocating 64 MB per step would cost page faults each time).
struct Workspace {
  std::vector<float> saeIn, err, big1, big2, ones, colsum, weights, gWencT, diff;
  std::vector<int32_t> idx, auxIdx, order, offsets, rowStart;
  std::vector<float> val, gval, auxVal, auxGval;
};

// ReLU SAE (dense products while f is dense, sparse ones once it is sparse), loss = mean_B Σ (x̂ − x)² + λ·mean_B Σ_i f_i·w_i, with w_i = ‖W_dec,i‖ ("weighted-l1") or
// 1 ("unit-norm": W_dec's gradient is projected onto the rows' tangent space, as the tfjs step does).
void relu_step(const float* x, int B, int d, int h, const SaeTensors& p, const SaeTensors& g, float l1, bool unitNorm,
               Workspace& w, uint8_t* fired, StepStats& s);

// TopK SAE (each row keeps its k largest pre-activations, then ReLU) with AuxK on the dead features
// (`dead` lists their indices): α·min(n_dead/k_aux, 1)·mean_B Σ (ê − e)²/Var(e), e = x − x̂ held constant.
// Decoder rows are unit norm: W_dec's gradient comes out projected onto their tangent space.
void topk_step(const float* x, int B, int d, int h, const SaeTensors& p, const SaeTensors& g, int k, int kAux, float auxCoefficient,
               const int32_t* dead, int nDead, Workspace& w, uint8_t* fired, StepStats& s);
