// The linear algebra the geometry methods stand on, checked by its definitions (A V = V Λ, U S Vᵀ = A,
// orthonormal factors, the characteristic polynomial's roots) with LAPACK (the native addon) and with
// the JavaScript fallback, which must agree.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { symEig, svd, eigenvalues, matMul } from "../../src/engine/linalg.js";
import { Rng } from "../../src/engine/random.js";

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};
const random = (rng: Rng, n: number) => Float64Array.from(rng.normals(n));

test("symEig: A v = λ v, ascending, orthonormal", () => {
  const rng = new Rng(1), n = 7;
  const X = random(rng, n * n);
  const A = matMul(X, X, n, n, n, false, true);
  const { values, vectors } = symEig(A, n);
  for (let i = 1; i < n; i++) assert.ok(values[i] >= values[i - 1]);
  for (let r = 0; r < n; r++) {
    const v = vectors.subarray(r * n, (r + 1) * n);
    close(matMul(A, v, n, n, 1), v.map((x) => x * values[r]), 1e-9, `A v${r}`);
  }
  close(matMul(vectors, vectors, n, n, n, false, true), Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)), 1e-12, "V Vᵀ");
});

test("svd of tall and wide matrices: U diag(S) Vt = A, S descending, orthonormal factors", () => {
  const rng = new Rng(2);
  for (const [m, n] of [[9, 4], [4, 9], [5, 5]]) {
    const A = random(rng, m * n);
    const { U, S, Vt, k } = svd(A, m, n);
    assert.equal(k, Math.min(m, n));
    for (let i = 1; i < k; i++) assert.ok(S[i] <= S[i - 1]);
    const US = U.map((x, i) => x * S[i % k]);
    close(matMul(US, Vt, m, k, n), A, 1e-12, `${m}×${n}`);
    close(matMul(U, U, k, m, k, true), Float64Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? 1 : 0)), 1e-12, "UᵀU");
  }
});

test("eigenvalues of a rotation are e^{±iθ}; of a triangular matrix its diagonal", () => {
  const t = 0.3;
  const { re, im } = eigenvalues([Math.cos(t), -Math.sin(t), Math.sin(t), Math.cos(t)], 2);
  close([...re].sort((a, b) => a - b), [Math.cos(t), Math.cos(t)], 1e-14, "re");
  close([...im].sort((a, b) => a - b), [-Math.sin(t), Math.sin(t)], 1e-14, "im");
  const T = eigenvalues([2, 1, 5, 0, -1, 3, 0, 0, 4], 3);
  close([...T.re].sort((a, b) => a - b), [-1, 2, 4], 1e-12, "triangular");
});

test("the JavaScript fallback gives what LAPACK gives", () => {
  const code = `
    import { symEig, svd, eigenvalues } from "./src/engine/linalg.ts";
    const A = [4, 1, 2, 1, 3, 0.5, 2, 0.5, 5];
    const e = symEig(A, 3), s = svd([1, 2, 3, 4, 5, 6], 2, 3), g = eigenvalues([0, 1, -2, -3], 2);
    console.log(JSON.stringify({ values: [...e.values], S: [...s.S], re: [...g.re].sort((a, b) => a - b) }));`;
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { encoding: "utf8", env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const js = run({ FEATURELAB_NATIVE: "0" }), native = run({});
  close(js.values, native.values, 1e-12, "symEig");
  close(js.S, native.S, 1e-12, "svd");
  close(js.re, native.re, 1e-12, "eigenvalues");
  close(native.re, [-2, -1], 1e-12, "roots of λ² + 3λ + 2");
});
