import { test } from "node:test";
import assert from "node:assert/strict";
import { ready } from "../../src/engine/backend.js";
import { Transformer } from "../../src/models/transformer.js";
import { WordLevelTokenizer } from "../../src/models/tokenizer.js";
import { ablate } from "../../src/ablation/sweep.js";
import { spliceEval } from "../../src/ablation/splice-eval.js";
import { represent } from "../../src/display/core/represent.js";
import { ablationPlot } from "../../src/display/plots/ablation/ablation-plot.js";
import { ablationHeatmap } from "../../src/display/plots/ablation/ablation-heatmap.js";
import { identityDictionary } from "../ablation/fixtures.js";

const DOCS = [
  [0, 1, 2, 3, 4],
  [0, 4, 3],
  [0, 2, 2, 1, 1, 3],
];

test("a sweep shows as a table, a bar chart per unit and a units × positions heatmap", async () => {
  await ready();
  const model = Transformer.init({ d_model: 8, n_layers: 2, n_heads: 2, d_vocab: 5, n_ctx: 8 }, { seed: 8 });
  const sweep = await ablate(model, "heads", { input: DOCS, metric: ["ce", "kl"] });
  const table = represent(sweep);
  assert.match(String(table["text/html"]), /<table class="featurelab-table"/);
  assert.match(String(table["text/plain"]), /zero-ablation of 4 attention heads over 3 documents/);
  assert.match(String(table["text/plain"]), /L1H1\s+blocks\.1\.attn\.hook_z\s+1\s+kl/);

  const bars = ablationPlot(sweep, { metric: "kl" });
  const trace = bars.data[0] as any;
  assert.deepEqual(trace.x, ["L0H0", "L0H1", "L1H0", "L1H1"]);
  assert.deepEqual(trace.y, sweep.rows.filter((r) => r.metric === "kl").map((r) => r.delta));
  assert.match(bars.title, /Zero-ablation of attention heads: change in KL/);
  const top = ablationPlot(sweep, { top: 2 }).data[0] as any;
  assert.deepEqual(top.x, sweep.ranked("ce").slice(0, 2).map((r) => r.unit));
  assert.ok(ablationPlot(sweep).toMimeBundle()["application/vnd.plotly.v1+json"]);

  const heat = ablationHeatmap(sweep, { metric: "ce" });
  const h = heat.data[0] as any;
  assert.equal(h.type, "heatmap");
  assert.deepEqual(h.y, ["L0H0", "L0H1", "L1H0", "L1H1"]);
  assert.equal(h.z.length, 4);
  assert.equal(h.z[0].length, 6);
  assert.equal(h.z[0][5], null, "no document predicts from its last position: no value");
  assert.throws(() => ablationHeatmap(sweep, { metric: "logit_diff" }), /measured ce, kl, not logit_diff/);
  model.dispose();
});

test("transformers, caches and spliced evaluations have their own displays; token text is escaped", async () => {
  await ready();
  const tokenizer = new WordLevelTokenizer(["<bos>", "<b>x</b>", "y", "z", "w"], { bos: "<bos>" });
  const model = Transformer.init({ d_model: 8, n_layers: 1, n_heads: 2, d_vocab: 5, n_ctx: 8 }, { seed: 9, tokenizer });
  const card = represent(model);
  assert.match(String(card["text/html"]), /Transformer/);
  assert.match(String(card["text/plain"]), /blocks\.\{l\}\.attn\.hook_z/);
  const { cache } = await model.run(["<b>x</b> y"], { cache: ["blocks.0.hook_resid_post", "blocks.0.attn.hook_z"] });
  const c = represent(cache);
  assert.match(String(c["text/plain"]), /blocks\.0\.attn\.hook_z\s+\[1, 3, 2, 4\]\s+3/);
  const acts = represent(cache.get("blocks.0.hook_resid_post"));
  assert.ok(String(acts["text/html"]).includes("&lt;b&gt;x&lt;/b&gt;") && !String(acts["text/html"]).includes("<b>x</b>"));
  const ev = await spliceEval(model, identityDictionary(8), { hook: "blocks.0.hook_resid_post", input: DOCS.map((d) => d.map((t) => t % 5)) });
  const e = represent(ev);
  assert.match(String(e["text/plain"]), /CE loss score\s+1\s+\(CE_zero − CE_spliced\)/);
  assert.match(String(e["text/plain"]), /L2 ratio\s+1\s/);
  model.dispose();
});
