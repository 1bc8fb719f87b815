// Every widget renders in headless chromium, hover and click do what they should, and nothing logs
// an error. Screenshots stay under out/widgets/ (gitignored) as test artifacts.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ready } from "../../src/engine/backend.js";
import { Transformer } from "../../src/models/transformer.js";
import { WordLevelTokenizer } from "../../src/models/tokenizer.js";
import type { ActivationSet } from "../../src/data/activation-set.js";
import { ablate } from "../../src/ablation/sweep.js";
import { RDM } from "../../src/geometry/rdm.js";
import { geometryPlot } from "../../src/display/plots/features/geometry-plot.js";
import { dashboard } from "../../src/display/plots/features/feature-dashboard.js";
import { rdmPlot } from "../../src/display/plots/geometry/rdm-plot.js";
import { embeddingPlot } from "../../src/display/plots/features/embedding-plot.js";
import { ablationPlot } from "../../src/display/plots/ablation/ablation-plot.js";
import { ablationHeatmap } from "../../src/display/plots/ablation/ablation-heatmap.js";
import { frontierPlot } from "../../src/display/plots/features/frontier-plot.js";
import { represent } from "../../src/display/core/represent.js";
import { CEILING, CHROMIUM } from "../browser.js";
import "../../src/index.js"; // attaches dict.dashboard
import { identityDictionary } from "../ablation/fixtures.js";
import { OUT, clickPoint, hoverFirst, open, writePage } from "./widget-page.js";

const skip = !existsSync(CHROMIUM);
const WORDS = ["<bos>", "the", "cat", "sat", "on", "mat", "a", "dog", "ran", "to", "park", "&", "<b>"];
const TEXTS = ["the cat sat on the mat", "a dog ran to the park", "the dog sat & the cat ran", "<b> cat on a mat", "a cat ran to a dog"];
let model: Transformer, acts: ActivationSet;

before(async () => {
  await ready();
  const tokenizer = new WordLevelTokenizer(WORDS, { bos: "<bos>" });
  model = Transformer.init({ d_model: 8, n_layers: 1, n_heads: 2, d_vocab: WORDS.length, n_ctx: 12 }, { seed: 3, tokenizer });
  const { cache } = await model.run(TEXTS, { cache: ["blocks.0.hook_resid_post"] });
  acts = cache.get("blocks.0.hook_resid_post");
});

test("a feature dashboard: histogram, top examples shaded with context, quantiles, logits, nearest features", { skip, timeout: 300_000 }, async () => {
  const dict = identityDictionary(8);
  const d = dashboard(dict, acts, 2, { model, context: 3, examples: 6 });
  const html = d.toMimeBundle()["text/html"] as string;
  assert.match(html, /activation density/);
  assert.match(html, /positive logits/);
  assert.match(html, /nearest features \(decoder cosine\)/);
  assert.match(String(d.toMimeBundle()["text/plain"]), /^Feature 2: density [\d.]+%; top row \d+/);
  assert.equal(dict.dashboard(acts, 2, { context: 3, examples: 6 }).html.replace(/fl-[\w-]+-\d+/g, ""), dashboard(dict, acts, 2, { context: 3, examples: 6 }).html.replace(/fl-[\w-]+-\d+/g, ""), "dict.dashboard is fl.dashboard");
  for (const dark of [false, true]) {
    const path = writePage(`dashboard-${dark ? "dark" : "light"}`, [d.toMimeBundle()], { dark });
    const { browser, page, dialogs, errors, requests } = await open(path, { width: 1200, height: 800 });
    try {
      const panel = page.locator(".featurelab-dashboard .fl-examples").first();
      const rows = panel.locator("tr");
      assert.equal(await rows.count(), 6, "six top examples");
      for (let r = 0; r < 6; r++) {
        assert.equal(await rows.nth(r).locator(".fl-tok[style*='border-bottom']").count(), 1, "each example marks its own token");
        assert.ok((await rows.nth(r).locator(".fl-tok").count()) >= 2, "…with context around it");
      }
      const first = await rows.first().locator(".fl-tok[style*='border-bottom']").getAttribute("style");
      assert.match(first!, /background:rgba\(255,140,0,0\.85\)/, "the strongest token is shaded most");
      const text = (await page.locator(".featurelab-dashboard").textContent())!;
      assert.ok(WORDS.slice(1).some((w) => text.includes(w)), "logit and example tokens are words of the vocabulary");

      assert.equal(await page.locator(".fl-tok *, .fl-list td b").count(), 0, "no token became markup");
      // Text colour follows the page: readable on dark as on light.
      const colour = await page.locator(".featurelab-dashboard").evaluate((el) => getComputedStyle(el).color);
      assert.equal(colour, dark ? "rgb(221, 221, 221)" : "rgb(34, 34, 34)");
      await page.locator(".featurelab-dashboard .fl-histogram rect").first().hover();
      assert.deepEqual([dialogs, errors, requests], [[], [], []]);
      await page.screenshot({ path: join(OUT, `dashboard-${dark ? "dark" : "light"}.png`), fullPage: true });
    } finally {
      await browser.close();
    }
  }
});

test("the decoder-geometry scatter: hover previews a feature's card, click pins it", { skip, timeout: 300_000 }, async () => {
  const dict = identityDictionary(8);
  const fig = geometryPlot(dict, { acts });
  assert.equal(Object.keys(fig.cards!).length, 16, "a card per feature, embedded");
  const path = writePage("geometry-cards", [fig.toMimeBundle()]);
  const { browser, page, dialogs, errors } = await open(path);
  try {
    const plot = page.locator(".featurelab-linked .featurelab-figure");
    const side = page.locator(".featurelab-side");
    assert.match((await side.textContent())!, /Click a point|Hover over a point/);
    const label = await hoverFirst(page, 0);
    assert.match(label, /feature \d+/);
    const hovered = label.match(/feature (\d+)/)![1];
    assert.equal(await side.getAttribute("data-feature"), hovered, "hover previews the card of the feature under the mouse");
    await clickPoint(page, plot, 3);
    await side.and(page.locator("[data-pinned]")).waitFor({ timeout: CEILING });
    const pinned = await side.getAttribute("data-feature");
    assert.ok(pinned !== null);
    assert.match((await side.locator(".featurelab-feature-card").textContent())!, new RegExp(`feature ${pinned}.*activation density.*top activations.*nearest features`, "s"));
    // Once pinned, hovering elsewhere leaves the card.
    await hoverFirst(page, 0);
    assert.equal(await side.getAttribute("data-feature"), pinned);
    assert.deepEqual([dialogs, errors], [[], []]);
    await page.screenshot({ path: join(OUT, "geometry-cards.png"), fullPage: true });
  } finally {
    await browser.close();
  }
});

test("every figure draws and answers a hover, with no console error", { skip, timeout: 300_000 }, async () => {
  const sweep = await ablate(model, "heads", { input: TEXTS, metric: ["ce", "kl"] });
  const bundles = [
    geometryPlot(identityDictionary(8), { acts, cards: false }).toMimeBundle(),
    rdmPlot(new RDM([1, 2, 3, 4, 5, 6], { labels: ["a", "b", "c", "d"], name: "r" })).toMimeBundle(),
    embeddingPlot({ coords: Float64Array.of(0, 0, 1, 1, 2, 0), k: 2, method: "MDS", labels: ["x", "y", "z"] }, { color: ["p", "q", "p"] }).toMimeBundle(),
    ablationPlot(sweep).toMimeBundle(),
    ablationHeatmap(sweep).toMimeBundle(),
    frontierPlot([{ name: "topk", l0: 4, fvu: 0.3 }, { name: "topk", l0: 8, fvu: 0.2 }]).toMimeBundle(),
    represent(acts),
  ];
  const path = writePage("figures", bundles);
  const { browser, page, dialogs, errors, requests } = await open(path);
  try {
    const n = await page.locator(".featurelab-figure").count();
    assert.equal(n, 6);
    assert.equal(await page.locator(".featurelab-figure .main-svg").count() >= n, true, "every figure drew");
    for (let f = 0; f < n; f++) assert.ok((await hoverFirst(page, f)).trim().length > 0, `figure ${f} answers a hover`);
    assert.deepEqual([dialogs, errors, requests], [[], [], []]);
    await page.screenshot({ path: join(OUT, "figures.png"), fullPage: true });
  } finally {
    await browser.close();
  }
});
