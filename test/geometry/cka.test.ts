import { test } from "node:test";
import assert from "node:assert/strict";
import { QrDecomposition, Matrix } from "ml-matrix";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { cka, ckaLinear, ckaRbf, ckaMatrix } from "../../src/geometry/cka.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

// Expected values from numpy with the reference code of Kornblith et al. (gram_linear, gram_rbf,
// center_gram, cka); the debiased ones also agree with Song et al.'s explicit U-statistic.
const X = [[1, 2, 0], [0, 1, 3], [2, 2, 2], [4, 0, 1], [1, 5, 1], [3, 3, 0]];
const Y = [[1, 0], [2, 1], [0, 0], [3, 3], [1, 4], [0, 2]];

test("CKA of a small worked example: linear, RBF, biased and debiased (numpy values)", async () => {
  await ready();
  close(cka(X, Y), 0.2586801766702173, 1e-6, "linear");
  close(ckaLinear(X, Y, { debiased: true }), -0.41439492190407756, 1e-5, "linear debiased (negative)");
  close(ckaRbf(X, Y), 0.5942208021398508, 1e-6, "rbf τ=1");
  close(cka(X, Y, { kind: "rbf", tau: 0.5 }), 0.9195358355321297, 1e-6, "rbf τ=0.5");
  close(cka(X, Y, { kind: "rbf", debiased: true }), -0.19862695513882458, 1e-5, "rbf debiased");
});

test("CKA with more dimensions than rows (the Gram-matrix path) agrees with numpy", async () => {
  await ready();
  const n = 9;
  const A = Array.from({ length: n }, (_, i) => Array.from({ length: 20 }, (_, j) => Math.sin(1 + i * 1.3 + j * j * 0.7)));
  const B = Array.from({ length: n }, (_, i) => {
    const shift = 0.5 * A[i].reduce((s, v) => s + v, 0);
    return Array.from({ length: 30 }, (_, j) => Math.cos(0.5 + i * i * 0.4 + j * 1.1) + shift);
  });
  close(cka(A, B), 0.9027031272448184, 1e-5, "linear");
  close(cka(A, B, { debiased: true }), 0.8965919604291014, 1e-5, "linear debiased");
  close(cka(A, B, { kind: "rbf" }), 0.8669662100416524, 1e-5, "rbf");
  close(cka(A, B, { kind: "rbf", tau: 0.5, debiased: true }), 0.6481894623118949, 1e-5, "rbf τ=0.5 debiased");
});

function randomOrthogonal(d: number, rng: Rng): Matrix {
  const m = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) m.set(i, j, rng.normal());
  return new QrDecomposition(m).orthogonalMatrix;
}

test("CKA(X, X) = 1; linear and RBF CKA are invariant to orthogonal transforms and isotropic scaling", async () => {
  await ready();
  const rng = new Rng(1);
  const n = 60, d = 8;
  const x = new Matrix(n, d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x.set(i, j, rng.normal() * (1 + j));
  const y = x.mmul(randomOrthogonal(d, rng)).mul(-3.7).add(5); // rotate, scale, translate
  const z = new Matrix(n, 5);
  for (let i = 0; i < n; i++) for (let j = 0; j < 5; j++) z.set(i, j, rng.normal());
  const X2 = x.to2DArray(), Y2 = y.to2DArray(), Z2 = z.to2DArray();
  for (const opts of [{}, { debiased: true }, { kind: "rbf" as const }, { kind: "rbf" as const, debiased: true }]) {
    close(cka(X2, X2, opts), 1, 1e-5, `CKA(X,X) ${JSON.stringify(opts)}`);
    close(cka(X2, Y2, opts), 1, 1e-4, `invariance ${JSON.stringify(opts)}`);
    close(cka(X2, Z2, opts), cka(Y2, Z2, opts), 1e-4, `same similarity to a third ${JSON.stringify(opts)}`);
  }
  // Not invariant to an anisotropic scaling.
  const w = x.clone();
  for (let i = 0; i < n; i++) w.set(i, 0, w.get(i, 0) * 10);
  assert.ok(cka(X2, w.to2DArray()) < 0.95);
  // Debiased CKA of unrelated data is near 0 (and may be negative); biased CKA is not.
  assert.ok(Math.abs(cka(X2, Z2, { debiased: true })) < cka(X2, Z2));
});

test("CKA takes ActivationSets, { values, dim }, number[][] and tensors alike", async () => {
  await ready();
  const flatX = new Float32Array(X.flat()), flatY = new Float32Array(Y.flat());
  const expected = 0.2586801766702173;
  close(cka(fromVectors(flatX, 3), fromVectors(flatY, 2)), expected, 1e-6);
  close(cka({ values: flatX, dim: 3 }, tf.tensor2d(Y)), expected, 1e-6);
  assert.throws(() => cka(X, Y.slice(1)), /same rows/);
  assert.throws(() => cka(X, [[1], [1], [1], [1], [1], [1]]), /constant/);
  assert.throws(() => cka(X.slice(0, 3), Y.slice(0, 3), { debiased: true }), /at least 4 rows/);
  assert.throws(() => cka(X, Y, { kind: "cosine" as any }), /kind/);
});

test("ckaMatrix: symmetric, 1 on the diagonal, the pairwise values", async () => {
  await ready();
  const m = ckaMatrix({ x: X, y: Y, x2: X.map((r) => r.map((v) => 2 * v)) });
  assert.deepEqual(m.labels, ["x", "y", "x2"]);
  for (let i = 0; i < 3; i++) close(m.values[i][i], 1, 1e-6);
  close(m.values[0][1], 0.2586801766702173, 1e-6);
  close(m.values[1][0], m.values[0][1], 0);
  close(m.values[0][2], 1, 1e-6);
});

test("linear CKA of 4096 rows × 768 dims takes seconds, not minutes", async () => {
  await ready();
  const rng = new Rng(2);
  const n = 4096, d = 768;
  const a = rng.normals(n * d);
  const b = new Float32Array(n * d);
  for (let i = 0; i < b.length; i++) b[i] = a[i] + 0.5 * rng.normal();
  const t0 = performance.now();
  const v = cka({ values: a, dim: d }, { values: b, dim: d });
  const seconds = (performance.now() - t0) / 1000;
  // Each column of b is its column of a plus noise: CKA ≈ 1/(1 + 0.25)² ·(1 + d/n·…) — well above 0.5.
  assert.ok(v > 0.6 && v < 1, `${v}`);
  assert.ok(seconds < 15, `${seconds.toFixed(1)} s`);
});
