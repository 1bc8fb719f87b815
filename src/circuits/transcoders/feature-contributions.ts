// One transcoder feature's pre-activation at one token, split into what wrote to the residual stream it
// reads. With LayerNorm frozen at that token's scale σ, ln2(r) = γ⊙(r − mean r)/σ + β is linear in r,
// and r = embed + pos + Σ heads + attention biases + Σ MLP outputs (each MLP with a transcoder split into
// its active features z_i'·d_i', its bias, its skip path and its error). So
//   pre_i = Σ_v γ⊙(v − mean v)/σ · w_enc,i + (β − b_dec)·w_enc,i + b_enc,i
// holds exactly; the table reports each term, and the check (sum vs the actual pre-activation).
import { tf } from "../../engine/backend.js";
import type { Transformer } from "../../models/transformer.js";
import type { FeatureRef } from "./circuit.js";
import { inputHook, layerNormScales, residMidHook, type TranscoderAt } from "./transcoder-set.js";

/** What wrote a term of a feature's pre-activation: an embedding, a head, an upstream feature, a bias, an error term, a whole MLP, a constant. */
export type ContributionKind = "embedding" | "attention head" | "attention bias" | "transcoder feature" | "transcoder bias" | "transcoder skip" | "transcoder error" | "MLP" | "constant";

/** One term of a feature's pre-activation at one token. */
export interface Contribution {
  component: string;
  kind: ContributionKind;
  layer: number | null;
  /** The head or the feature. */
  index: number | null;
  /** The upstream feature's activation z (transcoder features only). */
  activation: number | null;
  /** Its term in the pre-activation (LayerNorm frozen): these add up to the pre-activation. */
  contribution: number;
  /** The published formula z·(d_dec·w_enc), LayerNorm ignored (transcoder features only). */
  raw: number | null;
}

/** One feature's pre-activation at one token split into its terms (made by `circuit.explain`, drawn by `fl.plot.contributions`). */
export class FeatureContributions {
  constructor(
    readonly target: FeatureRef,
    readonly document: number,
    readonly position: number,
    /** The token at that position. */
    readonly token: string,
    /** The target's pre-activation computed from the model's own ln2 output. */
    readonly preActivation: number,
    /** Σ contributions (equals preActivation up to float rounding). */
    readonly total: number,
    /** Every term, largest |contribution| first. */
    readonly rows: readonly Contribution[],
  ) {}

  /**
   * The n largest terms.
   * @example
   * console.table(terms.top(10));
   */
  top(n: number): Contribution[] {
    return this.rows.slice(0, n);
  }

  /** A text table of the largest terms. */
  toString(): string {
    return `FeatureContributions(L${this.target.layer} F${this.target.feature} at document ${this.document}, position ${this.position} '${this.token}': pre-activation ${this.preActivation.toFixed(4)} = Σ ${this.rows.length} terms ${this.total.toFixed(4)})`;
  }
}

const host = (t: tf.Tensor) => Float64Array.from(t.dataSync());

export async function featureContributions(model: Transformer, transcoders: readonly TranscoderAt[], documents: number[][], target: FeatureRef, at: { document: number; position: number }): Promise<FeatureContributions> {
  const L = target.layer;
  const tc = transcoders.find((t) => t.layer === L);
  if (!tc) throw new Error(`featurelab: no transcoder at layer ${L}; traced layers: ${transcoders.map((t) => t.layer).join(", ")}`);
  if (!Number.isInteger(target.feature) || target.feature < 0 || target.feature >= tc.dictionary.width) {
    throw new RangeError(`featurelab: feature ${target.feature} out of range 0..${tc.dictionary.width - 1} for the layer-${L} transcoder`);
  }
  const doc = documents[at.document];
  if (!doc) throw new RangeError(`featurelab: document ${at.document} out of range 0..${documents.length - 1}`);
  if (!Number.isInteger(at.position) || at.position < 0 || at.position >= doc.length) throw new RangeError(`featurelab: position ${at.position} out of range 0..${doc.length - 1} in document ${at.document}`);

  const cfg = model.cfg, d = cfg.d_model, H = cfg.n_heads, dh = cfg.d_head, t = at.position;
  const hooks = ["hook_embed", "hook_pos_embed", residMidHook(L), inputHook(L)];
  for (let l = 0; l <= L; l++) hooks.push(`blocks.${l}.attn.hook_z`);
  for (let l = 0; l < L; l++) hooks.push(`blocks.${l}.hook_mlp_out`, inputHook(l));
  const { cache } = await model.run([doc], { cache: [...new Set(hooks)], logits: false, prependBos: false });
  const rowAt = (name: string) => Float64Array.from(cache.get(name).row(t));

  const w = host(tf.tidy(() => tf.slice(tc.dictionary.weights.W_enc, [0, target.feature], [d, 1])));
  const gamma = host(model.params[`h.${L}.ln_2.weight`]), beta = host(model.params[`h.${L}.ln_2.bias`]);
  const bDec = host(tc.dictionary.weights.b_dec);
  const bEnc = tc.dictionary.weights.b_enc.dataSync()[target.feature];
  const sigma = layerNormScales(cache.get(residMidHook(L)), cfg.eps)[t];
  const gw = w.map((wk, k) => gamma[k] * wk);
  const sumGw = gw.reduce((s, x) => s + x, 0);
  // γ⊙(v − mean v)/σ · w  =  (v·(γ⊙w) − mean(v)·Σ(γ⊙w)) / σ
  const through = (v: ArrayLike<number>, offset = 0): number => {
    let dot = 0, mean = 0;
    for (let k = 0; k < d; k++) (dot += v[offset + k] * gw[k]), (mean += v[offset + k]);
    return (dot - (mean / d) * sumGw) / sigma;
  };

  const rows: Contribution[] = [];
  const push = (component: string, kind: ContributionKind, layer: number | null, index: number | null, contribution: number, activation: number | null = null, raw: number | null = null) =>
    rows.push({ component, kind, layer, index, activation, contribution, raw });

  push("token embedding", "embedding", null, null, through(rowAt("hook_embed")));
  push("position embedding", "embedding", null, null, through(rowAt("hook_pos_embed")));
  for (let l = 0; l <= L; l++) {
    const z = rowAt(`blocks.${l}.attn.hook_z`); // [H·dh], heads concatenated
    const wO = host(model.params[`h.${l}.attn.c_proj.weight`]); // [H·dh, d]
    for (let h = 0; h < H; h++) {
      const out = new Float64Array(d);
      for (let e = 0; e < dh; e++) {
        const ze = z[h * dh + e];
        for (let k = 0; k < d; k++) out[k] += ze * wO[(h * dh + e) * d + k];
      }
      push(`L${l}H${h}`, "attention head", l, h, through(out));
    }
    push(`L${l} attention bias`, "attention bias", l, null, through(host(model.params[`h.${l}.attn.c_proj.bias`])));
  }
  for (let l = 0; l < L; l++) {
    const mlpOut = rowAt(`blocks.${l}.hook_mlp_out`);
    const up = transcoders.find((u) => u.layer === l);
    if (!up) {
      push(`L${l} MLP`, "MLP", l, null, through(mlpOut));
      continue;
    }
    const dict = up.dictionary;
    const x = tf.tensor2d(cache.get(inputHook(l)).row(t), [1, d]);
    const [zT, recon] = tf.tidy(() => {
      const f = dict.encodeTensor(x);
      return [f, dict.reconstructTensor(x, f)];
    });
    const z = zT.dataSync(), yHat = host(recon);
    const wDec = host(dict.weights.W_dec);
    tf.dispose([x, zT, recon]);
    let skipPart: Float64Array | undefined;
    if (dict.weights.W_skip) skipPart = host(tf.tidy(() => tf.matMul(tf.tensor2d(cache.get(inputHook(l)).row(t), [1, d]), dict.weights.W_skip as tf.Tensor2D)));
    for (let i = 0; i < dict.width; i++) {
      if (z[i] === 0) continue;
      let c = 0, dw = 0, mean = 0;
      for (let k = 0; k < d; k++) (mean += wDec[i * d + k]), (dw += wDec[i * d + k] * w[k]);
      for (let k = 0; k < d; k++) c += wDec[i * d + k] * gw[k];
      c = (z[i] * (c - (mean / d) * sumGw)) / sigma;
      push(`L${l} transcoder F${i}`, "transcoder feature", l, i, c, z[i], z[i] * dw);
    }
    push(`L${l} transcoder bias`, "transcoder bias", l, null, through(host(dict.weights.b_dec_out ?? dict.weights.b_dec)));
    if (skipPart) push(`L${l} transcoder skip`, "transcoder skip", l, null, through(skipPart));
    push(`L${l} transcoder error`, "transcoder error", l, null, through(mlpOut.map((v, k) => v - yHat[k])));
  }
  let constant = bEnc;
  for (let k = 0; k < d; k++) constant += (beta[k] - bDec[k]) * w[k];
  push("ln2 β, b_dec, b_enc", "constant", L, null, constant);

  const lnOut = rowAt(inputHook(L));
  let pre = bEnc;
  for (let k = 0; k < d; k++) pre += (lnOut[k] - bDec[k]) * w[k];
  const total = rows.reduce((s, r) => s + r.contribution, 0);
  rows.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  const token = model.tokenizer ? model.tokenizer.token(doc[t]) : String(doc[t]);
  return new FeatureContributions(target, at.document, t, token, pre, total, rows);
}
