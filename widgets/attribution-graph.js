// Browser side of the attribution-graph view (src/display/widgets/attribution-graph-widget.ts is the
// kernel side; src/display/plots/circuits/attribution-layout.ts makes the payload). An SVG of the nodes by
// prompt position (x, the tokens below) and layer (y: embeddings at the bottom, logits at the top), node
// size by influence, edges blue (positive) or red (negative) with width by |weight|. Hover a node: its card
// (label, value, influence, strongest edges in and out, top activating contexts when the kernel sent them).
// Click: pin it (listed beside); pinned nodes group into a named supernode. The slider re-prunes in the page
// (graph-prune.js), and the export button downloads circuit-tracer's JSON of what is shown.
// State: `graph` (gzip'd JSON bytes; in the HTML fallback, the same bytes from base64), `node_threshold`, `pinned`
// (node ids), `supernodes` ([name, ...ids]). Every string from data enters the page as text (textContent);
// the only HTML is the contexts card, escaped in the kernel.

async function featurelabGraphPayload(v) {
  if (v && (v instanceof ArrayBuffer || ArrayBuffer.isView(v))) {
    var bytes = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }
  return v;
}

/** A model for the HTML fallback (no widget manager): state in the page, change events local. */
function featurelabStaticModel(state) {
  var listeners = {};
  return {
    get: function (k) { return state[k]; },
    set: function (k, v) {
      state[k] = v;
      (listeners["change:" + k] || []).slice().forEach(function (f) { f(); });
    },
    save_changes: function () {},
    on: function (ev, f) { (listeners[ev] = listeners[ev] || []).push(f); },
    off: function (ev, f) { listeners[ev] = (listeners[ev] || []).filter(function (g) { return g !== f; }); },
    send: function () {},
  };
}

var FLAG_SVG = "http://www.w3.org/2000/svg";

function featurelabEl(tag, attrs, text, svg) {
  var e = svg ? document.createElementNS(FLAG_SVG, tag) : document.createElement(tag);
  for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

function featurelabNum(v) {
  if (v === null || v === undefined || !isFinite(v)) return String(v);
  return v === 0 ? "0" : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

async function featurelabAttributionGraph(el, model) {
  var p = await featurelabGraphPayload(model.get("graph"));
  var N = p.nodes.length;
  var KIND_FILL = { feature: "#8fb8de", error: "#b0b0b0", embedding: "#9bd49b", logit: "#f5b26b" };
  var root = featurelabEl("div", { class: "featurelab-attribution-graph", style: "font-family:system-ui,sans-serif;font-size:13px;color:inherit" });
  root.appendChild(featurelabEl("div", { class: "flag-title", style: "font-weight:600;font-size:15px;margin:2px 4px 6px" }, p.title));
  var controls = featurelabEl("div", { class: "flag-controls", style: "display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:0 4px 6px" });
  var sliderLabel = featurelabEl("label", { style: "display:flex;align-items:center;gap:6px" }, "node threshold");
  var slider = featurelabEl("input", { type: "range", class: "flag-threshold", min: String(p.minNodeThreshold), max: String(p.maxNodeThreshold), step: "0.01" });
  var sliderValue = featurelabEl("span", { class: "flag-threshold-value", style: "font-variant-numeric:tabular-nums;min-width:2.5em" });
  sliderLabel.appendChild(slider);
  sliderLabel.appendChild(sliderValue);
  var count = featurelabEl("span", { class: "flag-count", style: "opacity:.75" });
  var exportButton = featurelabEl("button", { class: "flag-export", type: "button", title: "circuit-tracer's graph file (Neuronpedia's graph viewer and circuit-tracer's local server read it)" }, "export circuit-tracer JSON");
  controls.appendChild(sliderLabel);
  controls.appendChild(count);
  controls.appendChild(exportButton);
  root.appendChild(controls);
  var main = featurelabEl("div", { class: "flag-main", style: "display:flex;flex-wrap:wrap;align-items:flex-start;gap:8px" });
  var holder = featurelabEl("div", { style: "flex:1 1 560px;min-width:0;overflow-x:auto" });
  var side = featurelabEl("div", { class: "flag-side", style: "flex:0 1 340px;min-width:240px;max-height:" + (p.height + 40) + "px;overflow:auto" });
  var card = featurelabEl("div", { class: "flag-card", style: "border:1px solid rgba(128,128,128,.4);border-radius:6px;padding:6px 8px;margin-bottom:6px" }, "Hover over a node to see its card; click to pin it.");
  var pinBox = featurelabEl("div", { class: "flag-pinned-box", style: "border:1px solid rgba(128,128,128,.4);border-radius:6px;padding:6px 8px;margin-bottom:6px" });
  pinBox.appendChild(featurelabEl("div", { style: "font-weight:600" }, "pinned"));
  var pinList = featurelabEl("ul", { class: "flag-pinned", style: "margin:2px 0;padding-left:18px" });
  var groupName = featurelabEl("input", { type: "text", class: "flag-group-name", placeholder: "supernode name", style: "width:9em" });
  var groupButton = featurelabEl("button", { type: "button", class: "flag-group" }, "group pinned");
  pinBox.appendChild(pinList);
  pinBox.appendChild(groupName);
  pinBox.appendChild(groupButton);
  var superBox = featurelabEl("div", { class: "flag-supernodes-box", style: "border:1px solid rgba(128,128,128,.4);border-radius:6px;padding:6px 8px" });
  superBox.appendChild(featurelabEl("div", { style: "font-weight:600" }, "supernodes"));
  var superList = featurelabEl("ul", { class: "flag-supernodes", style: "margin:2px 0;padding-left:18px" });
  superBox.appendChild(superList);
  side.appendChild(card);
  side.appendChild(pinBox);
  side.appendChild(superBox);
  main.appendChild(holder);
  main.appendChild(side);
  root.appendChild(main);
  el.appendChild(root);

  // Geometry: columns by position, each as wide as its busiest cell needs; rows by layer (row 0 embeddings at the bottom).
  var T = p.tokens.length, rows = p.nLayers + 2;
  var perCell = {};
  p.nodes.forEach(function (n) {
    var k = n.pos + "/" + n.row;
    perCell[k] = (perCell[k] || 0) + 1;
  });
  var colW = [], colX = [];
  // Narrow columns (a long prompt) slant the token labels and take room below for them.
  var longest = Math.max.apply(null, p.tokens.map(function (t) { return t.length; }).concat([1]));
  var slant = T > 12 || longest > 8;
  var left = 54, top = 64, bottom = slant ? 24 + Math.min(longest, 16) * 6 : 40, H = p.height + (slant ? bottom - 40 : 0), W = left;
  for (var c = 0; c < T; c++) {
    var busiest = 1;
    for (var r0 = 0; r0 < rows; r0++) busiest = Math.max(busiest, perCell[c + "/" + r0] || 0);
    colW.push(Math.max(slant ? 36 : 64, Math.min(240, 15 * busiest + 20)));
    colX.push(W);
    W += colW[c];
  }
  W += 10;
  var rowH = (H - top - bottom) / Math.max(rows - 1, 1);
  var px = function (n) { var c = Math.min(Math.floor(n.x), T - 1); return colX[c] + (n.x - c) * colW[c]; };
  var py = function (n) { return top + (rows - 1 - n.row) * rowH; };
  var maxInf = 0;
  p.nodes.forEach(function (n) { if (n.kind !== "logit") maxInf = Math.max(maxInf, n.influence); });
  var radius = function (n) {
    return n.kind === "logit" ? 4 + 9 * Math.sqrt(n.influence) : 3 + 9 * Math.sqrt(maxInf > 0 ? n.influence / maxInf : 0);
  };
  // Scaled to the width there is (never below ~48 px a position: then the holder scrolls).
  // Drawn at its own size; the holder scrolls sideways when the prompt is longer than the room.
  var svg = featurelabEl("svg", { class: "flag-svg", width: String(W), height: String(H), viewBox: "0 0 " + W + " " + H, style: "display:block" }, undefined, true);
  var gGrid = featurelabEl("g", { class: "flag-grid" }, undefined, true);
  var gSuper = featurelabEl("g", { class: "flag-super-layer" }, undefined, true);
  var gEdges = featurelabEl("g", { class: "flag-edges" }, undefined, true);
  var gNodes = featurelabEl("g", { class: "flag-nodes" }, undefined, true);
  svg.appendChild(gGrid);
  svg.appendChild(gSuper);
  svg.appendChild(gEdges);
  svg.appendChild(gNodes);
  holder.appendChild(svg);
  for (var r = 0; r < rows; r++) {
    var y = top + (rows - 1 - r) * rowH;
    gGrid.appendChild(featurelabEl("line", { x1: String(left - 4), x2: String(W - 6), y1: String(y), y2: String(y), stroke: "currentColor", "stroke-opacity": "0.12" }, undefined, true));
    gGrid.appendChild(featurelabEl("text", { x: "4", y: String(y + 4), fill: "currentColor", "font-size": "11", opacity: "0.7" }, r === 0 ? "emb" : r === rows - 1 ? "logits" : "L" + (r - 1), true));
  }
  for (var t = 0; t < T; t++) {
    var cx = colX[t] + colW[t] / 2;
    if (t > 0) gGrid.appendChild(featurelabEl("line", { x1: String(colX[t]), x2: String(colX[t]), y1: String(top - 8), y2: String(H - bottom + 8), stroke: "currentColor", "stroke-opacity": "0.08" }, undefined, true));
    var tok = slant
      ? featurelabEl("text", { class: "flag-token", transform: "translate(" + (cx + 4) + "," + (H - bottom + 16) + ") rotate(-45)", "text-anchor": "end", fill: "currentColor", "font-size": "12", "xml:space": "preserve" }, p.tokens[t].replace(/\n/g, "↵"), true)
      : featurelabEl("text", { class: "flag-token", x: String(cx), y: String(H - 12), "text-anchor": "middle", fill: "currentColor", "font-size": "12", "xml:space": "preserve" }, p.tokens[t].replace(/\n/g, "↵"), true);
    tok.appendChild(featurelabEl("title", {}, "position " + t + ": " + JSON.stringify(p.tokens[t]), true));
    gGrid.appendChild(tok);
  }

  // Node elements, made once; shown or hidden by the pruning.
  var nodeEls = p.nodes.map(function (n, i) {
    var g = featurelabEl("g", { class: "flag-node", "data-id": n.id, "data-kind": n.kind, transform: "translate(" + px(n) + "," + py(n) + ")", style: "cursor:pointer" }, undefined, true);
    var rr = radius(n);
    var shape = n.kind === "error"
      ? featurelabEl("rect", { x: String(-rr), y: String(-rr), width: String(2 * rr), height: String(2 * rr) }, undefined, true)
      : n.kind === "embedding"
        ? featurelabEl("rect", { x: String(-rr * 1.3), y: String(-rr * 0.8), width: String(2.6 * rr), height: String(1.6 * rr), rx: "2" }, undefined, true)
        : featurelabEl("circle", { r: String(rr) }, undefined, true);
    shape.setAttribute("fill", KIND_FILL[n.kind]);
    shape.setAttribute("stroke", "currentColor");
    shape.setAttribute("stroke-width", "0.8");
    g.appendChild(shape);
    // Logit tokens above their nodes, slanted so that neighbours do not collide.
    if (n.kind === "logit") g.appendChild(featurelabEl("text", { transform: "translate(2," + (-rr - 3) + ") rotate(-50)", "text-anchor": "start", fill: "currentColor", "font-size": "11", "xml:space": "preserve" }, n.label.replace(/^logit /, ""), true));
    g.appendChild(featurelabEl("title", {}, n.label, true));
    g.__flIndex = i;
    gNodes.appendChild(g);
    return g;
  });

  var threshold = Number(model.get("node_threshold"));
  var pruned = null, edgeEls = [];
  function pinned() { return (model.get("pinned") || []).slice(); }
  function supernodes() { return (model.get("supernodes") || []).map(function (s) { return s.slice(); }); }

  function drawEdges() {
    gEdges.textContent = "";
    edgeEls = [];
    var maxW = 0, e;
    for (e = 0; e < p.edges.weight.length; e++) if (pruned.edges[e]) maxW = Math.max(maxW, Math.abs(p.edges.weight[e]));
    for (e = 0; e < p.edges.weight.length; e++) {
      if (!pruned.edges[e]) continue;
      var s = p.nodes[p.edges.source[e]], d = p.nodes[p.edges.target[e]], w = p.edges.weight[e];
      var x1 = px(s), y1 = py(s), x2 = px(d), y2 = py(d);
      var path = featurelabEl("path", {
        class: "flag-edge", d: "M" + x1 + "," + y1 + " C" + x1 + "," + (y1 + y2) / 2 + " " + x2 + "," + (y1 + y2) / 2 + " " + x2 + "," + y2,
        fill: "none", stroke: w > 0 ? "#2563eb" : "#dc2626", "stroke-opacity": "0.4",
        "stroke-width": String(0.4 + 3.6 * (maxW > 0 ? Math.abs(w) / maxW : 0)),
      }, undefined, true);
      path.__flEdge = e;
      gEdges.appendChild(path);
      edgeEls.push(path);
    }
  }

  function drawSupernodes() {
    gSuper.textContent = "";
    superList.textContent = "";
    supernodes().forEach(function (sn) {
      var name = sn[0], ids = sn.slice(1);
      var li = featurelabEl("li", { class: "flag-supernode" });
      li.appendChild(featurelabEl("b", {}, name));
      li.appendChild(document.createTextNode(": " + ids.join(", ")));
      superList.appendChild(li);
      var xs = [], ys = [];
      p.nodes.forEach(function (n, i) {
        if (ids.indexOf(n.id) >= 0 && pruned.nodes[i]) {
          xs.push(px(n));
          ys.push(py(n));
        }
      });
      if (!xs.length) return;
      var x0 = Math.min.apply(null, xs) - 12, x1 = Math.max.apply(null, xs) + 12, y0 = Math.min.apply(null, ys) - 12, y1 = Math.max.apply(null, ys) + 12;
      gSuper.appendChild(featurelabEl("rect", { class: "flag-super", x: String(x0), y: String(y0), width: String(x1 - x0), height: String(y1 - y0), rx: "8", fill: "rgba(148,103,189,.12)", stroke: "#9467bd", "stroke-dasharray": "4 3" }, undefined, true));
      gSuper.appendChild(featurelabEl("text", { x: String(x0 + 4), y: String(y0 - 3), fill: "#9467bd", "font-size": "11" }, name, true));
    });
  }

  function drawPins() {
    var ids = pinned();
    pinList.textContent = "";
    ids.forEach(function (id) {
      var n = p.nodes.find(function (m) { return m.id === id; });
      pinList.appendChild(featurelabEl("li", { "data-id": id }, n ? n.label + " (" + id + ")" : id));
    });
    nodeEls.forEach(function (g, i) {
      var on = ids.indexOf(p.nodes[i].id) >= 0;
      g.firstChild.setAttribute("stroke-width", on ? "3" : "0.8");
      if (on) g.setAttribute("data-pinned", "");
      else g.removeAttribute("data-pinned");
    });
    groupButton.disabled = ids.length === 0;
  }

  function apply(t) {
    threshold = Math.min(Math.max(t, p.minNodeThreshold), p.maxNodeThreshold);
    pruned = featurelabPrune(p, threshold);
    var visible = 0, edges = 0;
    nodeEls.forEach(function (g, i) {
      g.style.display = pruned.nodes[i] ? "" : "none";
      visible += pruned.nodes[i];
    });
    for (var e = 0; e < pruned.edges.length; e++) edges += pruned.edges[e];
    drawEdges();
    drawSupernodes();
    drawPins();
    slider.value = String(threshold);
    sliderValue.textContent = threshold.toFixed(2);
    count.textContent = visible + " nodes, " + edges + " edges shown (of " + N + " sent)";
    root.setAttribute("data-threshold", String(threshold));
    root.setAttribute("data-visible-nodes", String(visible));
    root.setAttribute("data-visible-edges", String(edges));
  }

  function showCard(i) {
    var n = p.nodes[i];
    card.textContent = "";
    card.setAttribute("data-id", n.id);
    card.appendChild(featurelabEl("div", { class: "flag-card-title", style: "font-weight:600;font-size:14px" }, n.label));
    var facts = [["node", n.id], ["kind", n.kind]];
    if (n.kind === "feature") facts.push(["activation", featurelabNum(n.value)]);
    else if (n.kind === "logit") facts.push(["probability", featurelabNum(n.influence)], ["logit − mean", featurelabNum(n.value)]);
    else facts.push(["norm", featurelabNum(n.value)]);
    if (n.kind !== "logit") facts.push(["influence", featurelabNum(n.influence)], ["cumulative", featurelabNum(n.cumulative)]);
    var dl = featurelabEl("div", { style: "margin:2px 0 4px" });
    facts.forEach(function (f, k) {
      if (k) dl.appendChild(document.createTextNode(" · "));
      dl.appendChild(featurelabEl("span", { style: "opacity:.7" }, f[0] + " "));
      dl.appendChild(featurelabEl("b", {}, f[1]));
    });
    card.appendChild(dl);
    [["top incoming", "target", "source"], ["top outgoing", "source", "target"]].forEach(function (spec) {
      var list = [];
      for (var e = 0; e < p.edges.weight.length; e++) if (pruned.edges[e] && p.edges[spec[1]][e] === i) list.push(e);
      list.sort(function (a, b) { return Math.abs(p.edges.weight[b]) - Math.abs(p.edges.weight[a]); });
      var box = featurelabEl("div", { class: spec[0] === "top incoming" ? "flag-in" : "flag-out" });
      box.appendChild(featurelabEl("div", { style: "font-weight:600;margin-top:4px" }, spec[0] + " (" + list.length + ")"));
      list.slice(0, 5).forEach(function (e) {
        var w = p.edges.weight[e];
        var row = featurelabEl("div", { style: "display:flex;justify-content:space-between;gap:8px" });
        row.appendChild(featurelabEl("span", {}, p.nodes[p.edges[spec[2]][e]].label));
        row.appendChild(featurelabEl("span", { style: "color:" + (w > 0 ? "#2563eb" : "#dc2626") + ";font-variant-numeric:tabular-nums" }, featurelabNum(w)));
        box.appendChild(row);
      });
      card.appendChild(box);
    });
    if (n.card && p.cards[n.card] !== undefined) {
      var ctx = featurelabEl("div", { class: "flag-contexts", style: "margin-top:6px;overflow-x:auto" });
      ctx.innerHTML = p.cards[n.card]; // escaped in the kernel (feature-card.ts's examplesHtml)
      card.appendChild(ctx);
    }
    // The node's edges stand out; the rest fade.
    edgeEls.forEach(function (path) {
      var e = path.__flEdge;
      var mine = p.edges.source[e] === i || p.edges.target[e] === i;
      path.setAttribute("stroke-opacity", mine ? "0.9" : "0.12");
    });
    root.setAttribute("data-hovered", n.id);
  }

  function clearHover() {
    edgeEls.forEach(function (path) { path.setAttribute("stroke-opacity", "0.4"); });
    root.removeAttribute("data-hovered");
  }

  gNodes.addEventListener("mouseover", function (ev) {
    var g = ev.target.closest && ev.target.closest(".flag-node");
    if (g) showCard(g.__flIndex);
  });
  gNodes.addEventListener("mouseout", function (ev) {
    var g = ev.target.closest && ev.target.closest(".flag-node");
    if (g && !(ev.relatedTarget && g.contains(ev.relatedTarget))) clearHover();
  });
  gNodes.addEventListener("click", function (ev) {
    var g = ev.target.closest && ev.target.closest(".flag-node");
    if (!g) return;
    var id = p.nodes[g.__flIndex].id, ids = pinned();
    var at = ids.indexOf(id);
    if (at >= 0) ids.splice(at, 1);
    else ids.push(id);
    model.set("pinned", ids);
    model.save_changes();
    drawPins();
  });
  groupButton.addEventListener("click", function () {
    var ids = pinned();
    if (!ids.length) return;
    var all = supernodes();
    var name = groupName.value.trim() || "supernode " + (all.length + 1);
    all.push([name].concat(ids));
    model.set("supernodes", all);
    model.set("pinned", []);
    model.save_changes();
    groupName.value = "";
    drawSupernodes();
    drawPins();
  });
  slider.addEventListener("input", function () { apply(Number(slider.value)); });
  slider.addEventListener("change", function () {
    model.set("node_threshold", threshold);
    model.save_changes();
  });
  exportButton.addEventListener("click", function () {
    var json = featurelabCircuitTracerJson(p, pruned, threshold, pinned(), supernodes());
    var url = URL.createObjectURL(new Blob([JSON.stringify(json, null, 2)], { type: "application/json" }));
    var a = featurelabEl("a", { href: url, download: p.metadata.slug + ".json" });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    root.setAttribute("data-exported", String(json.nodes.length) + "/" + String(json.links.length));
  });
  function onThreshold() {
    var t = Number(model.get("node_threshold"));
    if (t !== threshold) apply(t);
  }
  function onPins() { drawPins(); }
  function onSuper() { drawSupernodes(); }
  model.on("change:node_threshold", onThreshold);
  model.on("change:pinned", onPins);
  model.on("change:supernodes", onSuper);
  apply(threshold);
  root.setAttribute("data-drawn", "");
  return function () {
    model.off("change:node_threshold", onThreshold);
    model.off("change:pinned", onPins);
    model.off("change:supernodes", onSuper);
  };
}
