// A featurelab figure as a live widget (an anywidget model; widgets/figure-widget.js draws it): the
// same plotly figure, cards and linked panels as the HTML figure, in every widget frontend, plus a
// way back — box or lasso selections reach the kernel (`selected`, "select"), and setting `figure`
// redraws in place. The figure travels gzip'd as one binary buffer: a scatter of 16k features with
// cards is a few hundred kB in the saved notebook, not megabytes of JSON.
import { gzipSync, strToU8 } from "fflate";
import { AnyWidget, esmOf } from "./anywidget.js";
import type { MimeBundle } from "../core/bundle.js";
import { Figure, plotlyScript } from "../core/plotly.js";

function packFigure(f: Figure): Uint8Array {
  const spec = { data: f.data, layout: f.layout, config: f.config, cards: f.cards, cardsHint: f.cardsHint, behaviour: f.behaviour };
  return gzipSync(strToU8(JSON.stringify(spec)), { level: 6, mtime: 0 });
}

let plotlyBytes: Uint8Array | undefined;

/**
 * A figure as a widget: draws in JupyterLab, Notebook 7, VS Code and exported pages; selections
 * reach the kernel; `figure = …` redraws in place.
 * @example
 * const view = fl.widgets.figure(fl.plot.geometry(sae));
 * view.onSelect((ids) => console.log("selected features", ids));
 * fl.show(view);
 */
export class FigureWidget extends AnyWidget {
  private current: Figure;

  constructor(figure: Figure) {
    super({
      esm: esmOf("figure-widget", "rdm-mds-link", "feature-cards", "plotly-figure"),
      name: "FigureWidget",
      traits: [
        { name: "spec", type: "bytes", default: null },
        { name: "selected", type: "array", default: [], items: { type: "int" } },
      ],
      init: { spec: packFigure(figure) },
    });
    this.current = figure;
    // The page asks for plotly.js when it has no other source (VS Code, Colab): it is sent once per page.
    this.on("msg:custom", (content: { type?: string }) => {
      if (content?.type !== "plotly") return;
      const bytes = (plotlyBytes ??= strToU8(plotlyScript()));
      this.send({ type: "plotly" }, [bytes]);
    });
  }

  /** The figure shown; setting it redraws every view in place. */
  get figure(): Figure {
    return this.current;
  }
  /** Set figure (every view follows). */
  set figure(f: Figure) {
    this.current = f;
    this.set({ spec: packFigure(f) });
  }

  /** The ids of the selected points (a point's customdata[0], else its index), as the page last said. */
  get selected(): number[] {
    return this.get<number[]>("selected");
  }

  /**
   * Call `handler` with the selected ids whenever a box or lasso selection changes in the page.
   * @example
   * view.onSelect((ids) => out.capture(() => ids.forEach((i) => fl.show(sae.dashboard(acts, i))), { replace: true }));
   */
  onSelect(handler: (ids: number[]) => void | Promise<void>): this {
    return this.observe<number[]>(({ new: ids }) => handler(ids), "selected");
  }

  /** @internal In the classic notebook and other pages without a widget manager: the HTML figure. */
  override fallbackHtml(): string {
    return this.current.toHtml();
  }

  /** The widget view, with the figure's plotly JSON, HTML and text for frontends without widgets. */
  override toMimeBundle(): MimeBundle {
    const f = this.current;
    return { ...super.toMimeBundle(), "application/vnd.plotly.v1+json": { data: f.data, layout: f.layout, config: f.config } };
  }

  override toString(): string {
    return `FigureWidget(${this.current.title})`;
  }
}

/**
 * Wrap a figure as a live widget.
 * @example
 * fl.show(fl.widgets.figure(fl.plot.rdm(d)));
 */
export function figure(f: Figure): FigureWidget {
  return new FigureWidget(f);
}
