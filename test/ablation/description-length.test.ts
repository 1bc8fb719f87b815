import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { dictionary } from "../../src/training/spec.js";
import { Transformer } from "../../src/models/transformer.js";
import { spliceEval } from "../../src/ablation/splice-eval.js";
import { descriptionLength, descriptionLengthSweep } from "../../src/ablation/description-length.js";
import { InputError } from "../../src/io/errors.js";
import type { Dictionary } from "../../src/dictionaries/dictionary.js";
import { identityDictionary } from "./fixtures.js";

// 32 true features in 16 dims, ~3 active per token: the true width is 32.
const toy = sharkeyToyData({ rows: 8192, features: 32, dim: 16, avgActive: 3, decay: 1, seed: 0 });
const FIT = { steps: 1500, batchSize: 256, lr: 3e-3, seed: 0, progress: false } as const;

/** FVU of the reconstruction from codes quantised to bin midpoints, computed here from the definition. */
function fvuAt(sae: Dictionary, step: number): number {
  const x = tf.tensor2d(toy.acts.vectors, [toy.acts.numRows, toy.acts.dim]);
  const f = sae.encodeTensor(x);
  const q = (f.dataSync() as Float32Array).map((v) => (v === 0 ? 0 : (Math.floor(v / step) + 0.5) * step));
  const xhat = sae.decodeTensor(tf.tensor2d(q, f.shape));
  const err = tf.sum(tf.square(tf.sub(x, xhat))).dataSync()[0];
  const centred = tf.sum(tf.square(tf.sub(x, tf.mean(x, 0)))).dataSync()[0];
  return err / centred;
}

test("the grid is the coarsest that keeps the FVU within the tolerance of the unquantised code's", async () => {
  await ready();
  const sae = await dictionary("topk", { width: 32, k: 4 }).fit(toy.acts, FIT);
  for (const tolerance of [0.005, 0.03]) {
    const dl = await descriptionLength(sae, toy.acts, { tolerance });
    assert.ok(dl.loss <= dl.lossUnquantized + tolerance, `FVU ${dl.loss} vs ${dl.lossUnquantized} + ${tolerance}`);
    assert.ok(Math.abs(dl.loss - fvuAt(sae, dl.step)) < 1e-4, `reported FVU ${dl.loss}, by hand ${fvuAt(sae, dl.step)}`);
    assert.ok(fvuAt(sae, dl.step * 2 ** (1 / 16)) > dl.lossUnquantized + tolerance, "a grid one refinement coarser breaks the tolerance");
    assert.ok(Math.abs(dl.l0 - (sae.metrics(toy.acts) as { l0: number }).l0) < 1e-9);
    assert.ok(Math.abs(dl.bitsPerToken - dl.features.reduce((s, f) => s + f.bits, 0)) < 1e-9);
    assert.ok(dl.bitsPerToken < dl.upperBound, "entropy coding beats sending index + value per active feature");
  }
  const loose = await descriptionLength(sae, toy.acts, { tolerance: 0.03 });
  const tight = await descriptionLength(sae, toy.acts, { tolerance: 0.005 });
  assert.ok(tight.step < loose.step && tight.magnitudeBits > loose.magnitudeBits && tight.firingBits === loose.firingBits);
  const fixed = await descriptionLength(sae, toy.acts, { step: loose.step });
  assert.equal(fixed.bitsPerToken, loose.bitsPerToken);
  const missed = await descriptionLength(sae, toy.acts, { target: 1e-6 });
  assert.equal(missed.meetsTarget, false);
});

test("with a model, the grid keeps the spliced-in CE within the tolerance", async () => {
  await ready();
  const m = Transformer.init({ d_model: 8, n_layers: 2, n_heads: 2, d_vocab: 10, n_ctx: 8 }, { seed: 31 });
  const docs = [[0, 4, 2, 7, 3, 5, 9], [0, 2, 2, 8, 1], [0, 3, 9, 4, 4, 2, 8]];
  const hook = "blocks.0.hook_resid_post";
  const dict = identityDictionary(8);
  const acts = fromVectors(Float32Array.from({ length: 64 * 8 }, (_, i) => Math.sin(i * 1.3)), 8);
  const dl = await descriptionLength(dict, acts, { model: m, hook, input: docs, tolerance: 0.01 });
  assert.equal(dl.lossName, "ce");
  const unq = await spliceEval(m, dict, { hook, input: docs });
  assert.ok(Math.abs(dl.lossUnquantized - unq.ceSpliced) < 1e-6);
  assert.ok(dl.loss <= dl.lossUnquantized + 0.01 && Number.isFinite(dl.step) && dl.step > 0);
});

test("on toy data with 32 true features, description length at matched FVU is least near width 32 (the U)", async () => {
  await ready();
  const dicts: Record<string, Dictionary> = {};
  for (const w of [16, 32, 64, 128]) dicts[`relu w${w}`] = await dictionary("relu", { width: w, l1: 0.1 }).fit(toy.acts, FIT);
  for (const w of [16, 32, 64, 256]) dicts[`topk w${w}`] = await dictionary("topk", { width: w, k: 4 }).fit(toy.acts, FIT);
  dicts["dense w16"] = await dictionary("topk", { width: 16, k: 16 }).fit(toy.acts, FIT);
  const sweep = await descriptionLengthSweep(dicts, toy.acts, { target: 0.1 });
  const bits = Object.fromEntries(sweep.rows.map((r) => [r.name, r.meetsTarget ? r.bitsPerToken : Infinity]));
  const msg = JSON.stringify(sweep.table().map((r) => [r.name, Number(r.bitsPerToken).toFixed(2), Number(r.fvu).toFixed(3), r.meetsTarget]));
  // ReLU + L1: too narrow misses the target; too wide splits features and pays firing entropy.
  assert.equal(bits["relu w16"], Infinity, msg);
  assert.ok(bits["relu w32"] + 5 < bits["relu w64"] && bits["relu w64"] < bits["relu w128"], msg);
  // TopK k=4: too narrow misses the target, the dense basis pays for 16 magnitudes, too wide pays firing entropy.
  assert.equal(bits["topk w16"], Infinity, msg);
  const least = Math.min(bits["topk w32"], bits["topk w64"]);
  assert.ok(bits["dense w16"] > least + 3 && bits["topk w256"] > least + 0.5, msg);
  assert.ok(["relu w32", "topk w32", "topk w64"].includes(sweep.best!.name), msg);
});

test("bad input is refused with the option or shape named", async () => {
  await ready();
  const dict = identityDictionary(8);
  await assert.rejects(descriptionLength(dict, toy.acts), (e: Error) => e instanceof InputError && /dim 16.*dim 8/.test(e.message));
  const acts = fromVectors(new Float32Array(8 * 4), 8);
  await assert.rejects(descriptionLength(dict, acts, { tolerance: -1 }), (e: Error) => e instanceof InputError && /'tolerance'/.test(e.message));
  await assert.rejects(descriptionLength(dict, acts, { step: 0.1, target: 0.1 }), /'step' fixes the grid/);
  await assert.rejects(descriptionLength(dict, acts, { hook: "blocks.0.hook_resid_post" }), /'hook' is read only with option 'model'/);
  await assert.rejects(descriptionLength(dict, acts, { tolerence: 0.1 } as object), /unknown option 'tolerence' — did you mean 'tolerance'/);
  await assert.rejects(descriptionLengthSweep({}, acts), /non-empty record of dictionaries/);
  const empty = await descriptionLength(dict, acts);
  assert.equal(empty.bitsPerToken, 0);
});
