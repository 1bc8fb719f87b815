// Bar chart of an ablation: how much the reconstruction error grows when each feature is ablated.
import type { FeatureAblation } from "../ablation/feature-ablation.js";
import { Figure } from "./plotly.js";

export function ablationPlot(result: FeatureAblation, opts: { title?: string } = {}): Figure {
  const rows = result.rows;
  return new Figure({
    data: [
      {
        type: "bar",
        x: rows.map((r) => `f${r.feature}`),
        y: rows.map((r) => r.delta),
        customdata: rows.map((r) => [r.feature, r.density, r.mseClean, r.mseAblated]),
        hovertemplate:
          "<b>feature %{customdata[0]}</b><br>density %{customdata[1]:.4f}<br>MSE %{customdata[2]:.3e} → %{customdata[3]:.3e}" +
          "<br>Δ %{y:.3e}<extra></extra>",
        marker: { color: "#d62728" },
      },
    ],
    layout: {
      title: { text: opts.title ?? `${result.mode === "zero" ? "Zero" : "Mean"}-ablation: increase in reconstruction MSE` },
      xaxis: { title: { text: "feature (most frequent first)" }, type: "category" },
      yaxis: { title: { text: "Δ MSE per element" } },
    },
  });
}
