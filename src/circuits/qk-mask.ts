// Stage 2 of the bilinear QK dictionary: with both transcoders frozen, learn a mask m ∈ [0, 1] over
// every head's feature-pair matrix M_h (init 1), so that scores f_Q (M_h ⊙ m_h) f_Kᵀ + f_K·u_h still
// give the model's pattern, under a penalty that pushes entries to 0:
//   loss = KL(A‖Â(masked)) + c·Σ_{h,i,j} √(|m_hij| + ε),
// the sum taken over all H·W·W entries (not averaged), m clamped to [0, 1] after every Adam step.
// A pair survives when its entry is > 0. The KL is reported with the mask as learned and with the
// survivors kept at full strength (m binarised to 0/1).
import { tf } from "../engine/backend.js";
import { Rng } from "../engine/random.js";
import { Adam } from "../training/adam.js";
import type { QkDictionary } from "./qk-dictionary.js";
import { negativeEntropy, patternKl, qkCausalMask, QK_EPS } from "./qk-loss.js";
import { bilinearScores, qkPairTerms } from "./qk-feature-pairs.js";
import { maskedKl } from "./qk-evaluate.js";

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

const KNOWN = ["sparsity", "steps", "lr", "batchSize", "seed"];

export interface QkMaskHead {
  head: number;
  /** Pairs with m > 0, of width². */
  surviving: number;
  fraction: number;
}

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
    readonly history: { step: number; kl: number; penalty: number; surviving: number }[],
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

  get surviving(): number {
    return this.perHead.reduce((s, h) => s + h.surviving, 0);
  }

  /** m_h [width, width] of one head. */
  head(h: number): Float32Array {
    const W2 = this.width * this.width;
    return this.values.slice(h * W2, (h + 1) * W2);
  }

  toString(): string {
    return `QkMask(layer ${this.layer}: ${this.surviving} of ${this.heads * this.width * this.width} pairs survive; KL ${this.klMasked.toPrecision(3)} masked, ${this.klUnmasked.toPrecision(3)} unmasked)`;
  }
}

export async function trainQkMask(dict: QkDictionary, opts: QkMaskOptions = {}): Promise<QkMask> {
  const unknown = Object.keys(opts).filter((k) => !KNOWN.includes(k));
  if (unknown.length) throw new Error(`featurelab: qk.mask: unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")}; its options are ${KNOWN.join(", ")}`);
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
      let rec: { kl: number; penalty: number } | undefined;
      const { grads } = tf.variableGrads(() => {
        const fq = tf.reshape(tf.gather(all.fQ, idx), [B * T, W]) as tf.Tensor2D;
        const fk = tf.reshape(tf.gather(all.fK, idx), [B * T, W]) as tf.Tensor2D;
        const s = tf.add(tf.mul(bilinearScores(fq, fk, terms, B, T, { mask: m as tf.Tensor3D }), data.scale), causal) as tf.Tensor4D;
        const kl = patternKl(tf.gather(all.pattern, idx) as tf.Tensor4D, s, tf.gather(all.negEnt, idx) as tf.Tensor3D);
        // m ≥ 0 (clamped), so |m| = m; without the abs its gradient at 0 is the one-sided c/(2√ε) that keeps a
        // pruned pair at 0, where |·|′(0) = 0 would let the KL lift every pruned pair back.
        const penalty = tf.mul(tf.sum(tf.sqrt(tf.add(m, QK_EPS))), cfg.sparsity);
        if (step % logEvery === 0 || step === cfg.steps - 1) rec = { kl: kl.dataSync()[0], penalty: penalty.dataSync()[0] };
        return tf.add(kl, penalty) as tf.Scalar;
      }, [m]);
      idx.dispose();
      adam.apply({ m }, { m: grads[m.name] }, cfg.lr);
      tf.dispose(Object.values(grads));
      tf.tidy(() => m.assign(tf.clipByValue(m, 0, 1)));
      if (rec) {
        const r = rec as { kl: number; penalty: number };
        const surviving = tf.tidy(() => tf.sum(tf.cast(tf.greater(m, 0), "int32")).dataSync()[0]);
        history.push({ step, kl: r.kl, penalty: r.penalty, surviving });
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
