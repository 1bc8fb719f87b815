// Reconstruction and sparsity metrics of any encoder/decoder pair over an ActivationSet, computed
// batch by batch with float64 accumulation. Definitions: REFERENCE.md, Metrics.
import { tf, ready } from "../engine/backend.js";
import type { ActivationSet } from "../data/activation-set.js";

/** Anything that maps inputs to features and back (every dictionary is one). */
export interface Reconstructor {
  readonly width: number;
  encodeTensor(x: tf.Tensor2D): tf.Tensor2D;
  decodeTensor(f: tf.Tensor2D): tf.Tensor2D;
}

export interface ReconstructionMetrics {
  /** Mean number of nonzero features per row. */
  l0: number;
  /** Fraction of variance unexplained: Σ(x − x̂)² / Σ(x − x̄)², x̄ the per-dimension mean over the set. */
  fvu: number;
  /** 1 − FVU. */
  explainedVariance: number;
  /** Mean squared error per element. */
  mse: number;
  /** OpenAI's normalised MSE: mean((x̂ − x)²) / mean(x²). */
  normalizedMse: number;
  /** Fraction of features that never fire on this set. */
  deadFraction: number;
  /** Number of features that never fire on this set. */
  dead: number;
  /** Mean over rows of ‖x̂‖ / ‖x‖. */
  l2Ratio: number;
  /** Mean over rows of cos(x, x̂). */
  cosine: number;
  /** Relative reconstruction bias γ = E‖x̂‖² / E[x̂·x] (γ < 1 means shrinkage). */
  shrinkage: number;
  rows: number;
  width: number;
}

export interface MetricsOptions {
  batchSize?: number;
}

/** Fraction of rows on which each feature fires, plus the metrics above. */
export function reconstructionStats(model: Reconstructor, acts: ActivationSet, opts: MetricsOptions = {}) {
  const batchSize = opts.batchSize ?? 1024;
  const d = acts.dim;
  const h = model.width;
  const sumX = new Float64Array(d);
  const sumX2 = new Float64Array(d);
  const fires = new Float64Array(h);
  let sqErr = 0, l0 = 0, l2Ratio = 0, cosine = 0, normRows = 0, xhat2 = 0, xhatDotX = 0;
  for (let start = 0; start < acts.numRows; start += batchSize) {
    const end = Math.min(acts.numRows, start + batchSize);
    const parts = tf.tidy(() => {
      const x = acts.sliceTensor(start, end);
      const f = model.encodeTensor(x);
      const xHat = model.decodeTensor(f);
      const active = tf.cast(tf.greater(f, 0), "float32");
      const nx = tf.norm(x, "euclidean", 1);
      const nh = tf.norm(xHat, "euclidean", 1);
      const dot = tf.sum(tf.mul(x, xHat), 1);
      return [
        tf.sum(tf.square(tf.sub(x, xHat))),
        tf.sum(x, 0),
        tf.sum(tf.square(x), 0),
        tf.sum(active, 0),
        nx,
        nh,
        dot,
      ];
    });
    const [e, sx, sx2, fc, nx, nh, dot] = parts.map((t) => t.dataSync() as Float32Array);
    tf.dispose(parts);
    sqErr += e[0];
    for (let j = 0; j < d; j++) {
      sumX[j] += sx[j];
      sumX2[j] += sx2[j];
    }
    for (let i = 0; i < h; i++) {
      fires[i] += fc[i];
      l0 += fc[i];
    }
    for (let b = 0; b < nx.length; b++) {
      xhat2 += nh[b] * nh[b];
      xhatDotX += dot[b];
      if (nx[b] > 0) {
        normRows++;
        l2Ratio += nh[b] / nx[b];
        cosine += nh[b] > 0 ? dot[b] / (nx[b] * nh[b]) : 0;
      }
    }
  }
  const n = acts.numRows;
  let centred = 0, total = 0;
  for (let j = 0; j < d; j++) {
    centred += sumX2[j] - (sumX[j] * sumX[j]) / n;
    total += sumX2[j];
  }
  const dead = fires.reduce((c, v) => c + (v === 0 ? 1 : 0), 0);
  const metrics: ReconstructionMetrics = {
    l0: l0 / n,
    fvu: sqErr / centred,
    explainedVariance: 1 - sqErr / centred,
    mse: sqErr / (n * d),
    normalizedMse: sqErr / total,
    deadFraction: dead / h,
    dead,
    l2Ratio: l2Ratio / normRows,
    cosine: cosine / normRows,
    shrinkage: xhat2 / xhatDotX,
    rows: n,
    width: h,
  };
  return { metrics, density: fires.map((v) => v / n) };
}

export async function reconstructionMetrics(model: Reconstructor, acts: ActivationSet, opts: MetricsOptions = {}) {
  await ready();
  return reconstructionStats(model, acts, opts).metrics;
}
