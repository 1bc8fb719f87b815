// Spliced-in evaluation of a dictionary at a hook, following SAELens' evals: run the model clean,
// with the hook replaced by the dictionary's reconstruction, and with the hook zero-ablated, then
//   CE score = (CE_zero − CE_spliced) / (CE_zero − CE_clean)       (fraction of loss recovered)
//   KL score = (KL_zero − KL_spliced) / KL_zero                    (KL from the clean distribution)
//   L2 ratio = mean ‖x̂‖/‖x‖ over tokens (‖x‖ < 1e-4 counted as 1).
// Ignored positions (default: position 0, where the BOS token sits) keep their activation in the
// spliced run and count in no metric, as SAELens treats ignore_tokens; zero-ablation zeroes all.
import { tf, ready } from "../engine/backend.js";
import type { Dictionary } from "../dictionaries/dictionary.js";
import { positionAxis, type HookFn } from "../models/hook-points.js";
import type { HookedModel } from "../models/hooked-model.js";
import { checkSpliceable, viewAt } from "./dictionary-at-hook.js";
import { keepPositions } from "./edits.js";
import { asSequences, crossEntropy, klDivergence } from "./logit-metrics.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

/** Options of `spliceEval`. */
export interface SpliceEvalOptions {
  /** The hook point the dictionary reads (and is spliced into). */
  hook: string;
  /** Token ids or text to evaluate on. */
  input: unknown;
  /** Positions left alone and not counted (default [0]). */
  ignorePositions?: readonly number[];
  batchSize?: number;
  prependBos?: boolean;
}

const SPLICE_EVAL_OPTIONS = optionNames<SpliceEvalOptions>({ hook: true, input: true, ignorePositions: true, batchSize: true, prependBos: true });

/** What `spliceEval` returns: CE with the model clean, spliced and zero-ablated, the CE-loss score, KL score and L2 ratio. */
export class SpliceEvaluation {
  constructor(
    readonly hook: string,
    /** Next-token cross-entropy of the unchanged model. */
    readonly ceClean: number,
    /** …with the dictionary's reconstruction spliced in. */
    readonly ceSpliced: number,
    /** …with the hook zero-ablated. */
    readonly ceZeroAblation: number,
    /** Mean KL(clean ‖ spliced) per token. */
    readonly klSpliced: number,
    /** Mean KL(clean ‖ zero-ablated) per token. */
    readonly klZeroAblation: number,
    /** Mean ‖x̂‖/‖x‖ over tokens. */
    readonly l2Ratio: number,
    /** Mean number of active features per token. */
    readonly l0: number,
    /** Tokens the metrics averaged over. */
    readonly tokens: number,
  ) {}

  /** (CE_zero − CE_spliced)/(CE_zero − CE_clean): 1 = the splice costs nothing, 0 = as bad as zero-ablation. */
  get ceScore(): number {
    return (this.ceZeroAblation - this.ceSpliced) / (this.ceZeroAblation - this.ceClean);
  }

  /** (KL_zero − KL_spliced)/KL_zero. */
  get klScore(): number {
    return (this.klZeroAblation - this.klSpliced) / this.klZeroAblation;
  }

  /** CE_spliced − CE_clean. */
  get ceDelta(): number {
    return this.ceSpliced - this.ceClean;
  }

  /**
   * The numbers as a plain record (SAELens' names in the comments).
   * @example
   * console.table([evalA.toRecord(), evalB.toRecord()]);
   */
  toRecord(): Record<string, number | string> {
    return {
      hook: this.hook,
      ceScore: this.ceScore, // ce_loss_score
      ceClean: this.ceClean, // ce_loss_without_sae
      ceSpliced: this.ceSpliced, // ce_loss_with_sae
      ceZeroAblation: this.ceZeroAblation, // ce_loss_with_ablation
      ceDelta: this.ceDelta,
      klScore: this.klScore, // kl_div_score
      klSpliced: this.klSpliced, // kl_div_with_sae
      klZeroAblation: this.klZeroAblation, // kl_div_with_ablation
      l2Ratio: this.l2Ratio, // l2_ratio
      l0: this.l0,
      tokens: this.tokens,
    };
  }

  /** A text summary of the scores. */
  toString(): string {
    return `SpliceEvaluation(${this.hook}: CE score ${this.ceScore.toFixed(4)}, KL score ${this.klScore.toFixed(4)}, L2 ratio ${this.l2Ratio.toFixed(3)})`;
  }
}

/**
 * A dictionary spliced into a model at a hook, evaluated as SAELens does: CE-loss score (fraction of the loss recovered relative to zero-ablation), KL score and L2 ratio.
 * @example
 * const model = await fl.loadModel("models/tiny-induction");
 * const tokens = fl.toy.induction({ n: 64, seed: 1 }).tokens;
 * fl.show(await fl.spliceEval(model, sae, { hook: "blocks.0.hook_resid_post", input: tokens }));
 */
export async function spliceEval(model: HookedModel, dict: Dictionary, opts: SpliceEvalOptions): Promise<SpliceEvaluation> {
  rejectUnknownOptions("spliceEval", opts, SPLICE_EVAL_OPTIONS);
  await ready();
  const { hook } = opts;
  if (!hook) throw new Error("featurelab: spliceEval needs { hook } — the hook point the dictionary reads");
  model.checkHooks([hook]);
  checkSpliceable(dict, hook);
  const ignore = opts.ignorePositions ?? [0];
  const { batches } = model.batches(opts.input, { batchSize: opts.batchSize ?? 32, prependBos: opts.prependBos });
  const sums = { ceClean: 0, ceSpliced: 0, ceZero: 0, ceCount: 0, klSpliced: 0, klZero: 0, klCount: 0, l2: 0, l0: 0, rows: 0 };

  for (const batch of batches) {
    const counted = new Uint8Array(batch.size * batch.width);
    batch.lengths.forEach((len, b) => {
      for (let t = 0; t < Math.min(len, batch.width); t++) counted[b * batch.width + t] = ignore.includes(t) ? 0 : 1;
    });
    // One hook splices x̂ in and reads x, x̂ and L0 on the way (x at the hook is the clean run's:
    // nothing before it changed). As fl.hooks.splice(dict, { skipPositions }) with no features edited.
    const spliceAndRead: HookFn = (x, ctx) => {
      if (positionAxis(hook, x.rank) !== 1) throw new Error(`featurelab: spliceEval reads activations [batch, position, …]; '${hook}' has shape [${x.shape}]`);
      const view = viewAt(dict, x, hook);
      const decoded = view.decode(view.features);
      const xhat = tf.reshape(decoded, view.rows.shape);
      const nx = tf.norm(tf.reshape(x, view.rows.shape), 2, 1).dataSync();
      const nxhat = tf.norm(xhat, 2, 1).dataSync();
      const l0 = tf.sum(tf.cast(tf.notEqual(view.features, 0), "float32"), 1).dataSync();
      for (let r = 0; r < nx.length; r++) {
        if (!counted[r]) continue;
        sums.l2 += nxhat[r] / (Math.abs(nx[r]) < 1e-4 ? 1 : nx[r]);
        sums.l0 += l0[r];
        sums.rows++;
      }
      return keepPositions(decoded, x, ctx, ignore);
    };
    const clean = asSequences(model.runBatch(batch));
    const spliced = asSequences(model.runBatch(batch, { [hook]: spliceAndRead }));
    const zero = asSequences(model.runBatch(batch, { [hook]: (x) => tf.zerosLike(x) }));
    try {
      const [ceC, ceS, ceZ] = [clean, spliced, zero].map((o) => crossEntropy(o, batch.targets));
      const klS = klDivergence(clean, spliced), klZ = klDivergence(clean, zero);
      for (let i = 0; i < counted.length; i++) {
        if (!counted[i]) continue;
        sums.klSpliced += klS[i];
        sums.klZero += klZ[i];
        sums.klCount++;
        if (Number.isNaN(ceC[i])) continue;
        sums.ceClean += ceC[i];
        sums.ceSpliced += ceS[i];
        sums.ceZero += ceZ[i];
        sums.ceCount++;
      }
    } finally {
      tf.dispose([clean, spliced, zero]);
    }
  }
  if (sums.ceCount === 0) throw new Error("featurelab: spliceEval found no positions to score (documents too short, or every position ignored)");
  return new SpliceEvaluation(
    hook,
    sums.ceClean / sums.ceCount,
    sums.ceSpliced / sums.ceCount,
    sums.ceZero / sums.ceCount,
    sums.klSpliced / sums.klCount,
    sums.klZero / sums.klCount,
    sums.l2 / sums.rows,
    sums.l0 / sums.rows,
    sums.rows,
  );
}
