import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/engine/random.js";

test("the same seed gives the same numbers; another seed does not", () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const xs = Array.from({ length: 5 }, () => a.uint32());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.uint32()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.uint32()));
});

test("uniform and normal have the right moments", () => {
  const r = new Rng(1);
  const n = 200_000;
  let su = 0, sn = 0, sn2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    su += u;
    const z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.005);
  assert.ok(Math.abs(sn / n) < 0.01);
  assert.ok(Math.abs(sn2 / n - 1) < 0.02);
});

test("permutation contains every index once", () => {
  const p = new Rng(3).permutation(1000);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual([...p], Array.from({ length: 1000 }, (_, i) => i));
});
