// The attribution-graph widget in a real frontend: Debian's jupyter_server on 127.0.0.1 and the page of
// @jupyterlab/services + ipywidgets 8's manager with anywidget (test/display/live/harness.ts), in headless
// chromium. The kernel builds the graph (a model and a transcoder saved by this test, loaded in the cell),
// shows its view; pins clicked in the page reach the kernel's `pinned` and onPin handler, the slider's
// threshold reaches `nodeThreshold`, a threshold and pins set in the kernel redraw the page, a supernode
// grouped in the page reaches `supernodes` and the kernel's circuit-tracer file; the graph as a cell's
// last expression shows the same view. No console error, no request but to the server.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { CEILING, launch } from "../browser.js";
import { openPage, root, startServer, unavailable, type LivePage, type LiveServer } from "./live/harness.js";
import { Dictionary, type DictionaryConfig } from "../../src/dictionaries/dictionary.js";
import { smallGraph, PROMPT } from "../circuits/attribution/graph-fixture.js";

const OUT = join(root, "out", "widgets");
const why = unavailable();
const skip = why ?? false;

let server: LiveServer | undefined;
let browser: Browser | undefined;
let live: LivePage;

before(async () => {
  if (why) return;
  mkdirSync(OUT, { recursive: true });
  server = await startServer();
  // The model and transcoder the kernel loads (the transcoder's options in its cfg.json, as fl.dictionary("clt", …) records them).
  const { model, clt } = await smallGraph();
  await model.save(join(server.dir, "model"));
  await new Dictionary(clt.arch, { ...clt.cfg, ...clt.arch.options } as DictionaryConfig, clt.params).save(join(server.dir, "clt"));
  browser = await launch();
  live = await openPage(browser, server);
  await live.run(
    'import * as fl from "featurelab";\n' +
      'const model = await fl.loadModel("model");\nconst clt = await fl.loadDictionary("clt");\n' +
      `const graph = await fl.attribute(model, clt, ${JSON.stringify(PROMPT)}, { batchSize: 16 });`,
  );
});

after(async () => {
  if (live) await live.page.evaluate(() => (window as any).live.shutdown()).catch(() => {});
  await browser?.close();
  await server?.stop();
});

const cell = (page: Page, n: number): Locator => page.locator(`.cell[data-cell="${n}"]`);
const threshold = (page: Page, n: number, t: number) =>
  page.waitForFunction(([c, v]) => document.querySelector(`.cell[data-cell="${c}"] .featurelab-attribution-graph`)?.getAttribute("data-threshold") === String(v), [n, t] as const, { timeout: CEILING });

test("attribution graph, live: pins, the threshold and supernodes travel both ways between the page and the kernel; a graph as the last expression shows its view", { skip, timeout: 600_000 }, async () => {
  const { page } = live;
  const { cell: n } = await live.run('const view = fl.plot.attributionGraph(graph, { slug: "live" });\nconst heard: number[] = [];\nview.onPin((ids) => { heard.push(ids.length); });\nfl.show(view);');
  const out = cell(page, n);
  await out.locator(".featurelab-attribution-graph[data-drawn]").waitFor({ timeout: CEILING });
  const shown = () => out.locator(".featurelab-attribution-graph").getAttribute("data-visible-nodes").then(Number);
  assert.equal(await shown(), Number(await live.value("view.graph.prune({ nodeThreshold: 0.8 }).nodeMask.reduce((a, b) => a + b, 0)")), "the page shows what the kernel's pruning keeps");

  // Page → kernel: a click pins (the handler hears it), the slider moves the threshold.
  const node = out.locator('.flag-node[data-kind="feature"]:visible').first();
  const id = (await node.getAttribute("data-id"))!;
  await node.click();
  await out.locator(`.flag-pinned li[data-id="${id}"]`).waitFor({ timeout: CEILING });
  assert.equal(await live.value(`view.pinned.length === 1 && view.pinned[0] === ${JSON.stringify(id)}`), "true", "the kernel's pinned ids");
  assert.equal(await live.value("heard.join(',')"), "'1'", "onPin heard one pinned node");
  await out.locator(".flag-threshold").focus();
  await page.keyboard.press("Home");
  await threshold(page, n, 0.5);
  assert.equal(await live.value("view.nodeThreshold"), "0.5", "the slider's threshold reached the kernel");

  // Kernel → page: a threshold and pins set in the kernel redraw the page.
  await live.run("view.nodeThreshold = 0.9;");
  await threshold(page, n, 0.9);
  assert.equal(await shown(), Number(await live.value("view.graph.prune({ nodeThreshold: 0.9 }).nodeMask.reduce((a, b) => a + b, 0)")));
  const ids = JSON.parse(await live.value("JSON.stringify(view.payload.nodes.filter((x) => x.kind === 'feature').slice(0, 2).map((x) => x.id))").then((s) => s.replace(/^'|'$/g, "")));
  await live.run(`view.pinned = ${JSON.stringify(ids)};`);
  await page.waitForFunction(([c, want]) => Array.from(document.querySelectorAll(`.cell[data-cell="${c}"] .flag-pinned li`)).map((li) => li.getAttribute("data-id")).join(",") === want, [n, ids.join(",")] as const, { timeout: CEILING });

  // Page → kernel: the pinned pair grouped into a named supernode; the kernel's circuit-tracer file holds it.
  await out.locator(".flag-group-name").fill("pair");
  await out.locator(".flag-group").click();
  await out.locator(".flag-supernode").waitFor({ timeout: CEILING });
  assert.equal(await live.value(`JSON.stringify(view.supernodes) === ${JSON.stringify(JSON.stringify([["pair", ...ids]]))}`), "true");
  assert.equal(await live.value("view.pinned.length"), "0");
  assert.equal(await live.value(`JSON.stringify(view.toCircuitTracerJson().qParams.supernodes) === ${JSON.stringify(JSON.stringify([["pair", ...ids]]))} && view.toCircuitTracerJson().metadata.node_threshold === 0.9`), "true");
  await out.screenshot({ path: join(OUT, "live-attribution-graph.png") });

  // The graph as a cell's last expression: the same view.
  const { cell: m } = await live.run("graph");
  await cell(page, m).locator(".featurelab-attribution-graph[data-drawn]").waitFor({ timeout: CEILING });
  assert.ok((await cell(page, m).locator(".flag-node:visible").count()) > 0);
  assert.deepEqual([live.errors, live.foreign], [[], []]);
});
