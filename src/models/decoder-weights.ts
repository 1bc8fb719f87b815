// A rotary decoder's weights under TransformerLens-style names, kept in torch's Linear orientation
// [out, in] (so a checkpoint's matrices are used as they are), and where each comes from in a Hugging
// Face checkpoint of its family:
//   embed.W_E [V, d]; blocks.{l}.ln1.w (.b); attn.W_Q [H·dh, d], W_K and W_V [Hkv·dh, d], W_O [d, H·dh]
//   (b_Q, b_K, b_V, b_O where the family has biases); ln1_post.w (Gemma 2); ln2.w (.b);
//   mlp.W_gate, W_in [d_mlp, d], W_out [d, d_mlp] (b_in, b_out); ln2_post.w (Gemma 2); ln_final.w (.b);
//   unembed.W_U [V, d] unless tied.
// GPT-NeoX's fused query_key_value is split per head (its rows run q, k, v within each head); Gemma's
// RMSNorm weights w become 1 + w. Each checkpoint file is converted to float32 and dropped before
// the next is read.
import { tf } from "../engine/backend.js";
import { InputError } from "../io/errors.js";
import { toFloat32, type NdArray } from "../io/ndarray.js";
import type { DecoderConfig } from "./decoder-config.js";
import { checkpointShards, weightTensor, type StoredTensor } from "./hf-folder.js";
import { replaceWeight, type ProcessView } from "./process-weights.js";

export interface DecoderWeightSpec {
  name: string;
  shape: number[];
}

export function decoderLayout(cfg: DecoderConfig): DecoderWeightSpec[] {
  const { d_model: d, d_mlp: m, d_vocab: V, n_heads: H, n_key_value_heads: K, d_head: dh } = cfg;
  const ln = cfg.normalization === "LN";
  const out: DecoderWeightSpec[] = [{ name: "embed.W_E", shape: [V, d] }];
  const norm = (name: string) => {
    out.push({ name: `${name}.w`, shape: [d] });
    if (ln) out.push({ name: `${name}.b`, shape: [d] });
  };
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}.`;
    norm(`${b}ln1`);
    out.push({ name: `${b}attn.W_Q`, shape: [H * dh, d] }, { name: `${b}attn.W_K`, shape: [K * dh, d] }, { name: `${b}attn.W_V`, shape: [K * dh, d] });
    if (cfg.bias.qkv) out.push({ name: `${b}attn.b_Q`, shape: [H * dh] }, { name: `${b}attn.b_K`, shape: [K * dh] }, { name: `${b}attn.b_V`, shape: [K * dh] });
    out.push({ name: `${b}attn.W_O`, shape: [d, H * dh] });
    if (cfg.bias.o) out.push({ name: `${b}attn.b_O`, shape: [d] });
    if (cfg.post_norms) norm(`${b}ln1_post`);
    norm(`${b}ln2`);
    if (cfg.gated_mlp) out.push({ name: `${b}mlp.W_gate`, shape: [m, d] });
    out.push({ name: `${b}mlp.W_in`, shape: [m, d] }, { name: `${b}mlp.W_out`, shape: [d, m] });
    if (cfg.bias.mlp) out.push({ name: `${b}mlp.b_in`, shape: [m] }, { name: `${b}mlp.b_out`, shape: [d] });
    if (cfg.post_norms) norm(`${b}ln2_post`);
  }
  norm("ln_final");
  if (!cfg.tied) out.push({ name: "unembed.W_U", shape: [V, d] });
  return out;
}

/** One checkpoint tensor and what it becomes: whole, or (GPT-NeoX's fused qkv) split by rows into several weights. */
interface Source {
  hf: string;
  shape: number[];
  into: { name: string; rows?: number[] }[];
}

/** Hugging Face names (without the "model." / "gpt_neox." prefix) → canonical weights. */
function sources(cfg: DecoderConfig): Source[] {
  const whole = (hf: string, name: string, shape: number[]): Source => ({ hf, shape, into: [{ name }] });
  const layout = new Map(decoderLayout(cfg).map((w) => [w.name, w.shape]));
  const out: Source[] = [];
  const add = (hf: string, name: string) => {
    const shape = layout.get(name);
    if (shape) out.push(whole(hf, name, shape));
  };
  const normFrom = (hf: string, name: string) => {
    add(`${hf}.weight`, `${name}.w`);
    add(`${hf}.bias`, `${name}.b`);
  };
  if (cfg.family === "gpt_neox") {
    const { n_heads: H, d_head: dh, d_model: d } = cfg;
    // Rows of query_key_value: head h holds q at 3·dh·h + [0, dh), k at + [dh, 2dh), v at + [2dh, 3dh).
    const rowsOf = (part: number) => Array.from({ length: H * dh }, (_, i) => 3 * dh * Math.floor(i / dh) + part * dh + (i % dh));
    add("embed_in.weight", "embed.W_E");
    for (let l = 0; l < cfg.n_layers; l++) {
      const hf = `layers.${l}.`, b = `blocks.${l}.`;
      normFrom(`${hf}input_layernorm`, `${b}ln1`);
      out.push({ hf: `${hf}attention.query_key_value.weight`, shape: [3 * d, d], into: ["Q", "K", "V"].map((p, i) => ({ name: `${b}attn.W_${p}`, rows: rowsOf(i) })) });
      if (cfg.bias.qkv) out.push({ hf: `${hf}attention.query_key_value.bias`, shape: [3 * d], into: ["Q", "K", "V"].map((p, i) => ({ name: `${b}attn.b_${p}`, rows: rowsOf(i) })) });
      add(`${hf}attention.dense.weight`, `${b}attn.W_O`);
      add(`${hf}attention.dense.bias`, `${b}attn.b_O`);
      normFrom(`${hf}post_attention_layernorm`, `${b}ln2`);
      add(`${hf}mlp.dense_h_to_4h.weight`, `${b}mlp.W_in`);
      add(`${hf}mlp.dense_h_to_4h.bias`, `${b}mlp.b_in`);
      add(`${hf}mlp.dense_4h_to_h.weight`, `${b}mlp.W_out`);
      add(`${hf}mlp.dense_4h_to_h.bias`, `${b}mlp.b_out`);
    }
    normFrom("final_layer_norm", "ln_final");
    add("embed_out.weight", "unembed.W_U");
    return out;
  }
  add("embed_tokens.weight", "embed.W_E");
  for (let l = 0; l < cfg.n_layers; l++) {
    const hf = `layers.${l}.`, b = `blocks.${l}.`;
    normFrom(`${hf}input_layernorm`, `${b}ln1`);
    for (const [p, proj] of [["Q", "q_proj"], ["K", "k_proj"], ["V", "v_proj"], ["O", "o_proj"]]) {
      add(`${hf}self_attn.${proj}.weight`, `${b}attn.W_${p}`);
      add(`${hf}self_attn.${proj}.bias`, `${b}attn.b_${p}`);
    }
    // Gemma 2 names its norms around attention and the MLP differently from Llama's single post-attention one.
    if (cfg.post_norms) {
      normFrom(`${hf}post_attention_layernorm`, `${b}ln1_post`);
      normFrom(`${hf}pre_feedforward_layernorm`, `${b}ln2`);
      normFrom(`${hf}post_feedforward_layernorm`, `${b}ln2_post`);
    } else normFrom(`${hf}post_attention_layernorm`, `${b}ln2`);
    for (const [p, proj] of [["gate", "gate_proj"], ["in", "up_proj"], ["out", "down_proj"]]) {
      add(`${hf}mlp.${proj}.weight`, `${b}mlp.W_${p}`);
      add(`${hf}mlp.${proj}.bias`, `${b}mlp.b_${p}`);
    }
  }
  normFrom("norm", "ln_final");
  add("lm_head.weight", "unembed.W_U");
  return out;
}

const PREFIXES: Record<DecoderConfig["family"], string> = { gpt_neox: "gpt_neox.", llama: "model.", gemma2: "model." };

/** Weights from a folder's checkpoint, by canonical name, float32; every problem names the file and the tensor. */
export function readDecoderWeights(dir: string, cfg: DecoderConfig, kind: string): Record<string, tf.Tensor> {
  const wanted = new Map(sources(cfg).map((s) => [s.hf, s]));
  const prefix = PREFIXES[cfg.family];
  const params: Record<string, tf.Tensor> = {};
  const files: string[] = [];
  try {
    for (const { file, tensors } of checkpointShards(dir, kind)) {
      files.push(file);
      for (const [stored, array] of Object.entries(tensors)) {
        const name = stored.startsWith(prefix) ? stored.slice(prefix.length) : stored;
        const src = wanted.get(name);
        if (!src) {
          const layer = /^layers\.(\d+)\./.exec(name);
          if (layer && Number(layer[1]) >= cfg.n_layers) throw new InputError(file, `holds '${stored}', a block beyond config.json's num_hidden_layers ${cfg.n_layers}`);
          continue; // rotary caches, attention-mask buffers, a classifier head: not weights of this model
        }
        convert(src, array, file, stored, cfg, params);
        wanted.delete(name);
      }
    }
    const missing = [...wanted.values()][0];
    if (missing) {
      const tiedHint = missing.hf === "lm_head.weight" || missing.hf === "embed_out.weight" ? " (config.json says tie_word_embeddings: false, so the unembedding is its own tensor)" : "";
      const full = /^(lm_head|embed_out)\./.test(missing.hf) ? missing.hf : `${prefix}${missing.hf}`;
      throw new InputError(files.join(", "), `has no tensor '${full}' (looked for it with and without the '${prefix}' prefix)${tiedHint}`);
    }
    return params;
  } catch (err) {
    tf.dispose(Object.values(params));
    throw err;
  }
}

function convert(src: Source, array: StoredTensor, file: string, stored: string, cfg: DecoderConfig, params: Record<string, tf.Tensor>): void {
  if (array.shape.join(",") !== src.shape.join(",")) {
    throw new InputError(file, `tensor '${stored}' has shape [${array.shape.join(", ")}], but config.json (${describe(cfg)}) implies [${src.shape.join(", ")}]`);
  }
  if (!["float32", "float16", "bfloat16", "float64"].includes(array.dtype)) throw new InputError(file, `tensor '${stored}' has dtype ${array.dtype}; weights must be floating point`);
  const gemmaNorm = cfg.family === "gemma2" && /norm\.weight$/.test(stored);
  if (!gemmaNorm && src.into.length === 1 && !src.into[0].rows) {
    params[src.into[0].name] = weightTensor(array);
    return;
  }
  let values = toFloat32(array.read());
  // Gemma's RMSNorm multiplies by (1 + w): stored here as the factor itself, as TransformerLens does.
  if (gemmaNorm) values = values.map((w) => 1 + w);
  const width = src.shape.length === 2 ? src.shape[1] : 1;
  for (const target of src.into) {
    if (!target.rows) {
      params[target.name] = tf.tensor(values, src.shape, "float32");
      continue;
    }
    const part = new Float32Array(target.rows.length * width);
    target.rows.forEach((r, i) => part.set(values.subarray(r * width, (r + 1) * width), i * width));
    params[target.name] = tf.tensor(part, src.shape.length === 2 ? [target.rows.length, width] : [target.rows.length], "float32");
  }
}

/** The weights under their Hugging Face names (with the family's prefix), as readDecoderWeights reads them back. */
export async function decoderCheckpoint(cfg: DecoderConfig, params: Record<string, tf.Tensor>): Promise<Record<string, NdArray>> {
  const prefix = PREFIXES[cfg.family];
  const out: Record<string, NdArray> = {};
  for (const src of sources(cfg)) {
    const width = src.shape.length === 2 ? src.shape[1] : 1;
    const values = new Float32Array(src.shape.reduce((a, b) => a * b, 1));
    for (const target of src.into) {
      const data = (await params[target.name].data()) as Float32Array;
      if (!target.rows) values.set(data);
      else target.rows.forEach((r, i) => values.set(data.subarray(i * width, (i + 1) * width), r * width));
    }
    const stored = cfg.family === "gemma2" && /norm\.weight$/.test(src.hf) ? values.map((w) => w - 1) : values;
    out[/^(lm_head|embed_out)\./.test(src.hf) ? src.hf : prefix + src.hf] = { dtype: "float32", shape: src.shape, data: stored };
  }
  return out;
}

export function describe(cfg: DecoderConfig): string {
  return `hidden_size ${cfg.d_model}, num_hidden_layers ${cfg.n_layers}, num_attention_heads ${cfg.n_heads}, num_key_value_heads ${cfg.n_key_value_heads}, head_dim ${cfg.d_head}, intermediate_size ${cfg.d_mlp}, vocab_size ${cfg.d_vocab}`;
}

/** What TransformerLens' processing touches in a decoder (process-weights.ts). */
export function decoderProcessView(cfg: DecoderConfig, p: Record<string, tf.Tensor>): ProcessView {
  const reader = (W: string, b: string) => ({ W, outIn: true, b });
  const norms: ProcessView["norms"] = [];
  const writers: ProcessView["writers"] = [{ W: "embed.W_E", outIn: false }];
  const values: ProcessView["values"] = [];
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}.`;
    const bias = cfg.normalization === "LN" ? (n: string) => `${b}${n}.b` : () => undefined;
    norms.push({ w: `${b}ln1.w`, b: bias("ln1"), readers: ["Q", "K", "V"].map((x) => reader(`${b}attn.W_${x}`, `${b}attn.b_${x}`)) });
    const mlpReaders = [reader(`${b}mlp.W_in`, `${b}mlp.b_in`)];
    if (cfg.gated_mlp) mlpReaders.push(reader(`${b}mlp.W_gate`, `${b}mlp.b_gate`));
    norms.push({ w: `${b}ln2.w`, b: bias("ln2"), readers: mlpReaders });
    writers.push({ W: `${b}attn.W_O`, outIn: true, b: `${b}attn.b_O` }, { W: `${b}mlp.W_out`, outIn: true, b: `${b}mlp.b_out` });
    values.push({
      W_O: { W: `${b}attn.W_O`, outIn: true, b: `${b}attn.b_O` },
      bV: () => p[`${b}attn.b_V`],
      zeroBV: () => p[`${b}attn.b_V`] && replaceWeight(p, `${b}attn.b_V`, tf.zerosLike(p[`${b}attn.b_V`])),
      groups: cfg.n_heads / cfg.n_key_value_heads,
      dHead: cfg.d_head,
    });
  }
  const unembed = { W: "unembed.W_U", outIn: true, b: "unembed.b_U" };
  norms.push({ w: "ln_final.w", b: cfg.normalization === "LN" ? "ln_final.b" : undefined, readers: [unembed] });
  return { normalization: cfg.normalization, norms, writers, unembed, tiedTo: cfg.tied ? "embed.W_E" : undefined, values, logitSoftCap: cfg.output_logits_soft_cap };
}
