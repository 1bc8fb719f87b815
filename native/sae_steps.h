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

// A Gated SAE's weights (gated.ts): one encoder matrix shared by the gate and, rescaled by exp(r_mag), the magnitude.
struct GatedTensors {
  float* W_enc;
  float* W_dec;
  float* b_gate;
  float* b_mag;
  float* r_mag;
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

// BatchTopK SAE (Bussmann et al. 2024): the batch keeps its B·k largest ReLU'd pre-activations, AuxK and
// the unit-norm decoder as topk_step. With nPrefixes > 1 it is the Matryoshka SAE: the loss is the mean
// over the nested prefixes (features [0, prefixEnds[g]) for each g; the last end is h) of their own
// reconstruction's mean_B Σ (x̂ − x)², and s.mse is the whole dictionary's. minKept is the smallest
// kept activation (∞ when none is positive), for the inference threshold.
void batch_topk_step(const float* x, int B, int d, int h, const SaeTensors& p, const SaeTensors& g, int k, const int32_t* prefixEnds, int nPrefixes, int kAux,
                     float auxCoefficient, const int32_t* dead, int nDead, Workspace& w, uint8_t* fired, StepStats& s, double& minKept);

// How a JumpReLU dictionary's loss is set up (jumprelu.ts): the sparsity term ("step": λ·L0 through the
// kernel's pseudo-derivative; "tanh": λ·Σ tanh(s·f·‖W_dec,i‖)), the optional pre-activation loss on
// dead features (coefficient < 0: off), and whether the encoder reads x − b_dec (an SAE) or x (a transcoder).
struct JumpReluLoss {
  float l1, bandwidth, tanhScale, preActCoefficient;
  bool tanhMode, centreInput;
};

// JumpReLU SAE or transcoder (SAELens' JumpReLUTrainingSAE; the CLT in its side-by-side layout): f = π·H(π − ReLU(θ)),
// loss = mean_B Σ (x̂ − y)² + the terms above, θ trained through the rectangle kernel of bandwidth ε.
// y is the target [B, dOut] (null: reconstruct x); W_dec [h, dOut], b_dec [dOut]; dead [h] is 1 for dead features (or null).
void jumprelu_step(const float* x, const float* y, int B, int dIn, int dOut, int h, const SaeTensors& p, const float* threshold, const SaeTensors& g,
                   float* gThreshold, const JumpReluLoss& o, const float* dead, Workspace& w, uint8_t* fired, StepStats& s);

// ReLU transcoder (Dunefsky et al. 2024; SAELens "transcoder", transcoder.ts): z = ReLU((x − b_dec)·W_enc + b_enc),
// ŷ = z·W_dec + b_out (+ x·W_skip when Wskip is given), loss = mean_B Σ (ŷ − y)² + λ·mean_B Σ_i z_i‖W_dec,i‖.
// x [B, dIn], y [B, dOut]; b_dec [dIn] only centres the input. Dense products (a transcoder's code is not very sparse early on).
void relu_transcoder_step(const float* x, const float* y, int B, int dIn, int dOut, int h, const SaeTensors& p, const float* bOut, const float* Wskip,
                          const SaeTensors& g, float* gBOut, float* gWskip, float l1, Workspace& w, uint8_t* fired, StepStats& s);

// Gated SAE (Rajamanoharan et al. 2024; SAELens "gated"): f = H(π_gate)·ReLU(π_mag), loss = mean_B Σ (x̂ − x)²
// + λ·mean_B Σ_i ReLU(π_gate)_i‖W_dec,i‖ + the auxiliary reconstruction through the frozen decoder (in s.auxk).
// Decoder rows are unit norm: W_dec's gradient comes out projected onto their tangent space.
void gated_step(const float* x, int B, int d, int h, const GatedTensors& p, const GatedTensors& g, float l1, Workspace& w, uint8_t* fired, StepStats& s);
