import { test } from "node:test";
import assert from "node:assert/strict";
import { learningRate, sparsityCoefficient } from "../../src/training/schedule.js";

test("learning rate: warm-up, then constant, linear or cosine decay to 0", () => {
  const s = { lr: 1, warmupSteps: 10, totalSteps: 110 };
  assert.equal(learningRate(0, s), 0.1);
  assert.equal(learningRate(9, s), 1);
  assert.equal(learningRate(50, s), 1);
  assert.equal(learningRate(60, { ...s, decay: "linear" }), 0.5);
  assert.ok(Math.abs(learningRate(60, { ...s, decay: "cosine" }) - 0.5) < 1e-12);
  assert.equal(learningRate(110, { ...s, decay: "linear" }), 0);
  assert.equal(learningRate(20, { lr: 2, totalSteps: 100, decay: "linear", decaySteps: 20 }), 2);
  assert.equal(learningRate(90, { lr: 2, totalSteps: 100, decay: "linear", decaySteps: 20 }), 1);
});

test("sparsity coefficient warms up linearly", () => {
  assert.equal(sparsityCoefficient(0, 4, 4), 1);
  assert.equal(sparsityCoefficient(3, 4, 4), 4);
  assert.equal(sparsityCoefficient(100, 4, 4), 4);
  assert.equal(sparsityCoefficient(0, 4, 0), 4);
});
