// Displays for the gated-attention study: the toy model's card, the gated block's card (loss terms,
// reconstruction, the model with the block spliced in) with its training curves, and the trigram ×
// head map as a heatmap (one panel per map: original heads beside gated heads) over its table.
import { card } from "../../core/cards.js";
import type { MimeBundle } from "../../core/bundle.js";
import { escapeHtml, escapePlotlyText } from "../../core/escape.js";
import { Figure } from "../../core/plotly.js";
import { formatCell, type Cell } from "../../core/table.js";
import { figureWithTable } from "../../core/figure-table.js";
import type { AttentionOnlyModel } from "../../../circuits/gated-attention/attention-only-model.js";
import type { GatedAttention } from "../../../circuits/gated-attention/gated-attention.js";
import { TrigramHeadMap } from "../../../circuits/gated-attention/trigram-heads.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

export function attentionOnlyBundle(m: AttentionOnlyModel): MimeBundle {
  const lines: [string, Cell][] = [
    ["layers", 1],
    ["heads", `${m.heads} × d_head ${m.dHead}`],
    ["d_model = vocab", m.vocab],
    ["parameters", m.numParams],
    ["training steps", m.history.length ? m.history[m.history.length - 1].step + 1 : 0],
  ];
  if (m.score) lines.push(["next-token CE", m.score.ce], ["planted-C accuracy", m.score.accuracy]);
  const by = m.score ? `<div style="margin-top:4px;font-size:12px"><span style="opacity:.7">accuracy by trigram</span> ${m.score.accuracyByTrigram.map((a, i) => `B${i}→C${i} <b>${escapeHtml(formatCell(a))}</b>`).join(" · ")}</div>` : "";
  const text = `${m}\n${lines.map(([k, v]) => `${k}: ${formatCell(v)}`).join("\n")}`;
  return { "text/html": card("Attention-only toy model (one-hot embedding and unembedding)", lines, by), "text/plain": text };
}

const GATED_NOTES: [string, (g: GatedAttention) => Cell, string][] = [
  ["loss", (g) => g.metrics.loss, "MSE + α · gate sparsity"],
  ["MSE", (g) => g.metrics.mse, "mean squared error of the attention output, per element"],
  ["gate sparsity", (g) => g.metrics.sparsity, "mean over (b, q, k) of (Σ_h G^0.6)^(1/0.6)"],
  ["α", (g) => g.metrics.alpha, "weight of the sparsity term"],
  ["FVU", (g) => g.metrics.fvu, "Σ(y − ŷ)² / Σ(y − ȳ)² of the attention output"],
  ["open gates per (q, k)", (g) => g.metrics.openGates, "heads with G > 0, mean over causal pairs"],
  ["open gates on B → A", (g) => g.metrics.openGatesOnTrigrams, "…on the query B, key A pairs of planted trigrams"],
  ["CE original", (g) => g.metrics.original.ce, "next-token CE of the model as trained"],
  ["CE spliced", (g) => g.metrics.spliced.ce, "…with the gated block in place of its attention layer"],
  ["CE zero-ablated", (g) => g.metrics.zeroAblated.ce, "…with the attention layer's output set to zero"],
  ["CE score", (g) => g.metrics.ceScore, "(CE_zero − CE_spliced)/(CE_zero − CE_original); 1 = nothing lost"],
  ["accuracy original", (g) => g.metrics.original.accuracy, "planted C is the top prediction at B"],
  ["accuracy spliced", (g) => g.metrics.spliced.accuracy, "…with the gated block spliced in"],
];

/** Loss terms over training (MSE and gate sparsity on log axes). */
export function gatedHistoryPlot(g: GatedAttention): Figure {
  const steps = g.history.map((h) => h.step);
  return new Figure({
    data: [
      { type: "scatter", mode: "lines+markers", marker: { size: 4 }, name: "MSE", x: steps, y: g.history.map((h) => h.mse), line: { color: "#1f77b4" } },
      { type: "scatter", mode: "lines+markers", marker: { size: 4 }, name: "gate sparsity (before α)", x: steps, y: g.history.map((h) => h.sparsity), yaxis: "y2", line: { color: "#d62728" } },
    ],
    layout: {
      title: { text: `Gated attention block training (${g.heads} heads, α ${g.options.alpha})` },
      height: 320,
      hovermode: "x",
      xaxis: { title: { text: "step" } },
      yaxis: { title: { text: "MSE" }, type: "log" },
      yaxis2: { title: { text: "sparsity" }, overlaying: "y", side: "right", type: "log" },
      legend: { orientation: "h", y: -0.25 },
    },
  });
}

export function gatedAttentionBundle(g: GatedAttention): MimeBundle {
  const rows = GATED_NOTES.map(([name, get, note]) => [name, get(g), note] as Cell[]);
  const caption = `Gated attention block: ${g.heads} heads replacing layer ${g.layer}'s ${g.model.heads}, ${g.options.steps} steps, α ${g.options.alpha}`;
  return figureWithTable(gatedHistoryPlot(g), { columns: ["measure", "value", "meaning"], rows, caption }, { tableFirst: true });
}

/** Options of `fl.plot.trigramHeads`. */
export interface TrigramHeadsPlotOptions {
  title?: string;
}

const TRIGRAM_HEADS_PLOT_OPTIONS = optionNames<TrigramHeadsPlotOptions>({ title: true });

/** Heatmaps of each head's share of each trigram's logit difference; one panel per map. */
export function trigramHeadsPlot(input: TrigramHeadMap | TrigramHeadMap[], opts: TrigramHeadsPlotOptions = {}): Figure {
  rejectUnknownOptions("plot.trigramHeads", opts, TRIGRAM_HEADS_PLOT_OPTIONS);
  const maps = input instanceof TrigramHeadMap ? [input] : input;
  if (maps.length === 0) throw new Error("featurelab: plot.trigramHeads: no maps to draw");
  const totalHeads = maps.reduce((s, m) => s + m.heads, 0);
  const gap = 0.06;
  const width = 1 - gap * (maps.length - 1);
  const layout: Record<string, unknown> = {
    title: { text: opts.title ?? "Share of each trigram's logit difference (C_t − other Cs) carried by each head" },
    height: 150 + 34 * Math.max(...maps.map((m) => m.rows.length)),
    margin: { l: 120, r: 80, t: 80, b: 60 },
    annotations: [] as unknown[],
  };
  let x0 = 0;
  const data = maps.map((m, i) => {
    const w = (width * m.heads) / totalHeads;
    const k = i === 0 ? "" : String(i + 1);
    layout[`xaxis${k}`] = { domain: [x0, x0 + w], anchor: `y${k}`, title: { text: `${escapePlotlyText(m.name)} — head` }, tickmode: "array", tickvals: Array.from({ length: m.heads }, (_, h) => h), ticktext: Array.from({ length: m.heads }, (_, h) => `H${h}`) };
    layout[`yaxis${k}`] = { anchor: `x${k}`, autorange: "reversed", showticklabels: i === 0, tickmode: "array", tickvals: m.rows.map((_, t) => t), ticktext: m.rows.map((r) => escapePlotlyText(r.trigram)) };
    x0 += w + gap;
    const z = m.rows.map((r) => r.effects.map((e) => (r.total > 0 ? e / r.total : null)));
    return {
      type: "heatmap",
      xaxis: `x${k}`,
      yaxis: `y${k}`,
      z,
      x: Array.from({ length: m.heads }, (_, h) => h),
      y: m.rows.map((_, t) => t),
      zmin: -1,
      zmax: 1,
      colorscale: "RdBu",
      reversescale: true,
      showscale: i === maps.length - 1,
      colorbar: { title: { text: "share" } },
      text: m.rows.map((r) => r.effects.map((e) => formatCell(e))),
      texttemplate: "%{z:.2f}",
      customdata: m.rows.map((r) => r.effects.map(() => [escapePlotlyText(r.trigram), formatCell(r.total), r.headsNeeded])),
      hovertemplate: `${escapePlotlyText(m.name)}<br>%{customdata[0]}, head %{x}<br>effect %{text} of total %{customdata[1]} (share %{z:.2f})<br>heads needed for 90%: %{customdata[2]}<extra></extra>`,
    };
  });
  return new Figure({ data, layout });
}

/** The map's table: per trigram, each head's effect, the total, heads needed, accuracy. */
export function trigramHeadTable(m: TrigramHeadMap): { columns: string[]; rows: Cell[][]; caption: string } {
  const columns = ["trigram", ...Array.from({ length: m.heads }, (_, h) => `H${h}`), "total", `heads for ${Math.round(m.share * 100)}%`, "carriers", "accuracy", "instances"];
  const rows = m.rows.map((r) => [r.trigram, ...r.effects, r.total, Number.isFinite(r.headsNeeded) ? r.headsNeeded : "not carried", r.carriers.map((h) => `H${h}`).join(" "), r.accuracy, r.instances] as Cell[]);
  const caption = `${m.name}: direct logit effect (C_t − mean other C) at the B position; mean heads needed ${m.meanHeadsNeeded.toFixed(2)}, ${m.monosemantic}/${m.rows.length} trigrams on one head`;
  return { columns, rows, caption };
}

export function trigramHeadBundle(m: TrigramHeadMap): MimeBundle {
  return figureWithTable(trigramHeadsPlot(m), trigramHeadTable(m));
}
