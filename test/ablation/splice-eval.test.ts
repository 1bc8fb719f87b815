import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { Transformer } from "../../src/models/transformer.js";
import { spliceEval } from "../../src/ablation/splice-eval.js";
import { splice } from "../../src/ablation/edits.js";
import { identityDictionary, logSoftmax } from "./fixtures.js";

const DOCS = [
  [0, 4, 2, 7, 3, 5, 9],
  [0, 2, 2, 8, 1],
  [0, 3, 9, 4, 4, 2, 8],
];

function model(): Transformer {
  const m = Transformer.init({ d_model: 8, n_layers: 2, n_heads: 2, d_vocab: 10, n_ctx: 8 }, { seed: 31 });
  const big = Object.fromEntries(Object.entries(m.params).map(([k, t]) => [k, k.includes("ln_") ? t : tf.mul(t, 10)]));
  return new Transformer(m.cfg, big);
}

/** Mean CE over positions ≥ 1 with a next token, and mean KL(clean ‖ ·) over positions ≥ 1, by hand. */
function byHand(clean: number[][][], other: number[][][]) {
  let ce = 0, nce = 0, kl = 0, nkl = 0;
  DOCS.forEach((doc, b) => {
    for (let t = 1; t < doc.length; t++) {
      const lo = logSoftmax(other[b][t]), lc = logSoftmax(clean[b][t]);
      kl += lc.reduce((s, v, i) => s + Math.exp(v) * (v - lo[i]), 0);
      nkl++;
      if (t + 1 < doc.length) {
        ce -= lo[doc[t + 1]];
        nce++;
      }
    }
  });
  return { ce: ce / nce, kl: kl / nkl };
}

test("spliceEval: an exact dictionary scores 1 with L2 ratio 1; a lossy one matches SAELens' formulas by hand", async () => {
  await ready();
  const m = model();
  const hook = "blocks.0.hook_resid_post";
  const exact = await spliceEval(m, identityDictionary(8), { hook, input: DOCS, batchSize: 2 });
  assert.ok(Math.abs(exact.ceScore - 1) < 1e-4, `CE score ${exact.ceScore}`);
  assert.ok(Math.abs(exact.klSpliced) < 1e-5 && Math.abs(exact.klScore - 1) < 1e-4);
  assert.ok(Math.abs(exact.l2Ratio - 1) < 1e-5);
  assert.equal(exact.tokens, 6 + 4 + 6); // position 0 ignored

  const lossy = identityDictionary(8, { dropDims: [1, 6], scaleDecoder: 0.8 });
  const ev = await spliceEval(m, lossy, { hook, input: DOCS });
  const clean = (await m.run(DOCS)).logits!.arraySync() as number[][][];
  const spliced = (await m.run(DOCS, { hooks: { [hook]: splice(lossy, { skipPositions: [0] }) } })).logits!.arraySync() as number[][][];
  const zero = (await m.run(DOCS, { hooks: { [hook]: (x) => tf.zerosLike(x) } })).logits!.arraySync() as number[][][];
  const c = byHand(clean, clean), s = byHand(clean, spliced), z = byHand(clean, zero);
  assert.ok(Math.abs(ev.ceClean - c.ce) < 1e-5 && Math.abs(ev.ceSpliced - s.ce) < 1e-5 && Math.abs(ev.ceZeroAblation - z.ce) < 1e-5);
  assert.ok(Math.abs(ev.ceScore - (z.ce - s.ce) / (z.ce - c.ce)) < 1e-4);
  assert.ok(Math.abs(ev.klScore - (z.kl - s.kl) / z.kl) < 1e-4);
  assert.ok(ev.ceScore < 0.999 && ev.ceScore > -1, `a lossy dictionary recovers part of the loss: ${ev.ceScore}`);
  // L2 ratio by hand: ‖x̂‖/‖x‖ with dims 1 and 6 dropped and the rest scaled by 0.8.
  const acts = (await m.run(DOCS, { cache: [hook] })).cache.get(hook).filter((d: any) => d.position > 0);
  let ratio = 0;
  for (let r = 0; r < acts.numRows; r++) {
    const x = acts.row(r);
    const nx = Math.hypot(...x);
    const nxhat = 0.8 * Math.hypot(...Array.from(x).filter((_, j) => j !== 1 && j !== 6));
    ratio += nxhat / nx;
  }
  assert.ok(Math.abs(ev.l2Ratio - ratio / acts.numRows) < 1e-5);
  assert.equal(ev.toRecord().hook, hook);
  await assert.rejects(spliceEval(m, lossy, { hook: "blocks.0.mlp.hook_post", input: DOCS }), /reads vectors of dim 8, but 'blocks\.0\.mlp\.hook_post' has shape \[3,7,32\] \(last axis 32\)/);
  await assert.rejects(spliceEval(m, lossy, { hook: "blocks.5.hook_resid_post", input: DOCS }), /no hook point/);
  m.dispose();
});
