// Displays of hooked models and what comes out of them: a transformer's summary card, the hook
// points an ActivationCache holds, a spliced-in evaluation with what each number means, and an
// ablation sweep's tidy table.
import { card } from "../../core/cards.js";
import type { MimeBundle } from "../../core/bundle.js";
import { escapeHtml } from "../../core/escape.js";
import { htmlTable, textTable, type Cell } from "../../core/table.js";
import { Decoder, type LanguageModel } from "../../../models/language-model.js";
import type { ActivationCache } from "../../../models/activation-cache.js";
import type { SpliceEvaluation } from "../../../ablation/splice-eval.js";
import type { AblationSweep } from "../../../ablation/sweep.js";
import { summarise } from "../../../models/hook-points.js";

export function transformerBundle(m: LanguageModel): MimeBundle {
  const c = m.cfg;
  const decoder = m instanceof Decoder ? m.cfg : undefined;
  const heads = decoder && decoder.n_key_value_heads !== decoder.n_heads ? `${c.n_heads} × ${c.d_head} (${decoder.n_key_value_heads} key/value)` : `${c.n_heads} × ${c.d_head}`;
  const lines: [string, Cell][] = [
    ...(decoder ? ([["family", decoder.model_type]] as [string, Cell][]) : []),
    ["layers", c.n_layers],
    ["d_model", c.d_model],
    ["heads", heads],
    ["d_mlp", decoder?.gated_mlp ? `${c.d_mlp} (gated)` : c.d_mlp],
    ["vocab", c.d_vocab],
    ["context", c.n_ctx],
    ...(decoder ? ([["positions", `rotary (${decoder.rotary_dim} of ${decoder.d_head} dims, base ${decoder.rotary_base})`], ["norm", decoder.normalization === "LN" ? "LayerNorm" : "RMSNorm"]] as [string, Cell][]) : []),
    ["parameters", m.numParams],
    ["unembedding", c.tied ? "tied" : "separate"],
    ["tokenizer", m.tokenizer?.name ?? "none (token ids)"],
  ];
  if (m.source) lines.push(["source", m.source]);
  const hooks = `<div style="margin-top:4px;font-size:12px"><span style="opacity:.7">hook points</span> ${escapeHtml(summarise(m.hookNames))}</div>`;
  return { "text/html": card(`${decoder ? "Decoder" : "Transformer"} ${m.name}`, lines, hooks), "text/plain": `${m}\nhook points: ${summarise(m.hookNames)}` };
}

export function activationCacheBundle(cache: ActivationCache): MimeBundle {
  const rows = cache.summary().map((s) => [s.hook, s.shape, s.rows] as Cell[]);
  const caption = `ActivationCache of ${cache.model}: ${rows.length} hook point${rows.length === 1 ? "" : "s"} (.get(name) → ActivationSet)`;
  return { "text/html": htmlTable(["hook", "shape", "rows"], rows, caption), "text/plain": `${caption}\n${textTable(["hook", "shape", "rows"], rows)}` };
}

const SPLICE_NOTES: [keyof ReturnType<SpliceEvaluation["toRecord"]>, string, string][] = [
  ["ceScore", "CE loss score", "(CE_zero − CE_spliced)/(CE_zero − CE_clean); 1 = nothing lost"],
  ["ceClean", "CE clean", "next-token loss of the unchanged model"],
  ["ceSpliced", "CE spliced", "…with the reconstruction in place of the activation"],
  ["ceZeroAblation", "CE zero-ablated", "…with the activation set to zero"],
  ["ceDelta", "ΔCE", "CE spliced − CE clean"],
  ["klScore", "KL score", "(KL_zero − KL_spliced)/KL_zero"],
  ["klSpliced", "KL spliced", "mean KL(clean ‖ spliced) per token"],
  ["klZeroAblation", "KL zero-ablated", "mean KL(clean ‖ zero-ablated) per token"],
  ["l2Ratio", "L2 ratio", "mean ‖x̂‖/‖x‖"],
  ["l0", "L0", "mean active features per token"],
  ["tokens", "tokens", "tokens evaluated (ignored positions excluded)"],
];

export function spliceEvalBundle(e: SpliceEvaluation): MimeBundle {
  const rec = e.toRecord();
  const rows = SPLICE_NOTES.map(([k, name, note]) => [name, rec[k] as Cell, note]);
  const caption = `Dictionary spliced in at ${e.hook}`;
  return { "text/html": htmlTable(["metric", "value", "meaning"], rows, caption, 50), "text/plain": `${caption}\n${textTable(["metric", "value", "meaning"], rows)}` };
}

export function ablationSweepBundle(s: AblationSweep, maxRows = 40): MimeBundle {
  const columns = ["unit", "hook", "index", "metric", "clean", "ablated", "delta"];
  const rows = s.rows.map((r) => [r.unit, r.hook, r.index, r.metric, r.clean, r.ablated, r.delta] as Cell[]);
  const caption = `${s.mode}-ablation of ${s.units.length} ${s.target} over ${s.documents} documents (${s.rows.length} rows; .table() → arquero)`;
  return { "text/html": htmlTable(columns, rows, caption, maxRows), "text/plain": `${caption}\n${textTable(columns, rows, maxRows)}` };
}
