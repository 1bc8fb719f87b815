// The strongest query-feature × key-feature pairs of one head, read from the training documents.
// Ranking (by: "contribution", the default): the pair's attention-weighted mean contribution to the
// head's score,
//   C_h[i,j] = scale·M_h[i,j] · (1/rows) Σ_{doc, query} Σ_key A[q,k] f^Q_i(q) f^K_j(k),
// i.e. how much of the score at the keys the head actually attends to this pair supplies (in logits).
// by: "weight" ranks by |scale·M_h[i,j]| among pairs that ever fire together. Each pair comes with its
// top examples (largest A·f^Q_i f^K_j·scale·M_h[i,j]) and each feature with the token it fires on
// most (query features: the current token; key features: the current and the previous token), so an
// induction pair "query token X, key after X" can be checked: `agree` says whether the query feature's
// top token is the key feature's top previous token.
import { rejectUnknownOptions, optionNames } from "../../io/options.js";
import { tf } from "../../engine/backend.js";
import { tokenText, type QkData } from "./data.js";
import type { QkDictionary } from "./dictionary.js";
import type { QkMask } from "./mask.js";

/** Options of `qk.pairs`. */
export interface QkPairsOptions {
  /** Pairs to return (default 10). */
  n?: number;
  /** "contribution" (attention-weighted mean contribution, default) or "weight" (|scale·M|). */
  by?: "contribution" | "weight";
  /** Examples per pair (default 4). */
  examples?: number;
  /** Only pairs this mask keeps (m > 0). */
  mask?: QkMask;
}

const QK_PAIRS_OPTIONS = optionNames<QkPairsOptions>({ n: true, by: true, examples: true, mask: true });

/** The token a feature fires on most (by summed activation) and that token's share of the sum. */
export interface TopToken {
  id: number;
  text: string;
  share: number;
}

/** The tokens a QK feature fires on most. */
export interface QkFeatureTokens {
  feature: number;
  /** Fraction of positions it fires on. */
  density: number;
  current: TopToken | undefined;
  /** Key features: the token before the position (none at position 0). */
  previous?: TopToken;
}

/** One attention score where a feature pair contributes: document, query and key positions, and the contribution. */
export interface QkPairExample {
  document: number;
  query: number;
  key: number;
  /** A·f^Q·f^K·scale·M: this pair's share of the score, weighted by attention. */
  value: number;
  /** The model's attention from query to key. */
  attention: number;
  queryToken: string;
  keyToken: string;
  /** The token before the key ("" at position 0). */
  keyPrevious: string;
}

/** A query-feature × key-feature pair of one head, with its contribution, examples and token statistics. */
export interface QkPair {
  rank: number;
  queryFeature: number;
  keyFeature: number;
  /** scale·M_h[i,j]: the score one unit of each feature adds. */
  weight: number;
  /** C_h[i,j] (see the top of this file). */
  contribution: number;
  query: QkFeatureTokens;
  key: QkFeatureTokens;
  /** The query feature's top token is the key feature's top previous token. */
  agree: boolean;
  /**
   * Σ_X min(P_i(X), R_j(X)): overlap of the query feature's current-token distribution P_i and the key
   * feature's previous-token distribution R_j (each its activation mass per token, normalised): 1 when
   * they fire on the same tokens in the same proportions, 0 when on disjoint ones.
   */
  overlap: number;
  /** Fraction of the examples whose query token equals the token before the key. */
  exampleAgreement: number;
  examples: QkPairExample[];
}

/** A head's strongest feature pairs (made by `qk.pairs(head)`, drawn by `fl.plot.qkPairs`). */
export class QkPairs {
  constructor(
    readonly layer: number,
    readonly head: number,
    readonly by: "contribution" | "weight",
    readonly pairs: QkPair[],
    /** scale·M_h restricted to the query and key features of the pairs (rows: queryFeatures). */
    readonly queryFeatures: QkFeatureTokens[],
    readonly keyFeatures: QkFeatureTokens[],
    readonly matrix: Float32Array,
    /** Token ids of every document, for example contexts. */
    readonly documents: readonly (readonly number[])[],
    /** A token id's text. */
    readonly token: (id: number) => string,
    /** The same overlap averaged over every (query, key) pair of features that fire at all: the chance level. */
    readonly baselineOverlap: number,
  ) {}

  /** Mean token overlap of the pairs (compare with baselineOverlap). */
  get meanOverlap(): number {
    return this.pairs.length ? this.pairs.reduce((s, p) => s + p.overlap, 0) / this.pairs.length : 0;
  }

  /** Fraction of the pairs whose query top token equals the key feature's top previous token. */
  get agreement(): number {
    return this.pairs.length ? this.pairs.filter((p) => p.agree).length / this.pairs.length : 0;
  }

  /** A text table of the strongest pairs. */
  toString(): string {
    return `QkPairs(layer ${this.layer} head ${this.head}: ${this.pairs.length} pairs by ${this.by}; ${(100 * this.agreement).toFixed(0)}% query token = key previous token)`;
  }
}

function topToken(sums: Map<number, number>, data: QkData): TopToken | undefined {
  let best = -1, bestSum = 0, total = 0;
  for (const [id, s] of sums) {
    total += s;
    if (s > bestSum) (best = id, (bestSum = s));
  }
  return best < 0 ? undefined : { id: best, text: tokenText(data, best), share: bestSum / total };
}

function featureTokens(f: Float32Array, W: number, feature: number, data: QkData, previous: boolean): QkFeatureTokens {
  const cur = new Map<number, number>(), prev = new Map<number, number>();
  let fired = 0;
  for (let d = 0; d < data.n; d++) {
    const doc = data.tokens[d];
    for (let t = 0; t < data.T; t++) {
      const a = f[(d * data.T + t) * W + feature];
      if (a <= 0) continue;
      fired++;
      cur.set(doc[t], (cur.get(doc[t]) ?? 0) + a);
      if (previous && t > 0) prev.set(doc[t - 1], (prev.get(doc[t - 1]) ?? 0) + a);
    }
  }
  const out: QkFeatureTokens = { feature, density: fired / (data.n * data.T), current: topToken(cur, data) };
  if (previous) out.previous = topToken(prev, data);
  return out;
}

/** Each feature's activation mass per token (current, or the one before), normalised to sum 1: [W][vocab]. */
function tokenDistributions(f: Float32Array, W: number, data: QkData, previous: boolean): Float64Array[] {
  let V = 0;
  for (const doc of data.tokens) for (const t of doc) V = Math.max(V, t + 1);
  const out = Array.from({ length: W }, () => new Float64Array(V));
  for (let d = 0; d < data.n; d++) {
    const doc = data.tokens[d];
    for (let t = previous ? 1 : 0; t < data.T; t++) {
      const tok = previous ? doc[t - 1] : doc[t];
      const row = (d * data.T + t) * W;
      for (let i = 0; i < W; i++) if (f[row + i] > 0) out[i][tok] += f[row + i];
    }
  }
  for (const dist of out) {
    const total = dist.reduce((a, b) => a + b, 0);
    if (total > 0) for (let x = 0; x < dist.length; x++) dist[x] /= total;
  }
  return out;
}

function overlapOf(p: Float64Array, r: Float64Array): number {
  let s = 0;
  for (let x = 0; x < p.length; x++) s += Math.min(p[x], r[x]);
  return s;
}

/** Σ_{doc,q} Σ_k A_h[q,k] f^Q_i(q) f^K_j(k) / rows, [W, W]. */
function attendedProducts(fQ: Float32Array, fK: Float32Array, data: QkData, head: number, W: number): Float32Array {
  const { n, T, heads: H } = data;
  return tf.tidy(() => {
    let acc: tf.Tensor = tf.zeros([W, W]);
    for (let from = 0; from < n; from += 32) {
      const to = Math.min(n, from + 32), B = to - from;
      const A = tf.slice(tf.tensor4d(data.pattern.subarray(from * H * T * T, to * H * T * T), [B, H, T, T]), [0, head, 0, 0], [B, 1, T, T]).reshape([B, T, T]);
      const fq = tf.transpose(tf.tensor3d(fQ.subarray(from * T * W, to * T * W), [B, T, W]), [0, 2, 1]);
      const fk = tf.tensor3d(fK.subarray(from * T * W, to * T * W), [B, T, W]);
      acc = tf.add(acc, tf.sum(tf.matMul(fq, tf.matMul(A as tf.Tensor3D, fk)), 0));
    }
    return tf.div(acc, n * T).dataSync() as Float32Array;
  });
}

function examplesOf(fQ: Float32Array, fK: Float32Array, data: QkData, head: number, W: number, i: number, j: number, weight: number, count: number): QkPairExample[] {
  const { T, heads: H } = data;
  const best: QkPairExample[] = [];
  for (let d = 0; d < data.n; d++) {
    const qs: number[] = [], ks: number[] = [];
    for (let t = 0; t < T; t++) {
      if (fQ[(d * T + t) * W + i] > 0) qs.push(t);
      if (fK[(d * T + t) * W + j] > 0) ks.push(t);
    }
    for (const q of qs) {
      for (const k of ks) {
        if (k > q) break;
        const attention = data.pattern[((d * H + head) * T + q) * T + k];
        const value = attention * fQ[(d * T + q) * W + i] * fK[(d * T + k) * W + j] * weight;
        if (best.length < count || value > best[best.length - 1].value) {
          const doc = data.tokens[d];
          best.push({ document: d, query: q, key: k, value, attention, queryToken: tokenText(data, doc[q]), keyToken: tokenText(data, doc[k]), keyPrevious: k > 0 ? tokenText(data, doc[k - 1]) : "" });
          best.sort((a, b) => b.value - a.value);
          if (best.length > count) best.pop();
        }
      }
    }
  }
  return best;
}

export function qkPairs(dict: QkDictionary, head: number, opts: QkPairsOptions = {}): QkPairs {
  rejectUnknownOptions("qk.pairs", opts, QK_PAIRS_OPTIONS);
  dict.checkHead(head);
  const by = opts.by ?? "contribution";
  if (by !== "contribution" && by !== "weight") throw new Error(`featurelab: qk.pairs: by must be "contribution" or "weight", got ${JSON.stringify(by)}`);
  const count = opts.n ?? 10, nEx = opts.examples ?? 4;
  if (!Number.isInteger(count) || count < 1) throw new Error(`featurelab: qk.pairs: n must be a positive integer, got ${count}`);
  if (opts.mask && (opts.mask.width !== dict.width || opts.mask.layer !== dict.layer)) throw new Error(`featurelab: qk.pairs: the mask is for layer ${opts.mask.layer}, width ${opts.mask.width}; this dictionary is layer ${dict.layer}, width ${dict.width}`);
  const data = dict.data, W = dict.width, s = data.scale;
  const M = dict.pairMatrix(head);
  const { fQ, fK } = dict.activations();
  const attended = attendedProducts(fQ, fK, data, head, W);
  const keep = opts.mask?.head(head);
  const candidates: { i: number; j: number; weight: number; contribution: number }[] = [];
  for (let i = 0; i < W; i++) {
    for (let j = 0; j < W; j++) {
      if (keep && !(keep[i * W + j] > 0)) continue;
      const a = attended[i * W + j];
      if (!(a > 0)) continue; // never fire together on an attended (query, key)
      candidates.push({ i, j, weight: s * M[i * W + j], contribution: s * M[i * W + j] * a });
    }
  }
  candidates.sort(by === "contribution" ? (a, b) => b.contribution - a.contribution : (a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  const qTok = new Map<number, QkFeatureTokens>(), kTok = new Map<number, QkFeatureTokens>();
  const qInfo = (i: number) => qTok.get(i) ?? (qTok.set(i, featureTokens(fQ, W, i, data, false)), qTok.get(i)!);
  const kInfo = (j: number) => kTok.get(j) ?? (kTok.set(j, featureTokens(fK, W, j, data, true)), kTok.get(j)!);
  const qDist = tokenDistributions(fQ, W, data, false), kDist = tokenDistributions(fK, W, data, true);
  const aliveQ = qDist.map((_, i) => i).filter((i) => qDist[i].some((v) => v > 0));
  const aliveK = kDist.map((_, j) => j).filter((j) => kDist[j].some((v) => v > 0));
  let base = 0;
  for (const i of aliveQ) for (const j of aliveK) base += overlapOf(qDist[i], kDist[j]);
  base /= Math.max(1, aliveQ.length * aliveK.length);
  const pairs: QkPair[] = candidates.slice(0, count).map((c, rank) => {
    const query = qInfo(c.i), key = kInfo(c.j);
    const examples = examplesOf(fQ, fK, data, head, W, c.i, c.j, c.weight, nEx);
    const agreeing = examples.filter((e) => e.key > 0 && data.tokens[e.document][e.query] === data.tokens[e.document][e.key - 1]).length;
    return {
      rank: rank + 1, queryFeature: c.i, keyFeature: c.j, weight: c.weight, contribution: c.contribution, query, key,
      agree: query.current !== undefined && key.previous !== undefined && query.current.id === key.previous.id,
      overlap: overlapOf(qDist[c.i], kDist[c.j]),
      exampleAgreement: examples.length ? agreeing / examples.length : 0,
      examples,
    };
  });
  // The heatmap's features: those of the pairs, in order of first appearance.
  const qs = [...new Set(pairs.map((p) => p.queryFeature))], ks = [...new Set(pairs.map((p) => p.keyFeature))];
  const matrix = new Float32Array(qs.length * ks.length);
  qs.forEach((i, a) => ks.forEach((j, b) => (matrix[a * ks.length + b] = s * M[i * W + j])));
  return new QkPairs(dict.layer, head, by, pairs, qs.map(qInfo), ks.map(kInfo), matrix, data.tokens, (id) => tokenText(data, id), base);
}

/**
 * Per head: the attention a query pays to keys whose previous token is the query's own token, averaged
 * over the query positions that have such a key (TransformerLens' induction score, on any documents).
 */
export function inductionScores(data: QkData): number[] {
  const { n, T, heads: H } = data;
  const sums = new Float64Array(H);
  let rows = 0;
  for (let d = 0; d < n; d++) {
    const doc = data.tokens[d];
    for (let q = 1; q < T; q++) {
      const keys: number[] = [];
      for (let k = 1; k <= q; k++) if (doc[k - 1] === doc[q]) keys.push(k);
      if (!keys.length) continue;
      rows++;
      for (let h = 0; h < H; h++) {
        const base = ((d * H + h) * T + q) * T;
        for (const k of keys) sums[h] += data.pattern[base + k];
      }
    }
  }
  return Array.from(sums, (s) => (rows ? s / rows : 0));
}
