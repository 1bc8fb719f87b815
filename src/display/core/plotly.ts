// A plotly figure as a MIME bundle: application/vnd.plotly.v1+json for front ends with a plotly
// renderer, text/html (a div + a script that draws it) for the classic notebook and exported HTML,
// text/plain for the rest. No figure carries plotly.js (~4.8 MB), so a saved notebook holds none:
// in Jupyter the page loads it once from the Jupyter server (the copy in the kernelspec's folder),
// and an exported page inlines it once in its head (widgets/plotly-figure.js says why).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { MimeBundle } from "./bundle.js";
import { escapeHtml, jsonForScript } from "./escape.js";
import { newDisplayId } from "./kernel.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";

/** Line colours for one series per dictionary or method, in order (plotly's defaults, red second). */
export const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

/** A plotly figure: traces, layout and config, as plotly.js takes them. */
export interface FigureSpec {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
  /** Cards shown beside the plot when a point is clicked: HTML (already escaped) by the point's customdata[0]. */
  cards?: Record<string, string>;
  /** What the side panel says before anything is hovered (default: about points and features). */
  cardsHint?: string;
  /** A browser behaviour from widgets/: `fn(el, args)` from widgets/<widget>.js runs once the figure is drawn. */
  behaviour?: { widget: string; fn: string; args: unknown };
}

const FIGURE_SPEC_KEYS = optionNames<FigureSpec>({ data: true, layout: true, config: true, cards: true, cardsHint: true, behaviour: true });

let plotlySource: string | undefined;

/**
 * How displays become live widgets, plugged in by src/display/widgets (so core imports nothing of it):
 * a figure, and a stack of figures and HTML (a figure with its table). Each returns undefined outside
 * a kernel with comms.
 */
export interface LiveViews {
  figure(f: Figure): MimeBundle | undefined;
  /** The widget-view entry of a vertical stack of parts (Figures, and HTML strings already escaped). */
  stack(parts: (Figure | string)[]): MimeBundle | undefined;
}

let live: LiveViews | undefined;

/** @internal */
export function setLiveViews(views: LiveViews): void {
  live = views;
}

/** @internal The live views, if any are plugged in. */
export function liveViews(): LiveViews | undefined {
  return live;
}

/** The plotly.js bundle shipped with featurelab (no network needed). */
export function plotlyScript(): string {
  plotlySource ??= readFileSync(createRequire(import.meta.url).resolve("plotly.js-dist-min/plotly.min.js"), "utf8");
  return plotlySource;
}

const widgetSources = new Map<string, string>();

/**
 * A browser-side script (widgets/<name>.js: plotly-figure draws, feature-cards switches cards, others
 * are behaviours), without its whole-line comments: it is inlined into every figure.
 */
function widgetScript(name: string): string {
  if (!/^[a-z-]+$/.test(name)) throw new Error(`featurelab: no widget named ${JSON.stringify(name)}`);
  let src = widgetSources.get(name);
  if (src === undefined) {
    src = readFileSync(new URL(`../../../widgets/${name}.js`, import.meta.url), "utf8").replace(/^[ \t]*\/\/.*\n/gm, "");
    widgetSources.set(name, src);
  }
  return src;
}

/**
 * A <script> that puts plotly.js into a page of its own (a standalone page of bundles, as the tests
 * write): once per page, before its figures. CommonJS/AMD globals are hidden so plotly attaches to
 * window on any page; figures already waiting for it draw.
 */
export function plotlyPageHtml(): string {
  const src = plotlyScript().replace(/<\/script/gi, "<\\/script");
  return (
    `<script>(function(){if(window.Plotly)return;var module=undefined,exports=undefined,define=undefined;\n${src}\n` +
    `})();(window.__flPlotlyQueue||[]).splice(0).forEach(function(f){f()});</script>`
  );
}

/**
 * An interactive plotly figure; every `fl.plot.*` returns one, and `fl.show` displays it.
 * @example
 * fl.show(new fl.Figure({ data: [{ x: [1, 2, 3], y: [2, 1, 3], type: "scatter" }], layout: { title: { text: "A line" } } }));
 */
export class Figure {
  readonly data: Record<string, unknown>[];
  readonly layout: Record<string, unknown>;
  readonly config: Record<string, unknown>;
  readonly title: string;
  readonly cards: Record<string, string> | undefined;
  readonly cardsHint: string | undefined;
  readonly behaviour: FigureSpec["behaviour"];

  constructor(spec: FigureSpec) {
    rejectUnknownOptions("Figure", spec, FIGURE_SPEC_KEYS);
    this.cards = spec.cards;
    this.cardsHint = spec.cardsHint;
    this.behaviour = spec.behaviour;
    this.data = spec.data;
    this.layout = { autosize: true, height: 440, margin: { l: 60, r: 30, t: 60, b: 60 }, ...(spec.layout ?? {}) };
    this.config = { responsive: true, displaylogo: false, ...(spec.config ?? {}) };
    const t = this.layout.title as { text?: string } | string | undefined;
    this.title = typeof t === "string" ? t : (t?.text ?? "figure");
  }

  /**
   * HTML that draws the figure: a div and a script, never plotly.js itself.
   * @example
   * const html = fl.plot.rdm(d).toHtml();
   */
  toHtml(): string {
    const id = newDisplayId();
    const spec = jsonForScript({ data: this.data, layout: this.layout, config: this.config });
    const height = Number(this.layout.height) || 440;
    if (this.cards) {
      const side = `${id}-card`;
      const draw =
        `<script>${widgetScript("plotly-figure")}${widgetScript("feature-cards")}featurelabDrawFigure(${JSON.stringify(id)},${spec},function(el){` +
        `featurelabFeatureCards(el,${JSON.stringify(side)},${jsonForScript(this.cards)})});</script>`;
      const div =
        `<div class="featurelab-linked" style="display:flex;flex-wrap:wrap;align-items:flex-start;width:100%">` +
        `<div id="${id}" class="featurelab-figure" style="flex:1 1 520px;min-width:0;min-height:${height}px"></div>` +
        `<div id="${side}" class="featurelab-side" style="flex:0 1 380px;min-width:0;max-height:${height}px;overflow:auto;font-family:system-ui,sans-serif;font-size:13px;color:inherit;opacity:.85;padding:8px">` +
        `${escapeHtml(this.cardsHint ?? "Hover over a point to see its feature; click to keep it.")}</div></div>`;
      return div + draw;
    }
    const b = this.behaviour;
    const draw = b
      ? `<script>${widgetScript("plotly-figure")}${widgetScript(b.widget)}featurelabDrawFigure(${JSON.stringify(id)},${spec},function(el){${b.fn.replace(/[^A-Za-z0-9_]/g, "")}(el,${jsonForScript(b.args)})});</script>`
      : `<script>${widgetScript("plotly-figure")}featurelabDrawFigure(${JSON.stringify(id)},${spec});</script>`;
    const div = `<div id="${id}" class="featurelab-figure" style="width:100%;min-height:${height}px"></div>`;
    return div + draw;
  }

  /**
   * The figure as plotly JSON, HTML (a div and a script that draws it) and text — and, in a kernel,
   * as a live widget view (FigureWidget) that widget frontends prefer.
   */
  toMimeBundle(): MimeBundle {
    return live?.figure(this) ?? this.staticBundle();
  }

  /** @internal The bundle without a widget view: plotly JSON, HTML and text. */
  staticBundle(): MimeBundle {
    return {
      "application/vnd.plotly.v1+json": { data: this.data, layout: this.layout, config: this.config },
      "text/html": this.toHtml(),
      "text/plain": `Figure: ${this.title} (${this.data.length} trace${this.data.length === 1 ? "" : "s"})`,
    };
  }

  /** "Figure(title)". */
  toString(): string {
    return `Figure(${this.title})`;
  }
}
