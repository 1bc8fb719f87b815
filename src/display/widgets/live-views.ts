// In a kernel with comms, featurelab's displays are live widgets: a figure becomes a FigureWidget, a
// figure with its table a VBox of the FigureWidget and an HTML block. The bundle keeps the plotly JSON,
// HTML and text beside the widget view, so a frontend without a widget manager draws it as before.
import { kernel } from "../core/kernel.js";
import { setLiveViews } from "../core/plotly.js";
import type { MimeBundle } from "../core/bundle.js";
import { HTML, VBox } from "./controls.js";
import { FigureWidget } from "./figure-widget.js";
import { WIDGET_VIEW_MIME } from "./widget.js";

const live = () => kernel()?.openComm !== undefined;

setLiveViews({
  figure: (f) => (live() ? new FigureWidget(f).toMimeBundle() : undefined),
  stack(parts): MimeBundle | undefined {
    if (!live()) return undefined;
    const box = new VBox(parts.map((p) => (typeof p === "string" ? new HTML({ value: p }) : new FigureWidget(p))));
    return { [WIDGET_VIEW_MIME]: box.widgetView() };
  },
});
