// Summary cards for featurelab's own values: an ActivationSet, a Dictionary, metrics.
import type { ActivationSet } from "../../data/activation-set.js";
import type { Dictionary } from "../../dictionaries/dictionary.js";
import type { MimeBundle } from "./bundle.js";
import { escapeHtml } from "./escape.js";
import { formatCell, htmlTable, textTable, type Cell } from "./table.js";

const CARD = "font-family:system-ui,sans-serif;font-size:13px;color:inherit;border:1px solid rgba(128,128,128,.4);border-radius:6px;padding:8px 12px;display:inline-block;max-width:100%;overflow-x:auto";

/** A bordered summary card: a title, then "name value" pairs on one line, then any extra HTML. */
export function card(title: string, lines: [string, Cell][], extraHtml = ""): string {
  const dl = lines
    .map(([k, v]) => `<span style="opacity:.7">${escapeHtml(k)}</span> <b>${escapeHtml(formatCell(v))}</b>`)
    .join(" &nbsp;·&nbsp; ");
  return `<div class="featurelab-card" style="${CARD}"><div style="font-weight:600;margin-bottom:4px">${escapeHtml(title)}</div><div>${dl}</div>${extraHtml}</div>`;
}

function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function activationSetBundle(acts: ActivationSet, previewRows = 8): MimeBundle {
  const n = Math.min(previewRows, acts.numRows);
  const columns = [...acts.columns, `‖${acts.vectorName}‖`];
  const rows: Cell[][] = [];
  for (let r = 0; r < n; r++) {
    const v = acts.row(r);
    let s = 0;
    for (const x of v) s += x * x;
    rows.push([...acts.columns.map((c) => acts.column(c)[r] as Cell), Math.sqrt(s)]);
  }
  const lines: [string, Cell][] = [
    ["rows", acts.numRows],
    ["dim", acts.dim],
    ["bytes", formatBytes(acts.vectors.byteLength)],
  ];
  if (acts.normalization) lines.push(["normalised ×", acts.normalization.scale]);
  if (acts.source) lines.push(["source", acts.source]);
  const schema = acts
    .schema()
    .map((f) => `<span style="opacity:.7">${escapeHtml(f.name)}</span>: ${escapeHtml(f.type)}`)
    .join(" · ");
  return {
    "text/html": card("ActivationSet", lines, `<div style="margin:4px 0;font-size:12px">schema: ${schema}</div>${htmlTable(columns, rows)}`),
    "text/plain": `${acts}\nschema: ${acts.schema().map((f) => `${f.name}: ${f.type}`).join(", ")}\n${textTable(columns, rows)}`,
  };
}

export function dictionaryBundle(d: Dictionary): MimeBundle {
  const last = d.history[d.history.length - 1];
  const lines: [string, Cell][] = [
    ["architecture", d.cfg.architecture],
    ["d_in", d.dIn],
    ["d_sae", d.width],
  ];
  if (typeof d.cfg.l1_coefficient === "number") lines.push(["λ", d.cfg.l1_coefficient]);
  if (last) lines.push(["steps", last.step], ["loss", last.loss], ["L0", last.l0], ["FVU", last.fvu], ["dead", `${(100 * last.deadFraction).toFixed(1)}%`]);
  const note = d.note ? `<div style="color:#c0392b;margin-top:4px">${escapeHtml(d.note)}</div>` : "";
  return {
    "text/html": card("Dictionary", lines, note),
    "text/plain": `${d}${last ? ` after ${last.step} steps: loss ${formatCell(last.loss)}, L0 ${formatCell(last.l0)}, FVU ${formatCell(last.fvu)}` : ""}${d.note ? `\n${d.note}` : ""}`,
  };
}

/** What each metric means, shown next to its value. */
const METRIC_NOTES: Record<string, [string, string]> = {
  l0: ["L0", "mean active features per row"],
  fvu: ["FVU", "fraction of variance unexplained"],
  explainedVariance: ["explained variance", "1 − FVU"],
  mse: ["MSE", "mean squared error per element"],
  normalizedMse: ["normalised MSE", "mean((x̂−x)²)/mean(x²)"],
  deadFraction: ["dead fraction", "features that never fire"],
  dead: ["dead", "count of features that never fire"],
  l2Ratio: ["L2 ratio", "mean ‖x̂‖/‖x‖"],
  cosine: ["cosine", "mean cos(x, x̂)"],
  shrinkage: ["γ (shrinkage)", "E‖x̂‖²/E[x̂·x]; < 1 means shrinkage"],
  denseFraction: ["dense fraction", "features firing on > 10% of rows"],
  mmcs: ["MMCS", "mean max cosine similarity to the reference directions"],
  rows: ["rows", "rows evaluated"],
  width: ["width", "features in the dictionary"],
};

/** A record of numbers (metrics) as a name/value/meaning table. */
export function recordBundle(rec: Record<string, Cell>, caption?: string): MimeBundle {
  const entries = Object.entries(rec);
  // The "meaning" column only when some key is a known metric (a plain record has nothing to explain).
  const explained = entries.some(([k]) => METRIC_NOTES[k] !== undefined);
  const rows: Cell[][] = entries.map(([k, v]) => (explained ? [METRIC_NOTES[k]?.[0] ?? k, v, METRIC_NOTES[k]?.[1] ?? ""] : [k, v]));
  const columns = explained ? ["metric", "value", "meaning"] : ["metric", "value"];
  return { "text/html": htmlTable(columns, rows, caption, 200), "text/plain": textTable(columns, rows, 200) };
}

/** Metrics of a dictionary: the table, and a histogram of log10 feature density beside it. */
export function metricsBundle(m: Record<string, unknown> & { density: Float64Array }): MimeBundle {
  const { density, ...rest } = m;
  const table = recordBundle(rest as Record<string, Cell>);
  const logs = Array.from(density, (d) => (d > 0 ? Math.log10(d) : -Infinity));
  const alive = logs.filter(Number.isFinite);
  const lo = Math.floor(Math.min(-6, ...alive)), hi = 0, bins = 24;
  const counts = new Array(bins).fill(0);
  for (const v of alive) counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))]++;
  const W = 260, H = 90, top = Math.max(1, ...counts);
  const bars = counts
    .map((c, i) => `<rect x="${((i * W) / bins).toFixed(1)}" y="${(H - (H * c) / top).toFixed(1)}" width="${(W / bins - 1).toFixed(1)}" height="${((H * c) / top).toFixed(1)}" fill="#1f77b4"><title>${c} features</title></rect>`)
    .join("");
  const dead = logs.length - alive.length;
  const svg =
    `<div style="display:inline-block;vertical-align:top;margin-left:18px;font-family:system-ui,sans-serif;font-size:12px;color:inherit">` +
    `<div><b>feature density</b> (log10 fraction of rows)${dead ? `, ${dead} dead not shown` : ""}</div>` +
    `<svg width="${W}" height="${H + 16}">${bars}<text x="0" y="${H + 13}" fill="currentColor">${lo}</text>` +
    `<text x="${W - 8}" y="${H + 13}" fill="currentColor">0</text></svg></div>`;
  return {
    "text/html": `<div class="featurelab-metrics"><div style="display:inline-block;vertical-align:top">${table["text/html"]}</div>${svg}</div>`,
    "text/plain": `${table["text/plain"]}\nlog10 density histogram from ${lo} to 0: ${counts.join(" ")}${dead ? ` (${dead} dead)` : ""}`,
  };
}
