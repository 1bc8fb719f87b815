// Training progress as a live widget: `fit` updates the view's state (the progress line and the
// four training curves) at every logged step, and every widget frontend redraws it in place — no
// output is re-displayed. Where no widget manager listens (the classic notebook, a headless run) the
// same display is also updated in place as HTML, as before, so those keep a live bar and saved
// notebooks keep the final picture.
import type { ProgressSink, ProgressState } from "../../training/progress.js";
import { kernel, newDisplayId, sendBundle } from "../core/kernel.js";
import { progressHtml, progressText } from "../core/progress-display.js";
import { historyFigure } from "../plots/features/history-plot.js";
import { HTML, VBox } from "./controls.js";
import { FigureWidget } from "./figure-widget.js";

/**
 * A training run's progress line above its loss, L0, FVU and dead-fraction curves, updated live.
 * `fit` makes one in a notebook; make your own to follow a custom loop.
 * @example
 * const view = new fl.widgets.TrainingView("my run");
 * fl.show(view);
 * view.update(state);        // a ProgressState, as fit's progress sinks get
 */
export class TrainingView extends VBox {
  readonly status: HTML;
  /** The training curves (absent for a run without training records). */
  readonly curves: FigureWidget | undefined;
  private last: ProgressState;
  /** How many updates reached the view (tests and benchmarks count them). */
  updates = 0;

  constructor(first: ProgressState | string) {
    const s: ProgressState =
      typeof first === "string" ? { title: first, step: 0, steps: 1, tokensPerSecond: 0, elapsedSeconds: 0, last: undefined, history: [], done: false } : first;
    const status = new HTML({ value: progressHtml(s) });
    const curves = s.curves === false ? undefined : new FigureWidget(historyFigure(s.history, s.title));
    super(curves ? [status, curves] : [status]);
    this.status = status;
    this.curves = curves;
    this.last = s;
  }

  /**
   * Show a new state of the run.
   * @example
   * new fl.widgets.TrainingView("run").update(state);
   */
  update(s: ProgressState): void {
    this.last = s;
    this.updates++;
    this.status.value = progressHtml(s);
    // The curves change only when a record was logged.
    const curves = this.curves;
    if (curves && (s.history.length !== (curves.figure.data[0]?.x as unknown[] | undefined)?.length || s.done)) curves.figure = historyFigure(s.history, s.title);
  }

  /** @internal */
  override fallbackHtml(): string {
    return progressHtml(this.last);
  }

  override toString(): string {
    return progressText(this.last);
  }
}

/** The progress sink `fit` uses in a kernel with widgets: one TrainingView, shown once, updated live. */
export function widgetProgress(): ProgressSink | undefined {
  const k = kernel();
  if (!k?.openComm) return undefined;
  const displayId = newDisplayId();
  let view: TrainingView | undefined;
  return {
    update(s) {
      if (!view) {
        view = new TrainingView(s);
        sendBundle(view.toMimeBundle(), { displayId });
        return;
      }
      view.update(s);
      // Without a widget manager the page shows the HTML: keep it current too (and the final state always).
      if (s.done || !k.widgetFrontend?.()) sendBundle(view.toMimeBundle(), { displayId, update: true });
    },
  };
}
