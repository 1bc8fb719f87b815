import { test } from "node:test";
import assert from "node:assert/strict";
import { classicalMds, metricMds } from "../../src/geometry/mds.js";
import { Rng } from "../../src/engine/random.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

function distances(coords: ArrayLike<number>, n: number, k: number): number[][] {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let c = 0; c < k; c++) s += (coords[i * k + c] - coords[j * k + c]) ** 2;
      return Math.sqrt(s);
    }),
  );
}

// A 2-D configuration: a house-shaped pentagon plus its centre, not centred, not axis-aligned.
const POINTS = [[1, 1], [4, 1], [4, 3], [2.5, 5], [1, 3], [2.5, 2.4]];
const flatPoints = POINTS.flat();

test("classical MDS recovers a 2-D configuration up to rotation and reflection", () => {
  const D = distances(flatPoints, 6, 2);
  const m = classicalMds(D, 2);
  assert.equal(m.n, 6);
  assert.equal(m.k, 2);
  const back = distances(m.coords, 6, 2);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) close(back[i][j], D[i][j], 1e-9, `d[${i},${j}]`);
  // Exactly 2-D: the remaining eigenvalues vanish; the two kept ones carry all variance.
  for (const e of m.eigenvalues.slice(2)) close(e, 0, 1e-9, "eigenvalue");
  close(m.explained[0] + m.explained[1], 1, 1e-12);
  // The coordinates are centred.
  for (let c = 0; c < 2; c++) close(m.coords[c] + m.coords[2 + c] + m.coords[4 + c] + m.coords[6 + c] + m.coords[8 + c] + m.coords[10 + c], 0, 1e-9);
});

test("classical MDS of a non-Euclidean matrix: eigenvalues and coordinates as numpy computes them", () => {
  // Triangle inequality violated (d[0,3] = 5 > 1 + 1 + 1): B has a negative eigenvalue.
  const D = [[0, 1, 2, 5], [1, 0, 1, 2], [2, 1, 0, 1], [5, 2, 1, 0]];
  const m = classicalMds(D, { k: 2 });
  // numpy.linalg.eigh of −½·J·D²·J
  const expected = [12.6846584, 0.315341562, 0, -4];
  m.eigenvalues.forEach((e, i) => close(e, expected[i], 1e-7, `λ${i}`));
  const X = [[-2.49952919, 0.04851626], [-0.3077061, -0.39410272], [0.3077061, 0.39410272], [2.49952919, -0.04851626]];
  for (let c = 0; c < 2; c++) {
    const sign = Math.sign(m.coords[c]) * Math.sign(X[0][c]);
    for (let i = 0; i < 4; i++) close(sign * m.coords[i * 2 + c], X[i][c], 1e-7, `x[${i},${c}]`);
  }
  close(m.explained[0], 12.6846584 / 13, 1e-7);
});

test("MDS reads the condensed upper triangle and RDM-like objects with labels; sqrt for squared distances", () => {
  const D = distances(flatPoints, 6, 2);
  const condensed: number[] = [];
  for (let i = 0; i < 6; i++) for (let j = i + 1; j < 6; j++) condensed.push(D[i][j]);
  const a = classicalMds(D), b = classicalMds(condensed);
  for (let p = 0; p < a.coords.length; p++) close(a.coords[p], b.coords[p], 1e-12);
  // An rsatoolbox-style euclidean RDM holds squared distances / C (C = 2 channels here).
  const rdm = { matrix: D.map((r) => r.map((v) => (v * v) / 2)), labels: ["a", "b", "c", "d", "e", "<f>"] };
  const m = classicalMds(rdm, { sqrt: true });
  assert.deepEqual(m.labels, rdm.labels);
  const back = distances(m.coords, 6, 2);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) close(back[i][j], D[i][j] / Math.SQRT2, 1e-9);
  // A method that returns the matrix works too.
  assert.equal(classicalMds({ matrix: () => D }).n, 6);
});

test("MDS refuses asymmetric, non-square, non-finite input and bad k", () => {
  assert.throws(() => classicalMds([[0, 1], [2, 0]]), /symmetric/);
  assert.throws(() => classicalMds([[0, 1, 2], [1, 0]]), /square/);
  assert.throws(() => classicalMds([0, 1, 2, 3]), /upper triangle/);
  assert.throws(() => classicalMds([[0, NaN], [NaN, 0]]), /NaN/);
  assert.throws(() => classicalMds([[1, 1], [1, 0]]), /diagonal/);
  assert.throws(() => classicalMds([[0, 1], [1, 0]], 3), /k=3/);
});

test("SMACOF: stress never increases, and a Euclidean configuration is recovered from random starts", () => {
  const D = distances(flatPoints, 6, 2);
  const m = metricMds(D, { init: "random", seed: 3, maxIter: 1000, tolerance: 1e-12 });
  for (let i = 1; i < m.history.length; i++) assert.ok(m.history[i] <= m.history[i - 1] * (1 + 1e-12) + 1e-15, `stress rose at ${i}`);
  assert.ok(m.history[0] > 1, "a random start has large stress");
  assert.ok(m.stress < 1e-8, `stress ${m.stress}`);
  const back = distances(m.coords, 6, 2);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) close(back[i][j], D[i][j], 1e-4);
  // Same seed, same answer.
  assert.deepEqual(metricMds(D, { init: "random", seed: 3, maxIter: 1000, tolerance: 1e-12 }).coords, m.coords);
});

test("SMACOF improves on the classical solution of non-Euclidean dissimilarities; stress-1 as defined", () => {
  const rng = new Rng(7);
  const n = 12;
  const D = Array.from({ length: n }, () => new Array(n).fill(0));
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) D[i][j] = D[j][i] = 0.5 + rng.uniform();
  const c = classicalMds(D);
  const m = metricMds(D);
  const rawStress = (coords: Float64Array) => {
    const e = distances(coords, n, 2);
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += (e[i][j] - D[i][j]) ** 2;
    return s;
  };
  close(m.history[0], rawStress(c.coords), 1e-9, "starts from the classical solution");
  close(m.stress, rawStress(m.coords), 1e-9, "reported stress is the raw stress of the coordinates");
  assert.ok(m.stress < 0.8 * m.history[0], `${m.stress} vs ${m.history[0]}`);
  let sumD2 = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) sumD2 += D[i][j] ** 2;
  close(m.stress1, Math.sqrt(m.stress / sumD2), 1e-12);
  for (let i = 1; i < m.history.length; i++) assert.ok(m.history[i] <= m.history[i - 1] * (1 + 1e-12));
});
