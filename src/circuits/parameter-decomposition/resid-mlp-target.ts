// The toy model of compressed computation (Braun et al. 2025, "Interpretability in Parameter Space";
// Bushnaq, Braun & Sharkey 2025, §Compressed computation), the residual MLP as goodfire-ai/spd
// trains it (experiments/resid_mlp/train_resid_mlp.py, models.py):
//   r₀ = x·W_E,  r_{l+1} = r_l + ReLU(r_l·W_in,lᵀ)·W_out,lᵀ,  ŷ = r_L·W_U,  W_U = W_Eᵀ
// with n = 100 features, d_resid = 1000, W_E [n, d] fixed, random normal rows scaled to unit norm,
// 50 neurons in one layer (or 25 in each of two), no biases (in_bias = out_bias = False), ReLU.
// Data: each feature independently U[−1, 1] with probability 0.01 ("at_least_zero_active"),
// labels y_i = x_i + ReLU(x_i) (label_coeffs all 1), loss mean((ŷ − y)²) ("readoff", importance 1).
// Training: AdamW (weight decay 0.01) at 3e-3 on the repo's cosine cos(½π·t/(T−1)), batch 2048,
// 1000 steps for one layer and 10 000 for two (the repo's train script). W_in, W_out start as
// torch's nn.Linear, U(±1/√fan_in).
// The forward pass never builds the 1000-wide residual: r is x·W_E plus each layer's output, so a
// read r·M is x·(W_E·M) + Σ hid_l·(W_out,lᵀ·M), small products once the [k, d]·[d, m] ones are made.
import { tf } from "../../engine/backend.js";
import { Rng } from "../../engine/random.js";
import { InputError } from "../../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";
import { Adam } from "../../training/adam.js";
import { spdLearningRate } from "./spd.js";

/** Options of `residMlpTarget`. */
export interface ResidMlpTargetOptions {
  /** n, input features (default 100). */
  features?: number;
  /** d_resid, the residual stream's width (default 1000). */
  resid?: number;
  /** MLP neurons in each layer (default 50 for one layer, 25 for two). */
  neurons?: number;
  /** MLP layers (default 1). */
  layers?: number;
  /** Probability of each feature being active (default 0.01). */
  featureProbability?: number;
  /** Training steps (default 1000 for one layer, 10 000 for more, as the repo). */
  steps?: number;
  /** Rows per step (default 2048). */
  batchSize?: number;
  /** Peak learning rate of AdamW on the cosine schedule (default 3e-3). */
  lr?: number;
  seed?: number;
}

const TARGET_OPTIONS = optionNames<ResidMlpTargetOptions>({ features: true, resid: true, neurons: true, layers: true, featureProbability: true, steps: true, batchSize: true, lr: true, seed: true });

/** One MLP block: W_in [neurons, d_resid], W_out [d_resid, neurons] (nn.Linear's layout, [d_out, d_in]). */
export interface ResidMlpLayer {
  W_in: number[][];
  W_out: number[][];
}

/** Rows of sparse features: each U[−1, 1] with probability p, else 0 (flat, [rows, n]). */
export function sampleResidFeatures(rng: Rng, p: number, rows: number, n: number): Float64Array {
  const x = new Float64Array(rows * n);
  for (let j = 0; j < x.length; j++) {
    const active = rng.uniform() < p;
    const v = 2 * rng.uniform() - 1;
    if (active) x[j] = v;
  }
  return x;
}

/** A trained residual MLP target for SPD. */
export class ResidMlpTarget {
  readonly features: number;
  readonly resid: number;
  readonly neurons: number;
  readonly featureProbability: number;
  /** W_E [n, d_resid]: row i is feature i's unit-norm embedding; W_U = W_Eᵀ. */
  readonly W_E: number[][];
  readonly layers: readonly ResidMlpLayer[];
  /** The training loss (MSE against the labels) every 1% of training. */
  readonly history: readonly { step: number; loss: number }[];

  constructor(init: { W_E: number[][]; layers: ResidMlpLayer[]; featureProbability?: number; history?: { step: number; loss: number }[] }) {
    rejectUnknownOptions("ResidMlpTarget", init, optionNames<typeof init>({ W_E: true, layers: true, featureProbability: true, history: true }));
    const n = init.W_E?.length ?? 0, d = init.W_E?.[0]?.length ?? 0;
    if (n === 0 || d === 0 || init.W_E.some((r) => r.length !== d)) throw new InputError(undefined, "ResidMlpTarget: W_E must be a non-empty [features, resid] matrix");
    if (!Array.isArray(init.layers) || init.layers.length === 0) throw new InputError(undefined, "ResidMlpTarget: layers must be a non-empty array of { W_in, W_out }");
    const h = init.layers[0].W_in?.length ?? 0;
    init.layers.forEach((ly, l) => {
      if (h === 0 || ly.W_in?.length !== h || ly.W_in.some((r) => r.length !== d)) throw new InputError(undefined, `ResidMlpTarget: layers[${l}].W_in must be [${h || "neurons"}, ${d}]`);
      if (ly.W_out?.length !== d || ly.W_out.some((r) => r.length !== h)) throw new InputError(undefined, `ResidMlpTarget: layers[${l}].W_out must be [${d}, ${h}]`);
    });
    const p = init.featureProbability ?? 0.01;
    if (!(p > 0 && p <= 1)) throw new InputError(undefined, `ResidMlpTarget: featureProbability must be in (0, 1], got ${p}`);
    this.features = n;
    this.resid = d;
    this.neurons = h;
    this.featureProbability = p;
    this.W_E = init.W_E.map((r) => [...r]);
    this.layers = Object.freeze(init.layers.map((ly) => ({ W_in: ly.W_in.map((r) => [...r]), W_out: ly.W_out.map((r) => [...r]) })));
    this.history = Object.freeze([...(init.history ?? [])]);
  }

  /**
   * The decomposable matrices in the order the model applies them, [d_out, d_in] each, named as the
   * SPD repo's modules ("layers.0.mlp_in", "layers.0.mlp_out", …).
   * @example
   * residTarget.matrices().map((m) => m.name);     // ["layers.0.mlp_in", "layers.0.mlp_out"]
   */
  matrices(): { name: string; W: number[][] }[] {
    return this.layers.flatMap((ly, l) => [{ name: `layers.${l}.mlp_in`, W: ly.W_in }, { name: `layers.${l}.mlp_out`, W: ly.W_out }]);
  }

  private checkRows(who: string, x: number[][]): void {
    if (!Array.isArray(x) || x.some((r) => !Array.isArray(r) || r.length !== this.features)) throw new InputError(undefined, `ResidMlpTarget.${who}: inputs must be rows of ${this.features} features`);
  }

  /**
   * ŷ = W_U·r_L for inputs x (rows of n features).
   * @example
   * residTarget.forward([Array.from({ length: 100 }, (_, i) => (i === 3 ? 0.75 : 0))]);
   */
  forward(x: number[][]): number[][] {
    this.checkRows("forward", x);
    const d = this.resid;
    return x.map((row) => {
      const r = new Float64Array(d);
      row.forEach((v, i) => {
        if (v !== 0) for (let k = 0; k < d; k++) r[k] += v * this.W_E[i][k];
      });
      for (const ly of this.layers) {
        const hid = ly.W_in.map((w) => Math.max(0, w.reduce((s, wk, k) => s + wk * r[k], 0)));
        for (let k = 0; k < d; k++) r[k] += ly.W_out[k].reduce((s, w, j) => s + w * hid[j], 0);
      }
      return this.W_E.map((e) => e.reduce((s, ek, k) => s + ek * r[k], 0));
    });
  }

  /**
   * The labels the target was trained on: y_i = x_i + ReLU(x_i).
   * @example
   * residTarget.labels([[0.5, -0.5]]);               // [[1, -0.5]]
   */
  labels(x: number[][]): number[][] {
    return x.map((row) => row.map((v) => v + Math.max(0, v)));
  }

  /**
   * Rows of input drawn as the target was trained: each feature U[−1, 1] with its probability, else 0.
   * @example
   * const x = residTarget.sample(2048, 7);
   */
  sample(rows: number, seed = 0): number[][] {
    if (!Number.isInteger(rows) || rows < 1) throw new InputError(undefined, `ResidMlpTarget.sample: rows must be a positive integer, got ${rows}`);
    const n = this.features;
    const flat = sampleResidFeatures(new Rng(seed), this.featureProbability, rows, n);
    return Array.from({ length: rows }, (_, r) => Array.from(flat.subarray(r * n, (r + 1) * n)));
  }

  /**
   * The target's MSE against the labels, mean over rows and features (as the repo's training loss).
   * @example
   * residTarget.loss(residTarget.sample(10_000, 1));
   */
  loss(x: number[][]): number {
    const out = this.forward(x), y = this.labels(x);
    let s = 0;
    out.forEach((row, r) => row.forEach((v, i) => (s += (v - y[r][i]) ** 2)));
    return s / (x.length * this.features);
  }

  /** "ResidMlpTarget(100 features, d_resid 1000, 1 × 50 neurons)". */
  toString(): string {
    return `ResidMlpTarget(${this.features} features, d_resid ${this.resid}, ${this.layers.length} × ${this.neurons} neurons)`;
  }
}

/** ŷ for a batch x [B, n] without the d-wide residual: every read r·M as Σ coef·(basis·M). */
function structuredForward(E: tf.Tensor2D, ET: tf.Tensor2D, WinT: tf.Variable[], WoutT: tf.Variable[], x: tf.Tensor2D): tf.Tensor2D {
  const sources: { coef: tf.Tensor2D; basis: tf.Tensor2D }[] = [{ coef: x, basis: E }];
  const read = (M: tf.Tensor2D) => tf.addN(sources.map((s) => tf.matMul(s.coef, tf.matMul(s.basis, M)))) as tf.Tensor2D;
  WinT.forEach((w, l) => sources.push({ coef: tf.relu(read(w as tf.Tensor2D)) as tf.Tensor2D, basis: WoutT[l] as tf.Tensor2D }));
  return read(ET);
}

/**
 * Train the residual MLP of the SPD paper's compressed-computation and cross-layer experiments:
 * 100 features in a 1000-wide residual stream through 50 ReLU neurons (`layers: 2`: 25 in each of two
 * MLPs), labels x + ReLU(x), as goodfire-ai/spd trains it (AdamW, 3e-3 cosine, batch 2048).
 * @example
 * const target = await fl.residMlpTarget({ seed: 0 });              // 1000 steps, ~1 min
 * target.loss(target.sample(10_000, 1));                            // MSE against the labels
 */
export async function residMlpTarget(opts: ResidMlpTargetOptions = {}): Promise<ResidMlpTarget> {
  rejectUnknownOptions("residMlpTarget", opts, TARGET_OPTIONS);
  const L = opts.layers ?? 1;
  const n = opts.features ?? 100, d = opts.resid ?? 1000, h = opts.neurons ?? (L === 1 ? 50 : Math.round(50 / L));
  const steps = opts.steps ?? (L === 1 ? 1000 : 10_000), B = opts.batchSize ?? 2048;
  for (const [k, v] of [["features", n], ["resid", d], ["neurons", h], ["layers", L], ["steps", steps], ["batchSize", B]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InputError(undefined, `residMlpTarget: ${k} must be a positive integer, got ${v}`);
  }
  const p = opts.featureProbability ?? 0.01;
  if (!(p > 0 && p <= 1)) throw new InputError(undefined, `residMlpTarget: featureProbability must be in (0, 1], got ${p}`);
  const lr = opts.lr ?? 3e-3;
  if (!(lr > 0 && Number.isFinite(lr))) throw new InputError(undefined, `residMlpTarget: lr must be a positive number, got ${lr}`);
  const rng = new Rng(opts.seed ?? 0);
  // W_E: normal rows made unit norm (fixed_random_embedding); W_in, W_out as nn.Linear, U(±1/√fan_in).
  const W_E = Array.from({ length: n }, () => {
    const row = Array.from(rng.normals(d));
    const norm = Math.hypot(...row);
    return row.map((v) => v / norm);
  });
  const uniform = (count: number, bound: number) => Float32Array.from({ length: count }, () => (2 * rng.uniform() - 1) * bound);
  const E = tf.tensor2d(W_E.flat(), [n, d]);
  const ET = tf.transpose(E) as tf.Tensor2D;
  // Kept transposed (W_inᵀ [d, h], W_outᵀ [h, d]) so every product is an untransposed matMul.
  const WinT = Array.from({ length: L }, () => tf.variable(tf.transpose(tf.tensor2d(uniform(h * d, 1 / Math.sqrt(d)), [h, d]))));
  const WoutT = Array.from({ length: L }, () => tf.variable(tf.transpose(tf.tensor2d(uniform(d * h, 1 / Math.sqrt(h)), [d, h]))));
  const params: Record<string, tf.Variable> = {};
  WinT.forEach((w) => (params[w.name] = w));
  WoutT.forEach((w) => (params[w.name] = w));
  const adam = new Adam();
  const history: { step: number; loss: number }[] = [];
  const logEvery = Math.max(1, Math.floor(steps / 100));
  try {
    for (let step = 0; step < steps; step++) {
      const xs = sampleResidFeatures(rng, p, B, n);
      const rate = spdLearningRate(step, steps, lr, "cosine");
      const { value, grads } = tf.tidy(() => {
        const x = tf.tensor2d(Float32Array.from(xs), [B, n]);
        const y = tf.add(x, tf.relu(x));
        return tf.variableGrads(() => tf.mean(tf.square(tf.sub(structuredForward(E, ET, WinT, WoutT, x), y))) as tf.Scalar, Object.values(params));
      });
      if (step % logEvery === 0 || step === steps - 1) history.push({ step, loss: value.dataSync()[0] });
      // AdamW: decay the weights, then the Adam step (torch.optim.AdamW's order).
      tf.tidy(() => Object.values(params).forEach((w) => w.assign(tf.mul(w, 1 - rate * 0.01))));
      adam.apply(params, grads, rate);
      tf.dispose([value, ...Object.values(grads)]);
      if (step % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    const rows = (t: tf.Tensor, r: number, c: number) => {
      const a = t.dataSync();
      return Array.from({ length: r }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c), Number));
    };
    const layers = WinT.map((w, l) => ({ W_in: tf.tidy(() => rows(tf.transpose(w), h, d)), W_out: tf.tidy(() => rows(tf.transpose(WoutT[l]), d, h)) }));
    return new ResidMlpTarget({ W_E, layers, featureProbability: p, history });
  } finally {
    adam.dispose();
    tf.dispose([E, ET, ...WinT, ...WoutT]);
  }
}
