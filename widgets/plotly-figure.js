// Browser side of a featurelab figure: draw it with plotly.js, now if the page has plotly.js, or as
// soon as the page's first featurelab figure (which carries plotly.js) has loaded it.
// Inlined into each figure's HTML by src/display/plotly.ts; runs with no kernel (exported HTML).
function featurelabDrawFigure(id, spec) {
  function draw() {
    var el = document.getElementById(id);
    if (el) window.Plotly.newPlot(el, spec.data, spec.layout, spec.config);
  }
  if (window.Plotly) draw();
  else (window.__flPlotlyQueue = window.__flPlotlyQueue || []).push(draw);
}
