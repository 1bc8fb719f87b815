// anywidget's frontend classes for a widget manager outside JupyterLab (the exported page's offline
// renderer, the live test page). anywidget's browser build ends with an AMD call,
// define(["@jupyter-widgets/base"], factory), and factory({ DOMWidgetModel, DOMWidgetView }) returns
// { AnyModel, AnyView }. A one-shot `define` set just before the module evaluates (bundled lazily, it
// evaluates at the import() below, on the first anywidget model) catches the factory; the page's own
// `define`, if any, is put back. Browser code: imports nothing from src/.
import * as base from "@jupyter-widgets/base";

let classes;

/** { AnyModel, AnyView }, loaded once. */
export function loadAnywidget() {
  classes ??= (async () => {
    const had = Object.prototype.hasOwnProperty.call(globalThis, "define");
    const previous = globalThis.define;
    let factory;
    globalThis.define = (_deps, f) => {
      factory = f;
    };
    try {
      await import("anywidget");
    } finally {
      if (had) globalThis.define = previous;
      else delete globalThis.define;
    }
    if (typeof factory !== "function") throw new Error("featurelab widgets: anywidget did not register its widget classes");
    const { AnyModel, AnyView } = factory({ DOMWidgetModel: base.DOMWidgetModel, DOMWidgetView: base.DOMWidgetView });
    return { AnyModel, AnyView };
  })();
  return classes;
}
