// Displays of the bilinear QK dictionary: its training summary (KL terms, fraction of pattern KL
// explained, L0 and dead features of f_Q and f_K, per-head KL) with its training curves; the stage-2
// mask (surviving pairs per head, KL with and without it); and a head's strongest feature pairs — a
// heatmap of scale·M_h over the pairs' query × key features whose cells, hovered or clicked, show the
// pair's examples beside it (cards embedded in the page, so exported HTML needs no kernel), above a
// table of the pairs with their examples. Every token string is escaped.
import type { QkDictionary } from "../../../circuits/qk/dictionary.js";
import type { QkMask } from "../../../circuits/qk/mask.js";
import type { QkPair, QkPairExample, QkPairs, QkFeatureTokens } from "../../../circuits/qk/pairs.js";
import type { QkScoreTerms } from "../../../circuits/qk/score-terms.js";
import type { MimeBundle } from "../../core/bundle.js";
import { escapeHtml, escapePlotlyText } from "../../core/escape.js";
import { Figure, liveViews } from "../../core/plotly.js";
import { htmlTable, textTable, type Cell } from "../../core/table.js";
import { figureWithTable } from "../../core/figure-table.js";
import { fmt, FONT, PANEL } from "../features/feature-card.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** Training curves: the three KL terms (log scale) and the two sparsity penalties. */
export function qkHistoryPlot(qk: QkDictionary): Figure {
  const h = qk.history, x = h.map((r) => r.step);
  const line = (name: string, y: number[], axis: string, color: string) => ({ type: "scatter", mode: "lines", name, x, y, xaxis: `x${axis}`, yaxis: `y${axis}`, line: { color }, hovertemplate: `${name} %{y:.4g}<br>step %{x}<extra></extra>` });
  return new Figure({
    data: [
      line("KL(A‖Â(q̂,k̂))", h.map((r) => r.klFull), "", "#d62728"),
      line("KL(A‖Â(q̂,k))", h.map((r) => r.klQueries), "", "#1f77b4"),
      line("KL(A‖Â(q,k̂))", h.map((r) => r.klKeys), "", "#2ca02c"),
      line("c·Σ√f_Q", h.map((r) => r.sparsityQ), "2", "#9467bd"),
      line("c·Σ√f_K", h.map((r) => r.sparsityK), "2", "#ff7f0e"),
    ],
    layout: {
      title: { text: `QK dictionary, layer ${qk.layer}: training (batch values)` },
      height: 340,
      hovermode: "x",
      grid: { rows: 1, columns: 2, pattern: "independent" },
      xaxis: { title: { text: "step" } },
      yaxis: { title: { text: "KL (nats per query row)" }, type: "log" },
      xaxis2: { title: { text: "step" } },
      yaxis2: { title: { text: "sparsity penalty" } },
      legend: { orientation: "h", y: -0.25 },
    },
  });
}

function summaryRows(qk: QkDictionary): [string, Cell][] {
  const m = qk.metrics, c = qk.cfg;
  return [
    ["KL(A‖Â(q̂,k̂))", fmt(m.klFull)],
    ["KL(A‖Â(q̂,k))", fmt(m.klQueries)],
    ["KL(A‖Â(q,k̂))", fmt(m.klKeys)],
    ["KL(A‖uniform), the baseline", fmt(m.klUniform)],
    ["pattern KL explained (1 − KL/KL_uniform)", pct(m.explained)],
    ["L0 of f_Q / f_K", `${fmt(m.l0Q)} / ${fmt(m.l0K)}`],
    ["dead f_Q / f_K (of width)", `${m.deadQ} / ${m.deadK} (of ${c.width})`],
    ["FVU of q̂ / k̂", `${fmt(m.fvuQ)} / ${fmt(m.fvuK)}`],
    ["trained", `${c.steps} steps × ${c.batchSize} documents, c = ${c.sparsity}${c.sparsityWarmup ? ` (warm-up ${c.sparsityWarmup})` : ""}, lr ${c.lr}, seed ${c.seed}, ${fmt(qk.seconds)} s`],
    ["data", `${qk.data.n} documents × ${qk.data.T} positions (${m.rows} query rows per head)`],
  ];
}

/** fl.show(qk): the summary, each head's KL, and the training curves. */
export function qkDictionaryBundle(qk: QkDictionary): MimeBundle {
  const caption = `QK dictionary: ${qk.model}, layer ${qk.layer}, ${qk.width} query + ${qk.width} key features`;
  const rows = summaryRows(qk);
  const heads = qk.metrics.heads.map((h): Cell[] => [h.head, h.kl, h.klUniform, pct(h.explained)]);
  const headCols = ["head", "KL(A‖Â(q̂,k̂))", "KL(A‖uniform)", "explained"];
  const html = htmlTable(["", "value"], rows, caption) + htmlTable(headCols, heads, "per head");
  const text = `${caption}\n${textTable(["", "value"], rows)}\n\n${textTable(headCols, heads)}`;
  if (qk.history.length < 2) return { "text/html": html, "text/plain": text };
  const figure = qkHistoryPlot(qk);
  const fig = figure.staticBundle();
  return { ...(liveViews()?.stack([html, figure]) ?? {}), "application/vnd.plotly.v1+json": fig["application/vnd.plotly.v1+json"], "text/html": html + fig["text/html"], "text/plain": text };
}

/** fl.show(mask): surviving pairs per head and the KL with and without the mask. */
export function qkMaskBundle(mask: QkMask): MimeBundle {
  const total = mask.heads * mask.width * mask.width;
  const rows: [string, Cell][] = [
    ["surviving pairs (m > 0)", `${mask.surviving} of ${total} (${pct(mask.surviving / total)})`],
    ["KL, no mask (m = 1)", fmt(mask.klUnmasked)],
    ["KL, learned mask", fmt(mask.klMasked)],
    ["KL, survivors at full strength (m ∈ {0, 1})", fmt(mask.klBinary)],
    ["KL(A‖uniform), the baseline", fmt(mask.klUniform)],
    ["trained", `${mask.cfg.steps} steps × ${mask.cfg.batchSize} documents, c = ${mask.cfg.sparsity}, lr ${mask.cfg.lr}, seed ${mask.cfg.seed}`],
  ];
  const heads = mask.perHead.map((h): Cell[] => [h.head, h.surviving, pct(h.fraction)]);
  const caption = `QK feature-pair mask, layer ${mask.layer}`;
  return {
    "text/html": htmlTable(["", "value"], rows, caption) + htmlTable(["head", "surviving pairs", "of width²"], heads, "per head"),
    "text/plain": `${caption}\n${textTable(["", "value"], rows)}\n\n${textTable(["head", "surviving pairs", "of width²"], heads)}`,
  };
}

const tokenLabel = (t: { text: string; share: number } | undefined) => (t ? `${t.text} (${Math.round(100 * t.share)}%)` : "—");

function featureLine(kind: "query" | "key", f: QkFeatureTokens): string {
  const prev = kind === "key" ? `; previous token ${escapeHtml(tokenLabel(f.previous))}` : "";
  return `<div><b>${kind === "query" ? "Q" : "K"}${f.feature}</b>: fires on ${escapeHtml(pct(f.density))} of positions; top token ${escapeHtml(tokenLabel(f.current))}${prev}</div>`;
}

const TOK = "white-space:pre;border-radius:2px;padding:0 2px;margin-right:2px";

/** Key context (… prev KEY next) and query context (… QUERY), key blue, its previous token outlined, query orange. */
function exampleHtml(pairs: QkPairs, e: QkPairExample): string {
  const doc = pairs.documents[e.document];
  const span = (from: number, to: number, mark: (p: number) => string) => {
    const out: string[] = [];
    if (from > 0) out.push(`<span style="opacity:.5">…</span>`);
    for (let p = Math.max(0, from); p <= Math.min(doc.length - 1, to); p++) out.push(`<span class="fl-tok" style="${TOK};${mark(p)}">${escapeHtml(pairs.token(doc[p]))}</span>`);
    return out.join("");
  };
  const keyCtx = span(e.key - 1, e.key + 1, (p) => (p === e.key ? "background:rgba(31,119,180,.45)" : p === e.key - 1 ? "outline:1px dashed currentColor" : ""));
  const queryCtx = span(e.query - 1, e.query, (p) => (p === e.query ? "background:rgba(255,140,0,.6)" : ""));
  return `<tr title="document ${e.document}: query position ${e.query}, key position ${e.key}"><td style="text-align:right;padding:1px 8px 1px 0;opacity:.8">${escapeHtml(fmt(e.value))}</td><td style="text-align:right;padding:1px 8px 1px 0;opacity:.8">${escapeHtml(fmt(e.attention))}</td><td style="padding:1px 6px 1px 0;text-align:left">${keyCtx}</td><td style="padding:0 6px;opacity:.6">⟵</td><td style="text-align:left">${queryCtx}</td></tr>`;
}

/** A pair's card: the two features, the weight and contribution, and its examples. */
export function qkPairCardHtml(pairs: QkPairs, p: QkPair): string {
  const head = `<div style="font-weight:600;margin-bottom:4px">#${p.rank}: Q${p.queryFeature} × K${p.keyFeature} (head ${pairs.head})${p.agree ? " — query token = key's previous token" : ""}</div>`;
  const nums = `<div>weight scale·M ${escapeHtml(fmt(p.weight))}; attention-weighted contribution ${escapeHtml(fmt(p.contribution))}; token overlap (query tokens vs key previous tokens) ${escapeHtml(fmt(p.overlap))}; examples with query token = token before the key: ${escapeHtml(pct(p.exampleAgreement))}</div>`;
  const ex = p.examples.length
    ? `<table style="border-collapse:collapse;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;white-space:nowrap;margin-top:4px"><tr style="opacity:.7;font-family:system-ui,sans-serif"><td>A·f·f·M</td><td>A</td><td style="text-align:left">key (blue), token before it dashed</td><td></td><td style="text-align:left">query (orange)</td></tr>${p.examples.map((e) => exampleHtml(pairs, e)).join("")}</table>`
    : `<div style="opacity:.7">no examples: the two features never fire on an attended (query, key)</div>`;
  return `<div class="fl-qk-pair" style="${PANEL};${FONT}">${head}${featureLine("query", p.query)}${featureLine("key", p.key)}${nums}${ex}</div>`;
}

/** The heatmap of scale·M_h over the pairs' features; a cell's card is its pair (or its two features). */
export function qkPairsPlot(pairs: QkPairs, opts: { title?: string } = {}): Figure {
  rejectUnknownOptions("plot.qkPairs", opts, optionNames<typeof opts>({ title: true }));
  const qs = pairs.queryFeatures, ks = pairs.keyFeatures;
  const byCell = new Map(pairs.pairs.map((p) => [`${p.queryFeature}:${p.keyFeature}`, p]));
  const cards: Record<string, string> = {};
  const z: number[][] = [], custom: unknown[][][] = [];
  qs.forEach((q, a) => {
    z.push([]);
    custom.push([]);
    ks.forEach((k, b) => {
      const key = `${q.feature}:${k.feature}`;
      const p = byCell.get(key);
      const weight = pairs.matrix[a * ks.length + b];
      cards[key] = p
        ? qkPairCardHtml(pairs, p)
        : `<div class="fl-qk-pair" style="${PANEL};font-family:system-ui,sans-serif;font-size:13px">Q${q.feature} × K${k.feature}: weight scale·M ${escapeHtml(fmt(weight))} (not among the top pairs)${featureLine("query", q)}${featureLine("key", k)}</div>`;
      z[a].push(weight);
      custom[a].push([key, p ? `#${p.rank}` : "", escapePlotlyText(tokenLabel(q.current)), escapePlotlyText(tokenLabel(k.previous))]);
    });
  });
  const maxAbs = Math.max(1e-12, ...z.flat().map(Math.abs));
  const yLabels = qs.map((q) => escapePlotlyText(`Q${q.feature} · ${q.current?.text ?? "—"}`));
  const xLabels = ks.map((k) => escapePlotlyText(`K${k.feature} · after ${k.previous?.text ?? "—"}`));
  return new Figure({
    cards,
    cardsHint: "Hover over a cell to see that query × key pair's examples; click to keep it.",
    data: [{
      type: "heatmap", z, x: xLabels, y: yLabels, customdata: custom,
      colorscale: "RdBu", reversescale: true, zmid: 0, zmin: -maxAbs, zmax: maxAbs,
      colorbar: { title: { text: "scale·M" } },
      hovertemplate: "%{y} × %{x} %{customdata[1]}<br>query top token %{customdata[2]}<br>key top previous token %{customdata[3]}<br>scale·M %{z:.3f}<extra></extra>",
    }],
    layout: {
      title: { text: opts.title ?? `Layer ${pairs.layer} head ${pairs.head}: feature-pair weights scale·M_h of the top ${pairs.pairs.length} pairs (by ${pairs.by})` },
      height: Math.max(420, 26 * qs.length + 200),
      xaxis: { title: { text: "key feature · top previous token" }, tickangle: -40, automargin: true },
      yaxis: { title: { text: "query feature · top token" }, autorange: "reversed", automargin: true },
    },
  });
}

/** fl.show(pairs): the heatmap with hover/click cards, then every pair's card. */
export function qkPairsBundle(pairs: QkPairs): MimeBundle {
  const caption = `Layer ${pairs.layer} head ${pairs.head}: top ${pairs.pairs.length} feature pairs by ${pairs.by}; ${pct(pairs.agreement)} have query top token = key feature's top previous token; token overlap ${fmt(pairs.meanOverlap)} (all feature pairs: ${fmt(pairs.baselineOverlap)})`;
  const cols = ["rank", "Q", "query top token", "K", "key top previous token", "same token", "token overlap", "scale·M", "contribution", "examples agreeing"];
  const rows = pairs.pairs.map((p): Cell[] => [p.rank, p.queryFeature, tokenLabel(p.query.current), p.keyFeature, tokenLabel(p.key.previous), p.agree ? "yes" : "no", p.overlap, p.weight, p.contribution, pct(p.exampleAgreement)]);
  const fig = qkPairsPlot(pairs);
  // The heatmap already holds every pair's card (by cell): list them again under the table.
  const cardsHtml = `<details style="margin-top:6px"><summary style="cursor:pointer;font-family:system-ui,sans-serif">examples of every pair</summary><div style="display:flex;flex-wrap:wrap">${pairs.pairs.map((p) => fig.cards![`${p.queryFeature}:${p.keyFeature}`]).join("")}</div></details>`;
  return figureWithTable(fig, { columns: cols, rows, caption }, { htmlAfter: cardsHtml });
}

/** fl.show(qk.scoreTerms(…)): the score's terms, their sum against the reconstruction and the model, the largest pair terms. */
export function qkScoreTermsBundle(t: QkScoreTerms): MimeBundle {
  const rows: [string, Cell][] = [
    ["Σ f^Q_i f^K_j scale·M_h[i,j] (feature pairs)", t.pairs],
    ["Σ f^K_j scale·u_h[j] (query bias × key features)", t.keyFeatures],
    ["Σ f^Q_i scale·v_h[i] (query features × key bias)", t.queryFeatures],
    ["scale·c_h (query bias × key bias)", t.constant],
    ["sum of the terms", t.fromFeatures],
    ["scale·q̂_h·k̂_h (reconstructions)", t.reconstructed],
    ["scale·q_h·k_h (the model)", t.model],
  ];
  const top = t.top.map((p): Cell[] => [`Q${p.queryFeature}`, `K${p.keyFeature}`, p.value]);
  const caption = `Score of head ${t.head}, document ${t.document}, query ${t.query} → key ${t.key}`;
  return {
    "text/html": htmlTable(["term", "value"], rows, caption) + htmlTable(["query feature", "key feature", "f^Q·f^K·scale·M"], top, "largest pair terms"),
    "text/plain": `${caption}\n${textTable(["term", "value"], rows)}\n\n${textTable(["query feature", "key feature", "f^Q·f^K·scale·M"], top)}`,
  };
}
