// Synthetic activations with known ground truth (Sharkey et al. 2022, "Taking features out of
// superposition"): unit-norm Gaussian feature directions, sparse nonnegative coefficients.
import * as aq from "arquero";
import { Rng } from "../engine/random.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { ActivationSet } from "./activation-set.js";

/** Options of `fl.toy.sharkey` (all have defaults). */
export interface SharkeyOptions {
  /** Number of rows (samples). */
  rows?: number;
  /** Number of ground-truth features. */
  features?: number;
  /** Dimension of the activation space. */
  dim?: number;
  /** Expected number of active features per sample. */
  avgActive?: number;
  /** Feature i is active with probability ∝ decay^i. */
  decay?: number;
  /** Rows per 'document' id in the metadata. */
  documentLength?: number;
  /** Seed for the directions and the samples (same seed, same data). */
  seed?: number;
}

const SHARKEY_OPTIONS = optionNames<SharkeyOptions>({ rows: true, features: true, dim: true, avgActive: true, decay: true, documentLength: true, seed: true });

/** What `fl.toy.sharkey` returns: the activations and the ground truth they were made from. */
export interface ToyData {
  /** The samples, with `row`, `document` and `n_active` metadata. */
  acts: ActivationSet;
  /** Ground-truth feature directions, [features, dim], row-major, unit norm. */
  features: Float32Array;
  numFeatures: number;
  /** Probability that each feature is active in a sample. */
  probabilities: Float64Array;
}

/**
 * x = Σ_i c_i g_i with g_i ~ unit-norm Gaussian directions, feature i active with probability
 * p_i ∝ decay^i (scaled so the expected count is avgActive) and c_i = U[0,1)·U[0,1).
 * Metadata: row, document, n_active.
 * @example
 * const { acts, features } = fl.toy.sharkey({ rows: 16384, features: 512, dim: 64, seed: 0 });
 */
export function sharkeyToyData(opts: SharkeyOptions = {}): ToyData {
  rejectUnknownOptions("toy.sharkey", opts, SHARKEY_OPTIONS);
  const { rows = 4096, features = 512, dim = 256, avgActive = 5, decay = 0.99, documentLength = 64, seed = 0 } = opts;
  const rng = new Rng(seed);
  const gt = rng.normals(features * dim);
  for (let i = 0; i < features; i++) {
    const r = gt.subarray(i * dim, (i + 1) * dim);
    let n = 0;
    for (const v of r) n += v * v;
    n = Math.sqrt(n);
    for (let j = 0; j < dim; j++) r[j] /= n;
  }
  const raw = Float64Array.from({ length: features }, (_, i) => decay ** i);
  const total = raw.reduce((a, b) => a + b, 0);
  const probabilities = raw.map((p) => Math.min(1, (p * avgActive) / total));

  const vectors = new Float32Array(rows * dim);
  const nActive = new Int32Array(rows);
  const row = new Int32Array(rows);
  const document = new Int32Array(rows);
  for (let b = 0; b < rows; b++) {
    row[b] = b;
    document[b] = Math.floor(b / documentLength);
    const x = vectors.subarray(b * dim, (b + 1) * dim);
    for (let i = 0; i < features; i++) {
      if (rng.uniform() >= probabilities[i]) continue;
      const c = rng.uniform() * rng.uniform();
      nActive[b]++;
      const g = gt.subarray(i * dim, (i + 1) * dim);
      for (let j = 0; j < dim; j++) x[j] += c * g[j];
    }
  }
  const acts = new ActivationSet(vectors, dim, aq.table({ row, document, n_active: nActive }), {
    vectorName: "resid",
    source: "sharkeyToyData",
  });
  return { acts, features: gt, numFeatures: features, probabilities };
}
