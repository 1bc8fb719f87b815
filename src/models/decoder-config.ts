// The shape of a rotary-position decoder — GPT-NeoX (Pythia), the Llama family (Llama, Mistral,
// Qwen 2, SmolLM…) and Gemma 2 — in TransformerLens' names (d_model, n_heads, n_key_value_heads,
// rotary_dim, parallel_attn_mlp, gated_mlp, …), read from a Hugging Face config.json. A field or
// value this reader does not know is an error that names it, never a silent guess.
import { InputError } from "../io/errors.js";
import type { ActFn, RopeScaling } from "./transformer-ops.js";

export type DecoderFamily = "gpt_neox" | "llama" | "gemma2";

/** A rotary decoder's shape and the choices that tell the families apart. */
export interface DecoderConfig {
  family: DecoderFamily;
  /** config.json's model_type ("gpt_neox", "llama", "mistral", "qwen2", "gemma2"). */
  model_type: string;
  d_model: number;
  n_layers: number;
  n_heads: number;
  /** Key/value heads (grouped-query attention: each serves n_heads / n_key_value_heads query heads). */
  n_key_value_heads: number;
  d_head: number;
  d_mlp: number;
  d_vocab: number;
  /** max_position_embeddings. */
  n_ctx: number;
  act_fn: ActFn;
  /** "LN": LayerNorm with bias (GPT-NeoX); "RMS": RMSNorm (Llama; Gemma's (1 + w) is stored as such). */
  normalization: "LN" | "RMS";
  eps: number;
  /** MLP = W_out(act(W_gate·x) ⊙ W_in·x) (SwiGLU, GeGLU) rather than W_out(act(W_in·x)). */
  gated_mlp: boolean;
  /** GPT-NeoX's parallel residual: x + attn(ln1(x)) + mlp(ln2(x)). */
  parallel_attn_mlp: boolean;
  /** Dimensions of each head that RoPE rotates (GPT-NeoX: rotary_pct · d_head). */
  rotary_dim: number;
  rotary_base: number;
  rope_scaling?: RopeScaling;
  /** Attention scores are q·k / attn_scale (√d_head; Gemma 2: √query_pre_attn_scalar). */
  attn_scale: number;
  /** Scores → cap · tanh(scores / cap) before the mask (Gemma 2); 0 for none. */
  attn_scores_soft_cap: number;
  /** Logits → cap · tanh(logits / cap) (Gemma 2); 0 for none. */
  output_logits_soft_cap: number;
  /** Sliding attention window of each layer (keys fewer than this many positions back), 0 for global. */
  windows: number[];
  /** Gemma 2: a norm after attention and after the MLP as well (ln1_post, ln2_post). */
  post_norms: boolean;
  /** The embedding is multiplied by this before the first block (Gemma: √d_model). */
  embed_scale: number;
  bias: { qkv: boolean; o: boolean; mlp: boolean };
  /** Unembedding = token embedding (tie_word_embeddings). */
  tied: boolean;
  bos_token_id?: number;
}

/** The model_types read here, and their family. */
export const DECODER_MODEL_TYPES: Record<string, DecoderFamily> = { gpt_neox: "gpt_neox", llama: "llama", mistral: "llama", qwen2: "llama", gemma2: "gemma2" };

const ACT_FNS: Record<string, ActFn> = { gelu: "gelu", gelu_new: "gelu_new", gelu_pytorch_tanh: "gelu_new", gelu_fast: "gelu_new", silu: "silu", swish: "silu", relu: "relu" };

type Json = Record<string, any>;

function int(json: Json, key: string, file: string, fallback?: number): number {
  const v = json[key] ?? fallback;
  if (v === undefined) throw new InputError(file, `has no '${key}'`);
  if (!Number.isInteger(v) || v < 1) throw new InputError(file, `'${key}' must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function num(json: Json, key: string, file: string, fallback: number): number {
  const v = json[key] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new InputError(file, `'${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function flag(json: Json, key: string, file: string, fallback: boolean): boolean {
  const v = json[key] ?? fallback;
  if (typeof v !== "boolean") throw new InputError(file, `'${key}' must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function act(json: Json, key: string, file: string, fallback: string): ActFn {
  const name = json[key] ?? fallback;
  const fn = ACT_FNS[name];
  if (!fn) throw new InputError(file, `'${key}' is '${name}'; featurelab knows ${Object.keys(ACT_FNS).join(", ")}`);
  return fn;
}

function ropeScaling(json: Json, file: string): RopeScaling | undefined {
  const s = json.rope_scaling;
  if (s === undefined || s === null) return undefined;
  const type = s.rope_type ?? s.type;
  const need = (k: string) => {
    if (typeof s[k] !== "number") throw new InputError(file, `'rope_scaling.${k}' must be a number for rope_type '${type}'`);
    return s[k] as number;
  };
  if (type === "linear") return { rope_type: "linear", factor: need("factor") };
  if (type === "llama3") {
    return { rope_type: "llama3", factor: need("factor"), low_freq_factor: need("low_freq_factor"), high_freq_factor: need("high_freq_factor"), original_max_position_embeddings: need("original_max_position_embeddings") };
  }
  if (type === "default") return undefined;
  throw new InputError(file, `'rope_scaling.rope_type' is '${type}'; featurelab knows "linear" and "llama3"`);
}

/** From the config.json of a GPT-NeoX, Llama-family or Gemma 2 model. */
export function decoderConfigFromHf(json: Json, file: string): DecoderConfig {
  const model_type = String(json.model_type);
  const family = DECODER_MODEL_TYPES[model_type];
  if (!family) throw new InputError(file, `model_type '${model_type}' is not one featurelab reads (${["gpt2", ...Object.keys(DECODER_MODEL_TYPES)].join(", ")})`);
  const d_model = int(json, "hidden_size", file);
  const n_heads = int(json, "num_attention_heads", file);
  const n_layers = int(json, "num_hidden_layers", file);
  const common = {
    family,
    model_type,
    d_model,
    n_layers,
    n_heads,
    d_mlp: int(json, "intermediate_size", file),
    d_vocab: int(json, "vocab_size", file),
    n_ctx: int(json, "max_position_embeddings", file),
    bos_token_id: typeof json.bos_token_id === "number" ? json.bos_token_id : undefined,
  };
  if (family === "gpt_neox") {
    if (d_model % n_heads !== 0) throw new InputError(file, `hidden_size ${d_model} is not divisible by num_attention_heads ${n_heads}`);
    const d_head = d_model / n_heads;
    const pct = num(json, "rotary_pct", file, 0.25);
    if (!(pct > 0 && pct <= 1)) throw new InputError(file, `'rotary_pct' must be in (0, 1], got ${pct}`);
    const rotary_dim = Math.floor(d_head * pct);
    if (rotary_dim % 2 !== 0) throw new InputError(file, `rotary_pct ${pct} of head size ${d_head} rotates an odd number of dimensions (${rotary_dim})`);
    const bias = flag(json, "attention_bias", file, true);
    return {
      ...common,
      n_key_value_heads: n_heads,
      d_head,
      act_fn: act(json, "hidden_act", file, "gelu"),
      normalization: "LN",
      eps: num(json, "layer_norm_eps", file, 1e-5),
      gated_mlp: false,
      parallel_attn_mlp: flag(json, "use_parallel_residual", file, true),
      rotary_dim,
      rotary_base: num(json, "rotary_emb_base", file, num(json, "rope_theta", file, 10000)),
      rope_scaling: ropeScaling(json, file),
      attn_scale: Math.sqrt(d_head),
      attn_scores_soft_cap: 0,
      output_logits_soft_cap: 0,
      windows: new Array(n_layers).fill(0),
      post_norms: false,
      embed_scale: 1,
      bias: { qkv: bias, o: bias, mlp: true },
      tied: flag(json, "tie_word_embeddings", file, false),
    };
  }
  const n_key_value_heads = int(json, "num_key_value_heads", file, n_heads);
  if (n_heads % n_key_value_heads !== 0) throw new InputError(file, `num_attention_heads ${n_heads} is not a multiple of num_key_value_heads ${n_key_value_heads}`);
  const gemma = family === "gemma2";
  const d_head = int(json, "head_dim", file, gemma ? 256 : d_model % n_heads === 0 ? d_model / n_heads : undefined);
  if (d_head % 2 !== 0) throw new InputError(file, `head_dim ${d_head} is odd; RoPE rotates pairs of dimensions`);
  const window = json.sliding_window ?? 0;
  if (!Number.isInteger(window) || window < 0) throw new InputError(file, `'sliding_window' must be a positive integer or null, got ${JSON.stringify(json.sliding_window)}`);
  if (model_type === "qwen2" && json.use_sliding_window === true) throw new InputError(file, `'use_sliding_window': true (Qwen 2's per-layer window) is not supported; featurelab reads Qwen 2 models with global attention`);
  const attnBias = model_type === "qwen2" ? true : flag(json, "attention_bias", file, false);
  return {
    ...common,
    n_key_value_heads,
    d_head,
    act_fn: act(json, gemma ? "hidden_activation" : "hidden_act", file, gemma ? "gelu_pytorch_tanh" : "silu"),
    normalization: "RMS",
    eps: num(json, "rms_norm_eps", file, 1e-6),
    gated_mlp: true,
    parallel_attn_mlp: false,
    rotary_dim: d_head,
    rotary_base: num(json, "rope_theta", file, 10000),
    rope_scaling: ropeScaling(json, file),
    attn_scale: Math.sqrt(gemma ? num(json, "query_pre_attn_scalar", file, 256) : d_head),
    attn_scores_soft_cap: gemma ? num(json, "attn_logit_softcapping", file, 0) : 0,
    output_logits_soft_cap: gemma ? num(json, "final_logit_softcapping", file, 0) : 0,
    // Gemma 2 alternates: even layers slide, odd ones are global. Mistral's window covers every layer.
    windows: Array.from({ length: n_layers }, (_, l) => (gemma ? (l % 2 === 0 ? window : 0) : model_type === "mistral" ? window : 0)),
    post_norms: gemma,
    embed_scale: gemma ? Math.sqrt(d_model) : 1,
    // Qwen 2: q, k and v have biases, o has none; Llama: attention_bias for all four.
    bias: { qkv: attnBias, o: model_type === "qwen2" ? false : attnBias, mlp: !gemma && flag(json, "mlp_bias", file, false) },
    tied: flag(json, "tie_word_embeddings", file, gemma),
  };
}
