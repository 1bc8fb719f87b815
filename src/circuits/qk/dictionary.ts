// The bilinear QK dictionary (Wynroe & Sharkey 2024): a query transcoder and a key transcoder for one
// attention layer of a frozen transformer, both reading the LayerNorm-normalised residual r, trained
// jointly so that the attention pattern recomputed from their reconstructions matches the model's
// (loss in loss.ts). Choices, as in the authors' code unless said: Adam; decoder rows renormalised
// to unit norm after every step (so the √ penalty cannot be dodged by shrinking f and growing D);
// b_Q, b_K start at the mean q and k; W_enc ~ N(0, 1/d_model) and D = W_encᵀ (rows normalised).
// Batches are whole documents (every query row needs all its keys), drawn with a seeded Rng.
import { rejectUnknownOptions, optionNames } from "../../io/options.js";
import { tf, ready } from "../../engine/backend.js";
import { Rng } from "../../engine/random.js";
import { Adam } from "../../training/adam.js";
import { normaliseRows } from "../../dictionaries/sae-parts.js";
import { checkQkTarget, collectQkData, type QkData } from "./data.js";
import { negativeEntropy, qkCausalMask, QK_WEIGHT_NAMES, type QkWeights } from "./loss.js";
import { qkStep, type QkStep } from "./gradients.js";
import { evaluateQk, qkFeatures, type QkMetrics } from "./evaluate.js";
import { qkPairTerms } from "./feature-pairs.js";
import { trainQkMask, type QkMask, type QkMaskOptions } from "./mask.js";
import { qkPairs, inductionScores, type QkPairs, type QkPairsOptions } from "./pairs.js";
import { qkScoreTerms, type QkScoreTerms } from "./score-terms.js";
import { saveQkDictionary } from "./folder.js";

/** Options of `qkDictionary`. */
export interface QkDictionaryOptions {
  /** The attention layer (blocks.{layer}). */
  layer: number;
  /** Features per transcoder (default 2·d_model). */
  width?: number;
  /** c, the coefficient of each √ sparsity penalty (default 0.01). */
  sparsity?: number;
  /** Adam steps (default 1000). */
  steps?: number;
  /** Documents per step (default 16). */
  batchSize?: number;
  /** Adam learning rate (default 3e-3). */
  lr?: number;
  seed?: number;
  /** For text input: put BOS before each text (default true). */
  prependBos?: boolean;
  /** How the transcoders start: "data" (each feature at a random position; default) or "random". */
  init?: "data" | "random";
  /** Steps over which c rises linearly from 0 (default 0: c from the start). */
  sparsityWarmup?: number;
  /** Record the loss parts every this many steps (default steps/100, at least 1). */
  logEvery?: number;
}

const KNOWN = optionNames<QkDictionaryOptions>({ layer: true, width: true, sparsity: true, sparsityWarmup: true, init: true, steps: true, batchSize: true, lr: true, seed: true, prependBos: true, logEvery: true });

/** One logged step of QK dictionary training: the KL terms and sparsity penalties. */
export interface QkTrainingRecord {
  step: number;
  loss: number;
  klFull: number;
  klQueries: number;
  klKeys: number;
  sparsityQ: number;
  sparsityK: number;
}

/** A QK dictionary's configuration, as saved in qk.json. */
export interface QkConfig {
  layer: number;
  width: number;
  sparsity: number;
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  sparsityWarmup: number;
  init: "data" | "random";
}

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`featurelab: qkDictionary: ${name} must be a positive integer, got ${v}`);
  return v;
}

function positive(v: number, name: string, zeroOk = false): number {
  if (!Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) throw new Error(`featurelab: qkDictionary: ${name} must be ${zeroOk ? "≥ 0" : "> 0"}, got ${v}`);
  return v;
}


/**
 * "random": W_enc ~ N(0, 1/d_model), b_enc = 0, D = W_encᵀ (rows normalised).
 * "data": feature i starts at a random position s_i — encoder direction u = (r_s − r̄)/‖r_s − r̄‖ with a
 * threshold at half of s_i's own projection (so it fires on positions like s_i), decoder row (q_s − q̄)
 * normalised — a k-means-style start that keeps features from dying under the √ penalty.
 * b_Q, b_K start at the mean q and k either way.
 */
function initWeights(data: QkData, width: number, rng: Rng, init: "random" | "data"): Record<keyof QkWeights, tf.Variable> {
  const d = data.dModel, hd = data.heads * data.dHead, N = data.n * data.T;
  const mean = (x: Float32Array, dim: number) => {
    const m = new Float32Array(dim);
    for (let i = 0; i < x.length; i++) m[i % dim] += x[i] / N;
    return m;
  };
  const rMean = mean(data.r, d);
  const side = (target: Float32Array) => {
    const tMean = mean(target, hd);
    const enc = new Float32Array(d * width), bEnc = new Float32Array(width), dec = new Float32Array(width * hd);
    if (init === "data") {
      const picks = rng.permutation(N).subarray(0, width);
      picks.forEach((s, i) => {
        let norm = 0;
        for (let e = 0; e < d; e++) norm += (data.r[s * d + e] - rMean[e]) ** 2;
        norm = Math.sqrt(norm) || 1;
        let shift = 0;
        for (let e = 0; e < d; e++) {
          const u = (data.r[s * d + e] - rMean[e]) / norm;
          enc[e * width + i] = u;
          shift += u * rMean[e];
        }
        bEnc[i] = -shift - 0.5 * norm;
        let dn = 0;
        for (let e = 0; e < hd; e++) dn += (target[s * hd + e] - tMean[e]) ** 2;
        dn = Math.sqrt(dn) || 1;
        for (let e = 0; e < hd; e++) dec[i * hd + e] = (target[s * hd + e] - tMean[e]) / dn;
      });
    } else {
      const g = rng.normals(d * width);
      for (let i = 0; i < g.length; i++) enc[i] = g[i] / Math.sqrt(d);
      const extra = hd === d ? undefined : rng.normals(width * hd);
      for (let i = 0; i < width; i++) {
        let n = 0;
        for (let e = 0; e < hd; e++) n += (dec[i * hd + e] = extra ? extra[i * hd + e] : enc[e * width + i]) ** 2;
        n = Math.sqrt(n) || 1;
        for (let e = 0; e < hd; e++) dec[i * hd + e] /= n;
      }
    }
    return { W_enc: tf.tensor2d(enc, [d, width]), b_enc: tf.tensor1d(bEnc), D: tf.tensor2d(dec, [width, hd]), b: tf.tensor1d(tMean) };
  };
  const q = side(data.q), k = side(data.k);
  const v = (t: tf.Tensor) => tf.variable(t, true);
  return { W_encQ: v(q.W_enc), b_encQ: v(q.b_enc), D_Q: v(q.D), b_Q: v(q.b), W_encK: v(k.W_enc), b_encK: v(k.b_enc), D_K: v(k.D), b_K: v(k.b) };
}

/**
 * Train the query and key transcoders of one attention layer of `model` on documents `input`.
 * @example
 * const qk = await fl.qkDictionary(model, tokens, { layer: 1, width: 64, steps: 2000, seed: 0 });
 * fl.show(fl.plot.qkPairs(qk.pairs(0, { n: 20 })));
 */
export async function qkDictionary(model: unknown, input: unknown, opts: QkDictionaryOptions): Promise<QkDictionary> {
  rejectUnknownOptions("qkDictionary", opts, KNOWN);
  await ready();
  if (!opts || typeof opts !== "object") throw new Error("featurelab: qkDictionary(model, tokens, { layer, … }): the options are missing");
  checkQkTarget(model, opts.layer, "qkDictionary");
  const cfg: QkConfig = {
    layer: opts.layer,
    width: positiveInt(opts.width ?? 2 * model.cfg.d_model, "width"),
    sparsity: positive(opts.sparsity ?? 0.01, "sparsity", true),
    steps: positiveInt(opts.steps ?? 1000, "steps"),
    batchSize: positiveInt(opts.batchSize ?? 16, "batchSize"),
    lr: positive(opts.lr ?? 3e-3, "lr"),
    seed: opts.seed ?? 0,
    sparsityWarmup: opts.sparsityWarmup ?? 0,
    init: opts.init ?? "data",
  };
  if (cfg.init !== "data" && cfg.init !== "random") throw new Error(`featurelab: qkDictionary: init must be "data" or "random", got ${JSON.stringify(cfg.init)}`);
  if (!Number.isInteger(cfg.sparsityWarmup) || cfg.sparsityWarmup < 0) throw new Error(`featurelab: qkDictionary: sparsityWarmup must be a whole number of steps ≥ 0, got ${cfg.sparsityWarmup}`);
  const data = await collectQkData(model, input, cfg.layer, { prependBos: opts.prependBos });
  const B = Math.min(cfg.batchSize, data.n);
  const logEvery = positiveInt(opts.logEvery ?? Math.max(1, Math.floor(cfg.steps / 100)), "logEvery");
  const rng = new Rng(cfg.seed);
  if (cfg.init === "data" && cfg.width > data.n * data.T) throw new Error(`featurelab: qkDictionary: init "data" starts each of the ${cfg.width} features at a different position, but there are only ${data.n * data.T}; use init "random" or more documents`);
  const vars = initWeights(data, cfg.width, rng, cfg.init);
  const { T, dModel: d, heads: H, dHead: dh } = data, hd = H * dh;
  // Whole data set as tensors once; a step gathers its documents.
  const all = tf.tidy(() => {
    const pattern = tf.tensor4d(data.pattern, [data.n, H, T, T]);
    return { r: tf.tensor3d(data.r, [data.n, T, d]), q: tf.tensor3d(data.q, [data.n, T, hd]), k: tf.tensor3d(data.k, [data.n, T, hd]), pattern, negEnt: negativeEntropy(pattern) };
  });
  const mask = qkCausalMask(T);
  const adam = new Adam();
  const history: QkTrainingRecord[] = [];
  const t0 = Date.now();
  try {
    for (let step = 0; step < cfg.steps; step++) {
      const idx = tf.tensor1d(Int32Array.from(rng.permutation(data.n).subarray(0, B)), "int32");
      const wantParts = step % logEvery === 0 || step === cfg.steps - 1;
      let parts: QkStep["parts"];
      const grads = tf.tidy(() => {
        const batch = {
          B, T, heads: H, dHead: dh, scale: data.scale,
          r: tf.reshape(tf.gather(all.r, idx), [B * T, d]) as tf.Tensor2D,
          q: tf.reshape(tf.gather(all.q, idx), [B * T, hd]) as tf.Tensor2D,
          k: tf.reshape(tf.gather(all.k, idx), [B * T, hd]) as tf.Tensor2D,
          pattern: tf.gather(all.pattern, idx) as tf.Tensor4D,
        };
        const c = cfg.sparsityWarmup > 0 ? cfg.sparsity * Math.min(1, (step + 1) / cfg.sparsityWarmup) : cfg.sparsity;
        const out = qkStep(vars as unknown as QkWeights, batch, c, mask, tf.gather(all.negEnt, idx) as tf.Tensor3D, wantParts);
        parts = out.parts;
        return out.grads;
      });
      idx.dispose();
      adam.apply(vars, grads, cfg.lr);
      tf.dispose(Object.values(grads));
      normaliseRows(vars.D_Q);
      normaliseRows(vars.D_K);
      if (parts) {
        if (!Number.isFinite(parts.loss)) throw new Error(`featurelab: qkDictionary: the loss became ${parts.loss} at step ${step}; lower lr (${cfg.lr})`);
        history.push({ step, ...parts });
      }
      // Let the event loop breathe (kernel interrupts, progress) now and then.
      if (step % 50 === 49) await new Promise((r) => setImmediate(r));
    }
  } finally {
    tf.dispose([all.r, all.q, all.k, all.pattern, all.negEnt, mask]);
    adam.dispose();
  }
  const weights = Object.fromEntries(QK_WEIGHT_NAMES.map((k) => [k, tf.keep(tf.clone(vars[k]))])) as unknown as QkWeights;
  tf.dispose(Object.values(vars));
  return new QkDictionary(model.name, cfg, weights, data, history, (Date.now() - t0) / 1000);
}

/** A bilinear QK dictionary: query and key transcoders for one attention layer (made by `fl.qkDictionary`, read by `fl.loadQkDictionary`). */
export class QkDictionary {
  readonly metrics: QkMetrics;
  private features?: { fQ: Float32Array; fK: Float32Array };

  constructor(
    /** The model it decomposes (its name). */
    readonly model: string,
    readonly cfg: QkConfig,
    /** Transcoder weights: W_encQ [d_model, width], D_Q [width, H·d_head], … (HF-style orientation, x·W). */
    readonly weights: QkWeights,
    /** What it was trained on (and what its pairs' examples come from). */
    readonly data: QkData,
    readonly history: QkTrainingRecord[],
    /** Training time in seconds. */
    readonly seconds: number,
  ) {
    this.metrics = evaluateQk(weights, data);
  }

  /** The attention layer the dictionary reads. */
  get layer(): number {
    return this.cfg.layer;
  }

  /** Features per transcoder. */
  get width(): number {
    return this.cfg.width;
  }

  /** Attention heads of the layer. */
  get heads(): number {
    return this.data.heads;
  }

  /**
   * f_Q and f_K [n·T, width] on the training documents (row = document·T + position), computed once.
   * @example
   * const { fQ, fK } = qk.activations();
   */
  activations(): { fQ: Float32Array; fK: Float32Array } {
    this.features ??= qkFeatures(this.weights, this.data);
    return this.features;
  }

  /**
   * M_h [width, width] (query feature × key feature, raw dot products without 1/√d_head) of one head, or all [H·W·W].
   * @example
   * const M = qk.pairMatrix(0);                 // width × width
   */
  pairMatrix(head?: number): Float32Array {
    if (head !== undefined) this.checkHead(head);
    const all = tf.tidy(() => {
      const t = qkPairTerms(this.weights, this.heads);
      return t.M.dataSync() as Float32Array;
    });
    const W = this.width;
    return head === undefined ? all : all.slice(head * W * W, (head + 1) * W * W);
  }

  /**
   * Stage 2: a sparse mask on every M_h, transcoders frozen.
   * @example
   * const mask = await qk.mask({ sparsity: 0.05 });
   */
  mask(opts: QkMaskOptions = {}): Promise<QkMask> {
    return trainQkMask(this, opts);
  }

  /**
   * The strongest query-feature × key-feature pairs of a head, with examples.
   * @example
   * fl.show(fl.plot.qkPairs(qk.pairs(0, { n: 20 })));
   */
  pairs(head: number, opts: QkPairsOptions = {}): QkPairs {
    return qkPairs(this, head, opts);
  }

  /**
   * One score of a training document taken apart into feature-pair, bias and constant terms.
   * @example
   * fl.show(qk.scoreTerms(0, 3, 12, 5));
   */
  scoreTerms(head: number, document: number, query: number, key: number): QkScoreTerms {
    return qkScoreTerms(this, head, document, query, key);
  }

  /**
   * Per head: mean attention from a query to keys whose previous token equals the query's token (induction score).
   * @example
   * qk.inductionScores();                      // one per head
   */
  inductionScores(): number[] {
    return inductionScores(this.data);
  }

  /**
   * Write both transcoders as SAELens folders (dir/query, dir/key) and dir/qk.json; read back with fl.loadQkDictionary.
   * @example
   * await qk.save("out/qk");
   */
  save(dir: string): Promise<void> {
    return saveQkDictionary(this, dir);
  }

  /**
   * Throws unless `head` is a head of the layer.
   * @example
   * qk.checkHead(3);
   */
  checkHead(head: number): void {
    if (!Number.isInteger(head) || head < 0 || head >= this.heads) throw new Error(`featurelab: QK dictionary of layer ${this.layer}: head ${head} is out of range; blocks.${this.layer}.attn has heads 0..${this.heads - 1}`);
  }

  /**
   * Free both transcoders' weights.
   * @example
   * qk.dispose();
   */
  dispose(): void {
    tf.dispose(Object.values(this.weights));
  }

  /** "QkDictionary(layer, width, …)". */
  toString(): string {
    const m = this.metrics;
    return `QkDictionary(${this.model} layer ${this.layer}, width ${this.width}: KL ${m.klFull.toPrecision(3)} (${(100 * m.explained).toFixed(1)}% of uniform's explained), L0 Q ${m.l0Q.toFixed(1)} K ${m.l0K.toFixed(1)})`;
  }
}
