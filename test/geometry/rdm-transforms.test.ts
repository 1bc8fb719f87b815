// RDM transforms against rsatoolbox's rdm/transform.py (rank_transform, sqrt_transform,
// positive_transform, transform, minmax_transform, geotopological_transform), run from source on the
// literal vectors below; the expected values are its output, written here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RDM, rdm } from "../../src/geometry/rdm.js";
import { rankTransform } from "../../src/geometry/rdm-transforms.js";

function same(actual: ArrayLike<number>, expected: (number | null)[], tol = 1e-15, what = "") {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    if (e === null) assert.ok(Number.isNaN(actual[i]), `${what}[${i}]: ${actual[i]} vs NaN`);
    else assert.ok(Math.abs(actual[i] - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: ${actual[i]} vs ${e}`);
  }
}

// Five conditions: ties, negatives (as cross-validated estimates give) and one missing pair.
const v = [0.5, -0.2, 1.0, NaN, 0.5, 2.0, -0.2, 0.5, 3.0, 1.0];
const w = [0.5, -0.2, 1.0, 0.7, 0.5, 2.0, -0.2, 0.5, 3.0, 1.0];
const labels = ["a", "b", "c", "d", "e"];
const d = new RDM(v, { labels, dissimilarityMeasure: "squared euclidean", name: "s1", descriptors: { subject: 1 } });

test("rank: scipy's rankdata methods with NaN omitted, as rsatoolbox's rank_transform", () => {
  const expected: Record<string, (number | null)[]> = {
    average: [4.0, 1.5, 6.5, null, 4.0, 8.0, 1.5, 4.0, 9.0, 6.5],
    min: [3.0, 1.0, 6.0, null, 3.0, 8.0, 1.0, 3.0, 9.0, 6.0],
    max: [5.0, 2.0, 7.0, null, 5.0, 8.0, 2.0, 5.0, 9.0, 7.0],
    dense: [2.0, 1.0, 3.0, null, 2.0, 4.0, 1.0, 2.0, 5.0, 3.0],
    ordinal: [3.0, 1.0, 6.0, null, 4.0, 8.0, 2.0, 5.0, 9.0, 7.0],
  };
  for (const [m, e] of Object.entries(expected)) same(d.rank(m as any).vector, e, 0, m);
  same(d.rank().vector, expected.average, 0, "default");
  const r = d.rank();
  assert.equal(r.dissimilarityMeasure, "squared euclidean (ranks)");
  assert.equal(r.rank().dissimilarityMeasure, "squared euclidean (ranks)", "marked once");
  // Labels, name and descriptors carry over, as rsatoolbox deep-copies its descriptors.
  assert.deepEqual(r.labels, labels);
  assert.equal(r.name, "s1");
  assert.deepEqual(r.descriptors, { subject: 1 });
  // Large vectors rank by the radix path; ordinal and min/max agree with a comparison sort there too.
  const n = 5050;
  const big = Float64Array.from({ length: n }, (_, i) => Math.round(50 * Math.sin(i * 1.7)) / 10);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => big[a] - big[b] || a - b);
  const ordinal = new Float64Array(n);
  order.forEach((i, k) => (ordinal[i] = k + 1));
  same(rankTransform(big, "x", "ordinal").vector, Array.from(ordinal), 0, "ordinal large");
  const min = Float64Array.from(big, (x) => big.filter((y) => y < x).length + 1);
  same(rankTransform(big, "x", "min").vector, Array.from(min), 0, "min large");
});

test("sqrt, positive and transform keep NaN and follow rsatoolbox's naming", () => {
  const s = d.sqrt();
  same(s.vector, [0.7071067811865476, 0.0, 1.0, null, 0.7071067811865476, 1.4142135623730951, 0.0, 0.7071067811865476, 1.7320508075688772, 1.0], 1e-16, "sqrt");
  assert.equal(s.dissimilarityMeasure, "euclidean");
  const measure = (m?: string) => new RDM(v, m ? { dissimilarityMeasure: m } : {}).sqrt().dissimilarityMeasure;
  assert.equal(measure("squared mahalanobis"), "mahalanobis");
  assert.equal(measure(), "sqrt of unknown measure");
  assert.equal(measure("crossnobis"), "sqrt of crossnobis"); // rsatoolbox: "sqrt ofcrossnobis" (no space)
  // The root of rsatoolbox's squared euclidean / C is the euclidean distance / √C.
  same(rdm([[0, 0], [3, 4]]).sqrt().vector, [5 / Math.SQRT2], 1e-15, "euclidean");
  const p = new RDM(v, { dissimilarityMeasure: "crossnobis" }).positive();
  same(p.vector, [0.5, 0.0, 1.0, null, 0.5, 2.0, 0.0, 0.5, 3.0, 1.0], 0, "positive");
  assert.equal(p.dissimilarityMeasure, "crossnobis");
  // rsatoolbox transform(rdms, lambda x: np.exp(-x)).
  const t = new RDM(v, { dissimilarityMeasure: "crossnobis" }).transform((x) => Math.exp(-x));
  same(t.vector, [0.6065306597126334, 1.2214027581601699, 0.3678794411714424, null, 0.6065306597126334, 0.13533528323661267, 1.2214027581601699, 0.6065306597126334, 0.04978706836786394, 0.3678794411714424], 1e-15, "exp");
  assert.equal(t.dissimilarityMeasure, "transformed crossnobis");
  assert.equal(d.transform((x) => 2 * x, "doubled").dissimilarityMeasure, "doubled");
  // The function is not called for a missing pair, and sees each pair's index.
  const seen: number[] = [];
  d.transform((x, i) => (seen.push(i), x));
  assert.deepEqual(seen, [0, 1, 2, 4, 5, 6, 7, 8, 9]);
});

test("minmax and geotopological as rsatoolbox's minmax_transform and geotopological_transform", () => {
  const e = new RDM(w, { dissimilarityMeasure: "crossnobis" });
  const m = e.minmax();
  same(m.vector, [0.21874999999999997, 0.0, 0.37499999999999994, 0.28124999999999994, 0.21874999999999997, 0.6875, 0.0, 0.21874999999999997, 1.0, 0.37499999999999994], 1e-15, "minmax");
  assert.equal(m.dissimilarityMeasure, "minmax transformed crossnobis");
  // With a missing pair rsatoolbox's minimum and maximum are NaN and so is every value; here the
  // missing pair stays missing and the others are scaled by the range of the rest.
  same(d.minmax().vector, [0.7 / 3.2, 0, 1.2 / 3.2, null, 0.7 / 3.2, 2.2 / 3.2, 0, 0.7 / 3.2, 1, 1.2 / 3.2], 1e-15, "minmax NaN");
  const g = e.geotopological(0.25, 0.8);
  same(g.vector, [0.0, 0.0, 0.7142857142857141, 0.2857142857142856, 0.0, 1.0, 0.0, 0.0, 1.0, 0.7142857142857141], 1e-15, "geotopological");
  assert.equal(g.dissimilarityMeasure, "geo-topological transformed crossnobis");
  same(e.geotopological(0, 1).vector, Array.from(m.vector), 1e-15, "0, 1 is minmax");
});

test("bad transform input is refused, naming the problem", () => {
  assert.throws(() => d.rank("first" as any), /RDM.rank: unknown method 'first'; use one of average, min, max, dense, ordinal/);
  assert.throws(() => d.transform((x) => 1 / (x - 0.5)), /RDM.transform: the function gave Infinity for dissimilarity 0 \(0.5\)/);
  assert.throws(() => new RDM([1, 1, 1]).minmax(), /RDM.minmax: all 3 dissimilarities equal 1; there is no range/);
  assert.throws(() => new RDM([NaN, NaN, NaN]).minmax(), /RDM.minmax: all 3 dissimilarities are NaN/);
  assert.throws(() => d.geotopological(0.8, 0.2), /need quantiles 0 ≤ low < up ≤ 1, got low 0.8, up 0.2/);
  assert.throws(() => new RDM([1, 1, 1, 1, 1, 2]).geotopological(0.1, 0.5), /the 0.1 and 0.5 quantiles are equal \(1\)/);
});
