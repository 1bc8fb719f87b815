// The anywidget module of the attribution-graph view: attribution-graph.js and graph-prune.js joined
// before this file (src/display/widgets/anywidget.ts's esmOf), which only hands the model and element over.
export default {
  async render({ model, el }) {
    return await featurelabAttributionGraph(el, model);
  },
};
