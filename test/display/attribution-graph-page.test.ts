// The attribution-graph widget in an exported notebook page, with no kernel: a notebook holding the
// widget's saved state (as nbclient saves it) converted with the featurelab template, opened in Debian's
// headless chromium. Nodes are drawn (the pruned graph at its threshold, as graph.prune keeps it), the
// prompt's tokens label the columns as text, hovering a node shows its card with its top activating
// contexts, the slider re-prunes (fewer nodes at 0.5, more at the loosest), clicking pins, pinned nodes
// group into a named supernode, and the export button downloads fl.circuitTracerJson's file with the
// pins and the supernode. The same view draws from the HTML fallback of a page without widget manager.
// Every wait is on the page's state; screenshots in out/widgets/.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { CEILING, CHROMIUM } from "../browser.js";
import { jupyterEnv } from "../../scripts/export.mjs";
import { ensureWidgetBundle } from "../../scripts/build-widgets.mjs";
import { attributionGraph, type AttributionGraphWidget } from "../../src/display/widgets/attribution-graph-widget.js";
import { allStates } from "../../src/display/widgets/registry.js";
import { circuitTracerJson } from "../../src/circuits/attribution/graph-json.js";
import type { AttributionGraph } from "../../src/circuits/attribution/attribution-graph.js";
import { smallGraph, cardSource } from "../circuits/attribution/graph-fixture.js";
import { OUT, open, writePage } from "./widget-page.js";

const PYTHON = "/usr/bin/python3";
const JUPYTER = "/usr/bin/jupyter";
const missing = [JUPYTER, PYTHON, CHROMIUM].filter((p) => !existsSync(p));
const skip = missing.length > 0 ? `missing ${missing.join(", ")}` : false;

let graph: AttributionGraph;
let view: AttributionGraphWidget;

before(async () => {
  if (skip) return;
  const made = await smallGraph();
  graph = made.graph;
  view = attributionGraph(graph, { slug: "tiny-graph", scan: "tiny-clt", nodeThreshold: 0.8, cards: await cardSource(made.model, made.clt) });
});

/** The notebook a headless run saves: the widget state in its metadata, one output showing the view. */
function notebook() {
  const { states, buffer_paths, buffers } = allStates();
  const state: Record<string, Record<string, unknown>> = {};
  for (const [id, s] of Object.entries(states)) state[id] = { ...(s as Record<string, unknown>) };
  buffer_paths.forEach(([id, , ...path], i) => {
    const entry = state[id as string];
    ((entry.buffers as unknown[]) ??= []).push({ path, data: Buffer.from(buffers[i]).toString("base64"), encoding: "base64" });
  });
  const bundle = { ...view.toMimeBundle(), "application/vnd.jupyter.widget-view+json": view.widgetView(), "text/html": view.fallbackHtml() };
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "featurelab", display_name: "TypeScript (featurelab)", language: "typescript" },
      widgets: { "application/vnd.jupyter.widget-state+json": { state, version_major: 2, version_minor: 0 } },
    },
    cells: [{ cell_type: "code", id: "graph", metadata: {}, execution_count: 1, source: "fl.show(fl.plot.attributionGraph(graph, { cards }))", outputs: [{ output_type: "display_data", metadata: {}, data: bundle }] }],
  };
}

const visibleCount = (page: Page) => page.locator(".featurelab-attribution-graph").getAttribute("data-visible-nodes").then(Number);
const kept = (t: number) => graph.prune({ nodeThreshold: t, edgeThreshold: 0.98 }).nodeMask.reduce((a, b) => a + b, 0);

/** What every check of a drawn view asks: nodes as the kernel prunes them, tokens as text, hover cards, the slider. */
async function checkView(page: Page, name: string): Promise<void> {
  const root = page.locator(".featurelab-attribution-graph");
  await page.waitForSelector(".featurelab-attribution-graph[data-drawn]", { timeout: CEILING });
  assert.equal(await root.count(), 1, "drawn once");
  const p = view.payload;
  assert.equal(await visibleCount(page), kept(0.8), "the nodes graph.prune keeps at 0.8");
  assert.equal(await page.locator(".flag-node:visible").count(), kept(0.8));
  assert.ok((await page.locator(".flag-edge").count()) > 0, "edges drawn");
  assert.deepEqual(await page.locator(".flag-token").evaluateAll((els) => els.map((e) => e.firstChild!.nodeValue)), graph.tokenText, "tokens label the columns, as text");
  assert.ok(graph.tokenText.includes("<b>"));
  assert.equal(await page.locator(".flag-svg b, .flag-token *:not(title)").count(), 0, "no token became markup");

  // Hover a feature node: its card, with its strongest edges and its top contexts.
  const feature = page.locator('.flag-node[data-kind="feature"]:visible').first();
  const id = (await feature.getAttribute("data-id"))!;
  await feature.hover();
  await page.waitForFunction((i) => document.querySelector(".flag-card")?.getAttribute("data-id") === i, id, { timeout: CEILING });
  const node = p.nodes.find((n) => n.id === id)!;
  assert.equal(await page.locator(".flag-card-title").textContent(), node.label);
  assert.match((await page.locator(".flag-card .flag-in").textContent())!, /^top incoming \(\d+\)/);
  assert.match((await page.locator(".flag-card .flag-out").textContent())!, /^top outgoing \([1-9]\d*\)/, "a kept feature has an outgoing edge");
  assert.ok((await page.locator(".flag-card .flag-contexts .fl-tok").count()) > 0, "top activating contexts");
  assert.equal(await root.getAttribute("data-hovered"), id);

  // The slider, by keyboard: Home (0.5) keeps fewer nodes, End (the loosest) more; each as graph.prune.
  const slider = page.locator(".flag-threshold");
  await slider.focus();
  await page.keyboard.press("Home");
  await page.waitForFunction((t) => document.querySelector(".featurelab-attribution-graph")?.getAttribute("data-threshold") === String(t), p.minNodeThreshold, { timeout: CEILING });
  assert.equal(await visibleCount(page), kept(p.minNodeThreshold));
  await page.keyboard.press("End");
  await page.waitForFunction((t) => document.querySelector(".featurelab-attribution-graph")?.getAttribute("data-threshold") === String(t), p.maxNodeThreshold, { timeout: CEILING });
  assert.equal(await visibleCount(page), kept(p.maxNodeThreshold));
  assert.ok(kept(p.minNodeThreshold) < kept(0.8) && kept(0.8) < kept(p.maxNodeThreshold), `${kept(p.minNodeThreshold)} < ${kept(0.8)} < ${kept(p.maxNodeThreshold)} nodes`);
  assert.equal(await page.locator(".flag-node:visible").count(), kept(p.maxNodeThreshold));
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

test("exported HTML: the attribution graph renders from the saved widget state with no kernel; hover, slider, pins, supernodes and the circuit-tracer export work", { skip, timeout: 300_000 }, async () => {
  mkdirSync(OUT, { recursive: true });
  const ipynb = join(OUT, "attribution-graph.ipynb"), html = join(OUT, "attribution-graph.html");
  rmSync(html, { force: true });
  writeFileSync(ipynb, JSON.stringify(notebook(), null, 1));
  await ensureWidgetBundle();
  // Converted with the featurelab template, as `npm run export` converts.
  const conv = spawnSync(JUPYTER, ["nbconvert", "--to", "html", "--template", "featurelab", ipynb, "--output-dir", OUT], { env: jupyterEnv(), encoding: "utf8" });
  assert.equal(conv.status, 0, `nbconvert failed:\n${conv.stderr}`);
  assert.doesNotMatch(readFileSync(html, "utf8"), /<script[^>]+src=/, "no script from elsewhere");

  const { browser, page, errors, requests, dialogs } = await open(html, { width: 1280, height: 900 });
  try {
    await checkView(page, "attribution-graph-export");

    // Pin two nodes by clicking, group them, pin a third; then export.
    const features = page.locator('.flag-node[data-kind="feature"]:visible');
    const ids = [(await features.nth(0).getAttribute("data-id"))!, (await features.nth(1).getAttribute("data-id"))!];
    for (const [k, id] of ids.entries()) {
      await features.nth(k).click();
      await page.waitForFunction((i) => !!document.querySelector(`.flag-pinned li[data-id="${i}"]`), id, { timeout: CEILING });
    }
    assert.deepEqual(await page.locator(".flag-pinned li").evaluateAll((els) => els.map((e) => e.getAttribute("data-id"))), ids);
    await page.locator(".flag-group-name").fill("<i>pair</i> & co");
    await page.locator(".flag-group").click();
    await page.waitForSelector(".flag-supernode", { timeout: CEILING });
    assert.equal(await page.locator(".flag-supernode b").textContent(), "<i>pair</i> & co", "a name typed in stays text");
    assert.equal(await page.locator(".flag-supernodes i").count(), 0);
    assert.equal(await page.locator(".flag-pinned li").count(), 0, "grouping empties the pins");
    assert.equal(await page.locator("rect.flag-super").count(), 1);
    const third = (await features.nth(2).getAttribute("data-id"))!;
    await features.nth(2).click();
    await page.waitForFunction((i) => !!document.querySelector(`.flag-pinned li[data-id="${i}"]`), third, { timeout: CEILING });
    const threshold = Number(await page.locator(".featurelab-attribution-graph").getAttribute("data-threshold"));
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: CEILING }), page.locator(".flag-export").click()]);
    assert.equal(download.suggestedFilename(), "tiny-graph.json");
    const file = JSON.parse(readFileSync((await download.path())!, "utf8"));
    assert.deepEqual(file, circuitTracerJson(graph, { slug: "tiny-graph", scan: "tiny-clt", nodeThreshold: threshold, edgeThreshold: 0.98, pinnedIds: [third], supernodes: [["<i>pair</i> & co", ...ids]] }), "the page's file is the kernel's");
    await page.screenshot({ path: join(OUT, "attribution-graph-export-pinned.png"), fullPage: true });
    assert.deepEqual([errors, requests, dialogs], [[], [], []], "no console errors, network requests or dialogs");
  } finally {
    await browser.close();
  }
});

test("a page without a widget manager: the same view from the HTML fallback", { skip, timeout: 300_000 }, async () => {
  const { browser, page, errors, requests } = await open(writePage("attribution-graph-fallback", [view.toMimeBundle()]), { width: 1280, height: 900 });
  try {
    await checkView(page, "attribution-graph-fallback");
    assert.deepEqual([errors, requests], [[], []]);
  } finally {
    await browser.close();
  }
});
