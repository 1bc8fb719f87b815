// Text from data — a token, a label, a metadata value, a column name — shows as text in every
// featurelab display: no bundle carries an unescaped tag, and in chromium the page runs no script
// from it (no alert) while the reader sees the literal string.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { ready } from "../../src/engine/backend.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { Rng } from "../../src/engine/random.js";
import { RDM } from "../../src/geometry/rdm.js";
import { compareRdms } from "../../src/geometry/compare-rdms.js";
import { AblationSweep } from "../../src/ablation/sweep.js";
import { represent } from "../../src/display/core/represent.js";
import { TableView } from "../../src/display/core/table.js";
import { geometryPlot } from "../../src/display/plots/features/geometry-plot.js";
import { rdmPlot } from "../../src/display/plots/geometry/rdm-plot.js";
import { embeddingPlot } from "../../src/display/plots/features/embedding-plot.js";
import { ablationPlot } from "../../src/display/plots/ablation/ablation-plot.js";
import { ablationHeatmap } from "../../src/display/plots/ablation/ablation-heatmap.js";
import { frontierPlot } from "../../src/display/plots/features/frontier-plot.js";
import { similarityPlot } from "../../src/display/plots/geometry/cka-plot.js";
import { dashboard } from "../../src/display/plots/features/feature-dashboard.js";
import type { MimeBundle } from "../../src/display/core/bundle.js";
import { TranscoderCircuit } from "../../src/circuits/transcoders/circuit.js";
import { FeatureContributions } from "../../src/circuits/transcoders/feature-contributions.js";
import { CEILING, CHROMIUM } from "../browser.js";
import { identityDictionary } from "../ablation/fixtures.js";
import { clickPoint, hoverFirst, open, writePage } from "./widget-page.js";

const EVIL = `<img src=x onerror=alert(1)>`;
const LITERAL = "<img src=x onerror=alert(1)>";

/** Rows with document/position/token metadata (as a model cache gives), some tokens hostile. */
function tokenSet(d = 4, docs = 3, len = 8) {
  const rng = new Rng(1);
  const n = docs * len;
  const v = new Float32Array(n * d);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  const document = Int32Array.from({ length: n }, (_, i) => Math.floor(i / len));
  const position = Int32Array.from({ length: n }, (_, i) => i % len);
  const token = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? EVIL : ` tok${i}`));
  return fromVectors(v, d, { document, position, token, [EVIL]: token });
}

function allDisplays(): { name: string; bundle: MimeBundle }[] {
  const acts = tokenSet();
  const dict = identityDictionary(4);
  const units = [{ label: EVIL, hook: `blocks.0.${EVIL}`, index: 0 }, { label: "L0H1", hook: "blocks.0.attn.hook_z", index: 1 }];
  const rows = units.map((u, k) => ({ unit: u.label, hook: u.hook, index: u.index, metric: "ce" as const, clean: 1, ablated: 1.5 + k, delta: 0.5 + k }));
  const sweep = new AblationSweep("zero", `heads ${EVIL}`, units, ["ce"], rows as any, { ce: [Float64Array.of(0.1, 0.2), Float64Array.of(0.3, 0.4)] }, 2);
  const a = new RDM([1, 2, 3], { labels: [EVIL, "b", "c"], name: EVIL, dissimilarityMeasure: "correlation" });
  const b = new RDM([2, 1, 3], { labels: [EVIL, "b", "c"], name: "model" });
  // A circuit whose features fire on a hostile token (the activations as runTranscoders would give them).
  const tokens = [EVIL, "b", EVIL];
  const circuitActs = { rows: 3, tokenIds: Int32Array.of(0, 1, 0), tokens, document: Int32Array.of(0, 0, 0), position: Int32Array.of(0, 1, 2), documents: [[0, 1, 0]], features: new Map([[0, Float32Array.of(1, 0, 2, 0, 0, 1)], [1, Float32Array.of(1, 1, 0, 0, 3, 1)]]), inverseScale: new Map() };
  const circuit = new TranscoderCircuit({ name: EVIL } as any, [{ layer: 0, dictionary: dict }, { layer: 1, dictionary: dict }], circuitActs, "raw", [{ sourceLayer: 0, source: 0, targetLayer: 1, target: 1, meanWhenActive: 0.5, share: 0.2, mean: 0.1, virtualWeight: 1, targetFires: 2 }]);
  const contributions = new FeatureContributions({ layer: 1, feature: 0 }, 0, 2, EVIL, 1, 1, [{ component: EVIL, kind: "constant", layer: 1, index: null, activation: null, contribution: 1, raw: null }]);
  const emb = { coords: Float64Array.of(0, 0, 1, 1, 2, 0), k: 2, method: "MDS", labels: [EVIL, "b", "c"] };
  return [
    { name: "table", bundle: TableView.fromRecords([{ [EVIL]: EVIL, n: 1 }]).toMimeBundle() },
    { name: "activation set card", bundle: represent(acts) },
    { name: "record", bundle: represent({ [EVIL]: 1 }) },
    { name: "geometry plot (+ cards)", bundle: geometryPlot(dict, { acts, reference: [[1, 0, 0, 0]], referenceName: EVIL }).toMimeBundle() },
    { name: "RDM", bundle: rdmPlot(a).toMimeBundle() },
    { name: "RDM comparisons", bundle: represent(compareRdms([a], [b], "spearman")) },
    { name: "embedding", bundle: embeddingPlot(emb, { color: [EVIL, "x", EVIL], hover: { [EVIL]: [EVIL, "q", "r"] }, colorTitle: EVIL }).toMimeBundle() },
    { name: "ablation sweep table", bundle: represent(sweep) },
    { name: "ablation bars", bundle: ablationPlot(sweep).toMimeBundle() },
    { name: "ablation heatmap", bundle: ablationHeatmap(sweep).toMimeBundle() },
    { name: "frontier", bundle: frontierPlot([{ name: EVIL, l0: 1, fvu: 0.5, label: EVIL }, { name: EVIL, l0: 2, fvu: 0.3 }]).toMimeBundle() },
    { name: "similarity", bundle: similarityPlot({ labels: [EVIL, "b"], values: [[1, 0.5], [0.5, 1]], kind: "linear", debiased: false } as any).toMimeBundle() },
    { name: "feature dashboard", bundle: dashboard(dict, acts, 0, { context: 2 }).toMimeBundle() },
    { name: "transcoder circuit", bundle: represent(circuit) },
    { name: "feature contributions", bundle: represent(contributions) },
  ];
}

test("no display's bundle carries an unescaped tag from data", async () => {
  await ready();
  for (const { name, bundle } of allDisplays()) {
    for (const [mime, v] of Object.entries(bundle)) {
      if (mime === "text/plain") continue;
      const text = typeof v === "string" ? v : JSON.stringify(v);
      assert.ok(!/<img/i.test(text), `${name}: ${mime} has an unescaped <img`);
    }
  }
});

test("in chromium no display runs the data's script, and each shows the literal text", { skip: !existsSync(CHROMIUM), timeout: 300_000 }, async () => {
  await ready();
  const displays = allDisplays();
  const path = writePage("escaping", displays.map((d) => d.bundle));
  const { browser, page, dialogs, errors, requests } = await open(path);
  try {
    // Hover every figure; an output shows the string in its text (ticks, legend, cells) or its hover label.
    const hoversOf: string[][] = [];
    let f = 0;
    for (let i = 0; i < displays.length; i++) {
      const n = await page.locator(".output").nth(i).locator(".featurelab-figure").count();
      const hs: string[] = [];
      for (let j = 0; j < n; j++) hs.push(await hoverFirst(page, f++));
      hoversOf.push(hs);
    }
    const hovers = hoversOf.flat();
    // The geometry plot's card: click the first point; the card's example tokens show the literal string.
    const geo = page.locator(".featurelab-linked .featurelab-figure").first();
    await clickPoint(page, geo);
    await page.locator(".featurelab-side[data-pinned] .featurelab-feature-card").first().waitFor({ timeout: CEILING });
    assert.deepEqual(dialogs, [], "no alert ran");
    assert.deepEqual(errors, [], "no console errors (a broken image would log one)");
    assert.deepEqual(requests, [], "nothing loaded from the network (an <img src=x> would)");
    assert.equal(await page.locator("img").count(), 0, "no <img> element was made from data");
    const outputs = page.locator(".output");
    for (const [i, d] of displays.entries()) {
      const text = (await outputs.nth(i).textContent()) ?? "";
      const shown = text.includes(LITERAL) || hoversOf[i].some((h) => h.includes(LITERAL));
      assert.ok(shown, `${d.name} shows the literal text`);
    }
    assert.ok(hovers.some((h) => h.includes(LITERAL)), `hover labels show the literal text: ${JSON.stringify(hovers)}`);
    await page.screenshot({ path: path.replace(/\.html$/, ".png"), fullPage: true });
  } finally {
    await browser.close();
  }
});
