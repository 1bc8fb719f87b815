// Training progress in a notebook: one output, updated in place, with a small loss curve.
import type { ProgressSink, ProgressState } from "../../training/progress.js";
import { escapeHtml } from "./escape.js";
import { inKernel, newDisplayId, sendBundle } from "./kernel.js";
import { formatCell } from "./table.js";

/** An inline SVG polyline of the loss (log scale), inside HTML (nbconvert blanks bare SVG outputs). */
function lossCurve(state: ProgressState, width = 220, height = 50): string {
  const pts = state.history.filter((r) => Number.isFinite(r.loss) && r.loss > 0);
  if (pts.length < 2) return "";
  const ys = pts.map((r) => Math.log10(r.loss));
  const lo = Math.min(...ys), hi = Math.max(...ys);
  const span = hi - lo || 1;
  const path = pts
    .map((r, i) => `${((width * r.step) / state.steps).toFixed(1)},${(height - 2 - ((height - 4) * (ys[i] - lo)) / span).toFixed(1)}`)
    .join(" ");
  return `<svg width="${width}" height="${height}" style="vertical-align:middle"><polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${path}"/></svg>`;
}

/** The progress bar, figures and a small loss curve, as HTML. */
export function progressHtml(s: ProgressState): string {
  const pct = (100 * s.step) / s.steps;
  const r = s.last;
  const stats: [string, string][] = [[s.unit ?? "step", `${s.step}/${s.steps}`]];
  // A run that moves no tokens (a download) gives NaN.
  if (Number.isFinite(s.tokensPerSecond)) stats.push(["tokens/s", formatCell(Math.round(s.tokensPerSecond))]);
  if (r) stats.push(["loss", formatCell(r.loss)], ["L0", formatCell(r.l0)], ["FVU", formatCell(r.fvu)], ["dead", `${(100 * r.deadFraction).toFixed(1)}%`]);
  const statHtml = stats.map(([k, v]) => `<span style="opacity:.7">${k}</span> <b>${escapeHtml(v)}</b>`).join(" &nbsp; ");
  const state = s.done ? `done in ${s.elapsedSeconds.toFixed(1)} s` : s.curves === false ? "running…" : "training…";
  const note = s.note ? `<div style="color:#c0392b">${escapeHtml(s.note)}</div>` : "";
  return (
    `<div class="featurelab-progress" style="font-family:system-ui,sans-serif;font-size:13px;color:inherit">` +
    `<div><b>${escapeHtml(s.title)}</b> — ${state}</div>` +
    `<div style="display:flex;align-items:center;gap:12px"><div style="width:220px;height:8px;background:rgba(128,128,128,.25);border-radius:4px">` +
    `<div style="width:${pct.toFixed(1)}%;height:8px;background:#1f77b4;border-radius:4px"></div></div>${lossCurve(s)}</div>` +
    `<div>${statHtml}</div>${note}</div>`
  );
}

/** The progress as one line of text. */
export function progressText(s: ProgressState): string {
  const r = s.last;
  return `${s.title}: ${s.unit ?? "step"} ${s.step}/${s.steps}${r ? `, loss ${formatCell(r.loss)}, L0 ${formatCell(r.l0)}, FVU ${formatCell(r.fvu)}` : ""}${s.done ? " (done)" : ""}${s.note ? `\n${s.note}` : ""}`;
}

/** A progress sink that draws into the notebook, or undefined outside a kernel. */
export function notebookProgress(): ProgressSink | undefined {
  if (!inKernel()) return undefined;
  const displayId = newDisplayId();
  let first = true;
  return {
    update(s) {
      sendBundle({ "text/html": progressHtml(s), "text/plain": progressText(s) }, { displayId, update: !first });
      first = false;
    },
  };
}
