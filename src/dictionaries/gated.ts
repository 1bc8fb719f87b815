// Gated sparse autoencoder (SAELens "gated"; REFERENCE.md, Dictionaries). One encoder matrix W_enc
// decides which features fire (the gate) and, rescaled per feature by exp(r_mag), how strongly:
//   π_gate = sae_in·W_enc + b_gate,  π_mag = sae_in·(W_enc ⊙ exp(r_mag)) + b_mag,  sae_in = x − b_dec,
//   f = H(π_gate) ⊙ ReLU(π_mag),  x̂ = f·W_dec + b_dec,
//   loss = mean_B Σ_d (x̂ − x)² + λ·mean_B Σ_i ReLU(π_gate)_i‖W_dec,i‖
//        + mean_B Σ_d (x − (ReLU(π_gate)·sg(W_dec) + sg(b_dec)))².
// H passes no gradient, so the gate learns only from the penalty and the auxiliary reconstruction,
// which reuses the decoder frozen (sg = stop-gradient) so that it trains the gate, not the decoder.
// Decoder rows are kept at unit norm (gradient along each row removed, rows renormalised after each
// step), as in Rajamanoharan et al. and dictionary_learning's trainer. Unconstrained, nothing holds
// ‖W_dec,i‖ up: the penalty shrinks it, π_gate must grow for the frozen-decoder reconstruction, the
// magnitude path follows, and training drifts apart — loss rising, FVU above 1, L0 not monotone in λ.
import { tf } from "../engine/backend.js";
import type { Rng } from "../engine/random.js";
import { defineArchitecture, type HostTensor, type LossOptions, type Params, type StepResult } from "./architecture.js";
import { constant, initTiedWeights, linearDecode as decode, normaliseRows, removeParallel } from "./sae-parts.js";

function init(dIn: number, width: number, rng: Rng): Record<string, HostTensor> {
  // Unit-norm decoder rows, W_enc = W_decᵀ; r_mag = 0 starts both paths equal.
  const { W_enc, W_dec, b_dec } = initTiedWeights(dIn, width, rng, 1);
  const zeros = () => ({ shape: [width], values: new Float32Array(width) });
  return { W_enc, W_dec, b_gate: zeros(), b_mag: zeros(), r_mag: zeros(), b_dec };
}

/** sae_in·W_enc, shared by both paths: π_mag = (sae_in·W_enc) ⊙ exp(r_mag) + b_mag. */
function paths(x: tf.Tensor2D, p: Params) {
  const saeIn = tf.sub(x, p.b_dec) as tf.Tensor2D;
  const proj = tf.matMul(saeIn, p.W_enc as tf.Tensor2D) as tf.Tensor2D;
  const scale = tf.exp(p.r_mag) as tf.Tensor1D;
  const gate = tf.add(proj, p.b_gate) as tf.Tensor2D;
  const mag = tf.add(tf.mul(proj, scale), p.b_mag) as tf.Tensor2D;
  return { saeIn, proj, scale, gate, mag };
}

function features(gate: tf.Tensor2D, mag: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.step(gate, 0), tf.relu(mag)) as tf.Tensor2D;
}

function encode(x: tf.Tensor2D, p: Params): tf.Tensor2D {
  return tf.tidy(() => {
    const { gate, mag } = paths(x, p);
    return features(gate, mag);
  });
}

function referenceLoss(x: tf.Tensor2D, p: Params, { l1 }: LossOptions): tf.Scalar {
  return tf.tidy(() => {
    const saeIn = tf.sub(x, p.b_dec);
    const W_gate = p.W_enc as tf.Tensor2D;
    const gate = tf.add(tf.matMul(saeIn, W_gate), p.b_gate) as tf.Tensor2D;
    const mag = tf.add(tf.matMul(saeIn, tf.mul(W_gate, tf.exp(p.r_mag))), p.b_mag) as tf.Tensor2D;
    const f = features(gate, mag);
    const xHat = tf.add(tf.matMul(f, p.W_dec as tf.Tensor2D), p.b_dec);
    const mse = tf.mean(tf.sum(tf.square(tf.sub(xHat, x)), 1));
    const gateAct = tf.relu(gate);
    const sparsity = tf.mean(tf.sum(tf.mul(gateAct, tf.norm(p.W_dec, "euclidean", 1)), 1));
    const viaGate = tf.add(tf.matMul(gateAct, constant(p.W_dec) as tf.Tensor2D), constant(p.b_dec));
    const aux = tf.mean(tf.sum(tf.square(tf.sub(x, viaGate)), 1));
    return tf.addN([mse, tf.mul(l1, sparsity), aux]) as tf.Scalar;
  });
}

/** Forward and backward by hand, with only untransposed matMuls (see relu.ts for why). */
function step(x: tf.Tensor2D, p: Params, { l1 }: LossOptions): StepResult {
  return tf.tidy(() => {
    const B = x.shape[0];
    const W_enc = p.W_enc as tf.Tensor2D;
    const W_dec = p.W_dec as tf.Tensor2D;
    const { saeIn, proj, scale, gate, mag } = paths(x, p);
    const open = tf.step(gate, 0);
    const magOn = tf.step(mag, 0);
    const f = tf.mul(open, tf.relu(mag)) as tf.Tensor2D;
    const gateAct = tf.relu(gate) as tf.Tensor2D;
    const W_decT = tf.transpose(W_dec);
    const norms = tf.norm(W_dec, "euclidean", 1) as tf.Tensor1D;

    const xHat = tf.add(tf.matMul(f, W_dec), p.b_dec) as tf.Tensor2D;
    const err = tf.sub(xHat, x);
    const auxErr = tf.sub(tf.add(tf.matMul(gateAct, W_dec), p.b_dec), x);
    const mse = tf.div(tf.sum(tf.square(err)), B) as tf.Scalar;
    const sparsity = tf.div(tf.sum(tf.matMul(gateAct, tf.reshape(norms, [-1, 1]))), B) as tf.Scalar;
    const aux = tf.div(tf.sum(tf.square(auxErr)), B) as tf.Scalar;
    const loss = tf.addN([mse, tf.mul(l1, sparsity), aux]) as tf.Scalar;

    const g = tf.mul(err, 2 / B) as tf.Tensor2D; // ∂L/∂x̂
    const gMag = tf.mul(tf.matMul(g, W_decT), tf.mul(open, magOn)) as tf.Tensor2D; // ∂L/∂π_mag
    // ∂L/∂π_gate: from the penalty and the auxiliary reconstruction, through ReLU(π_gate) only.
    const gGateAct = tf.add(tf.matMul(tf.mul(auxErr, 2 / B), W_decT), tf.mul(norms, l1 / B));
    const gGate = tf.mul(gGateAct, tf.step(gate, 0)) as tf.Tensor2D;
    // Both paths read sae_in·W_enc: π_gate directly, π_mag scaled by exp(r_mag) per feature.
    const gProj = tf.add(gGate, tf.mul(gMag, scale)) as tf.Tensor2D;
    const gWenc = tf.matMul(tf.transpose(saeIn), gProj);
    const gRmag = tf.sum(tf.mul(tf.mul(gMag, proj), scale), 0);
    // W_dec: the main reconstruction and the norm-weighted penalty; the auxiliary term sees it frozen.
    // Only the part orthogonal to each row is kept (the unit-norm constraint's tangent space).
    const gWdec = tf.add(
      tf.matMul(tf.transpose(f), g),
      tf.mul(tf.reshape(tf.div(tf.mul(tf.sum(gateAct, 0), l1 / B), norms), [-1, 1]), W_dec),
    );
    // b_dec: added to x̂ (not to the frozen auxiliary reconstruction), subtracted from the encoder input.
    const gBdec = tf.sub(tf.sum(g, 0), tf.reshape(tf.matMul(W_enc, tf.reshape(tf.sum(gProj, 0), [-1, 1])), [-1]));
    return {
      loss,
      terms: { mse, l1: sparsity, aux },
      grads: { W_enc: gWenc, W_dec: removeParallel(gWdec as tf.Tensor2D, W_dec), b_gate: tf.sum(gGate, 0), b_mag: tf.sum(gMag, 0), r_mag: gRmag, b_dec: gBdec },
      features: f,
      reconstruction: xHat,
    };
  });
}

export const gated = defineArchitecture("gated", "gated", [], (options) => ({
  name: "gated",
  saeLensName: "gated",
  options: { ...options },
  init,
  encode,
  decode,
  step,
  fused: { kind: "gated" },
  referenceLoss,
  afterStep: (p) => normaliseRows(p.W_dec),
}));
