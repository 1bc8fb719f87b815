// featurelab's widgets in a real frontend: Debian's jupyter_server on 127.0.0.1, a page built from
// @jupyterlab/services (JupyterLab's kernel connection) and ipywidgets 8's widget manager with
// anywidget (test/display/live/), driven in headless chromium. A slider moved in the page changes
// the kernel's value and the dashboard the kernel sends back; a page that joins the running kernel
// later (a reopened tab) restores the widgets from the kernel; a box selection in the decoder scatter
// reaches the kernel's callback, whose status label shows in the page; `fit` redraws its training
// curves in the page while it runs. Nothing logs an error; nothing is fetched from anywhere but the
// server. Screenshots: out/widgets/live-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { CEILING, launch } from "../browser.js";
import { openPage, root, startServer, unavailable, type LivePage, type LiveServer } from "./live/harness.js";

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
  browser = await launch();
  live = await openPage(browser, server);
  // Toy activations (sparse sinusoids) and a small ReLU dictionary, trained quietly.
  await live.run(
    'import * as fl from "featurelab";\n' +
      "const acts = fl.fromVectors(new Float32Array(2048 * 16).map((_, i) => Math.sin(i * 0.37) * ((i * 7919) % 13 > 9 ? 1 : 0)), 16);\n" +
      'const sae = await fl.dictionary("relu", { width: 64, l1: 1 }).fit(acts, { steps: 200, batchSize: 64, progress: false });',
  );
});

after(async () => {
  if (live) {
    await live.page.evaluate(() => (window as any).live.shutdown()).catch(() => {});
  }
  await browser?.close();
  await server?.stop();
});

const cell = (page: Page, n: number): Locator => page.locator(`.cell[data-cell="${n}"]`);
const shownFeature = (page: Page, n: number) =>
  page.waitForFunction(([c]) => document.querySelector(`.cell[data-cell="${c}"] .featurelab-dashboard`)?.getAttribute("data-feature") ?? null, [n] as const, { timeout: CEILING });

test("featureExplorer: the slider moved in the page (keyboard, then mouse) changes the kernel's value and the dashboard; a page opened later restores it from the kernel", { skip, timeout: 600_000 }, async () => {
  const { page } = live;
  const { cell: n } = await live.run("const ex = fl.widgets.featureExplorer(sae, acts);\nfl.show(ex);");
  const out = cell(page, n);
  await out.locator(".widget-slider .noUi-handle").waitFor({ timeout: CEILING });
  assert.equal(await (await shownFeature(page, n)).jsonValue(), "0");

  // Keyboard: focus the handle, one step right.
  await out.locator(".noUi-handle").focus();
  await page.keyboard.press("ArrowRight");
  await page.waitForFunction((c) => document.querySelector(`.cell[data-cell="${c}"] .featurelab-dashboard`)?.getAttribute("data-feature") === "1", n, { timeout: CEILING });
  assert.equal(await live.value("ex.feature"), "1", "the kernel's slider moved");
  assert.match((await out.locator(".featurelab-dashboard").textContent())!, /Feature 1 of relu dictionary \(width 64\)/);

  // Mouse: drag the handle about three quarters along the track.
  const track = (await out.locator(".widget-slider .noUi-target").boundingBox())!;
  const handle = (await out.locator(".noUi-handle").boundingBox())!;
  await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
  await page.mouse.down();
  await page.mouse.move(track.x + track.width * 0.75, handle.y + handle.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.waitForFunction((c) => Number(document.querySelector(`.cell[data-cell="${c}"] .featurelab-dashboard`)?.getAttribute("data-feature")) > 20, n, { timeout: CEILING });
  const kernelValue = Number(await live.value("ex.feature"));
  const shown = Number(await out.locator(".featurelab-dashboard").getAttribute("data-feature"));
  assert.equal(shown, kernelValue, "the dashboard shows the kernel's feature");
  assert.equal(await out.locator(".widget-readout").textContent().then((t) => Number(t!.trim())), kernelValue, "the slider's readout agrees");
  assert.ok(kernelValue > 20 && kernelValue < 64, `dragged to ${kernelValue}`);
  await out.screenshot({ path: join(OUT, "live-explorer.png") });

  // A second page joins the kernel (as a reopened JupyterLab tab does): its widget manager asks
  // jupyter.widget.control for every widget's state and shows the explorer as it is now.
  const again = await openPage(browser!, server!, { kernelId: live.kernelId });
  try {
    const modelId = await out.locator(".output[data-widget]").first().getAttribute("data-widget");
    await again.page.evaluate(async (id) => {
      const { manager } = (window as any).live;
      const el = document.createElement("div");
      el.className = "restored";
      document.getElementById("cells")!.append(el);
      await manager.display_view(await manager.create_view(await manager.get_model(id)), el);
    }, modelId);
    await again.page.waitForFunction((f) => document.querySelector(".restored .featurelab-dashboard")?.getAttribute("data-feature") === String(f), kernelValue, { timeout: CEILING });
    assert.equal(await again.page.locator(".restored .widget-readout").textContent().then((t) => Number(t!.trim())), kernelValue);
    assert.deepEqual([again.errors, again.foreign], [[], []]);
  } finally {
    await again.close();
  }
});

test("geometryExplorer: a box selection in the scatter reaches the kernel's callback; its status label and dashboards follow", { skip, timeout: 600_000 }, async () => {
  const { page } = live;
  const { cell: n } = await live.run("const ex2 = fl.widgets.geometryExplorer(sae, acts);\nfl.show(ex2);");
  const out = cell(page, n);
  const fig = out.locator(".featurelab-figure");
  await out.locator(".featurelab-figure[data-drawn]").waitFor({ timeout: CEILING });
  const status = out.locator(".widget-label", { hasText: /select/i }).first();
  assert.match((await status.textContent())!, /Select features in the scatter/);

  // Box Select from the modebar, then drag across the middle of the plot area.
  await fig.hover();
  await fig.locator('.modebar-btn[data-attr="dragmode"][data-val="select"]').click();
  const area = (await fig.locator(".nsewdrag").first().boundingBox())!;
  await page.mouse.move(area.x + area.width * 0.05, area.y + area.height * 0.05);
  await page.mouse.down();
  await page.mouse.move(area.x + area.width * 0.6, area.y + area.height * 0.95, { steps: 10 });
  await page.mouse.up();

  await page.waitForFunction((c) => /\d+ features? selected/.test(document.querySelector(`.cell[data-cell="${c}"]`)?.textContent ?? ""), n, { timeout: CEILING });
  const label = (await out.locator(".widget-label", { hasText: /selected/ }).first().textContent())!;
  const count = Number(/(\d+) features? selected/.exec(label)![1]);
  assert.ok(count > 0);
  assert.equal(Number(await live.value("ex2.scatter.selected.length")), count, "the kernel holds the selection the label reports");
  const first = Number(await live.value("ex2.scatter.selected[0]"));
  assert.match(label, new RegExp(`: ${first}\\b`), label);
  // The kernel built the dashboards of (up to) the first three selected features.
  await page.waitForFunction(([c, f]) => document.querySelector(`.cell[data-cell="${c}"] .featurelab-dashboard`)?.getAttribute("data-feature") === String(f), [n, first] as const, { timeout: CEILING });
  assert.equal(await out.locator(".featurelab-dashboard").count(), Math.min(3, count));
  // The scatter with its selection box, the kernel's status line and the top of the first dashboard.
  const clip = await out.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: Math.min(r.height, 1000) };
  });
  await page.screenshot({ path: join(OUT, "live-selection.png"), fullPage: true, clip });
});

test("fit in the page: the training curves redraw at least three times while the cell runs; an interrupt ends it with the dictionary so far", { skip, timeout: 600_000 }, async () => {
  const { page } = live;
  const n = await page.evaluate(() => document.querySelectorAll(".cell").length);
  const running = await live.start('const long = await fl.dictionary("relu", { width: 64, l1: 1 }).fit(acts, { steps: 1_000_000, batchSize: 64, logEvery: 10 });');
  // Three redraws of the curves (data-revision counts Plotly.react calls) while no reply has come.
  await page.waitForFunction(
    (c) => {
      const el = document.querySelector(`.cell[data-cell="${c}"]`);
      return el !== null && !el.hasAttribute("data-status") && Number(el.querySelector(".featurelab-figure")?.getAttribute("data-revision") ?? 0) >= 3;
    },
    n,
    { timeout: CEILING * 3 },
  );
  const out = cell(page, n);
  assert.equal(await out.getAttribute("data-status"), null, "the cell is still running");
  assert.match((await out.textContent())!, /relu dictionary, width 64/);
  await out.screenshot({ path: join(OUT, "live-training.png") });
  await page.evaluate(() => (window as any).live.interrupt());
  const reply = await running.done();
  assert.equal(reply.status, "ok", reply.errors.join("\n"));
  const trained = await live.value("`${long.history.length} ${long.history.at(-1).step}`");
  const [records, lastStep] = trained.replace(/'/g, "").split(" ").map(Number);
  assert.ok(records >= 3 && lastStep < 1_000_000, `interrupted after ${lastStep} steps with ${records} records`);
  assert.deepEqual(live.errors, [], "no console errors");
  assert.deepEqual(live.foreign, [], "no requests outside the server on 127.0.0.1");
  assert.ok(live.requests.some((u) => u.endsWith("/kernelspecs/featurelab/plotly.min.js")), "plotly.js came from the server's kernelspec folder");
});

test("a button pressed in the page runs the kernel's handler, whose figure lands in an Output area and draws", { skip, timeout: 600_000 }, async () => {
  const { page } = live;
  const { cell: n } = await live.run(
    'const area = new fl.widgets.Output();\nconst go = new fl.widgets.Button({ description: "show geometry" });\n' +
      "go.onClick(() => area.capture(() => fl.show(fl.plot.geometry(sae)), { replace: true }));\nfl.show(new fl.widgets.VBox([go, area]));",
  );
  const out = cell(page, n);
  await out.locator("button", { hasText: "show geometry" }).click();
  // The figure arrives through the Output's state (a nested widget view) and plotly draws it.
  await out.locator(".featurelab-figure[data-drawn]").waitFor({ timeout: CEILING });
  assert.equal(Number(await live.value("area.outputs.length")), 1, "the kernel's Output holds the figure");
  assert.deepEqual(live.errors, [], "no console errors");
});
