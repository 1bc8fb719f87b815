import { test } from "node:test";
import assert from "node:assert/strict";
import { RDM, categoricalRdm } from "../../src/geometry/rdm.js";
import { compareRdms } from "../../src/geometry/compare-rdms.js";
import { bootstrapCompare, permutationTest } from "../../src/geometry/rsa-inference.js";
import { represent } from "../../src/display/core/represent.js";
import { rdmPlot } from "../../src/display/plots/geometry/rdm-plot.js";
import { modelComparisonPlot } from "../../src/display/plots/geometry/rsa-plot.js";

const EVIL = `<img src=x onerror=alert(1)>`;

test("an RDM shows as a labelled heatmap, labels escaped, first condition at the top", () => {
  const r = new RDM([1, 2, 3], { labels: [EVIL, "b", "c"], name: "V1", dissimilarityMeasure: "correlation" });
  const bundle = represent(r);
  const spec = bundle["application/vnd.plotly.v1+json"] as any;
  const trace = spec.data[0];
  assert.equal(trace.type, "heatmap");
  assert.deepEqual(trace.z, [[0, 1, 2], [1, 0, 3], [2, 3, 0]]);
  assert.deepEqual(trace.x.slice(1), ["b", "c"]);
  assert.ok(!JSON.stringify(spec).includes("<img"), "labels are escaped for plotly's pseudo-HTML");
  assert.equal(spec.layout.yaxis.autorange, "reversed");
  assert.equal(spec.layout.xaxis.type, "category");
  assert.match(spec.layout.title.text, /V1 — RDM of 3 conditions \(correlation\)/);
  assert.ok(!(bundle["text/html"] as string).includes("<img src=x"));
  assert.match(String(bundle["text/plain"]), /^Figure: /);
});

test("several RDMs share one figure; NaN shows as a gap; different measures use percentiles", () => {
  const data = new RDM([0.5, NaN, 2], { name: "data", dissimilarityMeasure: "correlation" });
  const model = categoricalRdm(["x", "x", "y"], { name: "model" });
  const fig = rdmPlot([data, model]);
  assert.equal(fig.data.length, 2);
  assert.equal((fig.data[0] as any).z[0][2], null);
  assert.equal((fig.data[1] as any).xaxis, "x2");
  assert.equal((fig.layout.coloraxis as any).colorbar.title.text, "percentile");
  const ordered = rdmPlot(new RDM([1, 9, 9], { labels: ["p", "q", "r"] }), { order: ["r", "q", "p"] });
  assert.deepEqual((ordered.data[0] as any).y, ["r", "q", "p"]);
});

test("many-vs-many comparisons show as a table; a model comparison as a table and a bar chart", () => {
  const a = new RDM([1, 2, 3, 4, 5, 6], { name: "a" }), b = new RDM([2, 1, 3, 4, 6, 5], { name: EVIL });
  const table = represent(compareRdms([a, b], [a, b], "spearman"));
  assert.match(String(table["text/plain"]), /compareRdms \(spearman\): 2 × 2/);
  assert.ok(!(table["text/html"] as string).includes("<img"));
  const subs = [0, 1, 2].map((s) => new RDM([1, 2, 3, 4, 5, 6].map((v, i) => v + ((s * 7 + i * 3) % 5) * 0.3), { name: `s${s}` }));
  const res = bootstrapCompare({ good: a, [EVIL]: b }, subs, { method: "tau-a", n: 50, seed: 0 });
  const card = represent(res);
  assert.match(String(card["text/plain"]), /2 models vs 3 subjects \(tau-a\); noise ceiling \[/);
  assert.ok(!(card["text/html"] as string).includes("<img"));
  const fig = modelComparisonPlot(res, { sort: "descending" });
  const bars = fig.data[0] as any;
  assert.equal(bars.type, "bar");
  assert.equal(bars.error_y.array.length, 2);
  assert.ok(bars.error_y.array.every((v: number) => v >= 0) && bars.error_y.arrayminus.every((v: number) => v >= 0));
  assert.ok(bars.y[0] >= bars.y[1], "sorted");
  const band = (fig.layout.shapes as any[])[0];
  assert.equal(band.y0, res.noiseCeiling.lower);
  assert.equal(band.y1, res.noiseCeiling.upper);
  assert.ok(!JSON.stringify(fig.data).includes("<img"));
  const perm = represent(permutationTest(a, subs, { n: 20 }));
  assert.match(String(perm["text/plain"]), /Permutation test of condition labels/);
});

test("model comparison significance: Golan wings, Nili bars, above-0 and below-ceiling markers", () => {
  // Three models of clearly different quality against five subjects: good ≫ mid ≫ bad.
  const truth = Array.from({ length: 45 }, (_, p) => 1 + Math.sin(1.3 * p));
  const subs = [0, 1, 2, 3, 4].map((s) => new RDM(truth.map((v, p) => v + 0.15 * Math.cos(2.1 * p + s)), { name: `s${s}` }));
  const mid = new RDM(truth.map((v, p) => v + 0.6 * Math.cos(0.7 * p)));
  const bad = new RDM(truth.map((_, p) => 1 + Math.cos(0.9 * p)));
  const res = bootstrapCompare({ good: new RDM(truth), mid, bad }, subs, { method: "corr", n: 200, seed: 1 });
  const nili = modelComparisonPlot(res, { testPairComparisons: "nili", testAbove0: true, testBelowNoiseCeil: true, sort: "descending" });
  const lines = (nili.layout.shapes as any[]).filter((s) => s.type === "line" && s.yref === "paper");
  assert.ok(lines.length >= 2, `Nili bars drawn for the significant pairs, got ${lines.length}`);
  assert.ok(lines.every((l) => l.y0 > 0.72 && l.y0 <= 1 && l.x0 < l.x1), "bars sit in the band above the plot");
  assert.deepEqual((nili.layout.yaxis as any).domain, [0, 0.72]);
  const up = nili.data.find((t: any) => t.marker?.symbol === "triangle-up") as any;
  assert.ok(up.x.includes("good"), "good is above 0");
  const golan = modelComparisonPlot(res, { testPairComparisons: "golan", multiplePairTesting: "bonferroni" });
  const wings = (golan.layout.shapes as any[]).filter((s) => s.type === "circle");
  assert.ok(wings.length >= 2, "Golan wings have a dot on the winner and on each beaten model");
  assert.throws(() => modelComparisonPlot(res, { testPairComparisons: "x" as never }), /"golan", "nili" or false/);
  const none = bootstrapCompare({ good: new RDM(truth) }, subs, { method: "corr", n: 0 });
  assert.throws(() => modelComparisonPlot(none, { testAbove0: true }), /need bootstrap samples/);
});
