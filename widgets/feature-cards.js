// Browser side of a scatter of features with cards: clicking (or hovering, before any click) a point
// shows that feature's card beside the plot. The cards are HTML the display code rendered and
// escaped in Node and embedded in the page, so this works with no kernel (exported HTML).
// Inlined by src/display/core/plotly.ts; a point's feature is customdata[0].
function featurelabFeatureCards(el, sideId, cards) {
  var side = document.getElementById(sideId);
  if (!side || !el.on) return;
  var pinned = false;
  function show(ev) {
    var pt = ev && ev.points && ev.points[0];
    if (!pt || !pt.customdata) return false;
    var html = cards[String(pt.customdata[0])];
    if (html === undefined) return false;
    side.innerHTML = html;
    side.setAttribute("data-feature", String(pt.customdata[0]));
    return true;
  }
  el.on("plotly_click", function (ev) {
    if (show(ev)) {
      pinned = true;
      side.setAttribute("data-pinned", "");
    }
  });
  el.on("plotly_hover", function (ev) {
    if (!pinned) show(ev);
  });
}
