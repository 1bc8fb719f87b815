// A rotary decoder — GPT-NeoX / Pythia, the Llama family, Gemma 2 — computed with tfjs ops, with
// TransformerLens' hook points:
//   hook_embed, blocks.{l}.hook_resid_pre, ln1.hook_normalized, attn.hook_q [batch, pos, head, d_head],
//   attn.hook_k / hook_v [batch, pos, kv_head, d_head], attn.hook_rot_q / hook_rot_k (after RoPE),
//   attn.hook_attn_scores / hook_pattern [batch, head, query, key], attn.hook_z, (Gemma 2:
//   ln1_post.hook_normalized), hook_attn_out, hook_resid_mid (not with a parallel residual),
//   ln2.hook_normalized, mlp.hook_pre (the gate's input to the activation), mlp.hook_pre_linear (gated
//   MLPs: the up projection), mlp.hook_post, (ln2_post.hook_normalized), hook_mlp_out,
//   hook_resid_post, ln_final.hook_normalized.
import { tf, ensureEngine } from "../engine/backend.js";
import { INFO_OPTIONS, LanguageModelBase, resumeResidual, type HookAt, type ResumeAt, type TransformerInfo } from "./language-model-base.js";
import { decoderConfigFromHf, type DecoderConfig } from "./decoder-config.js";
import { Rng } from "../engine/random.js";
import { decoderCheckpoint, decoderLayout } from "./decoder-weights.js";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic-write.js";
import { writeSafetensors } from "../io/safetensors.js";
import { WordLevelTokenizer } from "./tokenizer.js";
import { HfTokenizer } from "./hf-tokenizer.js";
import { activation, applyRope, causalMask, layerNorm, linear, rmsNorm, ropeInverseFrequencies, ropeTables } from "./transformer-ops.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** A decoder's weights by canonical name (decoder-weights.ts). */
export type DecoderParams = Record<string, tf.Tensor>;

export function decoderHookNames(cfg: DecoderConfig): string[] {
  const names = ["hook_embed"];
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}.`;
    names.push(`${b}hook_resid_pre`, `${b}ln1.hook_normalized`);
    for (const h of ["q", "k", "v", "rot_q", "rot_k", "attn_scores", "pattern", "z"]) names.push(`${b}attn.hook_${h}`);
    if (cfg.post_norms) names.push(`${b}ln1_post.hook_normalized`);
    names.push(`${b}hook_attn_out`);
    if (!cfg.parallel_attn_mlp) names.push(`${b}hook_resid_mid`);
    names.push(`${b}ln2.hook_normalized`, `${b}mlp.hook_pre`);
    if (cfg.gated_mlp) names.push(`${b}mlp.hook_pre_linear`);
    names.push(`${b}mlp.hook_post`);
    if (cfg.post_norms) names.push(`${b}ln2_post.hook_normalized`);
    names.push(`${b}hook_mlp_out`, `${b}hook_resid_post`);
  }
  names.push("ln_final.hook_normalized");
  return names;
}

export interface DecoderForwardOptions {
  /** Embed through a one-hot matMul instead of gather (differentiable on every backend; small vocabularies). */
  oneHotEmbed?: boolean;
  /** Resume at blocks.{layer}.hook_resid_pre or hook_resid_post with this residual stream [B, T, d]. */
  start?: ResumeAt;
}

const FORWARD_OPTIONS = optionNames<DecoderForwardOptions>({ oneHotEmbed: true, start: true });

const softCap = (x: tf.Tensor, cap: number) => (cap > 0 ? tf.mul(tf.tanh(tf.div(x, cap)), cap) : x);

/**
 * The forward pass: token ids [B, T] → logits [B, T, V], calling `at` at every hook point, or resumed
 * at a block's residual stream (`start`). Pure in the weights.
 * @example
 * const llama = fl.Decoder.init({ model_type: "llama", hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 4, intermediate_size: 64, vocab_size: 50, max_position_embeddings: 16 });
 * const ids = fl.tf.tensor2d([[1, 5, 6, 7]], undefined, "int32");
 * const logits = fl.decoderForward(llama.cfg, llama.params, ids, (name, x) => x);
 */
export function decoderForward(cfg: DecoderConfig, p: DecoderParams, tokens: tf.Tensor2D | undefined, at: HookAt, opts: DecoderForwardOptions = {}): tf.Tensor3D {
  rejectUnknownOptions("decoderForward", opts, FORWARD_OPTIONS);
  const start = opts.start;
  const [B, T] = start ? start.resid.shape : tokens!.shape;
  const { d_model: d, n_heads: H, n_key_value_heads: K, d_head: dh } = cfg;
  if (T > cfg.n_ctx) throw new Error(`featurelab: ${T} positions exceed the context of ${cfg.n_ctx} (max_position_embeddings)`);
  const norm = (x: tf.Tensor, name: string) => (cfg.normalization === "LN" ? layerNorm(x, p[`${name}.w`], p[`${name}.b`], cfg.eps) : rmsNorm(x, p[`${name}.w`], cfg.eps));
  const bias = (name: string) => p[name] as tf.Tensor | undefined;
  let resid: tf.Tensor;
  let first = 0;
  if (start) ({ resid, first } = resumeResidual(start, at));
  else {
    const flat = tf.reshape(tokens!, [B * T]) as tf.Tensor1D;
    const e = tf.reshape(opts.oneHotEmbed ? tf.matMul(tf.oneHot(flat, cfg.d_vocab), p["embed.W_E"] as tf.Tensor2D) : tf.gather(p["embed.W_E"], flat), [B, T, d]);
    resid = at("hook_embed", cfg.embed_scale === 1 ? e : tf.mul(e, Math.fround(cfg.embed_scale)));
  }
  const { cos, sin } = ropeTables(T, ropeInverseFrequencies(cfg.rotary_dim, cfg.rotary_base, cfg.rope_scaling));
  const masks = new Map<number, tf.Tensor2D>();
  const maskFor = (window: number) => masks.get(window) ?? masks.set(window, causalMask(T, -Infinity, window || undefined)).get(window)!;
  const heads = (t: tf.Tensor) => tf.transpose(t, [0, 2, 1, 3]); // [B, heads, T, dh]
  // Grouped-query attention: query heads k·G … k·G + G − 1 read key/value head k (torch's repeat_interleave).
  // Their rows are stacked per group — [B, H, T, ·] viewed as [B, K, G·T, ·] — and multiplied by the
  // shared head once, rather than copying each key/value head G times.
  const G = H / K;
  const grouped = (t: tf.Tensor) => (G === 1 ? t : tf.reshape(t, [B, K, G * T, t.shape[3]!]));
  const perHead = (t: tf.Tensor) => (G === 1 ? t : tf.reshape(t, [B, H, T, t.shape[3]!]));

  for (let l = first; l < cfg.n_layers; l++) {
    const b = `blocks.${l}.`;
    resid = at(`${b}hook_resid_pre`, resid);
    const x1 = at(`${b}ln1.hook_normalized`, norm(resid, `${b}ln1`));
    const q = at(`${b}attn.hook_q`, tf.reshape(linear(x1, p[`${b}attn.W_Q`], bias(`${b}attn.b_Q`), true), [B, T, H, dh]));
    const k = at(`${b}attn.hook_k`, tf.reshape(linear(x1, p[`${b}attn.W_K`], bias(`${b}attn.b_K`), true), [B, T, K, dh]));
    const v = at(`${b}attn.hook_v`, tf.reshape(linear(x1, p[`${b}attn.W_V`], bias(`${b}attn.b_V`), true), [B, T, K, dh]));
    const qr = at(`${b}attn.hook_rot_q`, applyRope(q, cos, sin));
    const kr = at(`${b}attn.hook_rot_k`, applyRope(k, cos, sin));
    const raw = softCap(tf.mul(perHead(tf.matMul(grouped(heads(qr)), heads(kr), false, true)), 1 / cfg.attn_scale), cfg.attn_scores_soft_cap);
    const scores = at(`${b}attn.hook_attn_scores`, tf.add(raw, maskFor(cfg.windows[l])));
    const pattern = at(`${b}attn.hook_pattern`, tf.softmax(scores));
    const z = at(`${b}attn.hook_z`, tf.transpose(perHead(tf.matMul(grouped(pattern), heads(v))), [0, 2, 1, 3]));
    let attnOut = linear(tf.reshape(z, [B, T, H * dh]), p[`${b}attn.W_O`], bias(`${b}attn.b_O`), true);
    if (cfg.post_norms) attnOut = at(`${b}ln1_post.hook_normalized`, norm(attnOut, `${b}ln1_post`));
    attnOut = at(`${b}hook_attn_out`, attnOut);
    const mid = cfg.parallel_attn_mlp ? resid : at(`${b}hook_resid_mid`, tf.add(resid, attnOut));
    const x2 = at(`${b}ln2.hook_normalized`, norm(mid, `${b}ln2`));
    let post: tf.Tensor;
    if (cfg.gated_mlp) {
      const pre = at(`${b}mlp.hook_pre`, linear(x2, p[`${b}mlp.W_gate`], bias(`${b}mlp.b_gate`), true));
      const up = at(`${b}mlp.hook_pre_linear`, linear(x2, p[`${b}mlp.W_in`], bias(`${b}mlp.b_in`), true));
      post = at(`${b}mlp.hook_post`, tf.mul(activation(pre, cfg.act_fn), up));
    } else {
      const pre = at(`${b}mlp.hook_pre`, linear(x2, p[`${b}mlp.W_in`], bias(`${b}mlp.b_in`), true));
      post = at(`${b}mlp.hook_post`, activation(pre, cfg.act_fn));
    }
    let mlpOut = linear(post, p[`${b}mlp.W_out`], bias(`${b}mlp.b_out`), true);
    if (cfg.post_norms) mlpOut = at(`${b}ln2_post.hook_normalized`, norm(mlpOut, `${b}ln2_post`));
    mlpOut = at(`${b}hook_mlp_out`, mlpOut);
    resid = at(`${b}hook_resid_post`, cfg.parallel_attn_mlp ? tf.add(tf.add(resid, attnOut), mlpOut) : tf.add(mid, mlpOut));
  }
  const final = at("ln_final.hook_normalized", norm(resid, "ln_final"));
  const unembed = p[cfg.tied ? "embed.W_E" : "unembed.W_U"] as tf.Tensor2D;
  const logits = linear(tf.reshape(final, [B * T, d]), unembed, bias("unembed.b_U"), true);
  return tf.reshape(softCap(logits, cfg.output_logits_soft_cap), [B, T, cfg.d_vocab]);
}

/**
 * A GPT-NeoX (Pythia), Llama-family (Llama, Mistral, Qwen 2, SmolLM) or Gemma 2 model with
 * TransformerLens' hook points (made by `fl.loadModel`).
 * @example
 * const model = await fl.loadModel("models/pythia-70m");
 * const { cache } = await model.run("The cat sat", { cache: ["blocks.2.hook_resid_post"] });
 */
export class Decoder extends LanguageModelBase<DecoderConfig> {
  /** Weights under canonical names (embed.W_E, blocks.0.attn.W_Q [H·d_head, d_model], …; torch's [out, in]). */
  declare readonly params: DecoderParams;

  constructor(cfg: DecoderConfig, params: DecoderParams, info: TransformerInfo = {}) {
    super("Decoder", cfg, params, decoderLayout(cfg), decoderHookNames(cfg), `${cfg.model_type}(${cfg.n_layers}L, d ${cfg.d_model})`, info);
  }

  /**
   * A freshly initialised model from a config.json object (N(0, 0.02) matrices, unit norms, zero
   * biases; seeded), for teaching and tests.
   * @example
   * const model = fl.Decoder.init({ model_type: "llama", hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 128, vocab_size: 100, max_position_embeddings: 64 }, { seed: 0 });
   */
  static init(config: Record<string, unknown>, opts: TransformerInfo & { seed?: number } = {}): Decoder {
    rejectUnknownOptions("Decoder.init", opts, [...INFO_OPTIONS, "seed"]);
    ensureEngine();
    const { seed = 0, ...info } = opts;
    const cfg = decoderConfigFromHf(config, "Decoder.init's config");
    const rng = new Rng(seed);
    const params: DecoderParams = {};
    for (const w of decoderLayout(cfg)) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const last = w.name.slice(w.name.lastIndexOf(".") + 1);
      const values = last === "w" ? new Float32Array(n).fill(1) : last.startsWith("b") ? new Float32Array(n) : rng.normals(n).map((x) => x * 0.02);
      params[w.name] = tf.tensor(values, w.shape);
    }
    return new Decoder(cfg, params, { extra: config, ...info });
  }

  protected forward(tokens: tf.Tensor2D | undefined, at: HookAt, opts: { start?: ResumeAt }): tf.Tensor3D {
    return decoderForward(this.cfg, this.params, tokens, at, { start: opts.start });
  }

  /**
   * Write a Hugging Face folder: config.json (the one it was read from or made with, plus `extra`),
   * model.safetensors under the family's names (float32) and the tokenizer's files, if it has them.
   * @example
   * await model.save("out/my-llama");
   */
  async save(dir: string, extra: Record<string, unknown> = {}): Promise<void> {
    this.checkSavable(dir);
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, "model.safetensors"), writeSafetensors(await decoderCheckpoint(this.cfg, this.params), { format: "pt" }));
    writeFileAtomic(join(dir, "config.json"), JSON.stringify({ ...this.extra, ...extra }, null, 2) + "\n");
    if (this.tokenizer instanceof WordLevelTokenizer || this.tokenizer instanceof HfTokenizer) this.tokenizer.save(join(dir, "tokenizer.json"));
  }

  /** The unembedding [d_vocab, d_model]: logits = final residual · unembeddingᵀ (then Gemma 2's soft cap). */
  get unembedding(): tf.Tensor2D {
    return this.params[this.cfg.tied ? "embed.W_E" : "unembed.W_U"] as tf.Tensor2D;
  }

  toString(): string {
    const c = this.cfg;
    const kv = c.n_key_value_heads !== c.n_heads ? ` (${c.n_key_value_heads} key/value)` : "";
    return `Decoder(${this.name}: ${c.model_type}, ${c.n_layers} layers, d_model ${c.d_model}, ${c.n_heads} heads${kv} of ${c.d_head}, d_mlp ${c.d_mlp}, vocab ${c.d_vocab}, context ${c.n_ctx})`;
  }
}
