// Browser side of featurelab's FigureWidget (an anywidget model; src/display/widgets/figure-widget.ts
// is the kernel side). The module is plotly-figure.js, feature-cards.js and rdm-mds-link.js joined
// with this file, so the figure draws, shows cards and links its panels as the HTML figure does.
// State: `spec` — the figure (data, layout, config, cards, behaviour) as gzip'd JSON bytes; `selected`
// — the ids of the points a box or lasso selection holds (a point's customdata[0], else its index),
// which the kernel hears. A new `spec` redraws in place (Plotly.react), as a live training curve needs.
//
// plotly.js comes from the page (an exported page inlines it), else from the Jupyter server (the
// kernelspec's copy, as HTML figures load it), else from the kernel itself over the widget's comm —
// the one source every live frontend has (VS Code, Colab).

async function featurelabDecodeSpec(view) {
  var bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

function featurelabPlotlyFromKernel(model) {
  if (window.Plotly) return Promise.resolve();
  if (window.__flPlotlyFromKernel) return window.__flPlotlyFromKernel;
  window.__flPlotlyFromKernel = new Promise(function (resolve, reject) {
    function onMsg(msg, buffers) {
      if (!msg || msg.type !== "plotly" || !buffers || !buffers.length) return;
      model.off("msg:custom", onMsg);
      var b = buffers[0];
      var src = new TextDecoder().decode(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
      var s = document.createElement("script");
      s.src = URL.createObjectURL(new Blob(["(function(){var module=undefined,exports=undefined,define=undefined;\n", src, "\n})();"], { type: "text/javascript" }));
      s.onload = function () {
        if (window.Plotly) {
          window.__flPlotlyLoad = "loaded";
          (window.__flPlotlyQueue || []).splice(0).forEach(function (f) {
            f();
          });
          resolve();
        } else reject(new Error("plotly.js from the kernel did not load"));
      };
      s.onerror = function () {
        reject(new Error("plotly.js from the kernel did not load"));
      };
      document.head.appendChild(s);
    }
    model.on("msg:custom", onMsg);
    model.send({ type: "plotly" });
  });
  return window.__flPlotlyFromKernel;
}

function featurelabSelectedIds(ev) {
  var ids = [];
  var pts = (ev && ev.points) || [];
  for (var i = 0; i < pts.length; i++) {
    var cd = pts[i].customdata;
    var id = Array.isArray(cd) ? cd[0] : cd;
    ids.push(typeof id === "number" ? id : pts[i].pointIndex);
  }
  return ids;
}

var featurelabBehaviours = {
  featurelabRdmMdsLink: typeof featurelabRdmMdsLink === "function" ? featurelabRdmMdsLink : undefined,
};

var featurelabWidgetCount = 0;

export default {
  async render({ model, el }) {
    var id = "flw-" + Date.now().toString(36) + "-" + (featurelabWidgetCount++).toString(36);
    var spec = await featurelabDecodeSpec(model.get("spec"));
    var height = Number(spec.layout && spec.layout.height) || 440;
    var fig = document.createElement("div");
    fig.id = id;
    fig.className = "featurelab-figure";
    var side = null;
    if (spec.cards) {
      var row = document.createElement("div");
      row.className = "featurelab-linked";
      row.style.cssText = "display:flex;flex-wrap:wrap;align-items:flex-start;width:100%";
      fig.style.cssText = "flex:1 1 520px;min-width:0;min-height:" + height + "px";
      side = document.createElement("div");
      side.id = id + "-card";
      side.className = "featurelab-side";
      side.style.cssText = "flex:0 1 380px;min-width:0;max-height:" + height + "px;overflow:auto;font-family:system-ui,sans-serif;font-size:13px;color:inherit;opacity:.85;padding:8px";
      side.textContent = spec.cardsHint || "Hover over a point to see its feature; click to keep it.";
      row.appendChild(fig);
      row.appendChild(side);
      el.appendChild(row);
    } else {
      fig.style.cssText = "width:100%;min-height:" + height + "px";
      el.appendChild(fig);
    }
    if (!window.Plotly && !featurelabPlotlyUrl()) await featurelabPlotlyFromKernel(model);
    var revision = 0;
    var markDrawn;
    var drawn = new Promise(function (resolve) {
      markDrawn = resolve;
    });
    featurelabDrawFigure(id, spec, function (node) {
      if (spec.cards) featurelabFeatureCards(node, side.id, spec.cards);
      var b = spec.behaviour && featurelabBehaviours[spec.behaviour.fn];
      if (b) b(node, spec.behaviour.args);
      node.on("plotly_selected", function (ev) {
        model.set("selected", featurelabSelectedIds(ev));
        model.save_changes();
      });
      node.on("plotly_deselect", function () {
        model.set("selected", []);
        model.save_changes();
      });
      markDrawn();
    });
    // Redraws run in order, each after the first draw, each with the newest spec.
    var chain = Promise.resolve();
    function redraw() {
      chain = chain.then(async function () {
        var next = await featurelabDecodeSpec(model.get("spec"));
        await drawn;
        await window.Plotly.react(fig, next.data, next.layout, next.config);
        fig.setAttribute("data-revision", String(++revision));
      });
    }
    model.on("change:spec", redraw);
    return function () {
      model.off("change:spec", redraw);
      if (window.Plotly && fig.hasAttribute("data-drawn")) window.Plotly.purge(fig);
    };
  },
};
