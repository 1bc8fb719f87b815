// Feature-to-feature attribution between transcoders of different layers (Dunefsky, Chlenski & Nanda
// 2024). An upstream feature i' of layer l writes z_i'(x)·d_dec^(l,i') into the residual stream; a
// downstream feature i of layer l' > l reads it through w_enc^(l',i), so its direct contribution is
//   raw:    z_i'(x) · (d_dec^(l,i') · w_enc^(l',i))                 (the published formula)
//   frozen: z_i'(x) · ((d_dec^(l,i') − mean)/σ_x ⊙ γ) · w_enc^(l',i)  (LayerNorm ln2 frozen at its clean scale σ_x)
// d_dec·w_enc is input-independent (the "virtual weight"); z_i'(x) (and σ_x) carry the input. Over many
// tokens an edge is summarised by its mean when the target fires, its mean over all tokens, and its share
// of the target's activation. explain() decomposes one activation exactly (feature-contributions.ts).
import { tf } from "../../engine/backend.js";
import type { Transformer } from "../../models/transformer.js";
import { withoutDecoder, type LanguageModel } from "../../models/language-model.js";
import type { TokenInput } from "../../models/token-input.js";
import { placeTranscoders, runTranscoders, type TranscoderActivations, type TranscoderAt, type TranscoderInput } from "./transcoder-set.js";
import { featureContributions, type FeatureContributions } from "./feature-contributions.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";

/** How a later layer's LayerNorm is treated: ignored (the published formula), or frozen at each token's scale. */
export type LayerNormHandling = "raw" | "frozen";

/** Options of `transcoderCircuit`. */
export interface TranscoderCircuitOptions {
  /** "raw" (default): z·(d_dec·w_enc), as published; "frozen": through ln2 frozen at each token's scale. */
  layerNorm?: LayerNormHandling;
  /** Strongest upstream features kept per downstream feature (default 8). */
  edgesPerTarget?: number;
  /** Documents per forward pass (default 32). */
  batchSize?: number;
  /** Put the BOS token before each text (default true). */
  prependBos?: boolean;
}

const CIRCUIT_OPTIONS = optionNames<TranscoderCircuitOptions>({ layerNorm: true, edgesPerTarget: true, batchSize: true, prependBos: true });

/** One edge: upstream feature → downstream feature. */
export interface CircuitEdge {
  sourceLayer: number;
  source: number;
  targetLayer: number;
  target: number;
  /** Mean contribution over the tokens where the target fires. */
  meanWhenActive: number;
  /** That mean over the target's mean activation when it fires. */
  share: number;
  /** Mean contribution over all tokens. */
  mean: number;
  /** The input-independent part, d_dec·w_enc (raw) or through γ and centring (frozen, without 1/σ). */
  virtualWeight: number;
  /** Tokens where the target fires. */
  targetFires: number;
}

/** How often a feature fires and on which tokens it fires most. */
export interface CircuitFeature {
  layer: number;
  feature: number;
  frequency: number;
  meanWhenActive: number;
  maxActivation: number;
  /** Tokens of its strongest activations, strongest first (distinct). */
  topTokens: string[];
}

/** A transcoder feature: its layer and index. */
export interface FeatureRef {
  layer: number;
  feature: number;
}

/** The part of the virtual weight that does not depend on the token: rows of W_dec (centred, frozen) times W_enc (scaled by γ). */
function virtualWeightFactors(model: Transformer, up: TranscoderAt, down: TranscoderAt, mode: LayerNormHandling): { dec: tf.Tensor2D; enc: tf.Tensor2D } {
  return tf.tidy(() => {
    // Copies: the caller disposes them, never the dictionaries' own weights.
    let dec: tf.Tensor = tf.clone(up.dictionary.weights.W_dec);
    let enc: tf.Tensor = tf.clone(down.dictionary.weights.W_enc);
    if (mode === "frozen") {
      dec = tf.sub(dec, tf.mean(dec, 1, true));
      enc = tf.mul(enc, tf.reshape(model.params[`h.${down.layer}.ln_2.weight`], [-1, 1]));
    }
    return { dec: dec as tf.Tensor2D, enc: enc as tf.Tensor2D };
  });
}

function topTokensOf(acts: TranscoderActivations, z: Float32Array, width: number, feature: number, n = 3): string[] {
  const order: number[] = [];
  for (let r = 0; r < acts.rows; r++) if (z[r * width + feature] > 0) order.push(r);
  order.sort((a, b) => z[b * width + feature] - z[a * width + feature]);
  const out: string[] = [];
  for (const r of order) {
    const t = acts.tokens[r];
    if (!out.includes(t)) out.push(t);
    if (out.length === n) break;
  }
  return out;
}

function describeFeatures(acts: TranscoderActivations, layer: number, width: number, wanted: Set<number>): CircuitFeature[] {
  const z = acts.features.get(layer)!;
  return [...wanted].sort((a, b) => a - b).map((feature) => {
    let fires = 0, sum = 0, max = 0;
    for (let r = 0; r < acts.rows; r++) {
      const v = z[r * width + feature];
      if (v > 0) (fires++, (sum += v));
      if (v > max) max = v;
    }
    return { layer, feature, frequency: fires / acts.rows, meanWhenActive: fires ? sum / fires : 0, maxActivation: max, topTokens: topTokensOf(acts, z, width, feature) };
  });
}

/** Edges from every upstream feature of `up` to every downstream feature of `down`, keeping the strongest per target. */
function layerPairEdges(model: Transformer, acts: TranscoderActivations, up: TranscoderAt, down: TranscoderAt, mode: LayerNormHandling, perTarget: number): CircuitEdge[] {
  const N = acts.rows;
  const wUp = up.dictionary.width, wDown = down.dictionary.width;
  const zUp = acts.features.get(up.layer)!, zDown = acts.features.get(down.layer)!;
  const inv = acts.inverseScale.get(down.layer)!;
  // S = upstream activations, divided by the downstream LayerNorm's σ when it is frozen.
  const s = new Float32Array(zUp.length);
  const colSum = new Float64Array(wUp);
  for (let r = 0; r < N; r++) {
    const f = mode === "frozen" ? inv[r] : 1;
    for (let i = 0; i < wUp; i++) {
      const v = zUp[r * wUp + i] * f;
      s[r * wUp + i] = v;
      colSum[i] += v;
    }
  }
  const fires = new Float64Array(wDown), activeSum = new Float64Array(wDown);
  for (let r = 0; r < N; r++) {
    for (let j = 0; j < wDown; j++) {
      const v = zDown[r * wDown + j];
      if (v > 0) (fires[j]++, (activeSum[j] += v));
    }
  }
  const edges: CircuitEdge[] = [];
  const { dec, enc } = virtualWeightFactors(model, up, down, mode);
  const S = tf.tensor2d(s, [N, wUp]);
  // Targets in chunks so that [w_up × chunk] stays small for wide dictionaries.
  const chunk = Math.max(1, Math.min(wDown, Math.floor(4_000_000 / wUp)));
  try {
    for (let j0 = 0; j0 < wDown; j0 += chunk) {
      const c = Math.min(chunk, wDown - j0);
      const [coFire, weights] = tf.tidy(() => {
        const active = tf.cast(tf.greater(tf.slice(tf.tensor2d(zDown, [N, wDown]), [0, j0], [N, c]), 0), "float32") as tf.Tensor2D;
        return [tf.matMul(S, active, true, false), tf.matMul(dec, tf.slice(enc, [0, j0], [enc.shape[0], c]))];
      });
      const co = coFire.dataSync(), vw = weights.dataSync();
      tf.dispose([coFire, weights]);
      for (let jj = 0; jj < c; jj++) {
        const j = j0 + jj;
        if (fires[j] === 0) continue;
        const meanAct = activeSum[j] / fires[j];
        const cands: CircuitEdge[] = [];
        for (let i = 0; i < wUp; i++) {
          const w = vw[i * c + jj];
          const whenActive = (co[i * c + jj] * w) / fires[j];
          if (whenActive === 0) continue;
          cands.push({ sourceLayer: up.layer, source: i, targetLayer: down.layer, target: j, meanWhenActive: whenActive, share: whenActive / meanAct, mean: (colSum[i] * w) / N, virtualWeight: w, targetFires: fires[j] });
        }
        cands.sort((a, b) => Math.abs(b.meanWhenActive) - Math.abs(a.meanWhenActive));
        edges.push(...cands.slice(0, perTarget));
      }
    }
  } finally {
    tf.dispose([S, dec, enc]);
  }
  return edges;
}

/** The edges between transcoder features of different layers, measured token by token (made by `fl.transcoderCircuit`, drawn by `fl.plot.circuit`). */
export class TranscoderCircuit {
  readonly model: Transformer;
  readonly transcoders: readonly TranscoderAt[];
  readonly layerNorm: LayerNormHandling;
  /** Strongest edges, by |meanWhenActive|, across every pair of traced layers. */
  readonly edges: readonly CircuitEdge[];
  /** Every feature that appears in an edge. */
  readonly features: readonly CircuitFeature[];
  readonly tokens: number;
  /** The activations the edges were measured on. */
  readonly activations: TranscoderActivations;

  constructor(model: Transformer, transcoders: TranscoderAt[], activations: TranscoderActivations, layerNorm: LayerNormHandling, edges: CircuitEdge[]) {
    this.model = model;
    this.transcoders = transcoders;
    this.activations = activations;
    this.layerNorm = layerNorm;
    this.edges = edges.sort((a, b) => Math.abs(b.meanWhenActive) - Math.abs(a.meanWhenActive));
    this.tokens = activations.rows;
    const wanted = new Map<number, Set<number>>();
    const add = (layer: number, f: number) => (wanted.get(layer) ?? wanted.set(layer, new Set()).get(layer)!).add(f);
    for (const e of this.edges) (add(e.sourceLayer, e.source), add(e.targetLayer, e.target));
    this.features = transcoders.flatMap(({ layer, dictionary }) => (wanted.has(layer) ? describeFeatures(activations, layer, dictionary.width, wanted.get(layer)!) : []));
  }

  /**
   * The n strongest edges (all, by default), as table rows.
   * @example
   * console.table(circuit.top(10));
   */
  top(n = Infinity): CircuitEdge[] {
    return this.edges.slice(0, n);
  }

  /**
   * Edges into one downstream feature, strongest first.
   * @example
   * circuit.into({ layer: 1, feature: 12 });
   */
  into(target: FeatureRef): CircuitEdge[] {
    return this.edges.filter((e) => e.targetLayer === target.layer && e.target === target.feature);
  }

  /**
   * Edges out of one upstream feature, strongest first.
   * @example
   * circuit.from({ layer: 0, feature: 3 });
   */
  from(source: FeatureRef): CircuitEdge[] {
    return this.edges.filter((e) => e.sourceLayer === source.layer && e.source === source.feature);
  }

  /**
   * A feature of the circuit and its edges in and out, if it appears in one.
   * @example
   * circuit.feature({ layer: 1, feature: 12 });
   */
  feature(ref: FeatureRef): CircuitFeature | undefined {
    return this.features.find((f) => f.layer === ref.layer && f.feature === ref.feature);
  }

  /**
   * Every contribution to one feature's pre-activation at one token: the embedding, each attention head,
   * each upstream transcoder feature, transcoder biases and errors, whole MLPs without a transcoder, and the
   * constant terms — LayerNorm frozen at the token's scale, so they add up to the pre-activation exactly.
   * @example
   * const terms = await circuit.explain({ layer: 1, feature: 12 }, { document: 0, position: 9 });
   * fl.show(fl.plot.contributions(terms));
   */
  explain(target: FeatureRef, at: { document: number; position: number }): Promise<FeatureContributions> {
    return featureContributions(this.model, this.transcoders, this.activations.documents, target, at);
  }

  /** A text table of the strongest edges. */
  toString(): string {
    return `TranscoderCircuit(${this.model.name}: layers ${this.transcoders.map((t) => t.layer).join(", ")}, ${this.edges.length} edges over ${this.tokens} tokens, LayerNorm ${this.layerNorm})`;
  }
}

/**
 * Attribution between the transcoders of different layers on some tokens:
 * `await fl.transcoderCircuit(model, { 0: tc0, 1: tc1 }, tokens)` → edges (table) and a graph display.
 * @example
 * const circuit = await fl.transcoderCircuit(model, { 0: tc0, 1: tc1 }, tokens, { layerNorm: "frozen" });
 * fl.show(fl.plot.circuit(circuit));
 */
export async function transcoderCircuit(lm: LanguageModel, transcoders: TranscoderInput, input: TokenInput, opts: TranscoderCircuitOptions = {}): Promise<TranscoderCircuit> {
  rejectUnknownOptions("transcoderCircuit", opts, CIRCUIT_OPTIONS);
  const model = withoutDecoder(lm, "transcoderCircuit");
  const placed = placeTranscoders(model, transcoders);
  const mode = opts.layerNorm ?? "raw";
  if (mode !== "raw" && mode !== "frozen") throw new Error(`featurelab: layerNorm must be "raw" or "frozen", got '${mode}'`);
  const perTarget = opts.edgesPerTarget ?? 8;
  if (!Number.isInteger(perTarget) || perTarget < 1) throw new Error(`featurelab: edgesPerTarget must be a positive integer, got ${perTarget}`);
  const acts = await runTranscoders(model, placed, input, opts);
  const edges: CircuitEdge[] = [];
  for (let a = 0; a < placed.length; a++) {
    for (let b = a + 1; b < placed.length; b++) edges.push(...layerPairEdges(model, acts, placed[a], placed[b], mode, perTarget));
  }
  return new TranscoderCircuit(model, placed, acts, mode, edges);
}
