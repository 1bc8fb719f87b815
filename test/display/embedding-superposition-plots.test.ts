import { test } from "node:test";
import assert from "node:assert/strict";
import { ready } from "../../src/engine/backend.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { classicalMds } from "../../src/geometry/mds.js";
import { ckaMatrix } from "../../src/geometry/cka.js";
import { ToySuperposition } from "../../src/models/toy-superposition.js";
import { embeddingPlot } from "../../src/display/plots/features/embedding-plot.js";
import { dimensionalityPlot, superpositionPlot } from "../../src/display/plots/features/superposition-plot.js";
import { similarityPlot } from "../../src/display/plots/geometry/cka-plot.js";

const EVIL = `<img src=x onerror=alert(1)>`;
const json = (f: { data: unknown; layout: unknown }) => JSON.stringify({ data: f.data, layout: f.layout });

test("embedding plot: categories as traces, numbers as a colour scale, labels and hover escaped", async () => {
  await ready();
  const D = [[0, 1, 2], [1, 0, 1], [2, 1, 0]];
  const mds = classicalMds({ matrix: D, labels: ["a", EVIL, "c"] });
  const cat = embeddingPlot(mds, { color: ["x", "y", "x"], hover: { note: [EVIL, "n", "m"] } });
  assert.equal(cat.data.length, 2);
  assert.deepEqual(cat.data.map((t) => t.name), ["x", "y"]);
  assert.equal((cat.data[0].x as number[]).length, 2);
  assert.equal(cat.data[0].mode, "markers+text", "few labelled points show their labels");
  assert.ok(!json(cat).includes("<img"), "labels from data are escaped");
  assert.match(json(cat), /&lt;img/);
  assert.equal((cat.layout.yaxis as any).scaleanchor, "x", "MDS keeps equal axis units");
  assert.match((cat.layout.xaxis as any).title.text, /classical MDS 1 \(\d+\.\d%\)/);
  const num = embeddingPlot([[0, 0], [1, 1], [2, 0]], { color: [0.1, 0.5, 0.9], colorTitle: "density" });
  assert.equal(num.data.length, 1);
  assert.deepEqual((num.data[0].marker as any).color, [0.1, 0.5, 0.9]);
  assert.equal((num.data[0].marker as any).colorbar.title.text, "density");
  // Metadata columns of a set, by name.
  const acts = fromVectors(new Float32Array(6), 2, { label: ["p", "q", "p"], doc: [1, 2, 3] });
  const byCol = embeddingPlot({ coords: new Float64Array([0, 0, 1, 0, 0, 1]), k: 2, method: "UMAP" }, { acts, color: "label", hover: ["doc"] });
  assert.deepEqual(byCol.data.map((t) => t.name), ["p", "q"]);
  assert.match(byCol.data[0].hovertemplate as string, /doc: %\{customdata\[3\]\}/);
  assert.equal((byCol.layout.yaxis as any).scaleanchor, undefined, "UMAP axes are free");
  assert.throws(() => embeddingPlot([[0, 0], [1, 1]], { color: [1, 2, 3] }), /3 colours for 2 points/);
  assert.throws(() => embeddingPlot([[0, 0], [1, 1]], { color: "label" }), /pass \{ acts \}/);
});

function toyModel(hidden: number, columns: number[][][]): ToySuperposition {
  const n = columns[0].length;
  const weights = new Float32Array(columns.length * hidden * n);
  columns.forEach((cols, k) => cols.forEach((c, i) => c.forEach((v, r) => (weights[k * hidden * n + r * n + i] = v))));
  return new ToySuperposition({
    features: n,
    hidden,
    featureProbability: columns.map((_, k) => [1, 0.02][k] ?? 0.5),
    importance: Float64Array.from({ length: n }, (_, i) => 0.9 ** i),
    weights,
    biases: new Float32Array(columns.length * n),
    history: [],
  });
}

test("superposition plot: W's columns as points and arrows per model; WᵀW heatmaps when m > 2", () => {
  const pentagon = Array.from({ length: 5 }, (_, i) => [Math.cos((2 * Math.PI * i) / 5), Math.sin((2 * Math.PI * i) / 5)]);
  const dense = [[1, 0], [0, 1], [0, 0], [0, 0], [0, 0]];
  const model = toyModel(2, [dense, pentagon]);
  const fig = superpositionPlot(model);
  assert.equal(fig.data.length, 4);
  const tips = fig.data[2];
  assert.deepEqual((tips.x as number[]).map((v) => +v.toFixed(5)), pentagon.map((p) => +p[0].toFixed(5)));
  assert.equal(tips.xaxis, "x2");
  assert.equal(fig.data[3].hoverinfo, "skip");
  assert.ok((fig.layout.annotations as any[]).some((a) => a.text === "1−S = 0.020"));
  assert.ok(((tips.customdata as number[][])[0][2] - 0.4) < 1e-6, "hover carries D_i");
  const wide = toyModel(3, [[[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0]]]);
  const heat = superpositionPlot(wide);
  assert.equal(heat.data[0].type, "heatmap");
  assert.equal((heat.data[0].z as number[][])[3][3], 0.5);
  assert.throws(() => superpositionPlot(model, { models: [2] }), /out of range/);
});

test("dimensionality plot: a point per feature and model, m/‖W‖²_F, the sticky fractions marked", () => {
  const pentagon = Array.from({ length: 5 }, (_, i) => [Math.cos((2 * Math.PI * i) / 5), Math.sin((2 * Math.PI * i) / 5)]);
  const dense = [[1, 0], [0, 1], [0, 0], [0, 0], [0, 0]];
  const fig = dimensionalityPlot(toyModel(2, [dense, pentagon]));
  const ys = fig.data[0].y as number[];
  assert.equal(ys.length, 10);
  assert.deepEqual(ys.slice(0, 5).map((v) => +v.toFixed(6)), [1, 1, 0, 0, 0]);
  for (const v of ys.slice(5)) assert.ok(Math.abs(v - 0.4) < 1e-6);
  const xs = fig.data[0].x as number[];
  assert.ok(xs.slice(5).every((x) => x > 40 && x < 60), "sparse points sit near 1/(1−S) = 50");
  assert.deepEqual((fig.data[1].y as number[]).map((v) => +v.toFixed(6)), [1, 0.4]);
  const lines = (fig.layout.shapes as any[]).map((s) => s.y0);
  for (const f of [3 / 4, 2 / 3, 1 / 2, 2 / 5, 3 / 8]) assert.ok(lines.some((y) => Math.abs(y - f) < 1e-12), `line at ${f}`);
  assert.ok((fig.layout.annotations as any[]).some((a) => /2\/5 pentagon/.test(a.text)));
  assert.equal((fig.layout.xaxis as any).type, "log");
  assert.deepEqual(dimensionalityPlot(toyModel(2, [dense, pentagon])).data[0].x, xs, "the jitter is the same every time");
});

test("CKA heatmap: the matrix, labels escaped", async () => {
  await ready();
  const X = [[1, 2], [0, 1], [3, 1], [2, 2]];
  const m = ckaMatrix({ [EVIL]: X, b: X.map((r) => [r[0] + r[1], r[0] - r[1]]) });
  const fig = similarityPlot(m);
  assert.deepEqual(fig.data[0].z, m.values);
  assert.ok(!json(fig).includes("<img"));
  assert.match(fig.title, /linear CKA between 2 representations/);
});
