// Renders the Jupyter widgets of an exported notebook's HTML page from the widget state saved in the
// notebook (nb.metadata.widgets, which the nbconvert template writes into a
// <script type="application/vnd.jupyter.widget-state+json"> at the end of the page), with nothing
// fetched from the network: ipywidgets 8 core controls (@jupyter-widgets/base 2.0.0 and controls 2.0.0
// models), the Output widget, and anywidget models (featurelab's own views), whose `_esm` module is
// imported from a blob: URL made in the page.
// scripts/build-widgets.mjs bundles this file (esbuild, one IIFE with its CSS) to dist/widgets/embed.js
// and beside the nbconvert template, which inlines it into pages that hold widget state. Browser code:
// imports nothing from src/.
import { HTMLManager } from "@jupyter-widgets/html-manager/lib/htmlmanager.js";
import { renderWidgets } from "@jupyter-widgets/html-manager/lib/libembed.js";
import { loadAnywidget } from "./anywidget-classes.js";

const VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';
// The static picture the template puts before a widget view (the output's image/png), for readers
// without JavaScript; it gives way once the view shows something.
const FALLBACK = "img.featurelab-static, img.jupyter-widget";

/** Modules other than @jupyter-widgets/base, controls and output (which HTMLManager has built in). */
function loader(moduleName, moduleVersion) {
  if (moduleName === "anywidget") return loadAnywidget();
  return Promise.reject(new Error(`featurelab widgets: no offline copy of the widget module ${moduleName}@${moduleVersion}`));
}

/**
 * Remove an output's static fallback image once the widget view beside it shows something: a
 * .widget-subarea (where the view is attached) with a size, holding no error widget. Views that render
 * asynchronously (anywidget's render runs after its module loaded) are watched until they do.
 */
function dropFallbackOnRender(output) {
  const rendered = () => {
    const area = output.querySelector(":scope > .widget-subarea");
    return area !== null && !area.querySelector(".jupyter-widgets-error-widget") && area.getBoundingClientRect().height > 0;
  };
  const drop = () => {
    if (!rendered()) return false;
    for (const img of output.querySelectorAll(`:scope > :is(${FALLBACK})`)) img.remove();
    return true;
  };
  if (drop()) return;
  const observer = new MutationObserver(() => drop() && observer.disconnect());
  observer.observe(output, { childList: true, subtree: true, characterData: true, attributes: true });
}

async function main() {
  for (const view of document.querySelectorAll(VIEW)) {
    const output = view.parentElement;
    if (output && output.querySelector(`:scope > :is(${FALLBACK})`)) dropFallbackOnRender(output);
  }
  try {
    await renderWidgets(() => new HTMLManager({ loader }));
  } catch (err) {
    console.error("featurelab widgets: the saved widget state could not be rendered:", err);
  }
}

// anywidget rejects a model's `ready` promise when its module took over 2 s to initialise (a busy
// machine, a long page), though the view still renders when it lands; nothing awaits that promise
// here, so the rejection would surface as an uncaught error. In a static page it is only a note.
window.addEventListener("unhandledrejection", (ev) => {
  if (String(ev.reason?.message ?? ev.reason).includes("[anywidget] Failed to initialize model")) {
    ev.preventDefault();
    console.warn("featurelab widgets: a view initialised slowly:", ev.reason?.message);
  }
});

if (!window.__featurelabWidgetsEmbedded) {
  window.__featurelabWidgetsEmbedded = true;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => void main(), { once: true });
  else void main();
}
