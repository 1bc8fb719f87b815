// Browser side of a featurelab figure: draw it with plotly.js, now if the page has plotly.js, or as
// soon as the page's first featurelab figure (which carries plotly.js) has loaded it.
// Inlined into each figure's HTML by src/display/plotly.ts; runs with no kernel (exported HTML).
// A static image inside the div (the fallback a saved notebook carries for readers without
// JavaScript) is replaced by the interactive figure. `onDrawn(el)` runs once plotly has drawn,
// when the div also gets a data-drawn attribute.
function featurelabDrawFigure(id, spec, onDrawn) {
  function draw() {
    var el = document.getElementById(id);
    if (!el) return;
    var still = el.querySelector(".featurelab-static");
    if (still) el.removeChild(still);
    var p = window.Plotly.newPlot(el, spec.data, spec.layout, spec.config);
    // data-drawn marks a figure whose every trace is plotted and interactive (tests and tools wait on it).
    Promise.resolve(p).then(function () {
      el.setAttribute("data-drawn", "");
      if (onDrawn) onDrawn(el);
    });
  }
  if (window.Plotly) draw();
  else (window.__flPlotlyQueue = window.__flPlotlyQueue || []).push(draw);
}
