// What a QK dictionary trains on, read once from the frozen model: per (document, position) the
// LayerNorm-normalised residual r entering one attention layer (blocks.{l}.ln1.hook_normalized), its
// queries and keys (attn.hook_q/hook_k, all heads flattened to [H·d_head]), and the layer's attention
// pattern A (attn.hook_pattern) — kept on the host, so training batches are gathers, not forward passes.
import { tf, ready } from "../../engine/backend.js";
import { Transformer, transformerForward } from "../../models/transformer.js";
import type { Tokenizer } from "../../models/tokenizer.js";

export interface QkData {
  layer: number;
  /** Documents and positions per document (all documents have the same length). */
  n: number;
  T: number;
  dModel: number;
  heads: number;
  dHead: number;
  /** The factor the model multiplies q·k by (1/√d_head, or 1/(√d_head·(l+1)) with GPT-2's layer scaling). */
  scale: number;
  /** Token ids, [n][T]. */
  tokens: number[][];
  /** r [n·T, d_model], q and k [n·T, H·d_head], pattern [n, H, T(query), T(key)]. */
  r: Float32Array;
  q: Float32Array;
  k: Float32Array;
  pattern: Float32Array;
  /** The model's tokenizer, for token text (ids are shown without one). */
  tokenizer: Tokenizer | undefined;
}

/** A token's text (its id when there is no tokenizer). */
export function tokenText(data: Pick<QkData, "tokenizer">, id: number): string {
  return data.tokenizer ? data.tokenizer.token(id) : String(id);
}

/** Checks that `model` is a Transformer and `layer` one of its layers; names what is wrong. */
export function checkQkTarget(model: unknown, layer: unknown, what: string): asserts model is Transformer {
  if (!(model instanceof Transformer)) {
    const got = model === null || typeof model !== "object" ? typeof model : (model.constructor?.name ?? "an object");
    throw new Error(`featurelab: ${what} decomposes the attention of a Transformer (fl.loadModel or Transformer.init); got ${got}`);
  }
  const L = model.cfg.n_layers;
  if (!Number.isInteger(layer) || (layer as number) < 0 || (layer as number) >= L) {
    throw new Error(`featurelab: ${what}: layer ${String(layer)} is out of range; ${model.name} has layers 0..${L - 1} (hook blocks.{layer}.attn.hook_pattern)`);
  }
}

/** Runs the frozen model over `input` and keeps what the QK dictionary of `layer` needs. */
export async function collectQkData(model: Transformer, input: unknown, layer: number, opts: { prependBos?: boolean; what?: string } = {}): Promise<QkData> {
  await ready();
  const what = opts.what ?? "qkDictionary";
  checkQkTarget(model, layer, what);
  const cfg = model.cfg;
  const { batches, documents } = model.batches(input, { batchSize: 64, prependBos: opts.prependBos });
  if (documents.length === 0) throw new Error(`featurelab: ${what}: no documents to train on`);
  const T = documents[0].length;
  const odd = documents.findIndex((d) => d.length !== T);
  if (odd >= 0) throw new Error(`featurelab: ${what}: every document must have the same length (document 0 has ${T} tokens, document ${odd} has ${documents[odd].length})`);
  if (T < 2) throw new Error(`featurelab: ${what}: documents of ${T} token have no attention to decompose; give at least 2 positions`);
  const n = documents.length, d = cfg.d_model, H = cfg.n_heads, dh = cfg.d_head;
  const data: QkData = {
    layer, n, T, dModel: d, heads: H, dHead: dh,
    scale: 1 / (Math.sqrt(dh) * (cfg.scale_attn_by_inverse_layer_idx ? layer + 1 : 1)),
    tokens: documents.map((doc) => doc.slice()),
    r: new Float32Array(n * T * d),
    q: new Float32Array(n * T * H * dh),
    k: new Float32Array(n * T * H * dh),
    pattern: new Float32Array(n * H * T * T),
    tokenizer: model.tokenizer,
  };
  const b = `blocks.${layer}.`;
  const wanted: Record<string, keyof QkData> = { [`${b}ln1.hook_normalized`]: "r", [`${b}attn.hook_q`]: "q", [`${b}attn.hook_k`]: "k", [`${b}attn.hook_pattern`]: "pattern" };
  for (const batch of batches) {
    const got: Record<string, Float32Array> = {};
    tf.tidy(() => {
      transformerForward(cfg, model.params, batch.input() as tf.Tensor2D, (name, x) => {
        const key = wanted[name];
        if (key) got[key] = x.dataSync() as Float32Array;
        return x;
      }, { listens: (name) => name in wanted });
    });
    for (const key of ["r", "q", "k", "pattern"] as const) {
      const per = data[key].length / n;
      data[key].set(got[key], batch.start * per);
    }
  }
  return data;
}
