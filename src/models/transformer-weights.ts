// A GPT-2 transformer's weights under Hugging Face's names (without the "transformer." prefix):
// wte [V, d], wpe [n_ctx, d], h.{l}.ln_1, h.{l}.attn.c_attn (Conv1D: weight [d, 3d], x·W),
// h.{l}.attn.c_proj [d, d], h.{l}.ln_2, h.{l}.mlp.c_fc [d, d_mlp], h.{l}.mlp.c_proj [d_mlp, d], ln_f,
// and lm_head.weight [V, d] only when the unembedding is not tied.
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

export function weightLayout(cfg: TransformerConfig): WeightSpec[] {
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

/**
 * GPT-2's initialisation: N(0, 0.02) weights, residual-output projections N(0, 0.02/√(2·n_layers)),
 * zero biases, unit LayerNorm gains. Drawn in JavaScript from a seed, so every engine agrees.
 */
export function initWeights(cfg: TransformerConfig, seed: number, std = 0.02): Record<string, { shape: number[]; values: Float32Array }> {
  const rng = new Rng(seed);
  const out: Record<string, { shape: number[]; values: Float32Array }> = {};
  for (const w of weightLayout(cfg)) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (w.init === "zeros") values = new Float32Array(n);
    else if (w.init === "ones") values = new Float32Array(n).fill(1);
    else {
      const s = w.init === "proj" ? std / Math.sqrt(2 * cfg.n_layers) : std;
      values = rng.normals(n).map((x) => x * s);
    }
    out[w.name] = { shape: w.shape, values };
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
  const d = cfg.d_model;
  for (let l = 0; l < cfg.n_layers; l++) {
    const h = `h.${l}.`;
    norms.push({ w: `${h}ln_1.weight`, b: `${h}ln_1.bias`, readers: [conv(`${h}attn.c_attn`)] }, { w: `${h}ln_2.weight`, b: `${h}ln_2.bias`, readers: [conv(`${h}mlp.c_fc`)] });
    writers.push(conv(`${h}attn.c_proj`), conv(`${h}mlp.c_proj`));
    // The value bias is the last third of c_attn's bias.
    const qkvBias = `${h}attn.c_attn.bias`;
    values.push({
      W_O: conv(`${h}attn.c_proj`),
      bV: () => tf.slice(p[qkvBias], [2 * d], [d]),
      zeroBV: () => replaceWeight(p, qkvBias, tf.tidy(() => tf.concat([tf.slice(p[qkvBias], [0], [2 * d]), tf.zeros([d])]))),
      groups: 1,
      dHead: cfg.d_head,
    });
  }
  const unembed = { W: "lm_head.weight", outIn: true, b: "lm_head.bias" };
  norms.push({ w: "ln_f.weight", b: "ln_f.bias", readers: [unembed] });
  return { normalization: "LN", norms, writers, unembed, tiedTo: cfg.tied ? "wte.weight" : undefined, values, logitSoftCap: 0 };
}
