// Any value → the MIME bundle it is displayed with.
import { inspect } from "node:util";
import { tf } from "../../engine/backend.js";
import { ActivationSet } from "../../data/activation-set.js";
import { Dictionary } from "../../dictionaries/dictionary.js";
import { isDisplayable, type MimeBundle } from "./bundle.js";
import { activationSetBundle, dictionaryBundle, metricsBundle, recordBundle } from "./cards.js";
import { TableView, type Cell } from "./table.js";
import { escapeHtml } from "./escape.js";
import { RDM } from "../../geometry/rdm.js";
import { RdmComparisons } from "../../geometry/compare-rdms.js";
import { ModelComparison, PermutationTest } from "../../geometry/rsa-inference.js";
import { rdmPlot } from "../plots/geometry/rdm-plot.js";
import { DictionaryComparison } from "../../circuits/e2e/dictionary-comparison.js";
import { comparisonBundle } from "../plots/features/dictionary-comparison-plot.js";
import { comparisonTable, modelComparisonBundle, permutationTestBundle } from "../plots/geometry/rsa-plot.js";
import { Transformer } from "../../models/transformer.js";
import { Decoder } from "../../models/decoder.js";
import { ActivationCache } from "../../models/activation-cache.js";
import { SpliceEvaluation } from "../../ablation/splice-eval.js";
import { AblationSweep } from "../../ablation/sweep.js";
import { Suppression } from "../../metrics/suppression.js";
import { suppressionBundle } from "../plots/features/suppression-plot.js";
import { TranscoderCircuit } from "../../circuits/transcoders/circuit.js";
import { FeatureContributions } from "../../circuits/transcoders/feature-contributions.js";
import { circuitBundle, contributionsBundle } from "../plots/circuits/circuit-plot.js";
import { QkDictionary } from "../../circuits/qk/dictionary.js";
import { QkMask } from "../../circuits/qk/mask.js";
import { QkPairs } from "../../circuits/qk/pairs.js";
import { QkScoreTerms } from "../../circuits/qk/score-terms.js";
import { qkDictionaryBundle, qkMaskBundle, qkPairsBundle, qkScoreTermsBundle } from "../plots/circuits/qk-plot.js";
import { AttentionOnlyModel } from "../../circuits/gated-attention/attention-only-model.js";
import { GatedAttention } from "../../circuits/gated-attention/gated-attention.js";
import { TrigramHeadMap } from "../../circuits/gated-attention/trigram-heads.js";
import { attentionOnlyBundle, gatedAttentionBundle, trigramHeadBundle } from "../plots/circuits/gated-attention-plot.js";
import { ablationSweepBundle, activationCacheBundle, spliceEvalBundle, transformerBundle } from "../plots/ablation/model-cards.js";

function isPlainRecord(x: unknown): x is Record<string, Cell> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(x).every((v) => v === null || ["number", "string", "boolean", "bigint", "undefined"].includes(typeof v));
}

function isArqueroTable(x: unknown): x is { objects(o?: { limit?: number }): Record<string, Cell>[]; numRows(): number } {
  return typeof x === "object" && x !== null && typeof (x as any).objects === "function" && typeof (x as any).columnNames === "function";
}

/** A metrics record: numbers plus the per-feature density array. */
function isMetrics(x: unknown): x is Record<string, unknown> & { density: Float64Array } {
  if (typeof x !== "object" || x === null || !((x as any).density instanceof Float64Array)) return false;
  const { density: _d, ...rest } = x as Record<string, unknown>;
  return isPlainRecord(rest);
}

/**
 * The MIME bundle a value is displayed with: its own `toMimeBundle`, else a table, tensor or text representation.
 * @example
 * const bundle = fl.represent(acts);        // { "text/plain": …, "text/html": … }
 */
export function represent(x: unknown): MimeBundle {
  if (isDisplayable(x)) return x.toMimeBundle();
  if (x instanceof ActivationSet) return activationSetBundle(x);
  if (x instanceof Dictionary) return dictionaryBundle(x);
  if (x instanceof RDM) return rdmPlot(x).toMimeBundle();
  if (x instanceof DictionaryComparison) return comparisonBundle(x);
  if (x instanceof RdmComparisons) return comparisonTable(x).toMimeBundle();
  if (x instanceof ModelComparison) return modelComparisonBundle(x);
  if (x instanceof PermutationTest) return permutationTestBundle(x);
  if (x instanceof Transformer || x instanceof Decoder) return transformerBundle(x);
  if (x instanceof ActivationCache) return activationCacheBundle(x);
  if (x instanceof SpliceEvaluation) return spliceEvalBundle(x);
  if (x instanceof AblationSweep) return ablationSweepBundle(x);
  if (x instanceof Suppression) return suppressionBundle(x);
  if (x instanceof TranscoderCircuit) return circuitBundle(x);
  if (x instanceof FeatureContributions) return contributionsBundle(x);
  if (x instanceof QkDictionary) return qkDictionaryBundle(x);
  if (x instanceof QkMask) return qkMaskBundle(x);
  if (x instanceof QkPairs) return qkPairsBundle(x);
  if (x instanceof QkScoreTerms) return qkScoreTermsBundle(x);
  if (x instanceof AttentionOnlyModel) return attentionOnlyBundle(x);
  if (x instanceof GatedAttention) return gatedAttentionBundle(x);
  if (x instanceof TrigramHeadMap) return trigramHeadBundle(x);
  if (x instanceof tf.Tensor) {
    const text = `Tensor ${x.dtype} [${x.shape.join(", ")}]\n${x.toString().replace(/^Tensor\n?/, "")}`;
    return { "text/plain": text, "text/html": `<pre>${escapeHtml(text)}</pre>` };
  }
  if (isPlainRecord(x)) return recordBundle(x);
  if (isMetrics(x)) return metricsBundle(x);
  if (Array.isArray(x) && x.length > 0 && x.every(isPlainRecord)) return TableView.fromRecords(x).toMimeBundle();
  if (isArqueroTable(x)) {
    const view = TableView.fromRecords(x.objects({ limit: 50 }), `${x.numRows()} rows`);
    return view.toMimeBundle();
  }
  const text = typeof x === "string" ? x : inspect(x, { depth: 3 });
  return { "text/plain": text };
}
