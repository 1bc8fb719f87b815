import { test } from "node:test";
import assert from "node:assert/strict";
import { gram, crossGram } from "../../src/geometry/gram.js";
import { Rng } from "../../src/engine/random.js";

test("X·Xᵀ and A·Bᵀ equal plain dot products: OpenBLAS, and JavaScript on one thread and shared with workers", () => {
  const rng = new Rng(4);
  // 5×3 stays on this thread; 257×700 (≈2.3e7 multiply-adds, K not a multiple of 4) uses the workers.
  for (const [K, C, native] of [[5, 3, false], [257, 700, false], [5, 3, true], [257, 700, true]] as const) {
    const A = Float64Array.from({ length: K * C }, () => rng.normal());
    const B = Float64Array.from({ length: K * C }, () => rng.normal());
    const G = gram(A, K, C, { native }), H = crossGram(A, B, K, C, { native });
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        let g = 0, h = 0;
        for (let c = 0; c < C; c++) (g += A[i * C + c] * A[j * C + c]), (h += A[i * C + c] * B[j * C + c]);
        assert.ok(Math.abs(G[i * K + j] - g) <= 1e-12 * Math.max(1, Math.abs(g)), `gram ${K}: (${i}, ${j})`);
        assert.ok(Math.abs(H[i * K + j] - h) <= 1e-12 * Math.max(1, Math.abs(h)), `cross ${K}: (${i}, ${j})`);
      }
    }
    assert.equal(G[1 * K + 2], G[2 * K + 1], "symmetric");
  }
});
