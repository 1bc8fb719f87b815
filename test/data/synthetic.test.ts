import { test } from "node:test";
import assert from "node:assert/strict";
import { sharkeyToyData } from "../../src/data/synthetic.js";

test("Sharkey toy data: unit-norm features, ~avgActive per row, mixtures of the active features", () => {
  const toy = sharkeyToyData({ rows: 4000, features: 128, dim: 32, avgActive: 5, seed: 2 });
  for (let i = 0; i < 128; i++) {
    let n = 0;
    for (let j = 0; j < 32; j++) n += toy.features[i * 32 + j] ** 2;
    assert.ok(Math.abs(n - 1) < 1e-5);
  }
  const nActive = Array.from(toy.acts.column("n_active") as Int32Array);
  const mean = nActive.reduce((a, b) => a + b, 0) / nActive.length;
  assert.ok(Math.abs(mean - 5) < 0.2, `mean active ${mean}`);
  assert.ok(toy.probabilities[0] > toy.probabilities[127]);
  assert.deepEqual(toy.acts.columns, ["row", "document", "n_active"]);
  const again = sharkeyToyData({ rows: 4000, features: 128, dim: 32, avgActive: 5, seed: 2 });
  assert.deepEqual(again.acts.vectors, toy.acts.vectors, "same seed, same data");
});
