import { test } from "node:test";
import assert from "node:assert/strict";
import { binaryEntropy, codeBits, countsEntropy, quantizeValue } from "../../src/metrics/description-length.js";

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);
const h = (ps: number[]) => -ps.reduce((s, p) => s + p * Math.log2(p), 0);

test("the definition, on a code matrix by hand: Σ_i H_b(p_i) + p_i·H(q_i), q_i the grid bins of feature i's nonzero values", () => {
  // 8 tokens × 3 features, grid step 0.25 (bins [0, .25), [.25, .5), … ).
  const codes = [
    [0.1, 0, 0.3],
    [0.35, 0, 0.3],
    [0, 0, 0.6],
    [0, 0, 0.6],
    [0.9, 0, 0],
    [0, 0, 0.26],
    [0, 0, 0.55],
    [0.12, 0, 0],
  ];
  // Feature 0 fires on 4 of 8 tokens, bins 0, 1, 3, 0 → q = (½, ¼, ¼).
  const f0 = h([0.5, 0.5]) + 0.5 * h([0.5, 0.25, 0.25]);
  // Feature 1 never fires: 0 bits. Feature 2 fires on 6 of 8, bins 1, 1, 2, 2, 1, 2 → q = (½, ½).
  const f2 = h([0.75, 0.25]) + 0.75 * h([0.5, 0.5]);
  const r = codeBits(codes, 3, 0.25);
  close(r.features[0].bits, f0, "feature 0");
  close(f0, 1.75, "feature 0 by arithmetic");
  close(r.features[1].bits, 0, "feature 1");
  close(r.features[2].bits, f2, "feature 2");
  close(r.bitsPerToken, f0 + f2, "total");
  close(r.firingBits + r.magnitudeBits, r.bitsPerToken, "parts");
  close(r.l0, (4 + 6) / 8, "L0");
  assert.equal(r.features[0].levels, 3);
  // The same matrix flat, and a grid so fine every value is its own level.
  close(codeBits(Float32Array.from(codes.flat()), 3, 0.25).bitsPerToken, f0 + f2, "flat input");
  const fine = codeBits(codes, 3, 1e-4);
  close(fine.features[2].magnitudeEntropy, h([2 / 6, 2 / 6, 1 / 6, 1 / 6]), "fine grid, feature 2");
  // A grid coarser than every value: one level per feature, only firing bits remain.
  close(codeBits(codes, 3, 10).bitsPerToken, h([0.5, 0.5]) + h([0.75, 0.25]), "one level");
});

test("entropies and the grid's decoding", () => {
  close(binaryEntropy(0), 0, "H_b(0)");
  close(binaryEntropy(1), 0, "H_b(1)");
  close(binaryEntropy(0.5), 1, "H_b(½)");
  close(countsEntropy([3, 0, 1]), h([0.75, 0.25]), "counts");
  close(countsEntropy(new Map([[1, 2], [5, 2]]).values()), 1, "an iterator is read once only");
  close(quantizeValue(0.3, 0.25), 0.375, "midpoint");
  close(quantizeValue(0.01, 0.25), 0.125, "a small activation stays firing");
});
