// How well a pair of QK transcoders (optionally with a mask on the feature-pair matrix) reproduces
// the layer's attention, over all documents: the three KL terms, a baseline (uniform attention over
// the causal keys) for the fraction of pattern KL explained, L0 and dead features of f_Q and f_K,
// FVU of q̂ and k̂, and each head's KL. Also the feature activations themselves, on the host.
import { tf } from "../../engine/backend.js";
import type { QkData } from "./data.js";
import { negativeEntropy, patternKl, qkCausalMask, qkReconstruct, qkScores, type QkBatch, type QkWeights } from "./loss.js";
import { bilinearScores, qkPairTerms } from "./feature-pairs.js";

/** One head's KL terms and baseline. */
export interface QkHeadMetrics {
  head: number;
  /** KL(A‖Â(q̂,k̂)) averaged over this head's rows. */
  kl: number;
  /** KL(A‖uniform over causal keys). */
  klUniform: number;
  /** 1 − kl / klUniform. */
  explained: number;
}

/** How well a QK dictionary reproduces the layer's attention: KL terms overall and per head. */
export interface QkMetrics {
  klFull: number;
  klQueries: number;
  klKeys: number;
  klUniform: number;
  /** 1 − klFull / klUniform: the share of the pattern's divergence from uniform attention that Â(q̂,k̂) removes. */
  explained: number;
  l0Q: number;
  l0K: number;
  deadQ: number;
  deadK: number;
  fvuQ: number;
  fvuK: number;
  heads: QkHeadMetrics[];
  /** Query positions (rows) over which the numbers were averaged, per head. */
  rows: number;
}

/** Documents [from, to) of the data as a loss batch (the caller disposes it). */
export function qkSlice(data: QkData, from: number, to: number): QkBatch {
  const { T, dModel: d, heads: H, dHead: dh } = data;
  const B = to - from, hd = H * dh;
  return {
    B, T, heads: H, dHead: dh, scale: data.scale,
    r: tf.tensor2d(data.r.subarray(from * T * d, to * T * d), [B * T, d]),
    q: tf.tensor2d(data.q.subarray(from * T * hd, to * T * hd), [B * T, hd]),
    k: tf.tensor2d(data.k.subarray(from * T * hd, to * T * hd), [B * T, hd]),
    pattern: tf.tensor4d(data.pattern.subarray(from * H * T * T, to * H * T * T), [B, H, T, T]),
  };
}

const CHUNK = 32;

/** Host feature activations f_Q and f_K [n·T, width] of every position. */
export function qkFeatures(w: QkWeights, data: QkData): { fQ: Float32Array; fK: Float32Array } {
  const W = w.W_encQ.shape[1];
  const fQ = new Float32Array(data.n * data.T * W), fK = new Float32Array(data.n * data.T * W);
  for (let from = 0; from < data.n; from += CHUNK) {
    const to = Math.min(data.n, from + CHUNK);
    tf.tidy(() => {
      const b = qkSlice(data, from, to);
      const rec = qkReconstruct(w, b.r);
      fQ.set(rec.fQ.dataSync(), from * data.T * W);
      fK.set(rec.fK.dataSync(), from * data.T * W);
    });
  }
  return { fQ, fK };
}

/** KL(A‖Â) with a mask on M (scores from features: f_Q (M⊙m) f_Kᵀ + key-bias term), averaged over rows. */
export function maskedKl(w: QkWeights, data: QkData, mask: tf.Tensor3D | undefined): number {
  const terms = qkPairTerms(w, data.heads);
  const causal = qkCausalMask(data.T);
  let sum = 0;
  try {
    for (let from = 0; from < data.n; from += CHUNK) {
      const to = Math.min(data.n, from + CHUNK);
      sum += tf.tidy(() => {
        const b = qkSlice(data, from, to);
        const { fQ, fK } = qkReconstruct(w, b.r);
        const s = tf.add(tf.mul(bilinearScores(fQ, fK, terms, b.B, b.T, { mask }), data.scale), causal) as tf.Tensor4D;
        return patternKl(b.pattern, s).dataSync()[0] * (to - from);
      });
    }
  } finally {
    tf.dispose([terms.M, terms.u, terms.v, terms.c, causal]);
  }
  return sum / data.n;
}

export function evaluateQk(w: QkWeights, data: QkData): QkMetrics {
  const { n, T, heads: H } = data;
  const W = w.W_encQ.shape[1], hd = data.heads * data.dHead;
  const causal = qkCausalMask(T);
  const acc = { klFull: 0, klQueries: 0, klKeys: 0, klUniform: 0, l0Q: 0, l0K: 0 };
  const headKl = new Float64Array(H), headUniform = new Float64Array(H);
  const firedQ = new Uint8Array(W), firedK = new Uint8Array(W);
  const err = { q: 0, k: 0 };
  try {
    for (let from = 0; from < n; from += CHUNK) {
      const to = Math.min(n, from + CHUNK), B = to - from;
      tf.tidy(() => {
        const b = qkSlice(data, from, to);
        const { fQ, fK, qHat, kHat } = qkReconstruct(w, b.r);
        const ne = negativeEntropy(b.pattern);
        // Per-row KL [B, H, T], so heads can be read apart.
        const rowKl = (s: tf.Tensor4D) => tf.sub(ne, tf.sum(tf.mul(b.pattern, tf.logSoftmax(s, -1)), -1));
        const full = rowKl(qkScores(qHat, kHat, b, causal));
        const uniform = rowKl(tf.add(tf.zeros([B, H, T, T]), causal) as tf.Tensor4D);
        const perHead = (t: tf.Tensor) => tf.sum(t, [0, 2]).dataSync();
        const fh = perHead(full), uh = perHead(uniform);
        for (let h = 0; h < H; h++) (headKl[h] += fh[h], headUniform[h] += uh[h]);
        const rows = B * H * T;
        acc.klFull += tf.sum(full).dataSync()[0];
        acc.klUniform += tf.sum(uniform).dataSync()[0];
        acc.klQueries += patternKl(b.pattern, qkScores(qHat, b.k, b, causal), ne).dataSync()[0] * rows;
        acc.klKeys += patternKl(b.pattern, qkScores(b.q, kHat, b, causal), ne).dataSync()[0] * rows;
        const fq = fQ.dataSync(), fk = fK.dataSync();
        for (let i = 0; i < fq.length; i++) {
          if (fq[i] > 0) (acc.l0Q++, (firedQ[i % W] = 1));
          if (fk[i] > 0) (acc.l0K++, (firedK[i % W] = 1));
        }
        err.q += tf.sum(tf.square(tf.sub(qHat, b.q))).dataSync()[0];
        err.k += tf.sum(tf.square(tf.sub(kHat, b.k))).dataSync()[0];
      });
    }
  } finally {
    causal.dispose();
  }
  const rows = n * H * T, tokens = n * T;
  const fvu = (x: Float32Array, e: number) => {
    // FVU about the per-dimension mean (REFERENCE.md, Metrics).
    const mean = new Float64Array(hd);
    for (let i = 0; i < x.length; i++) mean[i % hd] += x[i] / tokens;
    let tot = 0;
    for (let i = 0; i < x.length; i++) tot += (x[i] - mean[i % hd]) ** 2;
    return tot > 0 ? e / tot : 0;
  };
  const klFull = acc.klFull / rows, klUniform = acc.klUniform / rows;
  return {
    klFull, klQueries: acc.klQueries / rows, klKeys: acc.klKeys / rows, klUniform,
    explained: klUniform > 0 ? 1 - klFull / klUniform : 0,
    l0Q: acc.l0Q / tokens, l0K: acc.l0K / tokens,
    deadQ: W - firedQ.reduce((s, v) => s + v, 0), deadK: W - firedK.reduce((s, v) => s + v, 0),
    fvuQ: fvu(data.q, err.q), fvuK: fvu(data.k, err.k),
    heads: Array.from({ length: H }, (_, h) => {
      const kl = headKl[h] / (n * T), u = headUniform[h] / (n * T);
      return { head: h, kl, klUniform: u, explained: u > 0 ? 1 - kl / u : 0 };
    }),
    rows: n * T,
  };
}
