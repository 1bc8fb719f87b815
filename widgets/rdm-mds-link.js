// Browser side of the linked RDM + MDS figure: hovering a heatmap cell (i, j) highlights conditions i
// and j in the MDS panel and joins them with a line; hovering a point in the MDS panel outlines its
// row in the heatmap. All data is in the figure, so this works with no kernel (exported HTML).
// Inlined by src/display/core/plotly.ts. Traces: 0 heatmap, 1 MDS points, 2 the pair's line; the row outline is a shape.
function featurelabRdmMdsLink(el, args) {
  if (!el.on || !window.Plotly) return;
  var n = args.n, xs = args.x, ys = args.y, base = args.size;
  function sizes(a, b) {
    var s = [];
    for (var i = 0; i < n; i++) s.push(i === a || i === b ? base * 2 : base);
    return s;
  }
  function lines(a, b) {
    var w = [];
    for (var i = 0; i < n; i++) w.push(i === a || i === b ? 3 : 0.5);
    return w;
  }
  function pair(a, b) {
    window.Plotly.restyle(el, { "marker.size": [sizes(a, b)], "marker.line.width": [lines(a, b)] }, [1]);
    window.Plotly.restyle(el, { x: [[xs[a], xs[b]]], y: [[ys[a], ys[b]]] }, [2]);
    el.setAttribute("data-linked-pair", a + "," + b);
  }
  function row(i) {
    // Category axes place shapes by category index, so the row spans -0.5 … n-0.5.
    var outline = { type: "rect", xref: "x", yref: "y", x0: -0.5, x1: n - 0.5, y0: i - 0.5, y1: i + 0.5, line: { color: "#d62728", width: 2 } };
    window.Plotly.relayout(el, { shapes: [outline] });
    el.setAttribute("data-linked-row", String(i));
  }
  function clear() {
    window.Plotly.restyle(el, { "marker.size": [sizes(-1, -1)], "marker.line.width": [lines(-1, -1)] }, [1]);
    window.Plotly.restyle(el, { x: [[]], y: [[]] }, [2]);
    window.Plotly.relayout(el, { shapes: [] });
    el.removeAttribute("data-linked-pair");
    el.removeAttribute("data-linked-row");
  }
  el.on("plotly_hover", function (ev) {
    var pt = ev && ev.points && ev.points[0];
    if (!pt) return;
    if (pt.curveNumber === 0 && pt.pointIndex) pair(pt.pointIndex[0], pt.pointIndex[1]);
    else if (pt.curveNumber === 1) row(pt.pointNumber);
  });
  el.on("plotly_unhover", clear);
}
