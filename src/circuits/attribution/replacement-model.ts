// The local replacement model of one prompt (Ameisen et al. 2025): the transformer with each MLP's
// output replaced by the cross-layer transcoder's reconstruction plus an error term (what the
// transcoder missed on this prompt), the attention patterns and the LayerNorm scales frozen at their
// values on this prompt. Frozen that way, everything from the embeddings, features and errors to the
// features' pre-activations and the logits is affine, so a node's value is exactly the sum of its
// sources' direct effects plus a bias term — what an attribution graph records.
// Computed in float64 on the host from one float32 forward pass of the real model (GPT-2-architecture
// transformers: LayerNorm, learned positions). Source and target conventions follow circuit-tracer:
// features read hook_resid_mid and write to hook_mlp_out; the first position's features are left
// out (the BOS position's MLP output goes to its error node); logit targets are demeaned unembedding
// directions read through the frozen final LayerNorm. An embedding node here is the token's
// embedding plus its position's (GPT-2 adds both before the first block).
import { tf } from "../../engine/backend.js";
import { matMul } from "../../engine/linalg.js";
import { Transformer } from "../../models/transformer.js";
import { withoutDecoder, type LanguageModel } from "../../models/language-model.js";
import type { Dictionary } from "../../dictionaries/dictionary.js";
import { InputError } from "../../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";
import { cltBlocks, type CltBlocks } from "./clt-blocks.js";

/** A transcoder feature active at one position of the prompt. */
export interface ActiveFeature {
  layer: number;
  position: number;
  feature: number;
  /** Its activation (= its pre-activation, JumpReLU features being active above their threshold). */
  activation: number;
}

/** Options of `LocalReplacementModel.build`. */
export interface ReplacementOptions {
  /** Put the BOS token before a text prompt (default true; token ids are used as they are). */
  prependBos?: boolean;
  /** Leave the first position's features out, its MLP output going to the error node (default true, as circuit-tracer). */
  zeroFirstPosition?: boolean;
}

const REPLACEMENT_OPTIONS = optionNames<ReplacementOptions>({ prependBos: true, zeroFirstPosition: true });
const RUN_SPEC = optionNames<RunSpec>({ embeddings: true, mlpOut: true, freezeAttention: true, freezeLayerNorm: true });

/** A place where a target reads the residual stream: after layer `layer`'s attention (layer = nLayers: the final residual). */
export interface Readout {
  layer: number;
  position: number;
  /** The direction read (d values). */
  vector: Float64Array;
}

/** Gradients of a batch of readouts: at each layer's MLP output and at the embeddings, [batch][position·d]. */
export interface ReadoutGradients {
  mlpOut: Float64Array[][];
  embed: Float64Array[];
}

const f64 = (t: tf.Tensor): Float64Array => Float64Array.from(t.dataSync());

/** LayerNorm's scale √(var + eps) of row t of x [T·d]: what the frozen model keeps from the clean prompt. */
function layerNormScale(x: Float64Array, t: number, d: number, eps: number): number {
  let m = 0;
  for (let j = 0; j < d; j++) m += x[t * d + j];
  m /= d;
  let v = 0;
  for (let j = 0; j < d; j++) v += (x[t * d + j] - m) ** 2;
  return Math.sqrt(v / d + eps);
}

/** What a local replacement model is made of (see the class for each field). */
interface ReplacementParts {
  tokens: number[];
  T: number;
  L: number;
  d: number;
  H: number;
  vocab: number;
  clt: CltBlocks;
  features: ActiveFeature[];
  embeddings: Float64Array;
  errors: Float64Array[];
  original: { residMid: Float64Array[]; mlpOut: Float64Array[]; logits: Float64Array };
  sigma1: Float64Array[];
  sigmaF: Float64Array;
  patterns: Float64Array[];
  ov: Float64Array[][];
  attnBias: Float64Array[];
  ln1: { gamma: Float64Array; beta: Float64Array }[];
  lnF: { gamma: Float64Array; beta: Float64Array };
  unembed: Float64Array;
  unembedBias: Float64Array;
  qk: QkWeights[];
  eps: number;
  zeroFirstPosition: boolean;
}

/** A layer's query and key weights, [d, H·d_head] and [H·d_head], and the score scale 1/√d_head (÷ (l+1) where GPT-2 asks). */
interface QkWeights {
  wQ: Float64Array;
  bQ: Float64Array;
  wK: Float64Array;
  bK: Float64Array;
  scale: number;
}

/** How `LocalReplacementModel.run` computes: the MLP outputs from the residual each layer's features read, and what stays frozen. */
export interface RunSpec {
  /** Embedding node vectors [T·d] (default: the prompt's). */
  embeddings?: Float64Array;
  /** Layer l's MLP output [T·d], given the residual after its attention [T·d]. */
  mlpOut: (layer: number, residMid: Float64Array) => Float64Array;
  /** Attention patterns as on the clean prompt (default true); false recomputes them from the residual. */
  freezeAttention?: boolean;
  /** LayerNorm scales as on the clean prompt (default true); false recomputes them. */
  freezeLayerNorm?: boolean;
}

/**
 * The local replacement model of one prompt: MLPs replaced by transcoder features plus error nodes,
 * attention patterns and LayerNorm scales frozen, in float64 (made by `LocalReplacementModel.build` or `fl.attribute`).
 * @example
 * const lrm = await fl.LocalReplacementModel.build(model, clt, [0, 5, 9, 12, 5, 9]);
 * const { final } = lrm.forward(lrm.embeddings, lrm.featureWrites(lrm.features).map((w, l) => w.map((x, i) => x + lrm.errors[l][i])));
 */
export class LocalReplacementModel {
  readonly tokens: number[];
  /** Positions, layers, residual width, heads, vocabulary. */
  readonly T: number;
  readonly L: number;
  readonly d: number;
  readonly H: number;
  readonly vocab: number;
  readonly clt: CltBlocks;
  /** Active features, by layer, then position, then feature index. */
  readonly features: ActiveFeature[];
  /** Embedding node vectors (token + position embedding), [T·d]. */
  readonly embeddings: Float64Array;
  /** Error node vectors per layer: the MLP's output minus the transcoder's reconstruction, [T·d]. */
  readonly errors: Float64Array[];
  /** The model's own values on the prompt, for checks: residual after each attention, each MLP output, logits [T·vocab]. */
  readonly original: { residMid: Float64Array[]; mlpOut: Float64Array[]; logits: Float64Array };
  private readonly sigma1: Float64Array[];
  private readonly sigmaF: Float64Array;
  private readonly patterns: Float64Array[];
  private readonly ov: Float64Array[][];
  private readonly attnBias: Float64Array[];
  private readonly ln1: { gamma: Float64Array; beta: Float64Array }[];
  private readonly lnF: { gamma: Float64Array; beta: Float64Array };
  private readonly qk: QkWeights[];
  /** Whether the first position's features are left out (their MLP output held in its error node). */
  readonly zeroFirstPosition: boolean;
  private readonly eps: number;
  /** [vocab·d] and [vocab] (zeros when the model has no unembedding bias). */
  readonly unembed: Float64Array;
  readonly unembedBias: Float64Array;

  private constructor(p: ReplacementParts) {
    this.tokens = p.tokens;
    this.T = p.T;
    this.L = p.L;
    this.d = p.d;
    this.H = p.H;
    this.vocab = p.vocab;
    this.clt = p.clt;
    this.features = p.features;
    this.embeddings = p.embeddings;
    this.errors = p.errors;
    this.original = p.original;
    this.sigma1 = p.sigma1;
    this.sigmaF = p.sigmaF;
    this.patterns = p.patterns;
    this.ov = p.ov;
    this.attnBias = p.attnBias;
    this.ln1 = p.ln1;
    this.lnF = p.lnF;
    this.unembed = p.unembed;
    this.unembedBias = p.unembedBias;
    this.qk = p.qk;
    this.eps = p.eps;
    this.zeroFirstPosition = p.zeroFirstPosition;
  }

  /**
   * The local replacement model of `prompt` (a text, or one document of token ids) for `model` and its cross-layer transcoder.
   * @example
   * const lrm = await fl.LocalReplacementModel.build(model, clt, [0, 5, 9, 12, 5, 9]);
   * lrm.features.length;   // active features on the prompt
   */
  static async build(languageModel: LanguageModel, clt: Dictionary, prompt: string | readonly number[], opts: ReplacementOptions = {}): Promise<LocalReplacementModel> {
    rejectUnknownOptions("LocalReplacementModel.build", opts, REPLACEMENT_OPTIONS);
    const model = withoutDecoder(languageModel, "attribution (the local replacement model)");
    if (!(model instanceof Transformer)) throw new InputError(undefined, "attribution graphs are built for language models from fl.loadModel or fl.Transformer");
    const cfg = model.cfg;
    const blocks = cltBlocks(clt);
    if (blocks.nLayers !== cfg.n_layers) throw new InputError(undefined, `attribution: the transcoder spans ${blocks.nLayers} layers; the model has ${cfg.n_layers}`);
    if (blocks.d !== cfg.d_model) throw new InputError(undefined, `attribution: the transcoder reads ${blocks.d} dimensions; the model's residual stream has ${cfg.d_model}`);
    if (typeof prompt !== "string" && !(Array.isArray(prompt) && prompt.every((t) => typeof t === "number"))) {
      throw new InputError(undefined, "attribution: the prompt is one text or one array of token ids");
    }
    const L = cfg.n_layers, d = cfg.d_model, H = cfg.n_heads, dh = cfg.d_head, V = cfg.d_vocab;
    const names = ["hook_embed", "hook_pos_embed"];
    for (let l = 0; l < L; l++) names.push(`blocks.${l}.hook_resid_pre`, `blocks.${l}.attn.hook_pattern`, `blocks.${l}.hook_resid_mid`, `blocks.${l}.hook_mlp_out`);
    names.push(`blocks.${L - 1}.hook_resid_post`);
    const run = await model.run(typeof prompt === "string" ? prompt : [Array.from(prompt)], { cache: names, batchSize: 1, prependBos: opts.prependBos });
    const tokens = run.documents![0];
    const T = tokens.length;
    const cached = (name: string): Float64Array => {
      const t = run.cache.tensor(name);
      try {
        return f64(t);
      } finally {
        t.dispose();
      }
    };
    const logits = f64(run.logits!);
    run.logits!.dispose();
    const embeddings = cached("hook_embed");
    const pos = cached("hook_pos_embed");
    for (let i = 0; i < embeddings.length; i++) embeddings[i] += pos[i];
    const p = model.params;
    const host = (name: string) => f64(p[name]);
    const sigma = (x: Float64Array) => Float64Array.from({ length: T }, (_, t) => layerNormScale(x, t, d, cfg.eps));
    const sigma1: Float64Array[] = [], patterns: Float64Array[] = [], ov: Float64Array[][] = [], attnBias: Float64Array[] = [], ln1: ReplacementParts["ln1"] = [];
    const residMid: Float64Array[] = [], mlpOut: Float64Array[] = [], qk: QkWeights[] = [];
    for (let l = 0; l < L; l++) {
      const h = `h.${l}.`;
      sigma1.push(sigma(cached(`blocks.${l}.hook_resid_pre`)));
      patterns.push(cached(`blocks.${l}.attn.hook_pattern`)); // [1, H, T, T]
      residMid.push(cached(`blocks.${l}.hook_resid_mid`));
      mlpOut.push(cached(`blocks.${l}.hook_mlp_out`));
      ln1.push({ gamma: host(`${h}ln_1.weight`), beta: host(`${h}ln_1.bias`) });
      const scale = 1 / (Math.sqrt(dh) * (cfg.scale_attn_by_inverse_layer_idx ? l + 1 : 1));
      qk.push({ wQ: host(`${h}attn.c_attn.q.weight`), bQ: host(`${h}attn.c_attn.q.bias`), wK: host(`${h}attn.c_attn.k.weight`), bK: host(`${h}attn.c_attn.k.bias`), scale });
      const wV = host(`${h}attn.c_attn.v.weight`), bV = host(`${h}attn.c_attn.v.bias`); // [d, H·dh], [H·dh]
      const wO = host(`${h}attn.c_proj.weight`), bO = host(`${h}attn.c_proj.bias`); // [H·dh, d], [d]
      const heads: Float64Array[] = [];
      for (let head = 0; head < H; head++) {
        const v = new Float64Array(d * dh), o = new Float64Array(dh * d);
        for (let r = 0; r < d; r++) for (let c = 0; c < dh; c++) v[r * dh + c] = wV[r * d + head * dh + c];
        o.set(wO.subarray(head * dh * d, (head + 1) * dh * d));
        heads.push(matMul(v, o, d, dh, d)); // OV = W_V^h W_O^h
      }
      ov.push(heads);
      // Each query's pattern sums to 1, so the value bias reaches the output as b_V·W_O, whatever the pattern.
      attnBias.push(Float64Array.from(matMul(bV, wO, 1, d, d), (x, j) => x + bO[j]));
    }
    const sigmaF = sigma(cached(`blocks.${L - 1}.hook_resid_post`));
    const unembed = f64(model.unembedding);
    const unembedBias = p["lm_head.bias"] ? f64(p["lm_head.bias"]) : new Float64Array(V);
    const lm = new LocalReplacementModel({
      tokens, T, L, d, H, vocab: V, clt: blocks, features: [], embeddings, errors: [],
      original: { residMid, mlpOut, logits }, sigma1, sigmaF, patterns, ov, attnBias, ln1,
      lnF: { gamma: host("ln_f.weight"), beta: host("ln_f.bias") }, unembed, unembedBias, qk, eps: cfg.eps,
      zeroFirstPosition: opts.zeroFirstPosition ?? true,
    });
    for (let l = 0; l < L; l++) {
      for (const f of lm.encode(l, residMid[l])) if (!(lm.zeroFirstPosition && f.position === 0)) lm.features.push(f);
    }
    // Errors: what the MLP wrote minus what the transcoder writes from the kept features (+ b_dec).
    const writes = lm.featureWrites(lm.features);
    for (let l = 0; l < L; l++) lm.errors.push(Float64Array.from(mlpOut[l], (x, i) => x - writes[l][i]));
    return lm;
  }

  /**
   * The features active at layer `l` for residual rows x [T·d] (JumpReLU: pre-activation above ReLU(θ)).
   * @example
   * const active = lrm.encode(1, lrm.original.residMid[1]);
   */
  encode(l: number, x: Float64Array): ActiveFeature[] {
    const { n, encoders, bEnc, thresholds } = this.clt;
    const pre = matMul(x, encoders[l], this.T, this.d, n);
    const out: ActiveFeature[] = [];
    for (let t = 0; t < this.T; t++) {
      for (let i = 0; i < n; i++) {
        const a = pre[t * n + i] + bEnc[l][i];
        if (a > thresholds[l][i]) out.push({ layer: l, position: t, feature: i, activation: a });
      }
    }
    return out;
  }

  /**
   * What the transcoder writes to each layer's MLP output from these features, plus b_dec: [L][T·d] (added into `into` when given).
   * @example
   * const writes = lrm.featureWrites(lrm.features.filter((f) => f.feature !== 12));   // feature 12 zeroed
   */
  featureWrites(features: readonly ActiveFeature[], into?: Float64Array[]): Float64Array[] {
    const { d, T, L } = this;
    // `into`: writes so far, to add these features' to (b_dec is already there).
    const out =
      into ??
      Array.from({ length: L }, (_, l) => {
        const w = new Float64Array(T * d);
        for (let t = 0; t < T; t++) w.set(this.clt.bDec[l], t * d);
        return w;
      });
    for (const f of features) {
      this.clt.decoders[f.layer].forEach((W, k) => {
        const dst = out[f.layer + k];
        const row = f.feature * d, at = f.position * d;
        for (let j = 0; j < d; j++) dst[at + j] += f.activation * W[row + j];
      });
    }
    return out;
  }

  /**
   * The frozen model forward from its sources: embeddings [T·d] and each layer's MLP output [L][T·d].
   * Returns the residual after each layer's attention (what features read) and the final residual.
   * @example
   * const { residMid, final } = lrm.forward(lrm.embeddings, lrm.original.mlpOut);
   */
  forward(embeddings: Float64Array, mlpOut: readonly Float64Array[]): { residMid: Float64Array[]; final: Float64Array } {
    return this.run({ embeddings, mlpOut: (l) => mlpOut[l] });
  }

  /**
   * The replacement model forward, layer by layer: `mlpOut` gives each layer's MLP output from the
   * residual its features read, so features can respond to what came before (iterative patching);
   * attention patterns and LayerNorm scales frozen or recomputed.
   * @example
   * const { final } = lrm.run({ mlpOut: (l) => lrm.original.mlpOut[l], freezeAttention: false, freezeLayerNorm: false });
   */
  run(spec: RunSpec): { residMid: Float64Array[]; final: Float64Array } {
    rejectUnknownOptions("LocalReplacementModel.run", spec, RUN_SPEC);
    const { T, d, L, H } = this;
    const frozenAttention = spec.freezeAttention ?? true, frozenLn = spec.freezeLayerNorm ?? true;
    let resid = Float64Array.from(spec.embeddings ?? this.embeddings);
    const residMid: Float64Array[] = [];
    for (let l = 0; l < L; l++) {
      const x = this.lnFrozen(resid, frozenLn ? this.sigma1[l] : undefined, this.ln1[l].gamma, this.ln1[l].beta);
      const patterns = frozenAttention ? this.patterns[l] : this.attentionPatterns(l, x);
      const mid = Float64Array.from(resid);
      for (let h = 0; h < H; h++) {
        const y = matMul(x, this.ov[l][h], T, d, d);
        const P = patterns.subarray(h * T * T, (h + 1) * T * T);
        for (let q = 0; q < T; q++) {
          for (let k = 0; k <= q; k++) {
            const w = P[q * T + k];
            if (w === 0) continue;
            for (let j = 0; j < d; j++) mid[q * d + j] += w * y[k * d + j];
          }
        }
      }
      for (let q = 0; q < T; q++) for (let j = 0; j < d; j++) mid[q * d + j] += this.attnBias[l][j];
      residMid.push(mid);
      const out = spec.mlpOut(l, mid);
      resid = Float64Array.from(mid, (v, i) => v + out[i]);
    }
    return { residMid, final: resid };
  }

  /** Layer l's attention patterns [H·T·T] from its normalised input x [T·d]: causal softmax of q·k scaled. */
  private attentionPatterns(l: number, x: Float64Array): Float64Array {
    const { T, d, H } = this;
    const dh = d / H;
    const w = this.qk[l];
    const q = matMul(x, w.wQ, T, d, d), k = matMul(x, w.wK, T, d, d);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < d; j++) {
        q[t * d + j] += w.bQ[j];
        k[t * d + j] += w.bK[j];
      }
    }
    const out = new Float64Array(H * T * T);
    for (let h = 0; h < H; h++) {
      for (let a = 0; a < T; a++) {
        const row = out.subarray((h * T + a) * T, (h * T + a + 1) * T);
        let m = -Infinity;
        for (let b = 0; b <= a; b++) {
          let s = 0;
          for (let j = h * dh; j < (h + 1) * dh; j++) s += q[a * d + j] * k[b * d + j];
          row[b] = s * w.scale;
          m = Math.max(m, row[b]);
        }
        let z = 0;
        for (let b = 0; b <= a; b++) z += (row[b] = Math.exp(row[b] - m));
        for (let b = 0; b <= a; b++) row[b] /= z;
      }
    }
    return out;
  }

  /**
   * The final LayerNorm, frozen at the prompt's scales, of a final residual [T·d].
   * @example
   * const normalized = lrm.lnFinal(lrm.forward(lrm.embeddings, lrm.original.mlpOut).final);
   */
  lnFinal(final: Float64Array, frozen = true): Float64Array {
    return this.lnFrozen(final, frozen ? this.sigmaF : undefined, this.lnF.gamma, this.lnF.beta);
  }

  /**
   * Logits [vocab] at `position` from a final residual [T·d], through the frozen final LayerNorm.
   * @example
   * const logits = lrm.logitsAt(lrm.forward(lrm.embeddings, lrm.original.mlpOut).final, lrm.T - 1);
   */
  logitsAt(final: Float64Array, position: number, frozenLayerNorm = true): Float64Array {
    const x = this.lnFinal(final, frozenLayerNorm).subarray(position * this.d, (position + 1) * this.d);
    const out = matMul(Float64Array.from(x), this.unembed, 1, this.d, this.vocab, false, true);
    for (let v = 0; v < this.vocab; v++) out[v] += this.unembedBias[v];
    return out;
  }

  /**
   * Gradients of a batch of readouts (each a direction read at one place) with respect to every
   * source: each layer's MLP output and the embeddings. One backward pass through the frozen model;
   * the MLPs pass nothing back (their outputs are sources here).
   * @example
   * const f = lrm.features[0];
   * const { mlpOut, embed } = lrm.backward([{ layer: f.layer, position: f.position, vector: new Float64Array(lrm.d).fill(1) }]);
   */
  backward(readouts: readonly Readout[]): ReadoutGradients {
    const { T, d, L, H } = this;
    const B = readouts.length;
    const size = T * d;
    let g = new Float64Array(B * size); // [b][t][j]: gradient at the current residual
    const inject = (layer: number) =>
      readouts.forEach((r, b) => {
        if (r.layer !== layer) return;
        const at = b * size + r.position * d;
        for (let j = 0; j < d; j++) g[at + j] += r.vector[j];
      });
    inject(L);
    const mlpOut: Float64Array[][] = [];
    for (let l = L - 1; l >= 0; l--) {
      mlpOut[l] = Array.from({ length: B }, (_, b) => g.slice(b * size, (b + 1) * size));
      inject(l);
      // resid_mid = resid + Σ_h P_h·LN(resid)·OV_h: the gradient at resid adds LNᵀ(Σ_h P_hᵀ·g·OV_hᵀ).
      const back = new Float64Array(B * size);
      for (let h = 0; h < H; h++) {
        const gOV = matMul(g, this.ov[l][h], B * T, d, d, false, true); // g·OV_hᵀ, all readouts at once
        const P = this.patterns[l].subarray(h * T * T, (h + 1) * T * T);
        for (let b = 0; b < B; b++) {
          const base = b * size;
          for (let q = 0; q < T; q++) {
            for (let k = 0; k <= q; k++) {
              const w = P[q * T + k];
              if (w === 0) continue;
              for (let j = 0; j < d; j++) back[base + k * d + j] += w * gOV[base + q * d + j];
            }
          }
        }
      }
      const ln = this.lnTranspose(back, B, this.sigma1[l], this.ln1[l].gamma);
      for (let i = 0; i < g.length; i++) g[i] += ln[i];
    }
    const embed = Array.from({ length: B }, (_, b) => g.slice(b * size, (b + 1) * size));
    return { mlpOut, embed };
  }

  /**
   * The direction a logit target is read with at the final residual: the frozen final LayerNorm's transpose applied to u.
   * @example
   * const readout = lrm.logitReadout(new Float64Array(lrm.d).fill(0.1));
   */
  logitReadout(u: Float64Array): Readout {
    const position = this.T - 1;
    const full = new Float64Array(this.T * this.d);
    full.set(u, position * this.d);
    const v = this.lnTranspose(full, 1, this.sigmaF, this.lnF.gamma).subarray(position * this.d, (position + 1) * this.d);
    return { layer: this.L, position, vector: Float64Array.from(v) };
  }

  /** (x − mean)/σ ⊙ γ + β per position, σ frozen at the given scales or (undefined) computed from x. */
  private lnFrozen(x: Float64Array, sigma: Float64Array | undefined, gamma: Float64Array, beta: Float64Array): Float64Array {
    const { T, d } = this;
    const out = new Float64Array(T * d);
    for (let t = 0; t < T; t++) {
      let m = 0;
      for (let j = 0; j < d; j++) m += x[t * d + j];
      m /= d;
      const sd = sigma?.[t] ?? layerNormScale(x, t, d, this.eps);
      for (let j = 0; j < d; j++) out[t * d + j] = ((x[t * d + j] - m) / sd) * gamma[j] + beta[j];
    }
    return out;
  }

  /** The transpose of the frozen LayerNorm's linear part on B stacked [T·d] gradients: centre(g ⊙ γ / σ). */
  private lnTranspose(g: Float64Array, B: number, sigma: Float64Array, gamma: Float64Array): Float64Array {
    const { T, d } = this;
    const out = new Float64Array(g.length);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const at = (b * T + t) * d;
        let m = 0;
        for (let j = 0; j < d; j++) {
          const v = (g[at + j] * gamma[j]) / sigma[t];
          out[at + j] = v;
          m += v;
        }
        m /= d;
        for (let j = 0; j < d; j++) out[at + j] -= m;
      }
    }
    return out;
  }
}
