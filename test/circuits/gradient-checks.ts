// The checks every written-out gradient in the parameter-decomposition tests goes through: blocks of
// θ's gradient against tfjs autodiff, and the whole gradient against central finite differences.
import assert from "node:assert/strict";
import { tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";

/** Each (variable, offset in θ) block of `grad` equals tfjs's gradient of that variable to a relative `tol` (L2 over the block). */
export function assertBlocksMatch(grads: tf.NamedTensorMap, blocks: [tf.Variable, number][], grad: Float64Array, tol: number, label: string): void {
  for (const [variable, at] of blocks) {
    const g = grads[variable.name].dataSync();
    let num = 0, den = 0;
    for (let j = 0; j < g.length; j++) {
      num += (g[j] - grad[at + j]) ** 2;
      den += grad[at + j] ** 2;
    }
    assert.ok(den > 0 && Math.sqrt(num / den) < tol, `${label}: block at ${at} differs by ${Math.sqrt(num / den)} (relative)`);
  }
}

/**
 * `grad` against central finite differences of `loss` at θ: directional derivatives along a few
 * random directions through every parameter at once (relative `dirTol`), and single coordinates.
 */
export function assertFiniteDifferences(loss: (t: Float64Array) => number, theta: Float64Array, grad: Float64Array, coords: number[], dirTol = 1e-5, directions = 4, eps = 1e-5): void {
  const rng = new Rng(11);
  for (let k = 0; k < directions; k++) {
    const d = Float64Array.from(rng.normals(theta.length));
    const fd = (loss(theta.map((v, j) => v + eps * d[j])) - loss(theta.map((v, j) => v - eps * d[j]))) / (2 * eps);
    const an = grad.reduce((s, g, j) => s + g * d[j], 0);
    assert.ok(Math.abs(fd - an) < dirTol * Math.max(1, Math.abs(an)), `direction ${k}: finite difference ${fd}, gradient ${an}`);
  }
  for (const j of coords) {
    const plus = Float64Array.from(theta), minus = Float64Array.from(theta);
    plus[j] += eps;
    minus[j] -= eps;
    const fd = (loss(plus) - loss(minus)) / (2 * eps);
    assert.ok(Math.abs(fd - grad[j]) < 1e-6 + 1e-4 * Math.abs(grad[j]), `θ[${j}]: finite difference ${fd}, gradient ${grad[j]}`);
  }
}
