// The QK dictionary's displays: summary and mask tables, the pair heatmap whose cells show their
// pair's examples on hover and click (cards embedded in the page), and token text escaped everywhere.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { Transformer } from "../../src/models/transformer.js";
import { WordLevelTokenizer } from "../../src/models/tokenizer.js";
import { qkDictionary, type QkDictionary } from "../../src/circuits/qk/dictionary.js";
import { qkPairsPlot } from "../../src/display/plots/circuits/qk-plot.js";
import { represent } from "../../src/display/core/represent.js";
import { CEILING, CHROMIUM } from "../browser.js";
import { OUT, hoverFirst, open, writePage } from "./widget-page.js";

const WORDS = ["<bos>", "<b>", "&", "x\"y", "cat", "dog", "sat", "ran", "</script>", "on", "mat", "'q'"];
let qk: QkDictionary;

before(async () => {
  await ready();
  const tokenizer = new WordLevelTokenizer(WORDS, { bos: "<bos>" });
  const m = Transformer.init({ d_model: 16, n_layers: 2, n_heads: 2, d_vocab: WORDS.length, n_ctx: 10 }, { seed: 1, tokenizer });
  const model = new Transformer(m.cfg, Object.fromEntries(Object.entries(m.params).map(([k, t]) => [k, k.includes("ln_") ? t : tf.mul(t, k.includes("c_attn") ? 30 : 6)])), { tokenizer });
  const rng = new Rng(3);
  const docs = Array.from({ length: 16 }, () => [0, ...Array.from({ length: 9 }, () => 1 + rng.int(WORDS.length - 1))]);
  qk = await qkDictionary(model, docs, { layer: 1, width: 12, sparsity: 0.01, steps: 40, batchSize: 8, lr: 1e-2, seed: 0 });
});

test("fl.show(qk) and fl.show(mask): tables of the KL terms, L0, dead features, per-head KL; a training curve", async () => {
  const b = represent(qk);
  const html = String(b["text/html"]);
  assert.match(html, /KL\(A‖Â\(q̂,k̂\)\)/);
  assert.match(html, /pattern KL explained/);
  assert.match(html, /L0 of f_Q \/ f_K/);
  assert.match(html, /per head/);
  assert.ok(b["application/vnd.plotly.v1+json"], "the training curves");
  assert.match(String(b["text/plain"]), /^QK dictionary: .*layer 1, 12 query \+ 12 key features/);
  const mask = await qk.mask({ sparsity: 0.003, steps: 20, lr: 0.02 });
  const mb = represent(mask);
  assert.match(String(mb["text/html"]), /surviving pairs \(m &gt; 0\)/);
  assert.match(String(mb["text/plain"]), new RegExp(`${mask.surviving} of ${2 * 12 * 12}`));
});

test("pairs: token text is escaped in the table, the cards and the heatmap labels", () => {
  const pairs = qk.pairs(0, { n: 6, examples: 3 });
  const b = represent(pairs);
  const html = String(b["text/html"]);
  assert.ok(html.includes("&lt;b&gt;") || html.includes("&lt;/script&gt;"), "token markup shows as text");
  // No raw token markup anywhere outside the plotly/script JSON (which jsonForScript escapes).
  const outsideScripts = html.replace(/<script>[\s\S]*?<\/script>/g, "");
  for (const raw of ["<b><", "</script><", "x\"y"]) assert.ok(!outsideScripts.includes(`>${raw}`), `raw ${raw}`);
  assert.ok(!/<\/script>(?!<)/.test(html.replace(/<\/script>/g, "")), "no stray </script>");
  const fig = qkPairsPlot(pairs);
  for (const card of Object.values(fig.cards!)) {
    assert.ok(!card.includes("<b><") && !card.includes(">&<") && !card.includes(">x\"y<"), "card text escaped");
  }
  const labels = [...(fig.data[0].x as string[]), ...(fig.data[0].y as string[])].join(" ");
  assert.ok(!labels.includes("<b>") && !labels.includes("</script>"), `plotly labels escaped: ${labels}`);
  assert.equal(Object.keys(fig.cards!).length, pairs.queryFeatures.length * pairs.keyFeatures.length, "a card per heatmap cell");
});

test("the pair heatmap in chromium: hovering a cell shows its card beside the plot, no errors, no network", { skip: !existsSync(CHROMIUM), timeout: 300_000 }, async () => {
  const pairs = qk.pairs(0, { n: 6, examples: 3 });
  const path = writePage("qk-pairs", [represent(pairs)]);
  const { browser, page, errors, requests, dialogs } = await open(path, { width: 1200, height: 900 });
  try {
    const label = await hoverFirst(page, 0);
    assert.match(label, /Q\d+ · .* × K\d+ · after/, `hover label: ${label}`);
    const side = page.locator(".featurelab-side").first();
    await page.waitForFunction(() => !!document.querySelector(".featurelab-side .fl-qk-pair"), undefined, { timeout: CEILING });
    assert.match((await side.textContent()) ?? "", /Q\d+ × K\d+/);
    assert.ok((await page.locator("details .fl-qk-pair").count()) === pairs.pairs.length, "every pair's card under the table");
    await page.screenshot({ path: join(OUT, "qk-pairs.png"), fullPage: true });
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
    assert.deepEqual(dialogs, []);
  } finally {
    await browser.close();
  }
});
