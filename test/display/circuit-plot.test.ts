import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ready, tf } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";
import { architecture } from "../../src/dictionaries/registry.js";
import { Dictionary } from "../../src/dictionaries/dictionary.js";
import { transcoderCircuit } from "../../src/circuits/transcoders/circuit.js";
import { circuitGraph, contributionsPlot } from "../../src/display/plots/circuits/circuit-plot.js";
import { represent } from "../../src/display/core/represent.js";
import { CEILING, CHROMIUM } from "../browser.js";
import { DOCS, D_MODEL, scaledTransformer } from "../circuits/fixtures.js";
import { OUT, open, writePage } from "./widget-page.js";

function transcoder(seed: number, width: number): Dictionary {
  const rng = new Rng(seed);
  const t = (shape: number[], s: number) => tf.tensor(rng.normals(shape.reduce((a, b) => a * b, 1)).map((v) => v * s), shape);
  const params = { W_enc: t([D_MODEL, width], 0.6), W_dec: t([width, D_MODEL], 0.5), b_enc: t([width], 0.3), b_dec: t([D_MODEL], 0.2), b_dec_out: t([D_MODEL], 0.2) };
  return new Dictionary(architecture("transcoder"), { architecture: "transcoder", d_in: D_MODEL, d_sae: width, d_out: D_MODEL }, params);
}

async function circuit() {
  await ready();
  return transcoderCircuit(scaledTransformer(2), { 0: transcoder(1, 6), 1: transcoder(2, 5) }, DOCS, { prependBos: false, edgesPerTarget: 3 });
}

test("the graph: one node per feature in the drawn edges, each with a card; edge widths follow |attribution|; the bars add up", async () => {
  const c = await circuit();
  const fig = circuitGraph(c, { maxEdges: 6 });
  const nodes = fig.data.find((d) => d.name === "features")!;
  const names = (nodes.customdata as unknown[][]).map((d) => d[0] as string);
  const want = new Set(c.top(6).flatMap((e) => [`L${e.sourceLayer} F${e.source}`, `L${e.targetLayer} F${e.target}`]));
  assert.deepEqual(new Set(names), want);
  assert.deepEqual(new Set(Object.keys(fig.cards!)), want, "a card per node");
  const edgeKeys = (fig.data.find((d) => d.name === "edges")!.customdata as unknown[][]).map((d) => d[0] as string);
  assert.ok(edgeKeys.every((k) => k.includes("→") && fig.cards![k] === undefined), "edges have no card");
  const widths = fig.data.filter((d) => d.mode === "lines").map((d) => (d.line as { width: number }).width);
  const sizes = c.top(6).map((e) => Math.abs(e.meanWhenActive));
  for (let i = 1; i < widths.length; i++) assert.equal(Math.sign(widths[i - 1] - widths[i]) >= 0, sizes[i - 1] >= sizes[i]);
  // A card shows the feature's strongest token first (the tokens of this model are ids).
  const f = c.feature(c.top(1)[0].sourceLayer === 0 ? { layer: 0, feature: c.top(1)[0].source } : { layer: 1, feature: c.top(1)[0].target })!;
  assert.ok(fig.cards![`L${f.layer} F${f.feature}`].includes(`>${f.topTokens[0]}<`));
  assert.equal(circuitGraph(c, { cards: false }).cards, undefined);
  const explained = await c.explain({ layer: 1, feature: c.top(1)[0].target }, { document: 0, position: 3 });
  const bars = contributionsPlot(explained, { top: 5 }).data[0];
  const total = (bars.x as number[]).reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(total - explained.total) < 1e-9, "shown bars + 'other terms' = the total");
});

test("the graph in chromium: hovering a feature shows its card, no errors, no network", { skip: !existsSync(CHROMIUM), timeout: 300_000 }, async () => {
  const c = await circuit();
  const path = writePage("transcoder-circuit", [represent(c)]);
  const { browser, page, errors, requests, dialogs } = await open(path, { width: 1300, height: 900 });
  try {
    const fig = page.locator(".featurelab-figure").first();
    await fig.scrollIntoViewIfNeeded();
    const node = fig.locator(".scatterlayer .trace").last().locator(".point").first();
    const box = (await node.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => !!document.querySelector(".featurelab-side .featurelab-feature-card"), undefined, { timeout: CEILING });
    const text = (await page.locator(".featurelab-side").first().textContent()) ?? "";
    assert.match(text, /L\d F\d+ \(layer \d MLP transcoder\).*top activations/s);
    await page.screenshot({ path: join(OUT, "transcoder-circuit.png"), fullPage: true });
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
    assert.deepEqual(dialogs, []);
  } finally {
    await browser.close();
  }
});
