// Ablating dictionary features and measuring the reconstruction error that follows.
// The decoder is linear (x̂ = f·W_dec + b_dec), so replacing f_i by r_i changes the squared error of
// a row by exactly (f_i − r_i)²‖d_i‖² + 2(f_i − r_i)(x − x̂)·d_i — no re-decoding per feature.
import { tf, ensureEngine } from "../engine/backend.js";
import type { ActivationSet } from "../data/activation-set.js";
import type { Dictionary } from "../dictionaries/dictionary.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

export type AblationMode = "zero" | "mean";

/** Options of `ablateFeatures`. */
export interface FeatureAblationOptions {
  /** Feature ids to ablate, one at a time. */
  features: number[];
  /** "zero": f_i → 0; "mean": f_i → its mean over the set. */
  mode?: AblationMode;
  batchSize?: number;
}

const FEATURE_ABLATION_OPTIONS = optionNames<FeatureAblationOptions>({ features: true, mode: true, batchSize: true });

/** One ablated feature and the reconstruction error it costs. */
export interface FeatureAblationRow {
  feature: number;
  /** Fraction of rows on which the feature fires. */
  density: number;
  /** Reconstruction MSE (per element) with all features. */
  mseClean: number;
  /** …with this feature ablated. */
  mseAblated: number;
  /** mseAblated − mseClean. */
  delta: number;
}

/** What `ablateFeatures` returns: one row per ablated feature (drawn by `fl.plot.ablation`). */
export interface FeatureAblation {
  mode: AblationMode;
  rows: FeatureAblationRow[];
}

/**
 * Ablate dictionary features one at a time (zero or mean) and measure how much the reconstruction error of the set grows (exact, from the linear decoder; no re-decoding).
 * @example
 * const top = sae.encode(acts).mostFrequent(20);
 * fl.show(fl.plot.ablation(fl.ablateFeatures(sae, acts, { features: top, mode: "zero" })));
 */
export function ablateFeatures(dict: Dictionary, acts: ActivationSet, opts: FeatureAblationOptions): FeatureAblation {
  rejectUnknownOptions("ablateFeatures", opts, FEATURE_ABLATION_OPTIONS);
  ensureEngine();
  const mode = opts.mode ?? "zero";
  if (mode !== "zero" && mode !== "mean") throw new Error(`featurelab: ablation mode must be "zero" or "mean", got '${mode}'`);
  const features = opts.features;
  if (features.length === 0) throw new Error("featurelab: ablateFeatures: no features given");
  for (const i of features) {
    if (!Number.isInteger(i) || i < 0 || i >= dict.width) throw new RangeError(`featurelab: feature ${i} out of range 0..${dict.width - 1}`);
  }
  if (acts.dim !== dict.dIn) throw new Error(`featurelab: the dictionary reads dim ${dict.dIn}, the set has dim ${acts.dim}`);
  const batchSize = opts.batchSize ?? 1024;
  const idx = tf.tensor1d(Int32Array.from(features), "int32");
  const dirs = tf.gather(dict.weights.W_dec, idx); // [S, d]
  const dirsT = tf.transpose(dirs);
  const norms2 = tf.sum(tf.square(dirs), 1); // [S]

  const forEachBatch = (fn: (f: tf.Tensor2D, x: tf.Tensor2D) => tf.Tensor[]) => {
    const sums: Float64Array[] = [];
    for (let start = 0; start < acts.numRows; start += batchSize) {
      const end = Math.min(acts.numRows, start + batchSize);
      const out = tf.tidy(() => {
        const x = acts.sliceTensor(start, end);
        return fn(tf.gather(dict.encodeTensor(x), idx, 1) as tf.Tensor2D, x);
      });
      out.forEach((t, k) => {
        const v = t.dataSync();
        sums[k] ??= new Float64Array(v.length);
        for (let j = 0; j < v.length; j++) sums[k][j] += v[j];
      });
      tf.dispose(out);
    }
    return sums;
  };

  const n = acts.numRows;
  const [sumF, fires] = forEachBatch((f) => [tf.sum(f, 0), tf.sum(tf.cast(tf.greater(f, 0), "float32"), 0)]);
  const replacement = tf.tensor1d(mode === "mean" ? Float32Array.from(sumF, (s) => s / n) : new Float32Array(features.length));
  const [sqErr, deltas] = forEachBatch((fS, x) => {
    const err = tf.sub(x, dict.decodeTensor(dict.encodeTensor(x)));
    const change = tf.sub(fS, replacement); // f_i − r_i, [B, S]
    const along = tf.matMul(err, dirsT); // (x − x̂)·d_i, [B, S]
    const delta = tf.add(tf.mul(tf.square(change), norms2), tf.mul(tf.mul(change, along), 2));
    return [tf.sum(tf.square(err)), tf.sum(delta, 0)];
  });
  tf.dispose([idx, dirs, dirsT, norms2, replacement]);

  const elements = n * acts.dim;
  const mseClean = sqErr[0] / elements;
  return {
    mode,
    rows: features.map((feature, k) => ({
      feature,
      density: fires[k] / n,
      mseClean,
      mseAblated: mseClean + deltas[k] / elements,
      delta: deltas[k] / elements,
    })),
  };
}
