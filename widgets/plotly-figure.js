// Browser side of a featurelab figure: draw it with plotly.js once its div is in the page and the page
// has plotly.js. Inlined into each figure's HTML by src/display/core/plotly.ts; runs with no kernel.
//
// Where plotly.js comes from (plotly.py's "notebook_connected" renderer, with a source that needs no
// network): a figure's HTML never carries plotly.js. A page that has it already (an exported HTML
// page, which inlines it once in its head) draws at once. In Jupyter (classic notebook: body
// data-base-url; JupyterLab / Notebook 7: #jupyter-config-data), the first figure to need it adds one
// <script> for {baseUrl}kernelspecs/featurelab/plotly.min.js — a copy in the kernelspec's folder, which
// the Jupyter server itself serves — and every figure waiting draws when it loads. So each figure
// stands alone: outputs can be cleared, run out of order or reopened from the .ipynb, and the saved
// notebook holds no copy of plotly.js (plotly.py's "notebook" renderer instead embeds it once per
// session in one output, and later figures break when that output is cleared).
// plotly.js ≥ 3 sets window.Plotly and never calls an AMD define, so a plain script element works
// beside the classic notebook's require.js. Where plotly.js cannot be had (a page that is neither),
// the figure keeps its static image and says so.
//
// A front end may run an output's scripts before the output is attached to the page, so the figure
// waits for its div to appear. A static image inside the div (the fallback a saved notebook
// carries for readers without JavaScript) is replaced by the interactive figure. `onDrawn(el)` runs
// once plotly has drawn, when the div also gets a data-drawn attribute.
function featurelabDrawFigure(id, spec, onDrawn) {
  function draw(el) {
    var still = el.querySelector(".featurelab-static");
    if (still) el.removeChild(still);
    var note = el.querySelector(".featurelab-plotly-missing");
    if (note) el.removeChild(note);
    var p = window.Plotly.newPlot(el, spec.data, spec.layout, spec.config);
    // data-drawn marks a figure whose every trace is plotted and interactive (tests and tools wait on it).
    Promise.resolve(p).then(function () {
      el.setAttribute("data-drawn", "");
      if (onDrawn) onDrawn(el);
    });
  }
  featurelabWhenAttached(id, function (el) {
    featurelabWithPlotly(function () {
      draw(el);
    });
  });
}

// Calls back with the element once it is in the document (now, or when it is added; gives up after a minute).
function featurelabWhenAttached(id, then) {
  var el = document.getElementById(id);
  if (el) return then(el);
  if (typeof MutationObserver !== "function") return;
  var obs = new MutationObserver(function () {
    var found = document.getElementById(id);
    if (!found) return;
    obs.disconnect();
    clearTimeout(timer);
    then(found);
  });
  var timer = setTimeout(function () {
    obs.disconnect();
  }, 60000);
  obs.observe(document.documentElement, { childList: true, subtree: true });
}

// Runs `then` once window.Plotly exists, loading plotly.js from the Jupyter server the first time.
function featurelabWithPlotly(then) {
  if (window.Plotly) return then();
  // The queue is shared with older featurelab figures in the same page, which wait on it too.
  (window.__flPlotlyQueue = window.__flPlotlyQueue || []).push(then);
  var state = window.__flPlotlyLoad;
  if (state === "failed") return featurelabPlotlyMissing(null);
  if (state === "loading") return;
  var url = featurelabPlotlyUrl();
  if (!url) {
    window.__flPlotlyLoad = "failed";
    return featurelabPlotlyMissing(null);
  }
  window.__flPlotlyLoad = "loading";
  var s = document.createElement("script");
  s.src = url;
  s.onload = function () {
    if (!window.Plotly) return s.onerror();
    window.__flPlotlyLoad = "loaded";
    window.__flPlotlyQueue.splice(0).forEach(function (f) {
      f();
    });
  };
  s.onerror = function () {
    window.__flPlotlyLoad = "failed";
    featurelabPlotlyMissing(url);
  };
  document.head.appendChild(s);
}

// plotly.js as the Jupyter server of this page serves it, or null when the page is not Jupyter's.
function featurelabPlotlyUrl() {
  var base = null;
  var cfg = document.getElementById("jupyter-config-data");
  if (cfg) {
    try {
      base = JSON.parse(cfg.textContent).baseUrl;
    } catch (e) {}
  }
  if (typeof base !== "string" && document.body) base = document.body.getAttribute("data-base-url");
  if (typeof base !== "string") return null;
  return base.replace(/\/?$/, "/") + "kernelspecs/featurelab/plotly.min.js";
}

// Every featurelab figure not drawn says (once) that plotly.js is missing; its static image, if any, stays.
function featurelabPlotlyMissing(url) {
  var figs = document.querySelectorAll(".featurelab-figure:not([data-drawn]):not([data-plotly-missing])");
  for (var i = 0; i < figs.length; i++) {
    var note = document.createElement("div");
    note.className = "featurelab-plotly-missing";
    note.style.cssText = "font:12px system-ui,sans-serif;opacity:.7;padding:4px 0";
    note.textContent =
      "Interactive figure: plotly.js did not load" +
      (url ? " from " + url + " (install the kernel with `npx featurelab install`, or start Jupyter with JUPYTER_PATH=<featurelab>/jupyter)" : " (this page is not served by Jupyter)") +
      ". The exported HTML page (npm run export) draws it offline.";
    figs[i].setAttribute("data-plotly-missing", "");
    figs[i].appendChild(note);
  }
}
