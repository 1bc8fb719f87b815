// The attribution-graph view's kernel side and the page's pruning: nodes laid out by position × layer;
// the payload holds the graph pruned at the loosest slider setting (at most maxNodes features and
// errors); widgets/graph-prune.js, run here in Node, keeps exactly the nodes and edges graph.prune keeps
// at every threshold the slider reaches, and its circuit-tracer file is fl.circuitTracerJson's; the
// widget's state, its HTML fallback (data-derived text escaped), and the graph's own display.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gunzipSync, strFromU8 } from "fflate";
import { layoutNodes, graphPayload, type GraphPayload } from "../../src/display/plots/circuits/attribution-layout.js";
import { AttributionGraphWidget, attributionGraph } from "../../src/display/widgets/attribution-graph-widget.js";
import { circuitTracerJson } from "../../src/circuits/attribution/graph-json.js";
import type { AttributionGraph } from "../../src/circuits/attribution/attribution-graph.js";
import { represent } from "../../src/display/core/represent.js";
import "../../src/index.js"; // attaches graph.toMimeBundle and graph.toCircuitTracerJson
import { smallGraph } from "../circuits/attribution/graph-fixture.js";

type Pruned = { nodes: Uint8Array; edges: Uint8Array };
const src = ["graph-prune"].map((n) => readFileSync(new URL(`../../widgets/${n}.js`, import.meta.url), "utf8")).join("\n");
const page = new Function(`${src}\nreturn { prune: featurelabPrune, json: featurelabCircuitTracerJson };`)() as {
  prune(p: GraphPayload, t: number): Pruned;
  json(p: GraphPayload, pruned: Pruned, t: number, pinned: string[], supernodes: string[][]): unknown;
};

let graph: AttributionGraph;
before(async () => {
  graph = (await smallGraph()).graph;
});

test("layout: x by position (nodes of one cell spread across its column, the most influential in the middle), rows by layer with embeddings at the bottom and logits at the top", () => {
  const nodes = [
    { kind: "embedding" as const, layer: -1, pos: 0, influence: 0.1 },
    { kind: "feature" as const, layer: 0, pos: 1, influence: 0.2 },
    { kind: "feature" as const, layer: 0, pos: 1, influence: 0.9 },
    { kind: "error" as const, layer: 0, pos: 1, influence: 0.5 },
    { kind: "feature" as const, layer: 2, pos: 3, influence: 0.3 },
    { kind: "logit" as const, layer: 3, pos: 3, influence: 0.6 },
    { kind: "logit" as const, layer: 3, pos: 3, influence: 0.3 },
  ];
  const at = layoutNodes(nodes, 3);
  assert.deepEqual(at.map((p) => p.row), [0, 1, 1, 1, 3, 4, 4]);
  at.forEach((p, i) => assert.ok(p.x > nodes[i].pos && p.x < nodes[i].pos + 1, `node ${i} inside its column`));
  assert.equal(at[0].x, 0.5, "alone: the middle");
  assert.equal(at[2].x, 1.5, "the most influential of three in the middle");
  assert.equal(new Set([at[1].x, at[2].x, at[3].x]).size, 3);
  assert.ok(at[3].x < at[2].x && at[1].x > at[2].x, "the next ones either side");
});

test("payload: the graph pruned at the loosest threshold, each node placed and with its circuit-tracer record; maxNodes lowers the loosest threshold", () => {
  const p = graphPayload(graph);
  const c = graph.counts, N = graph.size;
  assert.equal(p.maxNodeThreshold, 1);
  assert.equal(p.nodes.filter((n) => n.kind === "embedding").length, c.embeddings);
  assert.equal(p.nodes.filter((n) => n.kind === "logit").length, c.logits);
  assert.equal(p.sortedInfluence.length, N);
  for (const n of p.nodes) {
    assert.equal(n.ct.node_id, n.id);
    assert.equal(n.row, n.kind === "embedding" ? 0 : n.kind === "logit" ? p.nLayers + 1 : n.layer + 1);
  }
  for (let e = 0; e < p.edges.weight.length; e++) {
    assert.equal(p.edges.weight[e], graph.edge(p.nodes[p.edges.target[e]].i, p.nodes[p.edges.source[e]].i));
    assert.notEqual(p.edges.weight[e], 0);
  }
  const small = graphPayload(graph, { maxNodes: 12 });
  assert.ok(small.maxNodeThreshold < 1);
  assert.ok(small.nodes.filter((n) => n.kind === "feature" || n.kind === "error").length <= 12);
  assert.equal(small.minNodeThreshold, Math.min(0.5, small.maxNodeThreshold));
  assert.throws(() => graphPayload(graph, { nodeTreshold: 0.5 } as never), /unknown option 'nodeTreshold'/);
  assert.throws(() => graphPayload(graph, { maxNodes: 0 }), /maxNodes must be a whole number/);
});

test("the page's pruning keeps exactly what graph.prune keeps at every slider threshold, and exports fl.circuitTracerJson's file", () => {
  for (const [opts, label] of [[{}, "all nodes sent"], [{ maxNodes: 15 }, "15 sent"], [{ edgeThreshold: 0.9 }, "edge threshold 0.9"]] as const) {
    const p = graphPayload(graph, opts);
    const edgeThreshold = p.edgeThreshold;
    const ts = [p.minNodeThreshold, 0.55, 0.6, 0.7, 0.8, 0.9, 0.95, p.maxNodeThreshold].filter((t) => t <= p.maxNodeThreshold);
    const counts = new Set<number>();
    for (const t of ts) {
      const kernel = graph.prune({ nodeThreshold: t, edgeThreshold });
      const mine = page.prune(p, t);
      const N = graph.size;
      // Every node the kernel keeps was sent; the page keeps the same ones.
      let keptByKernel = 0;
      for (let i = 0; i < N; i++) keptByKernel += kernel.nodeMask[i];
      assert.equal(mine.nodes.reduce((a, b) => a + b, 0), keptByKernel, `${label}, t=${t}: node count`);
      p.nodes.forEach((n, k) => assert.equal(mine.nodes[k], kernel.nodeMask[n.i], `${label}, t=${t}: ${n.label}`));
      let keptEdges = 0;
      for (let i = 0; i < N * N; i++) keptEdges += kernel.edgeMask[i] && kernel.nodeMask[Math.floor(i / N)] && kernel.nodeMask[i % N] ? 1 : 0;
      for (let e = 0; e < p.edges.weight.length; e++) {
        const tn = p.nodes[p.edges.target[e]].i, sn = p.nodes[p.edges.source[e]].i;
        assert.equal(mine.edges[e], kernel.edgeMask[tn * N + sn] && kernel.nodeMask[tn] && kernel.nodeMask[sn] ? 1 : 0, `${label}, t=${t}: edge ${e}`);
      }
      assert.equal(mine.edges.reduce((a, b) => a + b, 0), keptEdges);
      counts.add(keptByKernel);
      const pinned = [p.nodes[0].id], supernodes = [["two", p.nodes[0].id, p.nodes[1].id]];
      assert.deepEqual(page.json(p, mine, t, pinned, supernodes), circuitTracerJson(graph, { slug: p.metadata.slug, scan: p.metadata.scan, nodeThreshold: t, edgeThreshold, pinnedIds: pinned, supernodes }), `${label}, t=${t}: the exported file`);
    }
    assert.ok(counts.size >= 3, `${label}: the slider changes what is shown (${[...counts]})`);
  }
});

test("the widget: its state (gzip'd payload, threshold, pins, supernodes), its module, its circuit-tracer file, its HTML fallback with data escaped; a graph displays as its view", () => {
  const w = attributionGraph(graph, { nodeThreshold: 0.7, slug: "tiny", scan: "tiny-clt" });
  assert.ok(w instanceof AttributionGraphWidget);
  const state = w.fullState();
  assert.equal(state._model_name, "AnyModel");
  assert.equal(state._anywidget_id, "featurelab.AttributionGraph");
  const esm = state._esm as string;
  assert.match(esm, /export default/);
  assert.ok(esm.indexOf("function featurelabPrune") < esm.indexOf("export default"), "helpers before the export");
  const payload = JSON.parse(strFromU8(gunzipSync(state.graph as Uint8Array))) as GraphPayload;
  assert.deepEqual(payload, JSON.parse(JSON.stringify(w.payload)));
  assert.equal(w.nodeThreshold, 0.7);
  w.nodeThreshold = 0.2;
  assert.equal(w.nodeThreshold, payload.minNodeThreshold, "clamped to the slider");
  const seen: string[][] = [];
  w.onPin((ids) => void seen.push(ids));
  w.pinned = [payload.nodes[0].id];
  w.supernodes = [["first", payload.nodes[0].id]];
  assert.deepEqual(seen, [[payload.nodes[0].id]]);
  const json = w.toCircuitTracerJson();
  assert.deepEqual(json.qParams.pinnedIds, [payload.nodes[0].id]);
  assert.deepEqual(json.qParams.supernodes, [["first", payload.nodes[0].id]]);
  assert.equal(json.metadata.node_threshold, payload.minNodeThreshold);
  assert.equal(json.metadata.slug, "tiny");
  assert.throws(() => w.set({ pinned: [1] }), /pinned/);
  // Outside a kernel: the HTML view, its payload the state's bytes; tokens such as "<b>" and "&" never markup.
  const bundle = w.toMimeBundle();
  assert.equal(bundle["application/vnd.jupyter.widget-view+json"], undefined);
  const html = bundle["text/html"] as string;
  assert.ok(graph.tokenText.includes("<b>") && graph.tokenText.includes("&"));
  assert.doesNotMatch(html, /<b>|"&"/);
  assert.ok(html.includes(Buffer.from(state.graph as Uint8Array).toString("base64")), "the payload as the widget state's gzip'd bytes");
  assert.match(String(bundle["text/plain"]), /^Attribution graph: /);
  // The graph itself displays as its view, and writes circuit-tracer's file.
  assert.deepEqual(graph.toCircuitTracerJson({ slug: "a", scan: "b", nodeThreshold: 0.6 }), circuitTracerJson(graph, { slug: "a", scan: "b", nodeThreshold: 0.6 }));
  const shown = represent(graph);
  assert.match(shown["text/html"] as string, /featurelabAttributionGraph\(/);
});
