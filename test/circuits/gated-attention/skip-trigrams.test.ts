import { test } from "node:test";
import assert from "node:assert/strict";
import { skipTrigrams, type PlantedTrigram } from "../../../src/circuits/gated-attention/skip-trigrams.js";

test("every planted trigram sits where the record says, and every A…B in the data is recorded", () => {
  const T = 5;
  const d = skipTrigrams({ n: 400, trigrams: T, length: 11, seed: 3 });
  assert.equal(d.vocabSize, 2 + 2 * T);
  assert.deepEqual(d.vocab.slice(0, 4), ["<bos>", "A", "B0", "B1"]);
  assert.equal(d.vocab[2 + T], "C0");
  for (const p of d.planted) {
    const s = d.tokens[p.sequence];
    assert.equal(s[p.a], 1, "A at a");
    assert.equal(s[p.b], 2 + p.trigram, "B_t at b");
    assert.equal(s[p.b + 1], 2 + T + p.trigram, "C_t right after B_t");
    assert.ok(p.a < p.b);
    for (let i = p.a + 1; i < p.b; i++) assert.ok(!(s[i] >= 2 && s[i] < 2 + T), "the first B after A is the planted one");
  }
  // Re-derive the planted trigrams from the tokens alone with the rule: after an A, the first B_i (C fits) is planted.
  const found: PlantedTrigram[] = [];
  d.tokens.forEach((s, seq) => {
    assert.equal(s.length, 11);
    assert.equal(s[0], 0);
    assert.ok(s.slice(1).every((t) => t > 0 && t < d.vocabSize), "no <bos> after position 0");
    let a = -1;
    for (let i = 1; i < s.length; i++) {
      if (a < 0 && s[i] === 1) a = i;
      else if (a >= 0 && s[i] >= 2 && s[i] < 2 + T) {
        if (i + 1 < s.length) found.push({ sequence: seq, a, b: i, trigram: s[i] - 2 });
        a = -1;
        i++; // the forced C
      }
    }
  });
  assert.deepEqual(found, d.planted);
  assert.ok(d.planted.length > 200, `${d.planted.length} trigrams in 400 sequences`);
  const perTrigram = new Array(T).fill(0);
  for (const p of d.planted) perTrigram[p.trigram]++;
  assert.ok(perTrigram.every((c) => c > 20), `every trigram appears: ${perTrigram}`);
  assert.deepEqual(d.trigrams[2], { a: 1, b: 4, c: 9, label: "A … B2 → C2" });
});

test("same seed, same sequences; another seed, others", () => {
  const a = skipTrigrams({ n: 50, seed: 7 }), b = skipTrigrams({ n: 50, seed: 7 }), c = skipTrigrams({ n: 50, seed: 8 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.tokens, c.tokens);
});

test("bad options name themselves", () => {
  assert.throws(() => skipTrigrams({ n: 0 }), /featurelab: skipTrigrams: n must be a positive integer/);
  assert.throws(() => skipTrigrams({ n: 3, trigrams: 0 }), /trigrams must be a positive integer/);
  assert.throws(() => skipTrigrams({ n: 3, length: 3 }), /length must be an integer ≥ 4/);
});
