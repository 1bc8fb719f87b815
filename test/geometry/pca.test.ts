import { test } from "node:test";
import assert from "node:assert/strict";
import { pca } from "../../src/geometry/pca.js";
import { Rng } from "../../src/engine/random.js";

test("PCA finds the axes of an elongated cloud and their variance shares", () => {
  const rng = new Rng(0);
  const n = 2000, dim = 3;
  const v = new Float64Array(n * dim);
  for (let r = 0; r < n; r++) {
    const a = rng.normal() * 5, b = rng.normal() * 2, c = rng.normal() * 0.1;
    // axis 1 = (1,1,0)/√2, axis 2 = (0,0,1), axis 3 = (1,-1,0)/√2
    v[r * 3] = (a + c) / Math.SQRT2 + 10;
    v[r * 3 + 1] = (a - c) / Math.SQRT2;
    v[r * 3 + 2] = b;
  }
  const p = pca(v, dim, 2);
  assert.ok(Math.abs(Math.abs(p.axes[0]) - Math.SQRT1_2) < 0.01 && Math.abs(p.axes[2]) < 0.01);
  assert.ok(Math.abs(Math.abs(p.axes[5]) - 1) < 0.01);
  assert.ok(Math.abs(p.explained[0] - 25 / 29.01) < 0.02, `${p.explained}`);
  let m = 0;
  for (let r = 0; r < n; r++) m += p.coords[r * 2];
  assert.ok(Math.abs(m / n) < 1e-9, "coordinates are centred");
});
