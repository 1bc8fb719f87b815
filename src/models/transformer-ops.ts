// The operations every transformer family here is built from, in tfjs: LayerNorm and RMSNorm, the MLP
// activations, the causal (optionally sliding-window) mask, linear layers in either weight orientation,
// and rotary position embeddings (RoPE) as Hugging Face computes them.
import { tf } from "../engine/backend.js";

export type ActFn = "gelu_new" | "gelu" | "relu" | "silu";

export function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b);
}

/** x / √(mean(x²) + eps) · w (Llama's and, with w stored as 1 + w, Gemma's RMSNorm). */
export function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export function activation(x: tf.Tensor, fn: ActFn): tf.Tensor {
  if (fn === "relu") return tf.relu(x);
  if (fn === "silu") return tf.mul(x, tf.sigmoid(x));
  if (fn === "gelu") return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  // gelu_new (GPT-2's, PyTorch's "tanh" GELU): 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³); written
  // as x·σ(2u), the same function (½(1 + tanh u) = σ(2u)), because tfjs-wasm's sigmoid is ~6× faster than its tanh.
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), 2 * SQRT_2_OVER_PI);
  return tf.mul(x, tf.sigmoid(inner));
}

/**
 * 0 where a query may see a key, `above` (default −∞) elsewhere: keys after the query, and — with a
 * `window` — keys `window` or more positions before it (Mistral's and Gemma 2's sliding window).
 */
export function causalMask(T: number, above = -Infinity, window?: number): tf.Tensor2D {
  const m = new Float32Array(T * T);
  for (let q = 0; q < T; q++) {
    for (let k = 0; k < T; k++) if (k > q || (window !== undefined && q - k >= window)) m[q * T + k] = above;
  }
  return tf.tensor2d(m, [T, T]);
}

/** A linear layer on the last axis: x·W + b with W [in, out] (GPT-2's Conv1D), or x·Wᵀ + b with W [out, in] (torch's Linear). */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor, outIn = false): tf.Tensor {
  const shape = x.shape;
  const flat = tf.reshape(x, [-1, shape[shape.length - 1]]);
  const y = tf.matMul(flat as tf.Tensor2D, w as tf.Tensor2D, false, outIn);
  return tf.reshape(b ? tf.add(y, b) : y, [...shape.slice(0, -1), w.shape[outIn ? 0 : 1]!]);
}

/** How RoPE's frequencies are rescaled for long contexts (config.json's rope_scaling). */
export type RopeScaling =
  | { rope_type: "linear"; factor: number }
  | { rope_type: "llama3"; factor: number; low_freq_factor: number; high_freq_factor: number; original_max_position_embeddings: number };

/**
 * RoPE's inverse frequencies for `dim` rotated dimensions, in float32 as Hugging Face computes them
 * (1 / base^(2i/dim)), rescaled as `scaling` says (Llama 3.1's smooth low/high-frequency rule).
 */
export function ropeInverseFrequencies(dim: number, base: number, scaling?: RopeScaling): Float32Array {
  const inv = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) inv[i] = 1 / Math.fround(Math.pow(base, Math.fround((2 * i) / dim)));
  if (!scaling) return inv;
  if (scaling.rope_type === "linear") return inv.map((f) => f / scaling.factor);
  const { factor, low_freq_factor: low, high_freq_factor: high, original_max_position_embeddings: old } = scaling;
  const lowWavelen = old / low, highWavelen = old / high;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (old / wavelen - low) / (high - low);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** cos and sin of position·frequency, [T, dim/2] each (positions 0 … T−1, products rounded to float32 as torch does). */
export function ropeTables(T: number, inv: Float32Array): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const half = inv.length;
  const cos = new Float32Array(T * half), sin = new Float32Array(T * half);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(t * inv[i]);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos: tf.tensor2d(cos, [T, half]), sin: tf.tensor2d(sin, [T, half]) };
}

/**
 * Rotate the first 2·cos.shape[1] dimensions of each head of x [B, T, heads, d_head] (the rest pass
 * through): Hugging Face's rotate-half form, (x₁, x₂) → (x₁cos − x₂sin, x₂cos + x₁sin).
 */
export function applyRope(x: tf.Tensor, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor {
  const [B, T, H, dh] = x.shape as [number, number, number, number];
  const half = cos.shape[1];
  const c = tf.reshape(cos, [1, T, 1, half]), s = tf.reshape(sin, [1, T, 1, half]);
  const x1 = tf.slice(x, [0, 0, 0, 0], [B, T, H, half]);
  const x2 = tf.slice(x, [0, 0, 0, half], [B, T, H, half]);
  const parts = [tf.sub(tf.mul(x1, c), tf.mul(x2, s)), tf.add(tf.mul(x2, c), tf.mul(x1, s))];
  if (2 * half < dh) parts.push(tf.slice(x, [0, 0, 0, 2 * half], [B, T, H, dh - 2 * half]));
  return tf.concat(parts, 3);
}
