// The gated attention block (Mathwin, Akar & Sharkey 2024): fresh heads, each with two scalar gates
//   g^Q_h = w^Q_h·x_q + b^Q_h,  g^K_h = w^K_h·x_k + b^K_h,  G_h[q, k] = clamp(g^Q_h·g^K_h, 0, 1),
//   pattern_h = G_h ⊙ softmax(causal(q_h·k_h/√d_head)),
// with W_V and W_O unit-normalised along d_model (so a head's output size comes from its gate and
// b_V, not from growing weights). The loss asks the block to reproduce the original layer's output
// while few heads' gates are open on any query–key pair:
//   L = MSE(block(x), attn_out(x)) + α · mean_{b,q,k} (Σ_h G_h[q,k]^p)^(1/p),  p = 0.6.
// The mean runs over every (q, k) pair, future keys included, as in the authors' code: the gate is a
// function of the two tokens alone, so this penalises it on all pairs of tokens the data holds.
import { tf } from "../../engine/backend.js";
import { Rng } from "../../engine/random.js";
import { attentionHeads, type HeadOutputs, type HeadWeights } from "./attention-heads.js";
import { initHeadWeights } from "./attention-only-model.js";

export interface GatedBlockWeights extends HeadWeights {
  /** Query and key gate weights [heads, d_model] and biases [heads]. */
  w_gQ: tf.Tensor2D;
  b_gQ: tf.Tensor1D;
  w_gK: tf.Tensor2D;
  b_gK: tf.Tensor1D;
}

export const GATED_WEIGHT_NAMES = ["W_Q", "b_Q", "W_K", "b_K", "W_V", "b_V", "W_O", "w_gQ", "b_gQ", "w_gK", "b_gK"] as const;

export interface GatedOutputs extends HeadOutputs {
  /** G [B, H, T(query), T(key)], in [0, 1] (future keys included; the pattern masks them). */
  gate: tf.Tensor4D;
}

/** The exponent p of the gate penalty (Σ_h G^p)^(1/p): below 1, it favours one open gate over several half-open ones. */
export const GATE_NORM_P = 0.6;

/** Rows of a matrix with orthonormal rows where possible (rows ≤ columns), else scaled Gaussian rows. */
function orthogonalRows(rows: number, cols: number, rng: Rng): Float32Array {
  const m = Array.from({ length: rows }, () => Array.from(rng.normals(cols)));
  if (rows <= cols) {
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < i; j++) {
        const dot = m[i].reduce((s, x, c) => s + x * m[j][c], 0);
        for (let c = 0; c < cols; c++) m[i][c] -= dot * m[j][c];
      }
      const norm = Math.hypot(...m[i]);
      for (let c = 0; c < cols; c++) m[i][c] /= norm;
    }
  } else for (const r of m) for (let c = 0; c < cols; c++) r[c] /= Math.sqrt(cols);
  return Float32Array.from(m.flat());
}

/**
 * A fresh block: Xavier-normal Q/K/V/O weights and biases and gate weights with orthonormal rows,
 * as the authors initialise them; but gate biases `gateBias` (default 0.7, where the authors use 0),
 * so that g^Q·g^K starts inside (0, 1) for most token pairs. A gate outside that range passes no
 * gradient (the clamp is flat there), so gates that start closed never learn to open in a short run.
 */
export function initGatedBlock(heads: number, dModel: number, dHead: number, seed: number, gateBias = 0.7): GatedBlockWeights {
  const rng = new Rng(seed);
  const w = initHeadWeights(heads, dModel, dHead, rng, true);
  return {
    ...w,
    w_gQ: tf.tensor2d(orthogonalRows(heads, dModel, rng), [heads, dModel]),
    b_gQ: tf.fill([heads], gateBias),
    w_gK: tf.tensor2d(orthogonalRows(heads, dModel, rng), [heads, dModel]),
    b_gK: tf.fill([heads], gateBias),
  };
}

/** W / ‖W‖ along `axis` (the d_model axis), as torch's F.normalize. */
export function unitNormalise<T extends tf.Tensor>(W: T, axis: number): T {
  return tf.div(W, tf.maximum(tf.norm(W, "euclidean", axis, true), 1e-12)) as T;
}

/** The block's forward pass on a residual stream x [B, T, d]. */
export function gatedBlockForward(x: tf.Tensor3D, p: GatedBlockWeights): GatedOutputs {
  const [B, T, d] = x.shape;
  const H = p.W_Q.shape[0];
  const flat = tf.reshape(x, [B * T, d]) as tf.Tensor2D;
  const gateOf = (w: tf.Tensor2D, b: tf.Tensor1D) => tf.transpose(tf.reshape(tf.add(tf.matMul(flat, w, false, true), b), [B, T, H]), [0, 2, 1]); // [B, H, T]
  const gQ = tf.expandDims(gateOf(p.w_gQ, p.b_gQ), 3); // [B, H, T, 1]
  const gK = tf.expandDims(gateOf(p.w_gK, p.b_gK), 2); // [B, H, 1, T]
  const gate = tf.clipByValue(tf.mul(gQ, gK), 0, 1) as tf.Tensor4D;
  const heads = attentionHeads(x, { ...p, W_V: unitNormalise(p.W_V, 1), W_O: unitNormalise(p.W_O, 2) }, gate);
  return { ...heads, gate };
}

/**
 * x^p for x > 0 and 0 elsewhere, with the slope p·x^(p−1) where x > 0 and 0 elsewhere: pow's own
 * gradient is infinite (and 0·∞ = NaN) at a closed gate, which must simply pass no gradient.
 */
export function powPositive(x: tf.Tensor, p: number): tf.Tensor {
  const f = tf.customGrad(((a: tf.Tensor, save: tf.GradSaveFunc) => {
    const open = tf.greater(a, 0);
    const safe = tf.where(open, a, tf.onesLike(a));
    const value = tf.where(open, tf.pow(safe, p), tf.zerosLike(a));
    save([safe, open]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [s, o] = saved;
        return tf.where(o as tf.Tensor, tf.mul(dy, tf.mul(p, tf.pow(s, p - 1))), tf.zerosLike(s));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor;
}

/** mean over (b, q, k) of (Σ_h G_h^p)^(1/p); closed gates contribute neither value nor gradient. */
export function gateSparsity(gate: tf.Tensor4D, p = GATE_NORM_P): tf.Scalar {
  return tf.tidy(() => tf.mean(powPositive(tf.sum(powPositive(gate, p), 1), 1 / p)) as tf.Scalar);
}

export interface GatedLossTerms {
  loss: tf.Scalar;
  mse: tf.Scalar;
  sparsity: tf.Scalar;
}

/** MSE over every element of [B, T, d] plus α times the gate sparsity. */
export function gatedBlockLoss(x: tf.Tensor3D, target: tf.Tensor3D, p: GatedBlockWeights, alpha: number): GatedLossTerms {
  const { out, gate } = gatedBlockForward(x, p);
  const mse = tf.mean(tf.squaredDifference(out, target)) as tf.Scalar;
  const sparsity = gateSparsity(gate);
  return { loss: tf.add(mse, tf.mul(sparsity, alpha)) as tf.Scalar, mse, sparsity };
}
