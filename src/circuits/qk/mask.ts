// Stage 2 of the bilinear QK dictionary: with both transcoders frozen, learn a mask m ∈ [0, 1] over
// every head's feature-pair matrix M_h (init 1), so that scores f_Q (M_h ⊙ m_h) f_Kᵀ + f_K·u_h still
// give the model's pattern, under a penalty that pushes entries to 0:
//   loss = KL(A‖Â(masked)) + c·Σ_{h,i,j} √(|m_hij| + ε),
// the sum taken over all H·W·W entries (not averaged), m clamped to [0, 1] after every Adam step.
// A pair survives when its entry is > 0. The KL is reported with the mask as learned and with the
// survivors kept at full strength (m binarised to 0/1).
import { rejectUnknownOptions, optionNames } from "../../io/options.js";
import { tf } from "../../engine/backend.js";
import { Rng } from "../../engine/random.js";
import { Adam } from "../../training/adam.js";
import type { QkDictionary } from "./dictionary.js";
import { negativeEntropy, qkCausalMask, QK_EPS } from "./loss.js";
import { bilinearScores, qkPairTerms, type QkPairTerms } from "./feature-pairs.js";
import { klAndGrad } from "./gradients.js";
import { maskedKl } from "./evaluate.js";

/** Options of `qk.mask`. */
export interface QkMaskOptions {
  /** c, the coefficient of the √ penalty on the mask (default 1e-4). */
  sparsity?: number;
  /** Adam steps (default 300). */
  steps?: number;
  /** Adam learning rate (default 0.01). */
  lr?: number;
  /** Documents per step (default 16). */
  batchSize?: number;
  seed?: number;
}

const KNOWN = optionNames<QkMaskOptions>({ sparsity: true, steps: true, lr: true, batchSize: true, seed: true });

/** One head's mask: its pairs kept and its KL. */
export interface QkMaskHead {
  head: number;
  /** Pairs with m > 0, of width². */
  surviving: number;
  fraction: number;
}

/** A learnt sparse mask over every head's feature-pair matrix (made by `qk.mask`). */
export class QkMask {
  constructor(
    readonly layer: number,
    readonly heads: number,
    readonly width: number,
    /** m [H, width, width] (query feature i, key feature j), in [0, 1]. */
    readonly values: Float32Array,
    /** KL(A‖Â) from features with no mask (m = 1): equals the dictionary's full-reconstruction KL. */
    readonly klUnmasked: number,
    /** …with the learned mask. */
    readonly klMasked: number,
    /** …with m binarised (surviving pairs at 1, the rest 0). */
    readonly klBinary: number,
    /** KL(A‖uniform over causal keys), the baseline. */
    readonly klUniform: number,
    readonly cfg: Required<QkMaskOptions>,
    /** Batch KL, penalty, surviving pairs and the mask's range after the step's clamp. */
    readonly history: { step: number; kl: number; penalty: number; surviving: number; min: number; max: number }[],
  ) {}

  /** Surviving pairs per head. */
  get perHead(): QkMaskHead[] {
    const W2 = this.width * this.width;
    return Array.from({ length: this.heads }, (_, h) => {
      let s = 0;
      for (let i = h * W2; i < (h + 1) * W2; i++) if (this.values[i] > 0) s++;
      return { head: h, surviving: s, fraction: s / W2 };
    });
  }

  /** Feature pairs kept, over all heads. */
  get surviving(): number {
    return this.perHead.reduce((s, h) => s + h.surviving, 0);
  }

  /**
   * m_h [width, width] of one head.
   * @example
   * const m0 = mask.head(0);                   // width × width, in [0, 1]
   */
  head(h: number): Float32Array {
    const W2 = this.width * this.width;
    return this.values.slice(h * W2, (h + 1) * W2);
  }

  /** A text summary per head. */
  toString(): string {
    return `QkMask(layer ${this.layer}: ${this.surviving} of ${this.heads * this.width * this.width} pairs survive; KL ${this.klMasked.toPrecision(3)} masked, ${this.klUnmasked.toPrecision(3)} unmasked)`;
  }
}

/**
 * The stage-2 loss on one batch and its gradient in m, by hand (checked against autodiff in the tests):
 * with G_h = f_Q (m_h ⊙ M_h) + u_h and S_h = scale·G_h f_Kᵀ + causal, ∂KL/∂S = (P̂ − A)/R gives
 * ∂/∂G_h = scale·(∂KL/∂S_h) f_K, ∂/∂(m ⊙ M)_h = f_Qᵀ ∂/∂G_h, ∂/∂m = that ⊙ M, plus c/(2√(m + ε)).
 */
export function qkMaskStep(
  fQ: tf.Tensor2D, fK: tf.Tensor2D, pattern: tf.Tensor4D, negEnt: tf.Tensor3D,
  terms: Pick<QkPairTerms, "M" | "u">, m: tf.Tensor3D, c: number, scale: number, causal: tf.Tensor2D, withValue: boolean,
): { kl: number | undefined; penalty: number | undefined; grad: tf.Tensor3D } {
  const [B, H, T] = pattern.shape;
  const W = m.shape[1];
  const S = tf.add(tf.mul(bilinearScores(fQ, fK, terms, B, T, { mask: m }), scale), causal) as tf.Tensor4D;
  const { kl, G } = klAndGrad(S, pattern, negEnt, 1, withValue);
  const dG = tf.reshape(tf.mul(tf.matMul(tf.reshape(G, [B, H * T, T]), tf.reshape(fK, [B, T, W])), scale), [B, H, T, W]);
  const dGcat = tf.reshape(tf.transpose(dG, [0, 2, 1, 3]), [B * T, H * W]);
  const dMasked = tf.transpose(tf.reshape(tf.matMul(tf.transpose(fQ), dGcat), [W, H, W]), [1, 0, 2]); // [H, W, W]
  const root = tf.sqrt(tf.add(m, QK_EPS));
  const grad = tf.add(tf.mul(dMasked, terms.M), tf.div(0.5 * c, root)) as tf.Tensor3D;
  return { kl: kl?.dataSync()[0], penalty: withValue ? c * tf.sum(root).dataSync()[0] : undefined, grad };
}

export async function trainQkMask(dict: QkDictionary, opts: QkMaskOptions = {}): Promise<QkMask> {
  rejectUnknownOptions("qk.mask", opts, KNOWN);
  const cfg: Required<QkMaskOptions> = { sparsity: opts.sparsity ?? 1e-4, steps: opts.steps ?? 300, lr: opts.lr ?? 0.01, batchSize: opts.batchSize ?? 16, seed: opts.seed ?? 0 };
  if (!(cfg.sparsity >= 0 && Number.isFinite(cfg.sparsity))) throw new Error(`featurelab: qk.mask: sparsity must be ≥ 0, got ${cfg.sparsity}`);
  for (const k of ["steps", "batchSize"] as const) if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new Error(`featurelab: qk.mask: ${k} must be a positive integer, got ${cfg[k]}`);
  if (!(cfg.lr > 0)) throw new Error(`featurelab: qk.mask: lr must be > 0, got ${cfg.lr}`);
  const data = dict.data, { T, heads: H } = data, W = dict.width;
  const B = Math.min(cfg.batchSize, data.n);
  const { fQ, fK } = dict.activations();
  const all = tf.tidy(() => {
    const pattern = tf.tensor4d(data.pattern, [data.n, H, T, T]);
    return { fQ: tf.tensor3d(fQ, [data.n, T, W]), fK: tf.tensor3d(fK, [data.n, T, W]), pattern, negEnt: negativeEntropy(pattern) };
  });
  const terms = qkPairTerms(dict.weights, H);
  const causal = qkCausalMask(T);
  const m = tf.variable(tf.ones([H, W, W]), true, undefined, "float32");
  const adam = new Adam();
  const rng = new Rng(cfg.seed);
  const history: QkMask["history"] = [];
  const logEvery = Math.max(1, Math.floor(cfg.steps / 50));
  try {
    for (let step = 0; step < cfg.steps; step++) {
      const idx = tf.tensor1d(Int32Array.from(rng.permutation(data.n).subarray(0, B)), "int32");
      const want = step % logEvery === 0 || step === cfg.steps - 1;
      let rec: { kl: number; penalty: number } | undefined;
      const grad = tf.tidy(() => {
        const fq = tf.reshape(tf.gather(all.fQ, idx), [B * T, W]) as tf.Tensor2D;
        const fk = tf.reshape(tf.gather(all.fK, idx), [B * T, W]) as tf.Tensor2D;
        // m ≥ 0 (clamped), so the penalty is c·√(m + ε) and its gradient at 0 the one-sided c/(2√ε), which keeps a
        // pruned pair at 0 (|·|′(0) = 0 would let the KL lift every pruned pair back).
        const out = qkMaskStep(fq, fk, tf.gather(all.pattern, idx) as tf.Tensor4D, tf.gather(all.negEnt, idx) as tf.Tensor3D, terms, m as tf.Tensor3D, cfg.sparsity, data.scale, causal, want);
        if (want) rec = { kl: out.kl!, penalty: out.penalty! };
        return out.grad;
      });
      idx.dispose();
      adam.apply({ m }, { m: grad }, cfg.lr);
      grad.dispose();
      tf.tidy(() => m.assign(tf.clipByValue(m, 0, 1)));
      if (rec) {
        const r = rec as { kl: number; penalty: number };
        const [surviving, min, max] = tf.tidy(() => [tf.sum(tf.cast(tf.greater(m, 0), "int32")), tf.min(m), tf.max(m)].map((t) => t.dataSync()[0]));
        history.push({ step, kl: r.kl, penalty: r.penalty, surviving, min, max });
      }
      if (step % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    const values = m.dataSync().slice() as Float32Array;
    const binary = tf.tidy(() => tf.cast(tf.greater(m, 0), "float32")) as tf.Tensor3D;
    const ones = tf.ones([H, W, W]) as tf.Tensor3D;
    try {
      return new QkMask(dict.layer, H, W, values, maskedKl(dict.weights, data, ones), maskedKl(dict.weights, data, m as tf.Tensor3D), maskedKl(dict.weights, data, binary), dict.metrics.klUniform, cfg, history);
    } finally {
      tf.dispose([binary, ones]);
    }
  } finally {
    tf.dispose([all.fQ, all.fK, all.pattern, all.negEnt, terms.M, terms.u, terms.v, terms.c, causal, m]);
    adam.dispose();
  }
}
