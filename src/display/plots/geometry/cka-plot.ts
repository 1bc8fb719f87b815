// A similarity matrix between representations as a heatmap with its values written in: CKA between
// layers (ckaMatrix), or MMCS between dictionaries (mmcsMatrix, read row → column).
import type { CkaMatrix } from "../../../geometry/cka.js";
import type { MmcsMatrix } from "../../../geometry/decoder-geometry.js";
import { escapeHtml } from "../../core/escape.js";
import { Figure } from "../../core/plotly.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

export function similarityPlot(m: CkaMatrix | MmcsMatrix, opts: { title?: string } = {}): Figure {
  rejectUnknownOptions("plot.cka", opts, optionNames<typeof opts>({ title: true }));
  const k = m.labels.length;
  const labels = m.labels.map((l) => escapeHtml(l));
  const isCka = "kind" in m;
  const what = isCka ? `${m.debiased ? "debiased " : ""}${m.kind} CKA` : "MMCS (row → column)";
  const min = Math.min(0, ...m.values.flat());
  return new Figure({
    data: [
      {
        type: "heatmap",
        z: m.values,
        x: labels,
        y: labels,
        zmin: min,
        zmax: 1,
        colorscale: "Viridis",
        colorbar: { title: { text: escapeHtml(what) } },
        text: m.values.map((row) => row.map((v) => v.toFixed(2))),
        texttemplate: k <= 20 ? "%{text}" : undefined,
        hovertemplate: `%{y} · %{x}<br>${escapeHtml(what)} %{z:.4f}<extra></extra>`,
      },
    ],
    layout: {
      title: { text: opts.title ?? `${what} between ${k} representation${k === 1 ? "" : "s"}` },
      xaxis: { type: "category", tickangle: -30 },
      yaxis: { type: "category", autorange: "reversed", scaleanchor: "x" },
      height: Math.max(360, Math.min(800, 120 + 40 * k)),
    },
  });
}
