// The toy model of the gated-attention post: one attention layer and nothing else. Tokens enter as
// one-hot rows (d_model = vocabulary size), the heads add their outputs, and the residual stream is
// read out as logits directly (one-hot unembedding): logits = onehot(x) + Σ_h head_h(x). No LayerNorm,
// no MLP, no positional embedding — so each head's direct effect on a logit is exact, not an estimate.
// Trained with next-token cross-entropy on skip-trigram data (Adam, seeded).
import { tf, ensureEngine } from "../../engine/backend.js";
import { Rng } from "../../engine/random.js";
import { Adam } from "../../training/adam.js";
import { attentionHeads, oneHotTokens, type HeadOutputs, type HeadWeights } from "./attention-heads.js";
import { assertSkipTrigramData, type SkipTrigramData } from "./skip-trigrams.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";

/** Options of `trainAttentionOnly`. */
export interface AttentionOnlyOptions {
  /** Attention heads (default 4). */
  heads?: number;
  /** Dimension of each head (default 1, as in the post: a head carries one number). */
  dHead?: number;
  /** Adam steps (default 1500), sequences per step (default 256), learning rate (default 0.01). */
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
}

const ATTENTION_ONLY_OPTIONS = optionNames<AttentionOnlyOptions>({ heads: true, dHead: true, steps: true, batchSize: true, lr: true, seed: true });

export interface ModelRun extends HeadOutputs {
  /** The residual stream entering the attention layer: the one-hot tokens [B, T, V]. */
  resid: tf.Tensor3D;
  logits: tf.Tensor3D;
}

/** How a model does on skip-trigram data: CE over all next-token positions and accuracy on planted Cs. */
export interface TaskScore {
  /** Mean next-token cross-entropy (nats) over every position that has a next token. */
  ce: number;
  /** Fraction of planted trigrams whose C is the argmax at the B position. */
  accuracy: number;
  /** Per trigram: fraction of its planted instances predicted right. */
  accuracyByTrigram: number[];
  planted: number;
}

const WEIGHT_NAMES = ["W_Q", "b_Q", "W_K", "b_K", "W_V", "b_V", "W_O"] as const;

/**
 * A one-layer attention-only model (one-hot embedding and unembedding), made by `fl.trainAttentionOnly`.
 * @example
 * const data = fl.toy.skipTrigrams({ n: 2000, trigrams: 8, seed: 0 });
 * const toyModel = fl.trainAttentionOnly(data, { heads: 4, steps: 2000, seed: 0 });
 */
export class AttentionOnlyModel {
  readonly heads: number;
  readonly dHead: number;
  /** Vocabulary size = d_model. */
  readonly vocab: number;
  readonly weights: HeadWeights;
  /** Training loss every 50 steps. */
  readonly history: { step: number; loss: number }[];
  /** The score on the data it was trained on (set by trainAttentionOnly). */
  score: TaskScore | undefined;
  readonly seed: number;

  constructor(weights: HeadWeights, history: { step: number; loss: number }[] = [], seed = 0) {
    for (const n of WEIGHT_NAMES) if (!weights[n]) throw new Error(`featurelab: AttentionOnlyModel: weight '${n}' is missing`);
    const [H, d, dh] = weights.W_Q.shape;
    const expect: Record<string, number[]> = { W_Q: [H, d, dh], W_K: [H, d, dh], W_V: [H, d, dh], W_O: [H, dh, d], b_Q: [H, dh], b_K: [H, dh], b_V: [H, dh] };
    for (const n of WEIGHT_NAMES) {
      if (weights[n].shape.join(",") !== expect[n].join(",")) throw new Error(`featurelab: AttentionOnlyModel: weight '${n}' has shape [${weights[n].shape}], expected [${expect[n]}]`);
    }
    this.heads = H;
    this.dHead = dh;
    this.vocab = d;
    this.weights = weights;
    for (const t of Object.values(weights)) tf.keep(t);
    this.history = history;
    this.seed = seed;
  }

  /**
   * Logits, the attention layer's input and output, per-head outputs and patterns (tensors: dispose them).
   * @example
   * const { logits } = toyModel.run(data.tokens);
   */
  run(tokens: number[][]): ModelRun {
    ensureEngine();
    return tf.tidy(() => {
      const resid = oneHotTokens(tokens, this.vocab);
      const heads = attentionHeads(resid, this.weights);
      return { ...heads, resid, logits: tf.add(resid, heads.out) as tf.Tensor3D };
    });
  }

  /**
   * CE and planted-C accuracy on skip-trigram data.
   * @example
   * toyModel.evaluate(fl.toy.skipTrigrams({ n: 500, trigrams: 8, seed: 1 })).accuracy;
   */
  evaluate(data: SkipTrigramData): TaskScore {
    assertSkipTrigramData(data, "AttentionOnlyModel.evaluate");
    const r = this.run(data.tokens);
    try {
      return scoreLogits(r.logits, data);
    } finally {
      tf.dispose(Object.values(r));
    }
  }

  /** Number of trained parameters. */
  get numParams(): number {
    return Object.values(this.weights).reduce((s, t) => s + t.size, 0);
  }

  /**
   * Free the weights' memory.
   * @example
   * toyModel.dispose();
   */
  dispose(): void {
    tf.dispose(Object.values(this.weights));
  }

  /** "AttentionOnlyModel(1 layer, heads × d_head, vocab = d_model)". */
  toString(): string {
    return `AttentionOnlyModel(1 layer, ${this.heads} heads × d_head ${this.dHead}, vocab = d_model ${this.vocab})`;
  }
}

/** Next-token CE over all positions with a successor, [B, T, V] logits. */
export function nextTokenCe(logits: tf.Tensor3D, tokens: number[][]): tf.Scalar {
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const next = new Int32Array(B * (T - 1));
    tokens.forEach((row, i) => row.slice(1).forEach((t, j) => (next[i * (T - 1) + j] = t)));
    const lp = tf.logSoftmax(tf.slice(logits, [0, 0, 0], [B, T - 1, V]));
    const picked = tf.sum(tf.mul(lp, tf.reshape(tf.oneHot(tf.tensor1d(next, "int32"), V), [B, T - 1, V])), -1);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/** CE and planted-C accuracy from logits [B, T, V] of data.tokens. */
export function scoreLogits(logits: tf.Tensor3D, data: SkipTrigramData): TaskScore {
  const ce = nextTokenCe(logits, data.tokens);
  const ceValue = ce.dataSync()[0];
  ce.dispose();
  const [, T, V] = logits.shape;
  const values = logits.dataSync();
  const right = new Array(data.trigrams.length).fill(0), total = new Array(data.trigrams.length).fill(0);
  for (const p of data.planted) {
    const off = (p.sequence * T + p.b) * V;
    let best = 0;
    for (let v = 1; v < V; v++) if (values[off + v] > values[off + best]) best = v;
    total[p.trigram]++;
    if (best === data.trigrams[p.trigram].c) right[p.trigram]++;
  }
  const sum = (a: number[]) => a.reduce((s, x) => s + x, 0);
  return { ce: ceValue, accuracy: sum(right) / Math.max(1, sum(total)), accuracyByTrigram: right.map((r, i) => (total[i] ? r / total[i] : NaN)), planted: sum(total) };
}

/** Xavier-normal weights [shape] (fan in d_model, fan out d_head), seeded. */
function xavier(rng: Rng, shape: [number, number, number], fanIn: number, fanOut: number): tf.Tensor3D {
  const std = Math.sqrt(2 / (fanIn + fanOut));
  const v = rng.normals(shape[0] * shape[1] * shape[2]).map((x) => x * std);
  return tf.tensor3d(v, shape);
}

/** Fresh per-head weights: Xavier-normal matrices, biases zero or (withBiasNoise) Xavier-normal too. */
export function initHeadWeights(H: number, d: number, dh: number, rng: Rng, withBiasNoise = false): HeadWeights {
  const bias = () => (withBiasNoise ? tf.tensor2d(rng.normals(H * dh).map((x) => x * Math.sqrt(2 / (H + dh))), [H, dh]) : tf.zeros([H, dh]) as tf.Tensor2D);
  return {
    W_Q: xavier(rng, [H, d, dh], d, dh),
    b_Q: bias(),
    W_K: xavier(rng, [H, d, dh], d, dh),
    b_K: bias(),
    W_V: xavier(rng, [H, d, dh], d, dh),
    b_V: bias(),
    W_O: xavier(rng, [H, dh, d], dh, d),
  };
}

/**
 * Train the toy model on skip-trigram data; returns it with its score on that data.
 * @example
 * const data = fl.toy.skipTrigrams({ n: 2000, trigrams: 8, seed: 0 });
 * const toyModel = fl.trainAttentionOnly(data, { heads: 4, steps: 2000, seed: 0 });
 */
export function trainAttentionOnly(data: SkipTrigramData, opts: AttentionOnlyOptions = {}): AttentionOnlyModel {
  rejectUnknownOptions("trainAttentionOnly", opts, ATTENTION_ONLY_OPTIONS);
  ensureEngine();
  assertSkipTrigramData(data, "trainAttentionOnly");
  const H = opts.heads ?? 4, dh = opts.dHead ?? 1, steps = opts.steps ?? 1500, batchSize = opts.batchSize ?? 256, lr = opts.lr ?? 0.01, seed = opts.seed ?? 0;
  for (const [name, v] of [["heads", H], ["dHead", dh], ["steps", steps], ["batchSize", batchSize]] as const) {
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`featurelab: trainAttentionOnly: ${name} must be a positive integer, got ${v}`);
  }
  if (!(lr > 0)) throw new Error(`featurelab: trainAttentionOnly: lr must be positive, got ${lr}`);
  const rng = new Rng(seed);
  const V = data.vocabSize;
  const init = initHeadWeights(H, V, dh, rng);
  const vars = Object.fromEntries(Object.entries(init).map(([k, t]) => [k, tf.variable(t, true)])) as Record<string, tf.Variable>;
  tf.dispose(Object.values(init));
  const adam = new Adam();
  const history: { step: number; loss: number }[] = [];
  const N = data.tokens.length, B = Math.min(batchSize, N);
  try {
    for (let step = 0; step < steps; step++) {
      const batch = Array.from({ length: B }, () => data.tokens[rng.int(N)]);
      const x = oneHotTokens(batch, V);
      const { value, grads } = tf.variableGrads(() => {
        const { out } = attentionHeads(x, vars as unknown as HeadWeights);
        return nextTokenCe(tf.add(x, out) as tf.Tensor3D, batch);
      });
      // variableGrads keys gradients by the variables' (global) names.
      adam.apply(vars, Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, grads[v.name]])), lr);
      if (step % 50 === 0 || step === steps - 1) history.push({ step, loss: value.dataSync()[0] });
      tf.dispose([x, value, ...Object.values(grads)]);
    }
    const weights = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, tf.clone(v)])) as unknown as HeadWeights;
    const model = new AttentionOnlyModel(weights, history, seed);
    model.score = model.evaluate(data);
    return model;
  } finally {
    adam.dispose();
    tf.dispose(Object.values(vars));
  }
}
