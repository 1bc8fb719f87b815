// Linked exploration of a dictionary's features, computed in the kernel as the page asks: a slider
// picks a feature and its dashboard appears; selecting points in the decoder-geometry scatter shows
// the selected features' dashboards. The activations are encoded once; each request builds only
// the dashboards it shows.
import type { ActivationSet } from "../../data/activation-set.js";
import type { Dictionary } from "../../dictionaries/dictionary.js";
import type { Codes } from "../../dictionaries/codes.js";
import { FeatureDashboard, type DashboardOptions } from "../plots/features/feature-dashboard.js";
import { geometryPlot, type GeometryPlotOptions } from "../plots/features/geometry-plot.js";
import { escapeHtml } from "../core/escape.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";
import { HTML, IntSlider, Label, VBox } from "./controls.js";
import { FigureWidget } from "./figure-widget.js";
import { Figure } from "../core/plotly.js";

/** Options of `fl.widgets.featureExplorer`: the dashboard's, plus the first feature shown. */
export interface FeatureExplorerOptions extends DashboardOptions {
  /** The feature shown first (default 0). */
  feature?: number;
}

const EXPLORER_OPTIONS = optionNames<FeatureExplorerOptions>({
  feature: true, model: true, tokens: true, context: true, examples: true, codes: true, quantiles: true, perQuantile: true, neighbors: true, logits: true,
});

/**
 * A slider over a dictionary's features above the chosen feature's dashboard; moving the slider asks
 * the kernel for the new dashboard.
 * @example
 * const ex = fl.widgets.featureExplorer(sae, acts, { feature: 7 });
 * fl.show(ex);
 * ex.feature = 12;               // the page follows
 */
export class FeatureExplorer extends VBox {
  readonly slider: IntSlider;
  readonly view: HTML;
  private readonly opts: DashboardOptions & { codes: Codes };

  constructor(
    readonly dict: Dictionary,
    readonly acts: ActivationSet,
    opts: FeatureExplorerOptions = {},
  ) {
    rejectUnknownOptions("widgets.featureExplorer", opts, EXPLORER_OPTIONS);
    const { feature = 0, ...dash } = opts;
    if (!Number.isInteger(feature) || feature < 0 || feature >= dict.width) throw new RangeError(`featurelab: featureExplorer: feature ${feature} out of range 0..${dict.width - 1}`);
    const codes = dash.codes ?? dict.encode(acts);
    const slider = new IntSlider({ value: feature, min: 0, max: dict.width - 1, description: "feature", continuous_update: false });
    const view = new HTML({ value: new FeatureDashboard(dict, acts, feature, { ...dash, codes }).html });
    super([slider, view]);
    this.slider = slider;
    this.view = view;
    this.opts = { ...dash, codes };
    slider.observe<number>(({ new: f }) => this.render([f]), "value");
  }

  /** The feature on show (setting it moves the slider and redraws). */
  get feature(): number {
    return this.slider.value;
  }
  /** Set feature (every view follows). */
  set feature(f: number) {
    this.slider.value = f;
  }

  /**
   * Show the dashboards of these features, one under another.
   * @example
   * fl.widgets.featureExplorer(sae, acts).render([3, 7]);
   */
  render(features: readonly number[]): void {
    this.view.value = features.map((f) => new FeatureDashboard(this.dict, this.acts, f, this.opts).html).join(`<hr style="border:0;border-top:1px solid rgba(128,128,128,.3)">`);
  }

  override toString(): string {
    return `FeatureExplorer(feature=${this.feature} of ${this.dict.width})`;
  }
}

/**
 * A feature explorer: slider and dashboard.
 * @example
 * fl.show(fl.widgets.featureExplorer(sae, acts));
 */
export function featureExplorer(dict: Dictionary, acts: ActivationSet, opts: FeatureExplorerOptions = {}): FeatureExplorer {
  return new FeatureExplorer(dict, acts, opts);
}

/** Options of `fl.widgets.geometryExplorer`. */
export interface GeometryExplorerOptions extends FeatureExplorerOptions {
  /** Dashboards shown for a selection (its first features; default 3). */
  maxDashboards?: number;
  /** Options of the scatter (fl.plot.geometry); `acts` is the explorer's. */
  plot?: Omit<GeometryPlotOptions, "acts">;
}

/**
 * The decoder-geometry scatter linked to feature dashboards: select points (box or lasso) and the
 * kernel builds the selected features' dashboards below; the slider shows one feature.
 * @example
 * const ex = fl.widgets.geometryExplorer(sae, acts);
 * ex.scatter.onSelect((ids) => console.log(ids.length, "features selected"));
 * fl.show(ex);
 */
export class GeometryExplorer extends VBox {
  readonly scatter: FigureWidget;
  readonly explorer: FeatureExplorer;
  readonly status: Label;

  constructor(dict: Dictionary, acts: ActivationSet, opts: GeometryExplorerOptions = {}) {
    const { maxDashboards = 3, plot = {}, ...rest } = opts;
    if (!Number.isInteger(maxDashboards) || maxDashboards < 1) throw new RangeError(`featurelab: geometryExplorer: maxDashboards must be a positive integer, not ${maxDashboards}`);
    const explorer = new FeatureExplorer(dict, acts, rest);
    const plotted = geometryPlot(dict, { cards: false, ...plot, acts });
    // Dragging selects (box; the toolbar switches to lasso, zoom or pan): selecting is what the explorer is for.
    const scatter = new FigureWidget(new Figure({ data: plotted.data, layout: { ...plotted.layout, dragmode: "select" }, config: plotted.config }));
    const status = new Label({ value: "Select features in the scatter (box or lasso) to see their dashboards." });
    super([scatter, status, explorer]);
    this.scatter = scatter;
    this.explorer = explorer;
    this.status = status;
    scatter.onSelect((ids) => {
      const shown = ids.slice(0, maxDashboards);
      status.value = ids.length === 0 ? "No features selected." : `${ids.length} feature${ids.length === 1 ? "" : "s"} selected${ids.length > shown.length ? `; dashboards of the first ${shown.length}` : ""}: ${shown.join(", ")}`;
      if (shown.length > 0) explorer.render(shown);
    });
  }

  override toString(): string {
    return `GeometryExplorer(${escapeHtml(String(this.explorer.dict.width))} features)`;
  }
}

/**
 * A decoder-geometry scatter whose selections open feature dashboards.
 * @example
 * fl.show(fl.widgets.geometryExplorer(sae, acts, { maxDashboards: 4 }));
 */
export function geometryExplorer(dict: Dictionary, acts: ActivationSet, opts: GeometryExplorerOptions = {}): GeometryExplorer {
  return new GeometryExplorer(dict, acts, opts);
}
