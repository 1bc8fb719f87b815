// fl.gatedAttention(model, data, opts): train a gated attention block to stand in for a toy model's
// attention layer (the model stays frozen; the block sees the layer's residual input and copies its
// output), then measure how well it does: the loss terms, MSE/FVU of the attention output, and the
// model's cross-entropy and planted-C accuracy with the block spliced in instead of the layer.
import { tf, ensureEngine } from "../../engine/backend.js";
import { Rng } from "../../engine/random.js";
import { Adam } from "../../training/adam.js";
import { oneHotTokens } from "./attention-heads.js";
import { AttentionOnlyModel, scoreLogits, type TaskScore } from "./attention-only-model.js";
import { GATED_WEIGHT_NAMES, gatedBlockForward, gatedBlockLoss, gateSparsity, initGatedBlock, type GatedBlockWeights, type GatedOutputs } from "./block.js";
import { assertSkipTrigramData, type SkipTrigramData } from "./skip-trigrams.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";

/** Options of `gatedAttention`. */
export interface GatedAttentionOptions {
  /** The attention layer to replace (the toy model has one: 0). */
  layer?: number;
  /** Heads of the block (default twice the model's). */
  heads?: number;
  /** Weight of the gate sparsity penalty (default 0.3, the post's value for 4 heads and 5 trigrams). */
  alpha?: number;
  /** Adam steps (default 1500), sequences per step (default 256), learning rate (default 0.01). */
  steps?: number;
  batchSize?: number;
  lr?: number;
  /** Initial gate biases b^Q = b^K (default 0.7; the authors use 0): see initGatedBlock. */
  gateBias?: number;
  /** Fraction of the steps over which α rises linearly from 0 (default 0.3): the block first learns to copy the layer, then to close gates. */
  alphaWarmup?: number;
  seed?: number;
}

const GATED_ATTENTION_OPTIONS = optionNames<GatedAttentionOptions>({ layer: true, heads: true, alpha: true, steps: true, batchSize: true, lr: true, gateBias: true, alphaWarmup: true, seed: true });

export interface GatedHistoryRow {
  step: number;
  loss: number;
  mse: number;
  sparsity: number;
}

/** How well a gated attention block stands in for the layer: loss terms, FVU, and CE/accuracy with it spliced in. */
export interface GatedAttentionMetrics {
  /** The loss terms on the evaluation data: total, MSE, gate sparsity term (before α). */
  loss: number;
  mse: number;
  sparsity: number;
  alpha: number;
  /** FVU of the attention output: Σ(y − ŷ)² / Σ(y − ȳ)², ȳ the mean over rows per dimension. */
  fvu: number;
  /** Mean number of heads whose gate is open (G > 0) per causal (q, k) pair, and on (B → A) pairs of planted trigrams. */
  openGates: number;
  openGatesOnTrigrams: number;
  /** The model as trained, with the block spliced in, and with the attention layer zero-ablated. */
  original: TaskScore;
  spliced: TaskScore;
  zeroAblated: TaskScore;
  /** (CE_zero − CE_spliced)/(CE_zero − CE_original): 1 = nothing lost. */
  ceScore: number;
}

/**
 * A trained gated attention block standing in for an attention-only model's layer (made by `fl.gatedAttention`).
 * @example
 * const gated = fl.gatedAttention(toyModel, data, { heads: 8, steps: 2500, seed: 0 });
 * fl.show(fl.plot.trigramHeads([fl.trigramHeads(toyModel, data), fl.trigramHeads(gated, data)]));
 */
export class GatedAttention {
  readonly model: AttentionOnlyModel;
  readonly weights: GatedBlockWeights;
  readonly heads: number;
  readonly layer: number;
  readonly options: Required<GatedAttentionOptions>;
  readonly history: GatedHistoryRow[];
  readonly metrics: GatedAttentionMetrics;

  constructor(model: AttentionOnlyModel, weights: GatedBlockWeights, options: Required<GatedAttentionOptions>, history: GatedHistoryRow[], data: SkipTrigramData) {
    this.model = model;
    this.weights = weights;
    for (const t of Object.values(weights)) tf.keep(t);
    this.heads = weights.W_Q.shape[0];
    this.layer = options.layer;
    this.options = options;
    this.history = history;
    this.metrics = this.evaluate(data);
  }

  /**
   * The block on tokens: its output, per-head outputs, patterns and gates (tensors: dispose them).
   * @example
   * const { logits } = gated.run(data.tokens);
   */
  run(tokens: number[][]): GatedOutputs & { resid: tf.Tensor3D; logits: tf.Tensor3D } {
    ensureEngine();
    return tf.tidy(() => {
      const resid = oneHotTokens(tokens, this.model.vocab);
      const r = gatedBlockForward(resid, this.weights);
      return { ...r, resid, logits: tf.add(resid, r.out) as tf.Tensor3D };
    });
  }

  /**
   * All metrics on skip-trigram data (the constructor computes them on the training data).
   * @example
   * gated.evaluate(heldOut);
   */
  evaluate(data: SkipTrigramData): GatedAttentionMetrics {
    assertSkipTrigramData(data, "GatedAttention.evaluate");
    const orig = this.model.run(data.tokens);
    const mine = this.run(data.tokens);
    try {
      const alpha = this.options.alpha;
      const [mse, sparsity, fvu] = tf.tidy(() => {
        const m = tf.mean(tf.squaredDifference(mine.out, orig.out));
        const s = gateSparsity(mine.gate);
        const y = tf.reshape(orig.out, [-1, this.model.vocab]);
        const err = tf.sum(tf.squaredDifference(tf.reshape(mine.out, [-1, this.model.vocab]), y));
        const f = tf.div(err, tf.sum(tf.squaredDifference(y, tf.mean(y, 0, true))));
        return [m, s, f].map((t) => t.dataSync()[0]);
      });
      const zero = scoreLogits(orig.resid, data);
      const original = scoreLogits(orig.logits, data), spliced = scoreLogits(mine.logits, data);
      const { all, trigram } = openGateCounts(mine, data);
      return {
        loss: mse + alpha * sparsity,
        mse,
        sparsity,
        alpha,
        fvu,
        openGates: all,
        openGatesOnTrigrams: trigram,
        original,
        spliced,
        zeroAblated: zero,
        ceScore: (zero.ce - spliced.ce) / (zero.ce - original.ce),
      };
    } finally {
      tf.dispose([...Object.values(orig), ...Object.values(mine)]);
    }
  }

  /**
   * Free the block's weights.
   * @example
   * gated.dispose();
   */
  dispose(): void {
    tf.dispose(Object.values(this.weights));
  }

  /** A text summary of the block and its metrics. */
  toString(): string {
    const m = this.metrics;
    return `GatedAttention(${this.heads} heads for ${this.model.heads}, α ${this.options.alpha}: MSE ${m.mse.toPrecision(3)}, FVU ${m.fvu.toPrecision(3)}, accuracy ${m.spliced.accuracy.toFixed(3)} vs ${m.original.accuracy.toFixed(3)})`;
  }
}

/** Mean open gates (G > 0) per causal (q, k) pair, and on the (B, A) pairs of planted trigrams. */
function openGateCounts(r: GatedOutputs, data: SkipTrigramData): { all: number; trigram: number } {
  const [B, H, T] = r.gate.shape;
  const g = r.gate.dataSync();
  let open = 0, pairs = 0;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let q = 0; q < T; q++) for (let k = 0; k <= q; k++) if (g[((b * H + h) * T + q) * T + k] > 0) open++;
  pairs = (B * T * (T + 1)) / 2;
  let tOpen = 0;
  for (const p of data.planted) for (let h = 0; h < H; h++) if (g[((p.sequence * H + h) * T + p.b) * T + p.a] > 0) tOpen++;
  return { all: open / pairs, trigram: data.planted.length ? tOpen / data.planted.length : NaN };
}

/**
 * Train a gated attention block on the frozen model's attention layer.
 * @example
 * const gated = fl.gatedAttention(toyModel, data, { heads: 8, alpha: 0.1, steps: 2500, seed: 0 });
 */
export function gatedAttention(model: AttentionOnlyModel, data: SkipTrigramData, opts: GatedAttentionOptions = {}): GatedAttention {
  rejectUnknownOptions("gatedAttention", opts, GATED_ATTENTION_OPTIONS);
  ensureEngine();
  if (!(model instanceof AttentionOnlyModel)) throw new Error("featurelab: gatedAttention: model must be an AttentionOnlyModel (fl.trainAttentionOnly)");
  assertSkipTrigramData(data, "gatedAttention");
  if (data.vocabSize !== model.vocab) throw new Error(`featurelab: gatedAttention: the data's vocabulary (${data.vocabSize}) is not the model's d_model (${model.vocab})`);
  const options: Required<GatedAttentionOptions> = {
    layer: opts.layer ?? 0,
    heads: opts.heads ?? 2 * model.heads,
    alpha: opts.alpha ?? 0.3,
    steps: opts.steps ?? 1500,
    batchSize: opts.batchSize ?? 256,
    lr: opts.lr ?? 0.01,
    alphaWarmup: opts.alphaWarmup ?? 0.3,
    gateBias: opts.gateBias ?? 0.7,
    seed: opts.seed ?? 0,
  };
  if (options.layer !== 0) throw new Error(`featurelab: gatedAttention: layer ${options.layer} does not exist; the attention-only model has one layer (0)`);
  for (const name of ["heads", "steps", "batchSize"] as const) {
    const v = options[name];
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`featurelab: gatedAttention: ${name} must be a positive integer, got ${v}`);
  }
  if (!(options.alpha >= 0 && Number.isFinite(options.alpha))) throw new Error(`featurelab: gatedAttention: alpha must be ≥ 0, got ${options.alpha}`);
  if (!(options.alphaWarmup >= 0 && options.alphaWarmup <= 1)) throw new Error(`featurelab: gatedAttention: alphaWarmup must be in [0, 1], got ${options.alphaWarmup}`);
  if (!(options.lr > 0)) throw new Error(`featurelab: gatedAttention: lr must be positive, got ${options.lr}`);

  const init = initGatedBlock(options.heads, model.vocab, model.dHead, options.seed, options.gateBias);
  const vars = Object.fromEntries(GATED_WEIGHT_NAMES.map((k) => [k, tf.variable(init[k], true)])) as Record<string, tf.Variable>;
  tf.dispose(Object.values(init));
  const rng = new Rng(options.seed + 1);
  const adam = new Adam();
  const history: GatedHistoryRow[] = [];
  const N = data.tokens.length, B = Math.min(options.batchSize, N);
  // The frozen model's layer input and output on all the data, once: the targets, outside the gradient.
  const all = model.run(data.tokens);
  try {
    for (let step = 0; step < options.steps; step++) {
      const idx = tf.tensor1d(Int32Array.from({ length: B }, () => rng.int(N)), "int32");
      const x = tf.gather(all.resid, idx) as tf.Tensor3D, target = tf.gather(all.out, idx) as tf.Tensor3D;
      let terms: [number, number] | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const t = gatedBlockLoss(x, target, vars as unknown as GatedBlockWeights, options.alpha * Math.min(1, step / Math.max(1, options.alphaWarmup * options.steps)));
        if (step % 50 === 0 || step === options.steps - 1) terms = [t.mse.dataSync()[0], t.sparsity.dataSync()[0]];
        return t.loss;
      });
      adam.apply(vars, Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, grads[v.name]])), options.lr);
      if (terms) history.push({ step, loss: value.dataSync()[0], mse: terms[0], sparsity: terms[1] });
      tf.dispose([idx, x, target, value, ...Object.values(grads)]);
    }
    const weights = Object.fromEntries(GATED_WEIGHT_NAMES.map((k) => [k, tf.clone(vars[k])])) as unknown as GatedBlockWeights;
    return new GatedAttention(model, weights, options, history, data);
  } finally {
    tf.dispose(Object.values(all));
    adam.dispose();
    tf.dispose(Object.values(vars));
  }
}
