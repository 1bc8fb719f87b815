// Browser side of the attribution-graph view: circuit-tracer's pruning (graph.py prune_graph, as
// src/circuits/attribution/influence.ts computes it) redone in the page at any node threshold up to the
// loosest one the kernel sent, so the slider needs no kernel; and the circuit-tracer file of what is
// shown (create_graph_files' nodes and links). The arithmetic runs in the same order as the kernel's,
// so the result is the kernel's to the bit. Plain functions: inlined by the view's module and by the
// HTML fallback; test/display/attribution-graph.test.ts runs them in Node against graph.prune.

/** The score at which the largest scores reach `fraction` of their total (`sorted` largest first); 0 when they never do and zeros follow. */
function featurelabFindThreshold(sorted, fraction, zerosFollow) {
  var total = 0, cum = 0, i;
  for (i = 0; i < sorted.length; i++) total += sorted[i];
  for (i = 0; i < sorted.length; i++) {
    cum += sorted[i];
    if (cum / total >= fraction) return sorted[i];
  }
  return zerosFollow || sorted.length === 0 ? 0 : sorted[sorted.length - 1];
}

/** w·(Â + Â² + …) over the payload's edges (target-major), Â the row-normalised |weights| of the kept edges. */
function featurelabInfluence(n, edges, keep, norm, weights) {
  function step(v) {
    var out = new Float64Array(n);
    for (var e = 0; e < edges.target.length; e++) {
      if (!keep[e]) continue;
      var x = v[edges.target[e]];
      if (x !== 0) out[edges.source[e]] += x * norm[e];
    }
    return out;
  }
  var current = step(weights);
  var total = Float64Array.from(current);
  for (var it = 0; current.some(function (x) { return x !== 0; }); it++) {
    if (it >= 1000) throw new Error("featurelab: influence did not converge (does the graph have a cycle?)");
    current = step(current);
    for (var i = 0; i < n; i++) total[i] += current[i];
  }
  return total;
}

/**
 * The nodes and edges circuit-tracer keeps at `nodeThreshold` (with the payload's edge threshold):
 * { nodes: Uint8Array over payload nodes, edges: Uint8Array over payload edges, edgeScores }.
 */
function featurelabPrune(p, nodeThreshold) {
  var n = p.nodes.length, E = p.edges.target.length, e, i;
  var cut = featurelabFindThreshold(p.sortedInfluence, nodeThreshold, false);
  var nodeMask = new Uint8Array(n);
  for (i = 0; i < n; i++) {
    var k = p.nodes[i].kind;
    nodeMask[i] = k === "embedding" || k === "logit" || p.nodes[i].influence >= cut ? 1 : 0;
  }
  // The pruned matrix: edges between kept nodes; rows normalised over them (sources in order).
  var live = new Uint8Array(E), rowSum = new Float64Array(n);
  for (e = 0; e < E; e++) {
    if (nodeMask[p.edges.target[e]] && nodeMask[p.edges.source[e]]) {
      live[e] = 1;
      rowSum[p.edges.target[e]] += Math.abs(p.edges.weight[e]);
    }
  }
  var norm = new Float64Array(E);
  for (e = 0; e < E; e++) if (live[e]) norm[e] = Math.abs(p.edges.weight[e]) * (1 / Math.max(rowSum[p.edges.target[e]], 1e-10));
  var w = Float64Array.from(p.logitWeight);
  var inf = featurelabInfluence(n, p.edges, live, norm, w);
  for (i = 0; i < n; i++) inf[i] += w[i];
  var scores = new Float64Array(E);
  var positive = [];
  for (e = 0; e < E; e++) {
    scores[e] = live[e] ? norm[e] * inf[p.edges.target[e]] : 0;
    if (scores[e] > 0) positive.push(scores[e]);
  }
  var sorted = Float64Array.from(positive).sort().reverse();
  var edgeCut = featurelabFindThreshold(sorted, p.edgeThreshold, true);
  var edgeMask = new Uint8Array(E);
  for (e = 0; e < E; e++) edgeMask[e] = live[e] && scores[e] >= edgeCut ? 1 : 0;
  // Features and errors need an outgoing edge, features an incoming one; until nothing changes.
  for (;;) {
    var out = new Uint8Array(n), into = new Uint8Array(n), changed = false;
    for (e = 0; e < E; e++) {
      if (!edgeMask[e]) continue;
      out[p.edges.source[e]] = 1;
      into[p.edges.target[e]] = 1;
    }
    for (i = 0; i < n; i++) {
      var kind = p.nodes[i].kind;
      if (!nodeMask[i] || kind === "embedding" || kind === "logit") continue;
      if (!out[i] || (kind === "feature" && !into[i])) {
        nodeMask[i] = 0;
        changed = true;
      }
    }
    if (!changed) break;
    for (e = 0; e < E; e++) if (!nodeMask[p.edges.target[e]] || !nodeMask[p.edges.source[e]]) edgeMask[e] = 0;
  }
  return { nodes: nodeMask, edges: edgeMask, edgeScores: scores };
}

/** circuit-tracer's graph file (create_graph_files) of the graph pruned at `nodeThreshold`, with pinned ids and supernodes. */
function featurelabCircuitTracerJson(p, pruned, nodeThreshold, pinned, supernodes) {
  var links = [], connected = {}, e;
  for (e = 0; e < p.edges.target.length; e++) {
    if (!pruned.edges[e]) continue;
    var s = p.nodes[p.edges.source[e]], t = p.nodes[p.edges.target[e]];
    links.push({ source: s.id, target: t.id, weight: p.edges.weight[e] });
    connected[s.id] = connected[t.id] = true;
  }
  var nodes = [];
  for (var i = 0; i < p.nodes.length; i++) {
    var node = p.nodes[i];
    if (pruned.nodes[i] && (connected[node.id] || node.kind === "embedding" || node.kind === "logit")) nodes.push(node.ct);
  }
  var m = p.metadata;
  return {
    metadata: { slug: m.slug, scan: m.scan, transcoder_list: m.transcoder_list, prompt_tokens: m.prompt_tokens, prompt: m.prompt, node_threshold: nodeThreshold, schema_version: m.schema_version },
    qParams: { pinnedIds: pinned.slice(), supernodes: supernodes.map(function (s) { return s.slice(); }), linkType: "both", clickedId: "", sg_pos: "" },
    nodes: nodes,
    links: links,
  };
}
