// Reconstruction and sparsity metrics of any encoder/decoder pair over an ActivationSet, computed
// batch by batch with float64 accumulation. Definitions: REFERENCE.md, Metrics.
import { tf, ready } from "../engine/backend.js";
import type { ActivationSet } from "../data/activation-set.js";
import type { ActivationStream } from "../data/stream.js";
import { optionNames } from "../io/options.js";

/** Anything that maps inputs to features and back (every dictionary is one). */
export interface Reconstructor {
  readonly width: number;
  encodeTensor(x: tf.Tensor2D): tf.Tensor2D;
  decodeTensor(f: tf.Tensor2D): tf.Tensor2D;
  /** Reconstruction from inputs and features, where it needs the inputs too (skip transcoder). */
  reconstructTensor?(x: tf.Tensor2D, f: tf.Tensor2D): tf.Tensor2D;
}

/** What `sae.metrics(acts)` returns: reconstruction and sparsity measures on one set. */
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
  /** Fraction of features firing on more than DENSE_THRESHOLD of the rows. */
  denseFraction: number;
  rows: number;
  width: number;
  /** Fraction of rows each feature fires on (its histogram is drawn on display). */
  density: Float64Array;
}

/** A feature firing on more than this fraction of rows counts as dense (as SAELens' dashboards do, 10%). */
export const DENSE_THRESHOLD = 0.1;

export interface MetricsOptions {
  batchSize?: number;
}

export const METRICS_OPTIONS = optionNames<MetricsOptions>({ batchSize: true });

/** Sums over batches, in float64, from which every metric above follows. */
class Accumulator {
  private readonly sumX: Float64Array;
  private readonly sumX2: Float64Array;
  private readonly fires: Float64Array;
  private n = 0;
  private sqErr = 0;
  private l0 = 0;
  private l2Ratio = 0;
  private cosine = 0;
  private normRows = 0;
  private xhat2 = 0;
  private xhatDotX = 0;

  /** Rows are [input | target] when inputDim < rowDim (transcoders); else the input is its own target. */
  constructor(
    private readonly model: Reconstructor,
    private readonly rowDim: number,
    private readonly inputDim = rowDim,
    private readonly d = rowDim === inputDim ? rowDim : rowDim - inputDim,
  ) {
    this.sumX = new Float64Array(d);
    this.sumX2 = new Float64Array(d);
    this.fires = new Float64Array(model.width);
  }

  add(vectors: Float32Array, rows: number): void {
    const parts = tf.tidy(() => {
      const all = tf.tensor2d(vectors, [rows, this.rowDim]);
      const xIn = this.inputDim === this.rowDim ? all : tf.slice(all, [0, 0], [rows, this.inputDim]);
      const x = this.inputDim === this.rowDim ? all : tf.slice(all, [0, this.inputDim], [rows, this.d]);
      const f = this.model.encodeTensor(xIn);
      const xHat = this.model.reconstructTensor ? this.model.reconstructTensor(xIn, f) : this.model.decodeTensor(f);
      return [
        tf.sum(tf.square(tf.sub(x, xHat))),
        tf.sum(x, 0),
        tf.sum(tf.square(x), 0),
        tf.sum(tf.cast(tf.greater(f, 0), "float32"), 0),
        tf.norm(x, "euclidean", 1),
        tf.norm(xHat, "euclidean", 1),
        tf.sum(tf.mul(x, xHat), 1),
      ];
    });
    const [e, sx, sx2, fc, nx, nh, dot] = parts.map((t) => t.dataSync() as Float32Array);
    tf.dispose(parts);
    this.n += rows;
    this.sqErr += e[0];
    for (let j = 0; j < this.d; j++) {
      this.sumX[j] += sx[j];
      this.sumX2[j] += sx2[j];
    }
    for (let i = 0; i < fc.length; i++) {
      this.fires[i] += fc[i];
      this.l0 += fc[i];
    }
    for (let b = 0; b < nx.length; b++) {
      this.xhat2 += nh[b] * nh[b];
      this.xhatDotX += dot[b];
      if (nx[b] > 0) {
        this.normRows++;
        this.l2Ratio += nh[b] / nx[b];
        this.cosine += nh[b] > 0 ? dot[b] / (nx[b] * nh[b]) : 0;
      }
    }
  }

  result(): { metrics: ReconstructionMetrics; density: Float64Array } {
    const { n, d, sqErr } = this;
    let centred = 0, total = 0;
    for (let j = 0; j < d; j++) {
      centred += this.sumX2[j] - (this.sumX[j] * this.sumX[j]) / n;
      total += this.sumX2[j];
    }
    const h = this.model.width;
    const dead = this.fires.reduce((c, v) => c + (v === 0 ? 1 : 0), 0);
    const density = this.fires.map((v) => v / n);
    const dense = density.reduce((c, v) => c + (v > DENSE_THRESHOLD ? 1 : 0), 0);
    const metrics: ReconstructionMetrics = {
      l0: this.l0 / n,
      fvu: sqErr / centred,
      explainedVariance: 1 - sqErr / centred,
      mse: sqErr / (n * d),
      normalizedMse: sqErr / total,
      deadFraction: dead / h,
      dead,
      l2Ratio: this.l2Ratio / this.normRows,
      cosine: this.cosine / this.normRows,
      shrinkage: this.xhat2 / this.xhatDotX,
      denseFraction: dense / h,
      rows: n,
      width: h,
      density,
    };
    return { metrics, density };
  }
}

/** The metrics above over an in-memory set, plus the fraction of rows each feature fires on. */
export function reconstructionStats(model: Reconstructor, acts: ActivationSet, opts: MetricsOptions & { inputDim?: number } = {}) {
  const acc = new Accumulator(model, acts.dim, opts.inputDim ?? acts.dim);
  for (const b of acts.rowBatches({ size: opts.batchSize ?? 1024 })) acc.add(b.vectors, b.rows);
  return acc.result();
}

/** The same over a stream (or a set), reading it batch by batch. */
export async function reconstructionStatsAsync(model: Reconstructor, acts: ActivationSet | ActivationStream, opts: MetricsOptions = {}) {
  await ready();
  const acc = new Accumulator(model, acts.dim);
  for await (const b of acts.rowBatches({ size: opts.batchSize ?? 1024 })) acc.add(b.vectors, b.rows);
  return acc.result();
}

