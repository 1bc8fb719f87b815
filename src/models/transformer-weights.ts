// A GPT-2 transformer's weights under Hugging Face's names (without the "transformer." prefix):
// wte [V, d], wpe [n_ctx, d], h.{l}.ln_1, h.{l}.attn.c_attn (Conv1D: weight [d, 3d], x·W),
// h.{l}.attn.c_proj [d, d], h.{l}.ln_2, h.{l}.mlp.c_fc [d, d_mlp], h.{l}.mlp.c_proj [d_mlp, d], ln_f,
// and lm_head.weight [V, d] only when the unembedding is not tied. In memory c_attn is kept as its
// three column blocks, h.{l}.attn.c_attn.q / .k / .v (weight [d, d], bias [d]): the forward pass
// multiplies by each, and slicing them out of the fused matrix on every pass cost a fifth of its time.
import { Rng } from "../engine/random.js";
import type { TransformerConfig } from "./transformer-config.js";
import { tf } from "../engine/backend.js";
import { replaceWeight, type ProcessView } from "./process-weights.js";

export interface WeightSpec {
  name: string;
  shape: number[];
  /** How a fresh model initialises it (GPT-2's scheme). */
  init: "normal" | "proj" | "zeros" | "ones";
}

/** The weights as a checkpoint holds them (c_attn fused). */
export function checkpointLayout(cfg: TransformerConfig): WeightSpec[] {
  const { d_model: d, d_mlp: m, d_vocab: V, n_ctx: P } = cfg;
  const out: WeightSpec[] = [
    { name: "wte.weight", shape: [V, d], init: "normal" },
    { name: "wpe.weight", shape: [P, d], init: "normal" },
  ];
  for (let l = 0; l < cfg.n_layers; l++) {
    const h = `h.${l}.`;
    out.push(
      { name: `${h}ln_1.weight`, shape: [d], init: "ones" },
      { name: `${h}ln_1.bias`, shape: [d], init: "zeros" },
      { name: `${h}attn.c_attn.weight`, shape: [d, 3 * d], init: "normal" },
      { name: `${h}attn.c_attn.bias`, shape: [3 * d], init: "zeros" },
      { name: `${h}attn.c_proj.weight`, shape: [d, d], init: "proj" },
      { name: `${h}attn.c_proj.bias`, shape: [d], init: "zeros" },
      { name: `${h}ln_2.weight`, shape: [d], init: "ones" },
      { name: `${h}ln_2.bias`, shape: [d], init: "zeros" },
      { name: `${h}mlp.c_fc.weight`, shape: [d, m], init: "normal" },
      { name: `${h}mlp.c_fc.bias`, shape: [m], init: "zeros" },
      { name: `${h}mlp.c_proj.weight`, shape: [m, d], init: "proj" },
      { name: `${h}mlp.c_proj.bias`, shape: [d], init: "zeros" },
    );
  }
  out.push({ name: "ln_f.weight", shape: [d], init: "ones" }, { name: "ln_f.bias", shape: [d], init: "zeros" });
  if (!cfg.tied) out.push({ name: "lm_head.weight", shape: [V, d], init: "normal" });
  return out;
}

const QKV = ["q", "k", "v"] as const;

/** The weights as a Transformer holds them: the checkpoint's, with c_attn split into its q, k and v blocks. */
export function weightLayout(cfg: TransformerConfig): WeightSpec[] {
  const d = cfg.d_model;
  return checkpointLayout(cfg).flatMap((w) => {
    const m = /^(h\.\d+\.attn\.c_attn)\.(weight|bias)$/.exec(w.name);
    if (!m) return [w];
    return QKV.map((x) => ({ ...w, name: `${m[1]}.${x}.${m[2]}`, shape: m[2] === "weight" ? [d, d] : [d] }));
  });
}

/** A checkpoint tensor as the Transformer holds it: c_attn's weight [d, 3d] or bias [3d] as its q, k, v column blocks, anything else as it is. */
export function splitQkv(name: string, values: Float32Array, shape: number[]): { name: string; values: Float32Array; shape: number[] }[] {
  const m = /^(h\.\d+\.attn\.c_attn)\.(weight|bias)$/.exec(name);
  if (!m) return [{ name, values, shape }];
  const d = shape[shape.length - 1] / 3;
  if (m[2] === "bias") return QKV.map((x, i) => ({ name: `${m[1]}.${x}.bias`, values: values.slice(i * d, (i + 1) * d), shape: [d] }));
  const rows = shape[0];
  return QKV.map((x, i) => {
    const block = new Float32Array(rows * d);
    for (let r = 0; r < rows; r++) block.set(values.subarray(r * 3 * d + i * d, r * 3 * d + (i + 1) * d), r * d);
    return { name: `${m[1]}.${x}.weight`, values: block, shape: [rows, d] };
  });
}

/** The checkpoint tensor `name` (c_attn fused again from its blocks) from a Transformer's weights. */
export async function checkpointTensor(name: string, params: Record<string, { data(): Promise<unknown> }>, shape: number[]): Promise<Float32Array> {
  const m = /^(h\.\d+\.attn\.c_attn)\.(weight|bias)$/.exec(name);
  if (!m) return Float32Array.from((await params[name].data()) as Float32Array);
  const blocks = await Promise.all(QKV.map(async (x) => (await params[`${m[1]}.${x}.${m[2]}`].data()) as Float32Array));
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const d = shape[shape.length - 1] / 3;
  const rows = m[2] === "bias" ? 1 : shape[0];
  for (let r = 0; r < rows; r++) blocks.forEach((b, i) => out.set(b.subarray(r * d, (r + 1) * d), r * 3 * d + i * d));
  return out;
}

/**
 * GPT-2's initialisation: N(0, 0.02) weights, residual-output projections N(0, 0.02/√(2·n_layers)),
 * zero biases, unit LayerNorm gains. Drawn in JavaScript from a seed, so every engine agrees.
 */
export function initWeights(cfg: TransformerConfig, seed: number, std = 0.02): Record<string, { shape: number[]; values: Float32Array }> {
  const rng = new Rng(seed);
  const out: Record<string, { shape: number[]; values: Float32Array }> = {};
  for (const w of checkpointLayout(cfg)) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (w.init === "zeros") values = new Float32Array(n);
    else if (w.init === "ones") values = new Float32Array(n).fill(1);
    else {
      const s = w.init === "proj" ? std / Math.sqrt(2 * cfg.n_layers) : std;
      values = rng.normals(n).map((x) => x * s);
    }
    for (const part of splitQkv(w.name, values, w.shape)) out[part.name] = { shape: part.shape, values: part.values };
  }
  return out;
}

/** Tensors a GPT-2 checkpoint may hold that are not weights (the causal-mask buffers of old files). */
export function isBuffer(name: string): boolean {
  return /(^|\.)attn\.(bias|masked_bias)$/.test(name);
}

/** What TransformerLens' processing touches in a GPT-2 model (process-weights.ts); the unembedding's bias is lm_head.bias. */
export function transformerProcessView(cfg: TransformerConfig, p: Record<string, tf.Tensor>): ProcessView {
  const conv = (name: string) => ({ W: `${name}.weight`, outIn: false, b: `${name}.bias` });
  const norms: ProcessView["norms"] = [];
  const writers: ProcessView["writers"] = [{ W: "wte.weight", outIn: false }, { W: "wpe.weight", outIn: false }];
  const values: ProcessView["values"] = [];
  for (let l = 0; l < cfg.n_layers; l++) {
    const h = `h.${l}.`;
    norms.push({ w: `${h}ln_1.weight`, b: `${h}ln_1.bias`, readers: QKV.map((x) => conv(`${h}attn.c_attn.${x}`)) }, { w: `${h}ln_2.weight`, b: `${h}ln_2.bias`, readers: [conv(`${h}mlp.c_fc`)] });
    writers.push(conv(`${h}attn.c_proj`), conv(`${h}mlp.c_proj`));
    const bV = `${h}attn.c_attn.v.bias`;
    values.push({ W_O: conv(`${h}attn.c_proj`), bV: () => p[bV], zeroBV: () => replaceWeight(p, bV, tf.zerosLike(p[bV])), groups: 1, dHead: cfg.d_head });
  }
  const unembed = { W: "lm_head.weight", outIn: true, b: "lm_head.bias" };
  norms.push({ w: "ln_f.weight", b: "ln_f.bias", readers: [unembed] });
  return { normalization: "LN", norms, writers, unembed, tiedTo: cfg.tied ? "wte.weight" : undefined, values, logitSoftCap: 0 };
}
