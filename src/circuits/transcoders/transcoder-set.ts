// Transcoders placed on a transformer's MLPs, and what they see on some tokens: each reads
// blocks.{l}.ln2.hook_normalized and predicts blocks.{l}.hook_mlp_out (Dunefsky et al. 2024). One
// forward pass caches those plus the residual stream the next layers' LayerNorms read.
import { tf } from "../../engine/backend.js";
import type { Dictionary } from "../../dictionaries/dictionary.js";
import { Transformer } from "../../models/transformer.js";
import type { TokenInput } from "../../models/token-input.js";
import type { ActivationSet } from "../../data/activation-set.js";

/** A transcoder and the MLP layer it stands in for. */
export interface TranscoderAt {
  layer: number;
  dictionary: Dictionary;
}

/** Transcoders by layer: `{ 0: tc0, 1: tc1 }`, or placed explicitly. */
export type TranscoderInput = readonly TranscoderAt[] | Readonly<Record<number, Dictionary>>;

const TRANSCODERS = new Set(["transcoder", "skip-transcoder"]);

/** Transcoders sorted by layer, each checked against the model: a transcoder architecture, d_in = d_out = d_model. */
export function placeTranscoders(model: Transformer, transcoders: TranscoderInput): TranscoderAt[] {
  if (!(model instanceof Transformer)) throw new Error("featurelab: transcoder circuits need a fl Transformer (its MLPs, LayerNorms and attention weights)");
  const list = Array.isArray(transcoders)
    ? (transcoders as readonly TranscoderAt[]).map((t) => ({ ...t }))
    : Object.entries(transcoders as Record<number, Dictionary>).map(([layer, dictionary]) => ({ layer: Number(layer), dictionary }));
  if (list.length === 0) throw new Error("featurelab: no transcoders given; pass { [layer]: transcoder } for the MLP layers to trace");
  const seen = new Set<number>();
  for (const { layer, dictionary } of list) {
    const where = `the transcoder for layer ${layer}`;
    if (!Number.isInteger(layer) || layer < 0 || layer >= model.cfg.n_layers) throw new RangeError(`featurelab: ${where}: layer out of range 0..${model.cfg.n_layers - 1} for ${model.name}`);
    if (seen.has(layer)) throw new Error(`featurelab: two transcoders for layer ${layer}`);
    seen.add(layer);
    if (!dictionary || !TRANSCODERS.has(dictionary.arch?.name)) {
      throw new Error(`featurelab: ${where} has architecture '${dictionary?.arch?.name}'; circuits trace "transcoder" or "skip-transcoder" dictionaries (MLP input → MLP output)`);
    }
    const dOut = dictionary.weights.W_dec.shape[1];
    if (dictionary.dIn !== model.cfg.d_model || dOut !== model.cfg.d_model) {
      throw new Error(`featurelab: ${where} maps ${dictionary.dIn} → ${dOut}, but ${model.name} has d_model ${model.cfg.d_model} (it should read blocks.${layer}.ln2.hook_normalized and predict blocks.${layer}.hook_mlp_out)`);
    }
    if (dictionary.cfg.normalization !== undefined) {
      throw new Error(`featurelab: ${where} was trained on normalised activations; circuits need a transcoder trained on the raw hook values`);
    }
  }
  return list.sort((a, b) => a.layer - b.layer);
}

export const inputHook = (layer: number) => `blocks.${layer}.ln2.hook_normalized`;
export const residMidHook = (layer: number) => `blocks.${layer}.hook_resid_mid`;

/** What the transcoders saw on the tokens: per layer, the feature activations [rows, width]. */
export interface TranscoderActivations {
  rows: number;
  /** Token id and text of each row (row order: document by document, position by position). */
  tokenIds: Int32Array;
  tokens: string[];
  document: Int32Array;
  position: Int32Array;
  documents: number[][];
  /** Per traced layer: features [rows · width], row-major. */
  features: Map<number, Float32Array>;
  /** Per layer: 1/σ of the LayerNorm before the MLP, token by token (LayerNorm frozen at its clean value). */
  inverseScale: Map<number, Float64Array>;
}

/** σ = √(var + eps) of every row, as the model's LayerNorm computes it. */
export function layerNormScales(set: ActivationSet, eps: number): Float64Array {
  const d = set.dim, v = set.vectors, out = new Float64Array(set.numRows);
  for (let r = 0; r < set.numRows; r++) {
    let mean = 0;
    for (let k = 0; k < d; k++) mean += v[r * d + k];
    mean /= d;
    let varSum = 0;
    for (let k = 0; k < d; k++) varSum += (v[r * d + k] - mean) ** 2;
    out[r] = Math.sqrt(varSum / d + eps);
  }
  return out;
}

export async function runTranscoders(model: Transformer, placed: TranscoderAt[], input: TokenInput, opts: { batchSize?: number; prependBos?: boolean }): Promise<TranscoderActivations> {
  const hooks = placed.flatMap(({ layer }) => [inputHook(layer), residMidHook(layer)]);
  const { cache, documents } = await model.run(input, { cache: hooks, logits: false, batchSize: opts.batchSize ?? 32, prependBos: opts.prependBos });
  const features = new Map<number, Float32Array>();
  const inverseScale = new Map<number, Float64Array>();
  let first: ActivationSet | undefined;
  for (const { layer, dictionary } of placed) {
    const x = cache.get(inputHook(layer));
    first ??= x;
    const z = tf.tidy(() => dictionary.encodeTensor(x.toTensor()));
    features.set(layer, (await z.data()) as Float32Array);
    z.dispose();
    inverseScale.set(layer, layerNormScales(cache.get(residMidHook(layer)), model.cfg.eps).map((s) => 1 / s));
  }
  const meta = first!;
  const tokenIds = Int32Array.from(meta.column("token_id") as ArrayLike<number>);
  const tokens = meta.columns.includes("token") ? Array.from(meta.column("token") as ArrayLike<string>) : Array.from(tokenIds, String);
  return {
    rows: meta.numRows,
    tokenIds,
    tokens,
    document: Int32Array.from(meta.column("document") as ArrayLike<number>),
    position: Int32Array.from(meta.column("position") as ArrayLike<number>),
    documents: documents ?? [],
    features,
    inverseScale,
  };
}
