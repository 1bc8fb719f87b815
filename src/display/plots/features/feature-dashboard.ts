// fl.dashboard(dict, acts, feature): one feature's dashboard, as sae_vis lays it out — activation
// histogram and density, top activating examples with tokens shaded by activation and ± context,
// samples from activation quantiles, the tokens whose logits the feature's decoder direction raises
// and lowers most (through W_U, when a model is given), and the nearest features by decoder cosine.
// Static HTML (no script): it reads the same inline, in exported HTML and on GitHub.
import type { ActivationSet } from "../../../data/activation-set.js";
import type { Dictionary } from "../../../dictionaries/dictionary.js";
import type { Codes } from "../../../dictionaries/codes.js";
import { tf } from "../../../engine/backend.js";
import { nearestFeatures } from "../../../geometry/decoder-geometry.js";
import type { LanguageModel } from "../../../models/language-model.js";
import type { MimeBundle } from "../../core/bundle.js";
import { escapeHtml } from "../../core/escape.js";
import { PANEL, TokenIndex, examplesHtml, histogramHtml, listHtml, quantileRows, topRows } from "./feature-card.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** Options of `dashboard`. */
export interface DashboardOptions {
  /** A transformer whose unembedding W_U gives the feature's logit effects (d_model must equal d_in). */
  model?: LanguageModel;
  /** Token text per row (default: the set's `token` column, if any). */
  tokens?: ArrayLike<unknown>;
  /** Tokens of context either side of an example (needs `document` and `position` columns; default 6). */
  context?: number;
  /** Top activating examples shown (default 10). */
  examples?: number;
  /** Codes of `acts` already computed (saves encoding again). */
  codes?: Codes;
  /** Quantile bands sampled (default 4), examples per band (default 3). */
  quantiles?: number;
  perQuantile?: number;
  /** Nearest features listed (default 8); logits listed each way (default 8). */
  neighbors?: number;
  logits?: number;
}

const DASHBOARD_OPTIONS = optionNames<DashboardOptions>({ model: true, tokens: true, context: true, examples: true, codes: true, quantiles: true, perQuantile: true, neighbors: true, logits: true });

/** A token whose logit a feature raises or lowers through W_U, and by how much. */
export interface LogitEffect {
  token: string;
  id: number;
  value: number;
}

/**
 * The tokens whose logits W_dec[feature] · W_U raises and lowers most.
 * The n tokens whose logits a feature's decoder direction raises and lowers most through the model's unembedding.
 * @example
 * const { top, bottom } = fl.logitEffects(sae, model, 7, 8);
 */
export function logitEffects(dict: Dictionary, model: LanguageModel, feature: number, n = 8): { top: LogitEffect[]; bottom: LogitEffect[] } {
  const unembed = model.unembedding; // [vocab, d]
  if (!unembed || unembed.shape[1] !== dict.dIn) {
    throw new Error(`featurelab: dashboard: the dictionary reads ${dict.dIn}-d vectors, the model's unembedding ${unembed?.shape[1]}-d; logits need the residual stream`);
  }
  const { values, dim } = dict.decoderDirections();
  const dir = values.subarray(feature * dim, (feature + 1) * dim);
  const out = tf.tidy(() => tf.matMul(unembed, tf.tensor2d(dir, [dim, 1])));
  const v = out.dataSync() as Float32Array;
  out.dispose();
  const order = Array.from(v.keys()).sort((a, b) => v[b] - v[a] || a - b);
  n = Math.min(n, Math.floor(v.length / 2)); // a small vocabulary: the two lists do not overlap
  const name = (id: number) => (model.tokenizer ? model.tokenizer.token(id) : `#${id}`);
  const eff = (id: number) => ({ token: name(id), id, value: v[id] });
  return { top: order.slice(0, n).map(eff), bottom: order.slice(-n).reverse().map(eff) };
}

/** One feature's dashboard, as sae_vis lays it out (made by `fl.dashboard` or `sae.dashboard`). */
export class FeatureDashboard {
  readonly feature: number;
  readonly values: Float32Array;
  readonly html: string;
  readonly density: number;

  constructor(dict: Dictionary, acts: ActivationSet, feature: number, opts: DashboardOptions = {}) {
    rejectUnknownOptions("dashboard", opts, DASHBOARD_OPTIONS);
    if (!Number.isInteger(feature) || feature < 0 || feature >= dict.width) {
      throw new RangeError(`featurelab: dashboard: feature ${feature} out of range 0..${dict.width - 1}`);
    }
    this.feature = feature;
    const codes = opts.codes ?? dict.encode(acts);
    this.values = codes.feature(feature);
    const values = this.values;
    let fired = 0;
    for (const v of values) if (v > 0) fired++;
    this.density = values.length ? fired / values.length : 0;
    const index = new TokenIndex(acts, opts.tokens);
    const context = opts.context ?? 6;
    const top = topRows(values, opts.examples ?? 10);
    const max = top.length ? values[top[0]] : 0;
    const ex = (rows: number[]) => rows.map((r) => index.example(r, (q) => values[q], context));
    const quantiles = quantileRows(values, opts.quantiles ?? 4, opts.perQuantile ?? 3)
      .map((q) => examplesHtml(ex(q.rows), max, q.label))
      .join(`<div style="height:6px"></div>`);
    const neighbors = nearestFeatures(dict, feature, opts.neighbors ?? 8);
    let logits = "";
    if (opts.model) {
      const l = logitEffects(dict, opts.model, feature, opts.logits ?? 8);
      logits =
        `<div style="${PANEL}">${listHtml("positive logits (W_dec·W_U)", l.top.map((e) => ({ name: e.token, value: e.value, color: "rgba(44,160,44,.7)" })))}</div>` +
        `<div style="${PANEL}">${listHtml("negative logits", l.bottom.map((e) => ({ name: e.token, value: e.value, color: "rgba(214,39,40,.7)" })))}</div>`;
    }
    const left =
      `<div style="${PANEL}">${histogramHtml(values)}</div>` +
      `<div style="${PANEL}">${listHtml("nearest features (decoder cosine)", neighbors.map((n) => ({ name: `feature ${n.feature}`, value: n.cosine })))}</div>` +
      logits;
    const right = `<div style="${PANEL}">${examplesHtml(ex(top), max, "top activations")}</div><div style="${PANEL}">${quantiles}</div>`;
    this.html =
      `<div class="featurelab-dashboard" data-feature="${feature}" style="font-family:system-ui,sans-serif;font-size:13px;color:inherit">` +
      `<div style="font-weight:600;font-size:15px;margin:2px 4px">Feature ${feature} of ${escapeHtml(dict.cfg.architecture)} dictionary (width ${dict.width})</div>` +
      `<div style="display:flex;flex-wrap:wrap;align-items:flex-start"><div style="display:flex;flex-direction:column;flex:0 0 auto">${left}</div>` +
      `<div style="display:flex;flex-direction:column;flex:1 1 420px;min-width:0;overflow-x:auto">${right}</div></div></div>`;
  }

  /** The dashboard as HTML (and text). */
  toMimeBundle(): MimeBundle {
    const top = topRows(this.values, 5).map((r) => `row ${r}: ${this.values[r].toPrecision(3)}`);
    return {
      "text/html": this.html,
      "text/plain": `Feature ${this.feature}: density ${(100 * this.density).toFixed(2)}%; top ${top.join(", ")}`,
    };
  }

  /** A text summary of the feature. */
  toString(): string {
    return `FeatureDashboard(feature ${this.feature})`;
  }
}

/**
 * A feature's dashboard: histogram, top and quantile examples with context, logits, nearest features.
 * One feature's dashboard: activation histogram, top activating examples and quantile samples in context, logit effects (with `{ model }`) and nearest features.
 * @example
 * fl.show(fl.dashboard(sae, acts, 7, { model }));
 */
export function dashboard(dict: Dictionary, acts: ActivationSet, feature: number, opts: DashboardOptions = {}): FeatureDashboard {
  return new FeatureDashboard(dict, acts, feature, opts);
}
