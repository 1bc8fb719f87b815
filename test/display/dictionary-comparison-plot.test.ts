import { test } from "node:test";
import assert from "node:assert/strict";
import { ready, tf } from "../../src/engine/backend.js";
import { architecture } from "../../src/dictionaries/registry.js";
import { Dictionary, type TrainingRecord } from "../../src/dictionaries/dictionary.js";
import { DictionaryComparison, type ComparisonRow } from "../../src/circuits/e2e/dictionary-comparison.js";
import type { E2ETrainingRecord } from "../../src/circuits/e2e/sae.js";
import { comparisonBundle, comparisonPlot, e2eTrainingPlot } from "../../src/display/plots/features/dictionary-comparison-plot.js";
import { represent } from "../../src/display/core/represent.js";

const EVIL = `<img src=x onerror=alert(1)>`;

function row(name: string, method: string, l0: number, ceDelta: number): ComparisonRow {
  return { name, method, l1: 1, width: 16, l0, alive: 12, ceDelta, ceClean: 1, ceSpliced: 1 + ceDelta, ceScore: 0.9, kl: ceDelta, l2Ratio: 0.8 };
}

test("the comparison draws ΔCE against L0 and alive features, one line per method, names escaped", () => {
  const cmp = new DictionaryComparison("blocks.0.hook_resid_post", [row("a", "local", 30, 0.1), row(EVIL, "local", 10, 0.3), row("c", "e2e", 20, 0.05), row("d", EVIL, 5, 0.2)], 100);
  const fig = comparisonPlot(cmp);
  assert.equal(fig.data.length, 6); // two panels × three methods
  const local = fig.data.filter((t) => t.name === "local");
  assert.deepEqual(local.map((t) => t.xaxis), ["x", "x2"]);
  assert.deepEqual(local[0].x, [10, 30]); // sorted by L0
  assert.deepEqual(local[0].y, [0.3, 0.1]);
  assert.equal((fig.layout.yaxis as { type?: string }).type, "log");
  const bundle = comparisonBundle(cmp);
  assert.ok(bundle["application/vnd.plotly.v1+json"]);
  const html = String(bundle["text/html"]);
  assert.ok(!html.includes(EVIL), "no unescaped tag in the HTML");
  assert.ok(html.includes("&lt;img src=x onerror=alert(1)&gt;"));
  assert.ok(String(bundle["text/plain"]).includes("4 dictionaries at blocks.0.hook_resid_post"));
  // fl.show finds it.
  assert.equal(represent(cmp)["text/plain"], bundle["text/plain"]);
  // A ΔCE ≤ 0 (a dictionary that helps) keeps a linear axis.
  const lin = comparisonPlot(new DictionaryComparison("h", [row("a", "local", 3, -0.01), row("b", "local", 6, 0.2)], 1));
  assert.equal((lin.layout.yaxis as { type?: string }).type, undefined);
});

test("the training plot draws every end-to-end term of each run and refuses dictionaries without them", async () => {
  await ready();
  const params = { W_enc: tf.zeros([4, 8]), W_dec: tf.zeros([8, 4]), b_enc: tf.zeros([8]), b_dec: tf.zeros([4]) };
  const base: TrainingRecord = { step: 1, tokens: 10, loss: 1, mse: 0.5, sparsity: 2, l0: 3, fvu: 0.4, deadFraction: 0, lr: 1e-3, l1: 1 };
  const e2eHistory: E2ETrainingRecord[] = [1, 2, 3].map((s) => ({ ...base, step: s, kl: 1 / s, downstreamMse: 2 / s }));
  const make = (history: TrainingRecord[]) => new Dictionary(architecture("relu"), { architecture: "relu", d_in: 4, d_sae: 8 }, params, history);
  const fig = e2eTrainingPlot({ [EVIL]: make(e2eHistory), b: make(e2eHistory) });
  assert.equal(fig.data.length, 8); // 4 panels × 2 runs
  assert.deepEqual(fig.data[0].y, [1, 1 / 2, 1 / 3]);
  assert.ok(!JSON.stringify(fig).includes(EVIL));
  assert.throws(() => e2eTrainingPlot({ plain: make([base]) }), /'plain' has no end-to-end training record/);
  assert.throws(() => e2eTrainingPlot({}), /at least one dictionary/);
});
