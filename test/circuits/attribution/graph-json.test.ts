// circuit-tracer's graph file from our attribution graph: node ids, layers, ordering and pruning as
// create_graph_files writes them, checked by hand here and by circuit-tracer's own pydantic models
// (frontend/graph_models.py, read from a checkout of circuit-tracer: CIRCUIT_TRACER_REPO, else the
// mirror at /work/.mirror/decoderesearch+circuit-tracer/repo; /usr/bin/python3 needs python3-pydantic).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { circuitTracerJson, pythonFixed, cantorPairing, writeCircuitTracerFiles } from "../../../src/circuits/attribution/graph-json.js";
import { smallGraph } from "./graph-fixture.js";

const PYTHON = "/usr/bin/python3";
const REPO = process.env.CIRCUIT_TRACER_REPO ?? "/work/.mirror/decoderesearch+circuit-tracer/repo";

/** circuit-tracer's graph_models.py source, or why it is not available. */
function graphModels(): { source: string } | { why: string } {
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ["-c", "import pydantic"], { stdio: "ignore" }).status !== 0) return { why: "/usr/bin/python3 has no pydantic (as root: apt-get install -y python3-pydantic; scripts/setup.mjs installs it for the tests)" };
  const file = join(REPO, "circuit_tracer", "frontend", "graph_models.py");
  if (existsSync(file)) return { source: readFileSync(file, "utf8") };
  const git = spawnSync("git", ["-C", REPO, "show", "HEAD:circuit_tracer/frontend/graph_models.py"], { encoding: "utf8" });
  if (git.status === 0) return { source: git.stdout };
  return { why: `no circuit-tracer checkout at ${REPO} (set CIRCUIT_TRACER_REPO to one)` };
}

test("circuit-tracer JSON: node ids, layers, kinds and order as create_graph_files writes them; links are the pruned edges with their weights", async () => {
  const { graph } = await smallGraph();
  const N = graph.size, c = graph.counts, T = graph.tokens.length, L = c.errors / T;
  const pruned = graph.prune({ nodeThreshold: 0.8, edgeThreshold: 0.98 });
  const json = circuitTracerJson(graph, { slug: "tiny-graph", scan: "tiny-clt" });
  assert.deepEqual(Object.keys(json), ["metadata", "qParams", "nodes", "links"]);
  assert.deepEqual(json.metadata, { slug: "tiny-graph", scan: "tiny-clt", transcoder_list: [], prompt_tokens: graph.tokenText, prompt: graph.tokenText.join(""), node_threshold: 0.8, schema_version: 1 });
  assert.deepEqual(json.qParams, { pinnedIds: [], supernodes: [], linkType: "both", clickedId: "", sg_pos: "" });
  // Links: every kept edge between kept nodes, target by target.
  let expectedLinks = 0;
  for (let t = 0; t < N; t++) for (let s = 0; s < N; s++) if (pruned.edgeMask[t * N + s] && pruned.nodeMask[t] && pruned.nodeMask[s]) expectedLinks++;
  assert.equal(json.links.length, expectedLinks);
  assert.ok(expectedLinks > 10, `${expectedLinks} links`);
  // Nodes: kept nodes with a link, and every embedding and logit, in node order.
  const connected = new Set(json.links.flatMap((l) => [l.source, l.target]));
  const ids = new Set(json.nodes.map((n) => n.node_id));
  assert.equal(ids.size, json.nodes.length, "node ids are unique");
  for (const l of json.links) assert.ok(ids.has(l.source) && ids.has(l.target));
  assert.equal(json.nodes.filter((n) => n.feature_type === "embedding").length, T);
  assert.equal(json.nodes.filter((n) => n.feature_type === "logit").length, c.logits);
  const kinds = json.nodes.map((n) => n.feature_type);
  const rank = { "cross layer transcoder": 0, "mlp reconstruction error": 1, embedding: 2, logit: 3 } as Record<string, number>;
  assert.deepEqual(kinds, [...kinds].sort((a, b) => rank[a] - rank[b]), "features, errors, embeddings, logits");
  let kept = 0;
  graph.nodes.forEach((n, i) => {
    if (!pruned.nodeMask[i]) return;
    const id = n.kind === "feature" ? `${n.layer}_${n.feature}_${n.position}` : n.kind === "error" ? `0_${n.layer}_${n.position}` : n.kind === "embedding" ? `E_${n.token}_${n.position}` : `${L + 1}_${n.token}_${T - 1}`;
    if (n.kind === "embedding" || n.kind === "logit" || connected.has(id)) {
      const node = json.nodes[kept++];
      assert.equal(node.node_id, id);
      if (n.kind !== "logit") assert.equal(node.influence, pruned.cumulativeScores[i]);
      if (n.kind === "feature") {
        assert.deepEqual([node.feature, node.layer, node.ctx_idx, node.jsNodeId, node.activation], [cantorPairing(n.layer, n.feature), String(n.layer), n.position, `${n.layer}_${n.feature}-0`, n.activation]);
      } else if (n.kind === "error") {
        assert.deepEqual([node.feature, node.layer, node.jsNodeId, node.activation], [-1, String(n.layer), `${n.layer}_${n.position}-0`, null]);
      } else if (n.kind === "embedding") {
        assert.deepEqual([node.feature, node.layer, node.jsNodeId], [n.position, "E", `E_${n.token}-${n.position}`]);
      } else {
        assert.deepEqual([node.feature, node.layer, node.ctx_idx, node.jsNodeId, node.token_prob, node.influence], [n.token, String(L + 1), T - 1, `L_${n.token}-${T - 1}`, n.probability, null]);
        assert.equal(node.is_target_logit, i === N - c.logits, "the most likely logit is the target");
        assert.match(node.clerp, /^Output ".*" \(p=\d\.\d{3}\)$/);
      }
    }
  });
  assert.equal(kept, json.nodes.length);
  const byId = new Map<string, number>();
  graph.nodes.forEach((_, i) => {
    const n = graph.nodes[i];
    byId.set(n.kind === "feature" ? `${n.layer}_${n.feature}_${n.position}` : n.kind === "error" ? `0_${n.layer}_${n.position}` : n.kind === "embedding" ? `E_${n.token}_${n.position}` : `${L + 1}_${n.token}_${T - 1}`, i);
  });
  for (const l of json.links) assert.equal(l.weight, graph.edge(byId.get(l.target)!, byId.get(l.source)!));
  const targets = json.links.map((l) => byId.get(l.target)!);
  assert.deepEqual(targets, [...targets].sort((a, b) => a - b), "links run target by target");
  // A looser threshold keeps more; a list of transcoders names a custom scan, stably.
  const loose = circuitTracerJson(graph, { slug: "x", scan: ["a", "b"], nodeThreshold: 0.95 });
  assert.ok(loose.nodes.length >= json.nodes.length);
  assert.match(loose.metadata.scan, /^custom-\d+$/);
  assert.equal(loose.metadata.scan, circuitTracerJson(graph, { slug: "x", scan: ["a", "b"] }).metadata.scan);
  assert.deepEqual(loose.metadata.transcoder_list, ["a", "b"]);
  assert.throws(() => circuitTracerJson(graph, { slug: "", scan: "s" }), /slug must be a non-empty string/);
  assert.throws(() => circuitTracerJson(graph, { slug: "x", scan: "s", nodeTreshold: 0.5 } as never), /nodeTreshold/);
});

test("circuit-tracer JSON: Python's .3f rounding of logit probabilities (exact halves to even)", () => {
  assert.equal(pythonFixed(0.0625, 3), "0.062");
  assert.equal(pythonFixed(0.1875, 3), "0.188");
  assert.equal(pythonFixed(0.12345, 3), "0.123");
  assert.equal(pythonFixed(1, 3), "1.000");
  assert.equal(pythonFixed(0.0005, 3), (0.0005).toFixed(3), "0.0005 is not an exact half in binary");
});

test("circuit-tracer JSON: a written graph folder validates against circuit-tracer's own pydantic models; node and link counts match the pruned graph", async (t) => {
  const models = graphModels();
  if ("why" in models) return t.skip(models.why);
  const { graph } = await smallGraph();
  const dir = mkdtempSync(join(tmpdir(), "featurelab-ct-"));
  try {
    const a = writeCircuitTracerFiles(graph, dir, { slug: "g1", scan: "tiny-clt", pinnedIds: [], supernodes: [] });
    writeCircuitTracerFiles(graph, dir, { slug: "g2", scan: ["tc0", "tc1", "tc2"], nodeThreshold: 0.6 });
    const b = writeCircuitTracerFiles(graph, dir, { slug: "g1", scan: "tiny-clt", nodeThreshold: 0.9, supernodes: [["pair", "E_4_1", "E_2_2"]], pinnedIds: ["E_4_1"] });
    writeFileSync(join(dir, "graph_models.py"), models.source);
    const script = `
import json, sys
sys.path.insert(0, sys.argv[1])
from graph_models import Model
out = {}
meta = json.load(open(sys.argv[1] + "/graph-metadata.json"))
for g in meta["graphs"]:
    raw = json.load(open(sys.argv[1] + "/" + g["slug"] + ".json"))
    m = Model(**raw)
    dumped = m.model_dump() if hasattr(m, "model_dump") else m.dict()
    assert dumped == raw, "round trip through the models changed the file"
    assert dumped["metadata"] == g
    out[g["slug"]] = [len(m.nodes), len(m.links)]
print(json.dumps(out))
`;
    const r = spawnSync(PYTHON, ["-c", script, dir], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const counts = JSON.parse(r.stdout) as Record<string, [number, number]>;
    assert.deepEqual(Object.keys(counts), ["g2", "g1"], "g1 written again replaces its entry");
    assert.deepEqual(counts.g1, [b.nodes.length, b.links.length]);
    // The counts agree with our own pruning.
    const N = graph.size;
    const p = graph.prune({ nodeThreshold: 0.9, edgeThreshold: 0.98 });
    let links = 0;
    for (let i = 0; i < N * N; i++) if (p.edgeMask[i] && p.nodeMask[Math.floor(i / N)] && p.nodeMask[i % N]) links++;
    assert.equal(counts.g1[1], links);
    assert.ok(b.nodes.length >= a.nodes.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
