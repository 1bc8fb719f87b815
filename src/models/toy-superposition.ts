// The toy model of superposition (Elhage et al. 2022): n sparse features squeezed through m < n
// hidden dimensions and read back out, x' = ReLU(WᵀWx + b), W [m, n]. Each feature is U[0,1) with
// probability p = 1 − S and 0 otherwise; loss = Σ_i I_i (x_i − x'_i)² averaged over batch and
// features; AdamW (weight decay 0.01, PyTorch's default, as in the paper's colab). Several models
// (one per feature probability) train together as a batch of instances, as in that colab.
// The backward pass is written out with untransposed matmuls (fast on tfjs-wasm) and checked
// against tfjs autodiff in the tests.
import { tf, ready } from "../engine/backend.js";
import { Rng } from "../engine/random.js";
import { Adam } from "../training/adam.js";
import { learningRate } from "../training/schedule.js";
import { featureDimensionality, dimensionsPerFeature } from "../geometry/superposition.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** Options of `toySuperposition`. */
export interface ToySuperpositionOptions {
  /** n, the number of features (default 5). */
  features?: number;
  /** m, the hidden dimensions (default 2). */
  hidden?: number;
  /** 1 − S for each model trained (default the colab's sweep 20^−t, t = 0, 1/9, …, 1: from 1 to 0.05). */
  featureProbability?: number | number[];
  /** …or the sparsity S = 1 − p. */
  sparsity?: number | number[];
  /** Feature importance I_i: a number r for r^i (the paper's 0.9^i), or one value per feature (default 1). */
  importance?: number | number[];
  /** Training steps (default 10 000, as the paper). */
  steps?: number;
  /** Rows per step and model (default 1024). */
  batchSize?: number;
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decoupled weight decay (default 0.01). */
  weightDecay?: number;
  /** Learning rate kept constant (default, as the paper) or decayed to 0 over the run ("linear", "cosine"), as the colab's lr_scale options. */
  lrDecay?: "none" | "linear" | "cosine";
  seed?: number;
  /** Record the loss every this many steps (default steps/100). */
  logEvery?: number;
}

const TOY_OPTIONS = optionNames<ToySuperpositionOptions>({ features: true, hidden: true, featureProbability: true, sparsity: true, importance: true, steps: true, batchSize: true, lr: true, weightDecay: true, lrDecay: true, seed: true, logEvery: true });

/** One logged training step of a toy model of superposition. */
export interface ToyTrainingRecord {
  step: number;
  /** Loss of each model. */
  loss: number[];
}

/** A trained batch of toy models, one per feature probability. */
export class ToySuperposition {
  readonly features: number;
  readonly hidden: number;
  /** p = 1 − S of each model. */
  readonly featureProbability: readonly number[];
  readonly importance: Float64Array;
  /** W of every model, [models, m, n] row-major. */
  readonly weights: Float32Array;
  /** b of every model, [models, n]. */
  readonly biases: Float32Array;
  readonly history: readonly ToyTrainingRecord[];

  constructor(init: { features: number; hidden: number; featureProbability: number[]; importance: Float64Array; weights: Float32Array; biases: Float32Array; history: ToyTrainingRecord[] }) {
    rejectUnknownOptions("ToySuperposition", init, optionNames<typeof init>({ features: true, hidden: true, featureProbability: true, importance: true, weights: true, biases: true, history: true }));
    this.features = init.features;
    this.hidden = init.hidden;
    this.featureProbability = Object.freeze([...init.featureProbability]);
    this.importance = init.importance;
    this.weights = init.weights;
    this.biases = init.biases;
    this.history = Object.freeze(init.history);
  }

  /** Number of models (feature probabilities). */
  get models(): number {
    return this.featureProbability.length;
  }

  /** S = 1 − p of each model. */
  get sparsity(): number[] {
    return this.featureProbability.map((p) => 1 - p);
  }

  private check(model: number): void {
    if (!Number.isInteger(model) || model < 0 || model >= this.models) throw new RangeError(`featurelab: model ${model} out of range 0..${this.models - 1}`);
  }

  /**
   * W [m, n] of one model: column i is feature i's direction in the hidden space.
   * @example
   * const toy = await fl.toySuperposition({ features: 5, hidden: 2, sparsity: [0, 0.9], seed: 0 });
   * toy.W(1);                                   // the sparse model's W: a pentagon
   */
  W(model = 0): number[][] {
    this.check(model);
    const { hidden: m, features: n } = this;
    return Array.from({ length: m }, (_, r) => Array.from(this.weights.subarray(model * m * n + r * n, model * m * n + (r + 1) * n)));
  }

  /**
   * b [n] of one model.
   * @example
   * toy.b(1);
   */
  b(model = 0): number[] {
    this.check(model);
    return Array.from(this.biases.subarray(model * this.features, (model + 1) * this.features));
  }

  /**
   * ‖W_i‖ of each feature of one model.
   * @example
   * toy.norms(1);                               // ‖W_i‖ per feature
   */
  norms(model = 0): number[] {
    const W = this.W(model);
    return Array.from({ length: this.features }, (_, i) => Math.hypot(...W.map((row) => row[i])));
  }

  /**
   * D_i of each feature of one model.
   * @example
   * toy.dimensionality(1);                      // D_i per feature
   */
  dimensionality(model = 0): Float64Array {
    return featureDimensionality(this.W(model));
  }

  /**
   * m / ‖W‖²_F of one model.
   * @example
   * toy.dimensionsPerFeature(1);
   */
  dimensionsPerFeature(model = 0): number {
    return dimensionsPerFeature(this.W(model));
  }

  /**
   * Output x' = ReLU(WᵀWx + b) of one model for inputs x (rows of n).
   * @example
   * toy.forward([[1, 0, 0, 0, 0]], 1);          // x' for one input
   */
  forward(x: number[][], model = 0): number[][] {
    const W = this.W(model), b = this.b(model);
    return x.map((row) => {
      const h = W.map((w) => w.reduce((s, v, i) => s + v * row[i], 0));
      return b.map((bi, i) => Math.max(0, bi + h.reduce((s, hv, k) => s + hv * W[k][i], 0)));
    });
  }

  /**
   * One row per model: p, S, final loss, ‖W‖²_F, m/‖W‖²_F, features represented (‖W_i‖ > 0.5).
   * @example
   * console.table(toy.summary());
   */
  summary(): Record<string, number>[] {
    const last = this.history[this.history.length - 1];
    return this.featureProbability.map((p, k) => {
      const norms = this.norms(k);
      const fro = norms.reduce((s, v) => s + v * v, 0);
      return { model: k, featureProbability: p, sparsity: 1 - p, loss: last ? last.loss[k] : NaN, frobenius2: fro, dimensionsPerFeature: this.hidden / fro, represented: norms.filter((v) => v > 0.5).length };
    });
  }

  /** "ToySuperposition(features → hidden, …)". */
  toString(): string {
    return `ToySuperposition(${this.models} model${this.models === 1 ? "" : "s"}, n=${this.features}, m=${this.hidden})`;
  }

  /** What fl.show and console.log print: the summary, not the weight arrays. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    const rows = this.summary().map((r) => `  1−S ${r.featureProbability.toPrecision(3).padEnd(7)} loss ${r.loss.toExponential(3)}  m/‖W‖²_F ${r.dimensionsPerFeature.toFixed(3)}  ‖W_i‖ > ½: ${r.represented}`);
    return [this.toString(), ...rows].join("\n");
  }
}

function probabilities(opts: ToySuperpositionOptions): number[] {
  if (opts.featureProbability !== undefined && opts.sparsity !== undefined) throw new Error("featurelab: give featureProbability or sparsity, not both");
  const list = opts.featureProbability ?? (opts.sparsity !== undefined ? [opts.sparsity].flat().map((s) => 1 - s) : Array.from({ length: 10 }, (_, i) => 20 ** (-i / 9)));
  const ps = [list].flat();
  for (const p of ps) if (!(p > 0 && p <= 1)) throw new Error(`featurelab: feature probability must be in (0, 1], got ${p}`);
  if (ps.length === 0) throw new Error("featurelab: no feature probability given");
  return ps;
}

/**
 * A batch of inputs for every model, [models, B, n]: each feature U[0,1) with its model's
 * probability p, else 0. Active features are found by geometric skips, so sparse data costs
 * draws in proportion to its active entries.
 */
export function sampleFeatures(rng: Rng, ps: readonly number[], batch: number, n: number): Float32Array {
  const x = new Float32Array(ps.length * batch * n);
  const size = batch * n;
  ps.forEach((p, k) => {
    const base = k * size;
    if (p > 0.25) {
      // Dense enough that one draw per entry is cheaper than a logarithm per active one:
      // u < p happens with probability p, and then u/p is U[0,1).
      for (let t = 0; t < size; t++) {
        const u = rng.uniform();
        if (u < p) x[base + t] = u / p;
      }
      return;
    }
    const logq = Math.log1p(-p);
    for (let t = -1; ; ) {
      // Entries skipped before the next active one: Geometric(p).
      t += 1 + Math.floor(Math.log(1 - rng.uniform()) / logq);
      if (t >= size) break;
      x[base + t] = rng.uniform();
    }
  });
  return x;
}

/**
 * Gradients of every model's loss, written out, and (when `withLoss`) each model's loss;
 * x [I, B, n], W [I, m, n], b [I, 1, n], importance [n] (undefined: all 1, one product fewer).
 */
export function toyStep(x: tf.Tensor3D, W: tf.Tensor3D, b: tf.Tensor3D, importance: tf.Tensor1D | undefined, withLoss = true) {
  return tf.tidy(() => {
    const [, B, n] = x.shape;
    const WT = tf.transpose(W, [0, 2, 1]); // [I, n, m]
    const h = tf.matMul(x, WT); // [I, B, m]
    const y = tf.add(tf.matMul(h, W), b); // [I, B, n]
    const out = tf.relu(y);
    const err = tf.sub(out, x);
    const weighted = importance ? tf.mul(err, importance) : err;
    const perModel = withLoss ? (tf.div(tf.sum(tf.mul(weighted, err), [1, 2]), B * n) as tf.Tensor1D) : undefined; // [I]
    // ∂L/∂y up to the factor 2/(B·n), which is applied to the small gradients instead of this
    // [I, B, n] tensor; the ReLU passes gradient where its output is positive.
    const gy = tf.mul(weighted, tf.step(out));
    const scale = 2 / (B * n);
    const gb = tf.mul(tf.sum(gy, 1, true), scale); // [I, 1, n]
    const gh = tf.matMul(gy, WT); // [I, B, m]
    // ∂L/∂W = hᵀ·gy + ghᵀ·x
    const gW = tf.mul(tf.add(tf.matMul(tf.transpose(h, [0, 2, 1]), gy), tf.matMul(tf.transpose(gh, [0, 2, 1]), x)), scale);
    return { perModel, grads: { W: gW as tf.Tensor3D, b: gb as tf.Tensor3D } };
  });
}

/** The same loss for tfjs autodiff (tests check toyStep against it). */
export function toyLoss(x: tf.Tensor3D, W: tf.Tensor3D, b: tf.Tensor3D, importance: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const [, B, n] = x.shape;
    const out = tf.relu(tf.add(tf.matMul(tf.matMul(x, tf.transpose(W, [0, 2, 1])), W), b));
    const err = tf.sub(out, x);
    return tf.div(tf.sum(tf.mul(tf.mul(err, err), importance)), B * n) as tf.Scalar;
  });
}

/**
 * Train toy models of superposition (one per feature probability) and return their weights.
 * @example
 * const toy = await fl.toySuperposition({ features: 200, hidden: 20, sparsity: [0.9, 0.99, 0.999], seed: 0 });
 * fl.show(fl.plot.dimensionality(toy));
 */
export async function toySuperposition(opts: ToySuperpositionOptions = {}): Promise<ToySuperposition> {
  rejectUnknownOptions("toySuperposition", opts, TOY_OPTIONS);
  await ready();
  const n = opts.features ?? 5;
  const m = opts.hidden ?? 2;
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 1 || m < 1) throw new Error(`featurelab: toy model needs positive integer features and hidden, got n=${n}, m=${m}`);
  const ps = probabilities(opts);
  const I = ps.length;
  const imp = opts.importance ?? 1;
  const importance = typeof imp === "number" ? Float64Array.from({ length: n }, (_, i) => imp ** i) : Float64Array.from(imp);
  if (importance.length !== n) throw new Error(`featurelab: ${importance.length} importances for ${n} features`);
  const steps = opts.steps ?? 10_000;
  const batch = opts.batchSize ?? 1024;
  const lr = opts.lr ?? 1e-3;
  const decay = opts.weightDecay ?? 0.01;
  const logEvery = opts.logEvery ?? Math.max(1, Math.floor(steps / 100));
  const rng = new Rng(opts.seed ?? 0);
  // As the colab: torch's xavier_normal_ on the [models, n, m] tensor, whose fans are n·m and
  // models·m, so std = √(2/(m(n + models))); b starts at 0. A small start matters: from larger
  // weights the dense model takes far longer to drop its least important features.
  const w0 = new Float32Array(I * m * n);
  const std = Math.sqrt(2 / (m * (n + I)));
  for (let i = 0; i < w0.length; i++) w0[i] = std * rng.normal();
  const params = { W: tf.variable(tf.tensor3d(w0, [I, m, n])), b: tf.variable(tf.zeros([I, 1, n])) };
  const impT = importance.every((v) => v === 1) ? undefined : tf.tensor1d(Float32Array.from(importance));
  const adam = new Adam();
  const history: ToyTrainingRecord[] = [];
  try {
    for (let step = 1; step <= steps; step++) {
      const x = tf.tensor3d(sampleFeatures(rng, ps, batch, n), [I, batch, n]);
      const log = step % logEvery === 0 || step === steps;
      const res = toyStep(x, params.W as unknown as tf.Tensor3D, params.b as unknown as tf.Tensor3D, impT, log);
      if (res.perModel) history.push({ step, loss: Array.from(res.perModel.dataSync()) });
      // AdamW: decay the weights, then the Adam step (torch.optim.AdamW's order).
      const rate = learningRate(step - 1, { lr, decay: opts.lrDecay ?? "none", totalSteps: steps });
      if (decay > 0) tf.tidy(() => Object.values(params).forEach((p) => p.assign(tf.mul(p, 1 - rate * decay))));
      adam.apply(params, res.grads, rate);
      tf.dispose([x, ...(res.perModel ? [res.perModel] : []), res.grads.W, res.grads.b]);
      // Let a notebook's interrupt and output through now and then.
      if (step % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    return new ToySuperposition({
      features: n,
      hidden: m,
      featureProbability: ps,
      importance,
      weights: Float32Array.from(params.W.dataSync() as Float32Array),
      biases: Float32Array.from(params.b.dataSync() as Float32Array),
      history,
    });
  } finally {
    adam.dispose();
    tf.dispose([params.W, params.b, ...(impT ? [impT] : [])]);
  }
}
