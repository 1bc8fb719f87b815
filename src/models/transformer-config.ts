// The shape of a GPT-2-architecture transformer, named as TransformerLens names it (d_model, n_layers,
// n_heads, d_head, d_mlp, d_vocab, n_ctx, act_fn), and its translation to and from the fields of a
// Hugging Face GPT2Config (config.json).
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

export type ActFn = "gelu_new" | "gelu" | "relu";

/** A GPT-2-architecture transformer's shape, with TransformerLens' names. */
export interface TransformerConfig {
  d_model: number;
  n_layers: number;
  n_heads: number;
  /** d_model / n_heads. */
  d_head: number;
  d_mlp: number;
  d_vocab: number;
  /** Context length (n_positions). */
  n_ctx: number;
  /** "gelu_new": GPT-2's tanh approximation; "gelu": the exact (erf) one. */
  act_fn: ActFn;
  /** LayerNorm epsilon. */
  eps: number;
  /** Unembedding = token embedding transposed (GPT-2's tie_word_embeddings). */
  tied: boolean;
  /** GPT-2's scale_attn_by_inverse_layer_idx: scores also divided by layer index + 1. */
  scale_attn_by_inverse_layer_idx: boolean;
  bos_token_id?: number;
}

const CONFIG_KEYS = optionNames<TransformerConfig>({ d_model: true, n_layers: true, n_heads: true, d_head: true, d_mlp: true, d_vocab: true, n_ctx: true, act_fn: true, eps: true, tied: true, scale_attn_by_inverse_layer_idx: true, bos_token_id: true });

/** HF activation_function names and what they compute here. */
const ACT_FNS: Record<string, ActFn> = {
  gelu_new: "gelu_new",
  gelu_pytorch_tanh: "gelu_new",
  gelu_fast: "gelu_new",
  gelu: "gelu",
  relu: "relu",
};

/**
 * A full config from a few sizes; the rest defaults as GPT-2 does.
 * @example
 * const cfg = fl.transformerConfig({ d_model: 64, n_layers: 2, n_heads: 4, d_vocab: 100, n_ctx: 32 });
 * cfg.d_head;                                 // 16
 */
export function transformerConfig(c: Partial<TransformerConfig> & Pick<TransformerConfig, "d_model" | "n_layers" | "n_heads" | "d_vocab" | "n_ctx">): TransformerConfig {
  rejectUnknownOptions("transformerConfig", c, CONFIG_KEYS);
  const cfg: TransformerConfig = {
    d_head: c.d_model / c.n_heads,
    d_mlp: 4 * c.d_model,
    act_fn: "gelu_new",
    eps: 1e-5,
    tied: true,
    scale_attn_by_inverse_layer_idx: false,
    ...c,
  };
  checkConfig(cfg);
  return cfg;
}

function checkConfig(cfg: TransformerConfig, file?: string): void {
  for (const k of ["d_model", "n_layers", "n_heads", "d_mlp", "d_vocab", "n_ctx"] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new InputError(file, `${k} must be a positive integer, got ${cfg[k]}`);
  }
  if (cfg.d_model % cfg.n_heads !== 0) throw new InputError(file, `n_embd ${cfg.d_model} is not divisible by n_head ${cfg.n_heads}`);
  if (cfg.d_head !== cfg.d_model / cfg.n_heads) throw new InputError(file, `d_head must be d_model / n_heads = ${cfg.d_model / cfg.n_heads}`);
  if (!Object.values(ACT_FNS).includes(cfg.act_fn)) throw new InputError(file, `activation '${cfg.act_fn}' is not one of ${Object.keys(ACT_FNS).join(", ")}`);
  if (!(cfg.eps > 0)) throw new InputError(file, `layer_norm_epsilon must be > 0, got ${cfg.eps}`);
}

/** From a config.json of a GPT-2-architecture model (model_type "gpt2"). */
export function fromHfConfig(json: Record<string, any>, file: string): TransformerConfig {
  if (json.model_type !== undefined && json.model_type !== "gpt2") {
    throw new InputError(file, `model_type '${json.model_type}' is not GPT-2; featurelab's Transformer reads GPT-2-architecture folders`);
  }
  for (const k of ["n_embd", "n_layer", "n_head", "vocab_size", "n_positions"]) {
    if (json[k] === undefined) throw new InputError(file, `has no '${k}' (a GPT2Config needs n_embd, n_layer, n_head, vocab_size, n_positions)`);
  }
  const act = json.activation_function ?? "gelu_new";
  if (!(act in ACT_FNS)) throw new InputError(file, `activation_function '${act}' is not supported (supported: ${Object.keys(ACT_FNS).join(", ")})`);
  if (json.scale_attn_weights === false) throw new InputError(file, "scale_attn_weights: false is not supported");
  const cfg: TransformerConfig = {
    d_model: json.n_embd,
    n_layers: json.n_layer,
    n_heads: json.n_head,
    d_head: json.n_embd / json.n_head,
    d_mlp: json.n_inner ?? 4 * json.n_embd,
    d_vocab: json.vocab_size,
    n_ctx: json.n_positions,
    act_fn: ACT_FNS[act],
    eps: json.layer_norm_epsilon ?? 1e-5,
    tied: json.tie_word_embeddings ?? true,
    scale_attn_by_inverse_layer_idx: json.scale_attn_by_inverse_layer_idx ?? false,
    ...(json.bos_token_id != null ? { bos_token_id: json.bos_token_id } : {}),
  };
  checkConfig(cfg, file);
  return cfg;
}

/** The config.json fields of a GPT2Config for this shape. */
export function toHfConfig(cfg: TransformerConfig): Record<string, unknown> {
  const act = cfg.act_fn === "gelu_new" ? "gelu_new" : cfg.act_fn;
  return {
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    vocab_size: cfg.d_vocab,
    n_positions: cfg.n_ctx,
    n_ctx: cfg.n_ctx,
    n_embd: cfg.d_model,
    n_layer: cfg.n_layers,
    n_head: cfg.n_heads,
    n_inner: cfg.d_mlp,
    activation_function: act,
    layer_norm_epsilon: cfg.eps,
    tie_word_embeddings: cfg.tied,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: cfg.scale_attn_by_inverse_layer_idx,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    initializer_range: 0.02,
    torch_dtype: "float32",
    ...(cfg.bos_token_id !== undefined ? { bos_token_id: cfg.bos_token_id, eos_token_id: cfg.bos_token_id } : {}),
  };
}
