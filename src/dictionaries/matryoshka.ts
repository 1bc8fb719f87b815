// Matryoshka BatchTopK sparse autoencoder (Bussmann et al. 2025; Nabeshima 2024): BatchTopK over
// all features, but the loss averages the reconstruction error of nested prefixes — the first m_1,
// m_2, …, m_G = width features each reconstruct x on their own (with b_dec) — so early features
// learn general directions and later ones refine them. Loss = (1/G)·Σ_g mean_B Σ_d (x̂_{m_g} − x)²
// + AuxK on the full reconstruction's residual; inference, threshold and decoder constraint as batchtopk.
import { tf } from "../engine/backend.js";
import { defineArchitecture } from "./architecture.js";
import { batchTopKArchitecture, type Reconstruction } from "./batchtopk.js";

const isPositiveInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v > 0;

/** The checks that do not need the width (the factory does not know it): run when the options are read. */
function checkPrefixOptions({ prefixes, groupSizes }: Record<string, unknown>): void {
  if (prefixes !== undefined && groupSizes !== undefined) throw new Error("featurelab: matryoshka: give either option prefixes or option groupSizes, not both");
  if (groupSizes !== undefined && !(Array.isArray(groupSizes) && groupSizes.length > 0 && groupSizes.every(isPositiveInt))) {
    throw new Error(`featurelab: matryoshka: option groupSizes must be a non-empty array of positive integers summing to the width, got ${JSON.stringify(groupSizes)}`);
  }
  if (prefixes !== undefined && !(Array.isArray(prefixes) && prefixes.length > 0 && prefixes.every(isPositiveInt) && prefixes.every((m, i) => i === 0 || m > prefixes[i - 1]))) {
    throw new Error(`featurelab: matryoshka: option prefixes must be strictly ascending positive prefix lengths ending at the width, e.g. [64, 256, 1024], got ${JSON.stringify(prefixes)} (for sizes of the groups use option groupSizes)`);
  }
}

/** Nested prefix lengths m_1 < … < m_G = width: from `prefixes`, from `groupSizes`, or ⌊width/16⌋, /8, /4, /2, width. */
export function prefixLengths(options: Record<string, unknown>, width: number): number[] {
  checkPrefixOptions(options);
  const prefixes = options.prefixes as number[] | undefined;
  const groupSizes = options.groupSizes as number[] | undefined;
  if (groupSizes) {
    const ends = groupSizes.map((_, i) => groupSizes.slice(0, i + 1).reduce((s, g) => s + g, 0));
    if (ends[ends.length - 1] !== width) {
      throw new Error(`featurelab: matryoshka: option groupSizes must sum to the width (${width}), got ${JSON.stringify(groupSizes)} (sum ${ends[ends.length - 1]})`);
    }
    return ends;
  }
  if (prefixes) {
    if (prefixes[prefixes.length - 1] !== width) {
      throw new Error(`featurelab: matryoshka: option prefixes must end at the width (${width}), got ${JSON.stringify(prefixes)} (for sizes of the groups use option groupSizes)`);
    }
    return prefixes;
  }
  const ms = [16, 8, 4, 2, 1].map((d) => Math.floor(width / d)).filter((m) => m > 0);
  return ms.filter((m, i) => ms.indexOf(m) === i);
}

/** The mean over prefixes of the reconstruction MSE, by hand and with plain ops. */
export function prefixReconstruction(prefixes: number[]): Reconstruction {
  const G = prefixes.length;
  const sizes = prefixes.map((m, i) => m - (i === 0 ? 0 : prefixes[i - 1]));
  return {
    step(f, x, p, WdecT) {
      const B = x.shape[0];
      const fs = tf.split(f, sizes, 1);
      const Ws = tf.split(p.W_dec, sizes, 0);
      const WTs = tf.split(WdecT, sizes, 1);
      // r_g = x̂_{m_g} − x, built up group by group.
      const residuals: tf.Tensor2D[] = [];
      let r = tf.sub(p.b_dec, x) as tf.Tensor2D;
      for (let g = 0; g < G; g++) residuals.push((r = tf.add(r, tf.matMul(fs[g], Ws[g])) as tf.Tensor2D));
      const losses = residuals.map((res) => tf.div(tf.sum(tf.square(res)), B) as tf.Scalar);
      const loss = tf.div(tf.addN(losses), G) as tf.Scalar;
      // Group g's features appear in prefixes g…G: their gradient sees R_g = Σ_{h ≥ g} r_h.
      const gFs: tf.Tensor[] = [];
      const gWs: tf.Tensor[] = [];
      let R = tf.zerosLike(x) as tf.Tensor2D;
      for (let g = G - 1; g >= 0; g--) {
        R = tf.add(R, residuals[g]) as tf.Tensor2D;
        const gR = tf.mul(R, 2 / (B * G)) as tf.Tensor2D;
        gFs[g] = tf.matMul(gR, WTs[g]);
        gWs[g] = tf.matMul(tf.transpose(fs[g]), gR);
      }
      return {
        loss,
        terms: { mse: losses[G - 1], prefixMse: loss },
        xHat: tf.add(residuals[G - 1], x) as tf.Tensor2D,
        gF: tf.concat(gFs, 1) as tf.Tensor2D,
        gWdec: tf.concat(gWs, 0) as tf.Tensor2D,
        gBdec: tf.sum(tf.mul(R, 2 / (B * G)), 0) as tf.Tensor1D,
      };
    },
    reference(f, x, p) {
      const d = x.shape[1];
      const losses = prefixes.map((m) => {
        const xHat = tf.add(tf.matMul(tf.slice(f, [0, 0], [-1, m]), tf.slice(p.W_dec, [0, 0], [m, d]) as tf.Tensor2D), p.b_dec);
        return tf.mean(tf.sum(tf.square(tf.sub(xHat, x)), 1));
      });
      const xHat = tf.add(tf.matMul(f, p.W_dec as tf.Tensor2D), p.b_dec) as tf.Tensor2D;
      return { loss: tf.div(tf.addN(losses), G) as tf.Scalar, xHat };
    },
  };
}

/**
 * Options: k (required, ≤ width), prefixes (ascending prefix lengths ending at the width; default
 * ⌊width/16⌋, ⌊width/8⌋, ⌊width/4⌋, ⌊width/2⌋, width) or groupSizes (summing to the width, as
 * dictionary_learning's group sizes), auxK (default ⌊d_in/2⌋), auxKCoefficient (default 1/32).
 */
export const matryoshka = defineArchitecture("matryoshka", "jumprelu", ["k", "auxK", "auxKCoefficient", "prefixes", "groupSizes"], (options) => {
  checkPrefixOptions(options);
  return batchTopKArchitecture("matryoshka", "jumprelu", options, (width) => prefixReconstruction(prefixLengths(options, width)), (width) => prefixLengths(options, width));
});
