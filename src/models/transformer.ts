// A decoder-only transformer with GPT-2's architecture — token + learned position embeddings,
// pre-LayerNorm blocks, causal multi-head attention, a GELU MLP, a final LayerNorm, tied or separate
// unembedding — computed with tfjs ops and carrying TransformerLens' hook points:
//   hook_embed, hook_pos_embed, blocks.{l}.hook_resid_pre, blocks.{l}.ln1.hook_normalized,
//   blocks.{l}.attn.hook_q/hook_k/hook_v [batch, pos, head, d_head], blocks.{l}.attn.hook_attn_scores
//   and hook_pattern [batch, head, query, key], blocks.{l}.attn.hook_z [batch, pos, head, d_head],
//   blocks.{l}.hook_attn_out, blocks.{l}.hook_resid_mid, blocks.{l}.ln2.hook_normalized,
//   blocks.{l}.mlp.hook_pre/hook_post [batch, pos, d_mlp], blocks.{l}.hook_mlp_out,
//   blocks.{l}.hook_resid_post, ln_final.hook_normalized.
// Weights keep Hugging Face's names and orientation (Conv1D: y = x·W + b), so loading and saving
// are renames-free.
import { tf, ensureEngine } from "../engine/backend.js";
import { INFO_OPTIONS, LanguageModelBase, resumeResidual, transformerStartPoint, type HookAt, type ResumeAt, type TransformerInfo } from "./language-model-base.js";
import { transformerConfig, type TransformerConfig } from "./transformer-config.js";
import { initWeights, weightLayout } from "./transformer-weights.js";
import { writeModelFolder } from "./hf-folder.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { activation, causalMask, layerNorm, linear } from "./transformer-ops.js";

export { causalMask, transformerStartPoint, type HookAt, type TransformerInfo };

/** A transformer's weights by TransformerLens name (`embed.W_E`, `blocks.0.attn.W_Q`, …). */
export type TransformerParams = Record<string, tf.Tensor>;

export interface ForwardOptions {
  /** Embed through a one-hot matMul instead of gather (differentiable on every backend; small vocabularies). */
  oneHotEmbed?: boolean;
  /** Whether anything listens at a hook point (skips building activations no one reads). */
  listens?: (name: string) => boolean;
  /** Resume at blocks.{layer}.hook_resid_pre or hook_resid_post with this residual stream [B, T, d]. */
  start?: ResumeAt;
}

const FORWARD_OPTIONS = optionNames<ForwardOptions>({ oneHotEmbed: true, listens: true, start: true });

export function transformerHookNames(cfg: TransformerConfig): string[] {
  const names = ["hook_embed", "hook_pos_embed"];
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}.`;
    names.push(
      `${b}hook_resid_pre`,
      `${b}ln1.hook_normalized`,
      `${b}attn.hook_q`,
      `${b}attn.hook_k`,
      `${b}attn.hook_v`,
      `${b}attn.hook_attn_scores`,
      `${b}attn.hook_pattern`,
      `${b}attn.hook_z`,
      `${b}hook_attn_out`,
      `${b}hook_resid_mid`,
      `${b}ln2.hook_normalized`,
      `${b}mlp.hook_pre`,
      `${b}mlp.hook_post`,
      `${b}hook_mlp_out`,
      `${b}hook_resid_post`,
    );
  }
  names.push("ln_final.hook_normalized");
  return names;
}

/**
 * The forward pass: token ids [B, T] → logits [B, T, V], calling `at` at every hook point. Pure in
 * the weights, so training can differentiate it (tf.variableGrads) and hooks can edit it.
 * @example
 * const ids = fl.tf.tensor2d([[0, 5, 6, 7]], undefined, "int32");
 * const logits = fl.transformerForward(model.cfg, model.params, ids, (name, x) => x);   // no hooks
 */
export function transformerForward(cfg: TransformerConfig, p: TransformerParams, tokens: tf.Tensor2D | undefined, at: HookAt, opts: ForwardOptions = {}): tf.Tensor3D {
  rejectUnknownOptions("transformerForward", opts, FORWARD_OPTIONS);
  const start = opts.start;
  const [B, T] = start ? start.resid.shape : tokens!.shape;
  const d = cfg.d_model, H = cfg.n_heads, dh = cfg.d_head;
  if (T > cfg.n_ctx) throw new Error(`featurelab: ${T} positions exceed the context of ${cfg.n_ctx}`);
  const listens = opts.listens ?? (() => true);
  const wte = p["wte.weight"] as tf.Tensor2D;
  let resid: tf.Tensor;
  let first = 0;
  if (start) ({ resid, first } = resumeResidual(start, at));
  else {
    const flatTokens = tf.reshape(tokens!, [B * T]);
    const embedFlat = opts.oneHotEmbed ? tf.matMul(tf.oneHot(flatTokens as tf.Tensor1D, cfg.d_vocab), wte) : tf.gather(wte, flatTokens);
    const embed = at("hook_embed", tf.reshape(embedFlat, [B, T, d]));
    const posRows = tf.slice(p["wpe.weight"], [0, 0], [T, d]);
    // [B, T, d] as TransformerLens shows it; broadcast instead when nobody looks.
    const pos = listens("hook_pos_embed") ? at("hook_pos_embed", tf.tile(tf.expandDims(posRows, 0), [B, 1, 1])) : posRows;
    resid = tf.add(embed, pos);
  }
  const mask = causalMask(T);

  for (let l = first; l < cfg.n_layers; l++) {
    const h = `h.${l}.`, b = `blocks.${l}.`;
    resid = at(`${b}hook_resid_pre`, resid);
    const x1 = at(`${b}ln1.hook_normalized`, layerNorm(resid, p[`${h}ln_1.weight`], p[`${h}ln_1.bias`], cfg.eps));
    // Three products with c_attn's column blocks, kept apart in memory (transformer-weights.ts).
    const [q0, k0, v0] = ["q", "k", "v"].map((x) => linear(x1, p[`${h}attn.c_attn.${x}.weight`], p[`${h}attn.c_attn.${x}.bias`]));
    const q = at(`${b}attn.hook_q`, tf.reshape(q0, [B, T, H, dh]));
    const k = at(`${b}attn.hook_k`, tf.reshape(k0, [B, T, H, dh]));
    const v = at(`${b}attn.hook_v`, tf.reshape(v0, [B, T, H, dh]));
    const heads = (t: tf.Tensor) => tf.transpose(t, [0, 2, 1, 3]); // [B, H, T, dh]
    const scale = 1 / (Math.sqrt(dh) * (cfg.scale_attn_by_inverse_layer_idx ? l + 1 : 1));
    const scores = at(`${b}attn.hook_attn_scores`, tf.add(tf.mul(tf.matMul(heads(q), heads(k), false, true), scale), mask));
    const pattern = at(`${b}attn.hook_pattern`, tf.softmax(scores));
    const z = at(`${b}attn.hook_z`, tf.transpose(tf.matMul(pattern, heads(v)), [0, 2, 1, 3]));
    const attnOut = at(`${b}hook_attn_out`, linear(tf.reshape(z, [B, T, d]), p[`${h}attn.c_proj.weight`], p[`${h}attn.c_proj.bias`]));
    resid = at(`${b}hook_resid_mid`, tf.add(resid, attnOut));
    const x2 = at(`${b}ln2.hook_normalized`, layerNorm(resid, p[`${h}ln_2.weight`], p[`${h}ln_2.bias`], cfg.eps));
    const pre = at(`${b}mlp.hook_pre`, linear(x2, p[`${h}mlp.c_fc.weight`], p[`${h}mlp.c_fc.bias`]));
    const post = at(`${b}mlp.hook_post`, activation(pre, cfg.act_fn));
    const mlpOut = at(`${b}hook_mlp_out`, linear(post, p[`${h}mlp.c_proj.weight`], p[`${h}mlp.c_proj.bias`]));
    resid = at(`${b}hook_resid_post`, tf.add(resid, mlpOut));
  }
  const final = at("ln_final.hook_normalized", layerNorm(resid, p["ln_f.weight"], p["ln_f.bias"], cfg.eps));
  const unembed = (cfg.tied ? wte : p["lm_head.weight"]) as tf.Tensor2D;
  // lm_head.bias exists only after TransformerLens' processing (folded LayerNorm); GPT-2 has none.
  const logits = linear(tf.reshape(final, [B * T, d]), unembed, p["lm_head.bias"], true);
  return tf.reshape(logits, [B, T, cfg.d_vocab]);
}

/**
 * A GPT-2-architecture transformer with TransformerLens' hook points (made by `fl.loadModel`).
 * @example
 * const model = await fl.loadModel("models/tiny-induction");
 * const { logits, cache } = await model.run(fl.toy.induction({ n: 8, seed: 0 }).tokens, { cache: ["blocks.0.attn.hook_pattern"] });
 */
export class Transformer extends LanguageModelBase<TransformerConfig> {
  /** Weights under Hugging Face's GPT-2 names (wte.weight, h.0.mlp.c_fc.weight, …), c_attn as its blocks h.0.attn.c_attn.q.weight, .k, .v. */
  declare readonly params: TransformerParams;

  constructor(cfg: TransformerConfig, params: TransformerParams, info: TransformerInfo = {}) {
    super("Transformer", cfg, params, weightLayout(cfg), transformerHookNames(cfg), `transformer(${cfg.n_layers}L, d ${cfg.d_model})`, info);
  }

  /**
   * A freshly initialised model (GPT-2's initialisation, seeded).
   * @example
   * const model = fl.Transformer.init({ d_model: 64, n_layers: 2, n_heads: 4, d_vocab: 100, n_ctx: 32 }, { seed: 0 });
   */
  static init(cfg: Partial<TransformerConfig> & Pick<TransformerConfig, "d_model" | "n_layers" | "n_heads" | "d_vocab" | "n_ctx">, opts: TransformerInfo & { seed?: number } = {}): Transformer {
    rejectUnknownOptions("Transformer.init", opts, [...INFO_OPTIONS, "seed"]);
    ensureEngine();
    const { seed = 0, ...info } = opts;
    const full = transformerConfig(cfg);
    const host = initWeights(full, seed);
    const params: TransformerParams = {};
    for (const [name, w] of Object.entries(host)) params[name] = tf.tensor(w.values, w.shape);
    return new Transformer(full, params, info);
  }

  protected forward(tokens: tf.Tensor2D | undefined, at: HookAt, opts: { listens?: (name: string) => boolean; start?: ResumeAt }): tf.Tensor3D {
    return transformerForward(this.cfg, this.params, tokens, at, opts);
  }

  /**
   * Write a Hugging Face folder: config.json (GPT2Config fields, plus anything kept in `extra`),
   * model.safetensors (GPT2LMHeadModel's names, "transformer." prefix) and, for a word-level
   * tokenizer, tokenizer.json. `extra` fields are added to config.json.
   * @example
   * await model.save("out/model");              // config.json + model.safetensors
   */
  async save(dir: string, extra: Record<string, unknown> = {}): Promise<void> {
    this.checkSavable(dir);
    await writeModelFolder(dir, this.cfg, this.params, { ...this.extra, ...extra }, this.tokenizer);
  }

  /** The unembedding [d_vocab, d_model]: logits = final residual · unembeddingᵀ. */
  get unembedding(): tf.Tensor2D {
    return (this.cfg.tied ? this.params["wte.weight"] : this.params["lm_head.weight"]) as tf.Tensor2D;
  }

  toString(): string {
    const c = this.cfg;
    return `Transformer(${this.name}: ${c.n_layers} layers, d_model ${c.d_model}, ${c.n_heads} heads, d_mlp ${c.d_mlp}, vocab ${c.d_vocab}, context ${c.n_ctx})`;
  }
}
