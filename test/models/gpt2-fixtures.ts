// Small GPT-2 folders the tests write themselves: the configs of test/models/gpt2-reference.py with
// weights from the same integer hash, so numpy's logits apply to them.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeSafetensors } from "../../src/io/safetensors.js";
import type { NdArray } from "../../src/io/ndarray.js";

export const CASES = {
  tied: {
    config: { model_type: "gpt2", n_embd: 8, n_layer: 2, n_head: 2, n_inner: 32, vocab_size: 13, n_positions: 6, layer_norm_epsilon: 1e-5, activation_function: "gelu_new", tie_word_embeddings: true, scale_attn_by_inverse_layer_idx: false },
    tokens: [
      [3, 1, 4, 1, 5],
      [9, 2, 6, 5, 3],
    ],
  },
  untied: {
    config: { model_type: "gpt2", n_embd: 6, n_layer: 1, n_head: 3, n_inner: 12, vocab_size: 7, n_positions: 4, layer_norm_epsilon: 1e-5, activation_function: "gelu", tie_word_embeddings: false, scale_attn_by_inverse_layer_idx: true },
    tokens: [[6, 0, 2, 2]],
  },
};

type Config = (typeof CASES)["tied"]["config"];

export function layout(c: Config): [string, number[]][] {
  const d = c.n_embd, m = c.n_inner, V = c.vocab_size, P = c.n_positions;
  const out: [string, number[]][] = [["wte.weight", [V, d]], ["wpe.weight", [P, d]]];
  for (let l = 0; l < c.n_layer; l++) {
    const h = `h.${l}.`;
    out.push(
      [h + "ln_1.weight", [d]], [h + "ln_1.bias", [d]], [h + "attn.c_attn.weight", [d, 3 * d]], [h + "attn.c_attn.bias", [3 * d]],
      [h + "attn.c_proj.weight", [d, d]], [h + "attn.c_proj.bias", [d]], [h + "ln_2.weight", [d]], [h + "ln_2.bias", [d]],
      [h + "mlp.c_fc.weight", [d, m]], [h + "mlp.c_fc.bias", [m]], [h + "mlp.c_proj.weight", [m, d]], [h + "mlp.c_proj.bias", [d]],
    );
  }
  out.push(["ln_f.weight", [d]], ["ln_f.bias", [d]]);
  if (!c.tie_word_embeddings) out.push(["lm_head.weight", [V, d]]);
  return out;
}

export function hashedWeights(c: Config): Record<string, NdArray> {
  const out: Record<string, NdArray> = {};
  layout(c).forEach(([name, shape], k) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = ((i * i * 7919 + i * 31 + k * 104729) % 2003) / 2003 - 0.5;
      data[i] = /(ln_1|ln_2|ln_f)\.weight$/.test(name) ? 1 + 0.2 * v : name.endsWith("bias") ? 0.1 * v : 0.4 * v;
    }
    out[name] = { dtype: "float32", shape, data };
  });
  return out;
}

/** Write a case as a Hugging Face folder; `prefix` puts weights under "transformer." as GPT2LMHeadModel saves them. */
export function writeCase(dir: string, name: keyof typeof CASES, opts: { prefix?: boolean; edit?: (w: Record<string, NdArray>) => void; config?: Record<string, unknown> } = {}): string {
  const c = CASES[name].config;
  const w = hashedWeights(c);
  opts.edit?.(w);
  const named = Object.fromEntries(Object.entries(w).map(([k, v]) => [opts.prefix && k !== "lm_head.weight" ? `transformer.${k}` : k, v]));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...c, ...opts.config }));
  writeFileSync(join(dir, "model.safetensors"), writeSafetensors(named, { format: "pt" }));
  return dir;
}
