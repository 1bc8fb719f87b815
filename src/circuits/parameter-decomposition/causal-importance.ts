// The causal-importance function of Stochastic Parameter Decomposition (Bushnaq, Braun & Sharkey
// 2025): one tiny MLP per subcomponent c, reading only that subcomponent's inner activation
// a_c = x·V_c, g_c = σ(MLP_c(a_c)) with σ a hard sigmoid. As goodfire-ai/spd ("GateMLP"):
// 1 → d_gate GELU neurons (exact, erf) → 1, weights [C, d_gate], biases zero at the start,
// W_in ~ N(0, 2) (Kaiming normal, fan 1, ReLU gain), W_out ~ N(0, 1/d_gate).
// "leaky_hard": the masks use the lower-leaky hard sigmoid (x ≤ 0 → 0.01·x, else min(x, 1)) and
// the importance-minimality loss the upper-leaky one (x > 1 → 1 + 0.01·(x − 1), else clamp(x, 0, 1)),
// so a gate stuck below 0 or above 1 still gets a gradient from the loss that wants it moved.
import { tf } from "../../engine/backend.js";
import type { Rng } from "../../engine/random.js";

/** Which hard sigmoid turns a gate's output into a causal importance. */
export type SpdSigmoid = "leaky_hard" | "hard";

/** The gate parameters of one decomposed matrix: C independent 1 → d_gate → 1 MLPs. */
export interface GateParams {
  /** [C, d_gate] */
  wIn: tf.Tensor2D;
  /** [C, d_gate] */
  bIn: tf.Tensor2D;
  /** [C, d_gate] */
  wOut: tf.Tensor2D;
  /** [C] */
  bOut: tf.Tensor1D;
}

/** Initial gate parameters, as the SPD repo draws them (biases 0). */
export function initGate(rng: Rng, C: number, hidden: number): { wIn: Float32Array; bIn: Float32Array; wOut: Float32Array; bOut: Float32Array } {
  const wIn = rng.normals(C * hidden).map((v) => v * Math.SQRT2);
  const wOut = rng.normals(C * hidden).map((v) => v / Math.sqrt(hidden));
  return { wIn, bIn: new Float32Array(C * hidden), wOut, bOut: new Float32Array(C) };
}

/** Exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)) (PyTorch's default). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** The gates' pre-sigmoid outputs for inner activations a [B, C]: [B, C]. */
export function gateOutput(a: tf.Tensor2D, g: GateParams): tf.Tensor2D {
  const hidden = gelu(tf.add(tf.mul(tf.expandDims(a, 2), g.wIn), g.bIn)); // [B, C, d_gate]
  return tf.add(tf.sum(tf.mul(hidden, g.wOut), 2), g.bOut) as tf.Tensor2D;
}

const ALPHA = 0.01;

/** Lower-leaky hard sigmoid: 0.01·x below 0, min(x, 1) above (the causal importance the masks use). */
export function lowerLeakyHardSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.sub(tf.minimum(tf.relu(x), 1), tf.mul(tf.relu(tf.neg(x)), ALPHA));
}

/** Upper-leaky hard sigmoid: clamp(x, 0, 1), and 1 + 0.01·(x − 1) above 1 (what importance minimality penalises). */
export function upperLeakyHardSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.clipByValue(x, 0, 1), tf.mul(tf.relu(tf.sub(x, 1)), ALPHA));
}

/** Causal importances for the masks and for the minimality loss, from the gates' outputs. */
export function causalImportance(pre: tf.Tensor2D, sigmoid: SpdSigmoid): { ci: tf.Tensor2D; ciUpper: tf.Tensor2D } {
  if (sigmoid === "hard") {
    const ci = tf.clipByValue(pre, 0, 1) as tf.Tensor2D;
    return { ci, ciUpper: ci };
  }
  return { ci: lowerLeakyHardSigmoid(pre) as tf.Tensor2D, ciUpper: upperLeakyHardSigmoid(pre) as tf.Tensor2D };
}
