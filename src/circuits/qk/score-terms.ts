// One attention score taken apart through the QK dictionary (feature-pairs.ts): for head h, query
// position q and key position k of a training document, in score units (× scale),
//   scale·q̂_h·k̂_h = Σ_ij f^Q_i f^K_j scale·M_h[i,j] + Σ_j f^K_j scale·u_h[j] + Σ_i f^Q_i scale·v_h[i] + scale·c_h,
// next to the model's own score scale·q_h·k_h. The strongest pair terms come with it.
import { tf } from "../../engine/backend.js";
import type { QkDictionary } from "./dictionary.js";
import { qkPairTerms } from "./feature-pairs.js";

/** The terms of one attention score: feature pairs, biases, error. */
export interface QkScoreTermsValues {
  head: number;
  document: number;
  query: number;
  key: number;
  /** Σ_ij f^Q_i f^K_j scale·M_h[i,j]. */
  pairs: number;
  /** Query bias × key features (varies with the key). */
  keyFeatures: number;
  /** Query features × key bias (the same for every key of this query). */
  queryFeatures: number;
  /** Query bias × key bias. */
  constant: number;
  /** The four terms added up. */
  fromFeatures: number;
  /** scale·q̂_h·k̂_h computed from the reconstructions directly. */
  reconstructed: number;
  /** scale·q_h·k_h, the model's score. */
  model: number;
  /** The largest pair terms: query feature, key feature, f^Q·f^K·scale·M. */
  top: { queryFeature: number; keyFeature: number; value: number }[];
}

export interface QkScoreTerms extends QkScoreTermsValues {}
/** The terms of one score (fl.show draws them as a table). */
export class QkScoreTerms {
  constructor(values: QkScoreTermsValues) {
    Object.assign(this, values);
  }

  /** A text table of the largest terms. */
  toString(): string {
    return `QkScoreTerms(head ${this.head}, document ${this.document}, ${this.query}→${this.key}: ${this.fromFeatures.toPrecision(4)} from features, ${this.reconstructed.toPrecision(4)} reconstructed, ${this.model.toPrecision(4)} in the model)`;
  }
}

export function qkScoreTerms(qk: QkDictionary, head: number, document: number, query: number, key: number): QkScoreTerms {
  qk.checkHead(head);
  const { n, T, heads: H, dHead: dh, scale } = qk.data;
  if (!Number.isInteger(document) || document < 0 || document >= n) throw new Error(`featurelab: qk.scoreTerms: document ${document} is out of range 0..${n - 1}`);
  if (!Number.isInteger(query) || !Number.isInteger(key) || query < 0 || query >= T || key < 0 || key > query) throw new Error(`featurelab: qk.scoreTerms: need 0 ≤ key ≤ query < ${T}, got query ${query}, key ${key}`);
  const W = qk.width, hd = H * dh;
  const { fQ, fK } = qk.activations();
  const rowQ = (document * T + query) * W, rowK = (document * T + key) * W;
  const t = qkPairTerms(qk.weights, H);
  const [M, u, v, c] = [t.M, t.u, t.v, t.c].map((x) => x.dataSync() as Float32Array);
  tf.dispose([t.M, t.u, t.v, t.c]);
  let pairs = 0, keyFeatures = 0, queryFeatures = 0;
  const top: QkScoreTermsValues["top"] = [];
  for (let i = 0; i < W; i++) {
    const a = fQ[rowQ + i];
    if (a > 0) queryFeatures += a * v[head * W + i];
    for (let j = 0; j < W; j++) {
      const b = fK[rowK + j];
      if (i === 0 && b > 0) keyFeatures += b * u[head * W + j];
      if (a > 0 && b > 0) {
        const value = a * b * M[(head * W + i) * W + j] * scale;
        pairs += value;
        top.push({ queryFeature: i, keyFeature: j, value });
      }
    }
  }
  top.sort((x, y) => Math.abs(y.value) - Math.abs(x.value));
  // The reconstructions and the model's q, k at the two positions, head h.
  const dot = (x: ArrayLike<number>, xo: number, y: ArrayLike<number>, yo: number) => {
    let s = 0;
    for (let e = 0; e < dh; e++) s += x[xo + e] * y[yo + e];
    return s;
  };
  const recon = (f: Float32Array, row: number, D: Float32Array, b: Float32Array) => {
    const out = Float32Array.from(b);
    for (let i = 0; i < W; i++) if (f[row + i] > 0) for (let e = 0; e < hd; e++) out[e] += f[row + i] * D[i * hd + e];
    return out;
  };
  const [DQ, bQ, DK, bK] = [qk.weights.D_Q, qk.weights.b_Q, qk.weights.D_K, qk.weights.b_K].map((x) => x.dataSync() as Float32Array);
  const qHat = recon(fQ, rowQ, DQ, bQ), kHat = recon(fK, rowK, DK, bK);
  const base = head * dh;
  return new QkScoreTerms({
    head, document, query, key,
    pairs, keyFeatures: keyFeatures * scale, queryFeatures: queryFeatures * scale, constant: c[head] * scale,
    fromFeatures: pairs + (keyFeatures + queryFeatures + c[head]) * scale,
    reconstructed: dot(qHat, base, kHat, base) * scale,
    model: dot(qk.data.q, (document * T + query) * hd + base, qk.data.k, (document * T + key) * hd + base) * scale,
    top: top.slice(0, 5),
  });
}
