// Widget round trips in a real frontend: the live page of test/display/live/ (Debian's jupyter_server
// on 127.0.0.1, @jupyterlab/services and ipywidgets 8's widget manager, headless chromium) against the
// featurelab kernel. `node bench/widget-roundtrip.mjs` (after `npm run build`; heavy — run it alone).
//
//   slider → dashboard   a 16 384-feature TopK dictionary (d_in 64, k 32, briefly trained) on 20 000
//                        toy rows in fl.widgets.featureExplorer; the slider moved one step with the
//                        keyboard, --moves times (default 40): time from the slider model's value
//                        change in the page until the dashboard in the page shows that feature.
//   scatter 100k         a FigureWidget of 100 000 scattergl points: time from running the cell until
//                        plotly drew it (and from the output's arrival); then --selections box
//                        selections (default 12): time from the page's `selected` change (and from
//                        mouse-up) until the Label the kernel's onSelect sets shows that selection,
//                        and how long the page's main thread stays busy after the selection event.
//   fit with widgets     fit on the same rows with progress on (TrainingView: widget state updates,
//                        the page redrawing the curves) against progress: false, same steps, best of
//                        --repeats (default 2) alternating runs; for the 16k dictionary and a small one;
//                        then one run whose sink times the TrainingView updates in the kernel, to tell
//                        the kernel's share of the overhead from the page's (it shares the cores).
//
// Prints a table and writes out/bench/widget-roundtrip.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { register } from "tsx/esm/api";

register(); // the harness is TypeScript, shared with the test
const { openPage, root, startServer, unavailable } = await import("../test/display/live/harness.ts");
const { CEILING, launch } = await import("../test/browser.ts");

const args = process.argv.slice(2);
const option = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const MOVES = option("--moves", 40);
const SELECTIONS = option("--selections", 12);
const REPEATS = option("--repeats", 2);

const why = unavailable();
if (why) {
  console.error(`bench/widget-roundtrip: cannot run here: ${why}`);
  process.exit(1);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const log = (...a) => console.error("[widget-roundtrip]", ...a);

const server = await startServer();
const browser = await launch();
// Stopped early (Ctrl-C): the server and its kernel go too.
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, () => {
    log(`${sig}: stopping the server`);
    void browser.close().finally(() => server.stop().finally(() => process.exit(130)));
  });
}
const results = { when: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version } };
try {
  const live = await openPage(browser, server, { viewport: { width: 1200, height: 900 } });
  const { page } = live;
  live.page.setDefaultTimeout(CEILING * 5);
  // (chromium's software WebGL notes "GPU stall due to ReadPixels" when plotly picks points: not logged)
  page.on("console", (m) => (m.type() === "error" || (m.type() === "warning" && !m.text().includes("GL Driver Message"))) && log(`page ${m.type()}: ${m.text().slice(0, 300)}`));
  page.on("pageerror", (e) => log(`page error: ${String(e).slice(0, 300)}`));

  log("training the 16k dictionary");
  await live.run(
    'import * as fl from "featurelab";\n' +
      "const { acts } = fl.toy.sharkey({ rows: 20000, features: 512, dim: 64, seed: 0 });\n" +
      'const sae = await fl.dictionary("topk", { width: 16384, k: 32 }).fit(acts, { steps: 30, batchSize: 1024, progress: false });',
  );
  results.engine = (await live.value("await (async () => { const e = await fl.engine(); return `${e.engine} (tfjs ${e.backend})`; })()")).replace(/^'|'$/g, "");
  results.dictionary = { architecture: "topk", width: 16384, k: 32, d_in: 64, rows: 20000, trainSteps: 30 };

  // ---- slider → dashboard ----
  log("feature explorer");
  const explorer = await live.run("const ex = fl.widgets.featureExplorer(sae, acts);\nfl.show(ex);");
  const cellSel = `.cell[data-cell="${explorer.cell}"]`;
  await page.locator(`${cellSel} .featurelab-dashboard[data-feature="0"]`).waitFor();
  await page.locator(`${cellSel} .noUi-handle`).focus();
  const moves = [];
  for (let i = 0; i < MOVES; i++) {
    // Arm the watch: t0 at the slider model's change in the page, t1 when the dashboard shows that feature.
    await page.evaluate(async (sel) => {
      const { manager } = window.live;
      const box = await manager.get_model(document.querySelector(`${sel} .output[data-widget]`).dataset.widget);
      const slider = box.get("children")[0];
      const area = document.querySelector(sel);
      window.__rt = new Promise((resolve) => {
        slider.once("change:value", () => {
          const t0 = performance.now();
          const want = String(slider.get("value"));
          const done = () => {
            if (area.querySelector(".featurelab-dashboard")?.getAttribute("data-feature") !== want) return false;
            obs.disconnect();
            resolve({ ms: performance.now() - t0, feature: Number(want) });
            return true;
          };
          const obs = new MutationObserver(done);
          obs.observe(area, { childList: true, subtree: true, attributes: true });
          done();
        });
      });
    }, cellSel);
    await page.keyboard.press("ArrowRight");
    const r = await page.evaluate(() => window.__rt);
    if (r.feature !== i + 1) throw new Error(`move ${i + 1}: the dashboard showed feature ${r.feature}`);
    moves.push(r.ms);
  }
  results.slider = { moves: moves.length, median_ms: round(median(moves)), p90_ms: round(quantile(moves, 0.9)), min_ms: round(Math.min(...moves)), max_ms: round(Math.max(...moves)) };
  const kernelFeature = await live.value("ex.feature");
  if (Number(kernelFeature) !== MOVES) throw new Error(`the kernel's slider is at ${kernelFeature}, not ${MOVES}`);
  log("slider", results.slider);

  // ---- 100k-point scatter ----
  log("100k scatter");
  const scatterCode =
    "const N = 100_000;\n" +
    "const rng = new fl.Rng(1);\nconst rand = () => rng.uniform();\n" +
    "const px = Array.from({ length: N }, () => rand() * 2 - 1), py = Array.from({ length: N }, () => rand() * 2 - 1);\n" +
    'const big = fl.widgets.figure(new fl.Figure({ data: [{ type: "scattergl", mode: "markers", x: px, y: py, customdata: px.map((_, i) => [i]), marker: { size: 2 } }], layout: { title: { text: "100 000 points" }, dragmode: "select", height: 520, margin: { l: 40, r: 20, t: 40, b: 30 } } }));\n' +
    'const picked = new fl.widgets.Label({ value: "none" });\nlet selections = 0;\n' +
    "big.onSelect((ids) => { selections++; picked.value = `#${selections}: ${ids.length} points`; });\n" +
    "fl.show(new fl.widgets.VBox([big, picked]));";
  const draw = await page.evaluate(async (code) => {
    const t0 = performance.now();
    const n = document.querySelectorAll(".cell").length;
    let arrived, drawn;
    const watch = new Promise((resolve) => {
      const check = () => {
        const cell = document.querySelector(`.cell[data-cell="${n}"]`);
        if (cell && arrived === undefined && cell.querySelector(".output")) arrived = performance.now();
        if (cell?.querySelector(".featurelab-figure[data-drawn]")) {
          drawn = performance.now();
          obs.disconnect();
          resolve();
        }
      };
      const obs = new MutationObserver(check);
      obs.observe(document.getElementById("cells"), { childList: true, subtree: true, attributes: true });
    });
    // The reply comes once the view is made, before plotly draws; the watch has the times.
    const r = await window.live.run(code);
    if (r.status !== "ok") return { status: r.status, errors: r.errors };
    await watch;
    return { status: r.status, errors: r.errors, cell: r.cell, toDrawn: drawn - t0, outputToDrawn: drawn - arrived };
  }, scatterCode);
  if (draw.status !== "ok") throw new Error(`the scatter cell failed: ${draw.errors.join("\n")}`);
  const figSel = `.cell[data-cell="${draw.cell}"] .featurelab-figure`;
  const drag = page.locator(`${figSel} .nsewdrag`).first();
  await drag.scrollIntoViewIfNeeded(); // the mouse acts in the viewport
  const area = await drag.boundingBox();
  const rts = [], gestures = [], busy = [];
  for (let i = 0; i < SELECTIONS; i++) {
    await page.evaluate(async ([sel, k]) => {
      const { manager } = window.live;
      const cell = document.querySelector(sel).closest(".cell");
      const box = await manager.get_model(cell.querySelector(".output[data-widget]").dataset.widget);
      const fig = box.get("children")[0];
      window.__sel = new Promise((resolve) => {
        let up;
        document.addEventListener("mouseup", () => (up = performance.now()), { capture: true, once: true });
        fig.once("change:selected", () => {
          const t0 = performance.now();
          const count = fig.get("selected").length;
          // How long the page's main thread stays busy after the selection event (plotly restyling the
          // selected and unselected points): no message from the kernel can be handled before.
          let busy;
          setTimeout(() => (busy = performance.now() - t0), 0);
          const done = () => {
            if (!cell.textContent.includes(`#${k}: ${count} points`)) return false;
            obs.disconnect();
            const t1 = performance.now();
            resolve({ ms: t1 - t0, fromMouseUp: t1 - up, count, busy });
            return true;
          };
          const obs = new MutationObserver(done);
          obs.observe(cell, { childList: true, subtree: true, characterData: true });
          done();
        });
      });
    }, [figSel, i + 1]);
    // A different box each time (so the selection changes), from the top-left quarter outwards.
    const f = 0.3 + (0.6 * i) / Math.max(1, SELECTIONS - 1);
    await page.mouse.move(area.x + area.width * 0.05, area.y + area.height * 0.05);
    await page.mouse.down();
    await page.mouse.move(area.x + area.width * f, area.y + area.height * f, { steps: 6 });
    await page.mouse.up();
    const r = await page.evaluate(() => window.__sel);
    rts.push(r.ms);
    gestures.push(r.fromMouseUp);
    busy.push(r.busy);
    log(`selection ${i + 1}: ${r.count} points, ${round(r.ms)} ms (from mouse-up ${round(r.fromMouseUp)} ms; page busy ${round(r.busy)} ms after the event)`);
  }
  mkdirSync(join(root, "out", "bench"), { recursive: true });
  await page.locator(figSel).screenshot({ path: join(root, "out", "bench", "widget-roundtrip-scatter.png") });
  results.scatter = {
    points: 100_000,
    type: "scattergl",
    run_to_drawn_ms: round(draw.toDrawn),
    output_to_drawn_ms: round(draw.outputToDrawn),
    selections: rts.length,
    selection_roundtrip_median_ms: round(median(rts)),
    selection_roundtrip_p90_ms: round(quantile(rts, 0.9)),
    mouseup_to_label_median_ms: round(median(gestures)),
    page_busy_after_selection_median_ms: round(median(busy)),
  };
  log("scatter", results.scatter);
  // Free the page of the big figure before timing fit.
  await live.run("big.close();");

  // ---- fit with and without the live training view ----
  const fitCase = async (name, spec, fitOpts) => {
    const times = { widgets: [], off: [] };
    for (let r = 0; r < REPEATS; r++) {
      for (const progress of r % 2 ? [false, true] : [true, false]) {
        const code = `await (async () => {\n  const t0 = performance.now();\n  await fl.dictionary(${spec}).fit(acts, { ${fitOpts}, seed: ${r}${progress ? "" : ", progress: false"} });\n  return (performance.now() - t0).toFixed(1);\n})()`;
        const ms = Number((await live.value(code)).replace(/'/g, ""));
        times[progress ? "widgets" : "off"].push(ms);
        log(`${name} progress ${progress ? "on " : "off"}: ${ms} ms`);
      }
    }
    // Where the overhead goes: the same run with a TrainingView fed by a sink that times its updates
    // in the kernel (building the status HTML and the curves figure, gzip, comm messages); the rest
    // is the page redrawing on the same cores.
    const kernelSide = JSON.parse(
      (
        await live.value(
          `await (async () => {\n  let view: any, spent = 0, updates = 0;\n  const t0 = performance.now();\n` +
            `  await fl.dictionary(${spec}).fit(acts, { ${fitOpts}, seed: 0, progress: { update(s) { const t = performance.now(); if (!view) { view = new fl.widgets.TrainingView(s); fl.show(view); } else view.update(s); spent += performance.now() - t; updates++; } } });\n` +
            `  return JSON.stringify({ total: performance.now() - t0, spent, updates });\n})()`,
        )
      ).replace(/^'|'$/g, ""),
    );
    log(`${name} kernel-side updates: ${kernelSide.updates} taking ${round(kernelSide.spent)} ms of ${round(kernelSide.total)} ms`);
    const on = Math.min(...times.widgets), off = Math.min(...times.off);
    return {
      dictionary: spec,
      fit: fitOpts,
      progress_on_ms: on,
      progress_off_ms: off,
      overhead_pct: round((100 * (on - off)) / off),
      kernel_updates: kernelSide.updates,
      kernel_update_ms: round(kernelSide.spent),
      kernel_update_pct_of_off: round((100 * kernelSide.spent) / off),
      runs: times,
    };
  };
  results.fit = [
    await fitCase("16k topk", '"topk", { width: 16384, k: 32 }', "steps: 150, batchSize: 1024"),
    await fitCase("small relu", '"relu", { width: 512, l1: 1 }', "steps: 3000, batchSize: 256"),
  ];
  const views = await page.locator(".featurelab-figure[data-revision]").count();
  results.fit_views_redrawn = views;
  results.console_errors = live.errors;
  results.foreign_requests = live.foreign;
  await page.evaluate(() => window.live.shutdown());
} finally {
  await browser.close();
  await server.stop();
}

mkdirSync(join(root, "out", "bench"), { recursive: true });
writeFileSync(join(root, "out", "bench", "widget-roundtrip.json"), JSON.stringify(results, null, 2) + "\n");
const rows = [
  ["slider → dashboard (16 384 features)", `median ${results.slider.median_ms} ms`, `p90 ${results.slider.p90_ms} ms`, `${results.slider.moves} moves`],
  ["scatter 100k: run → drawn", `${results.scatter.run_to_drawn_ms} ms`, `output → drawn ${results.scatter.output_to_drawn_ms} ms`, ""],
  ["scatter 100k: selection → kernel → label", `median ${results.scatter.selection_roundtrip_median_ms} ms`, `p90 ${results.scatter.selection_roundtrip_p90_ms} ms`, `mouse-up → label ${results.scatter.mouseup_to_label_median_ms} ms; page busy after the event ${results.scatter.page_busy_after_selection_median_ms} ms`],
  ...results.fit.map((f) => [`fit ${f.dictionary} (${f.fit})`, `widgets ${f.progress_on_ms} ms`, `off ${f.progress_off_ms} ms`, `overhead ${f.overhead_pct} % (kernel main thread ${f.kernel_update_pct_of_off} %: ${f.kernel_updates} updates, ${f.kernel_update_ms} ms)`]),
];
const w = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c].length)));
console.log(`engine ${results.engine}; ${results.machine.cpus} × ${results.machine.model}`);
for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join("  "));
if (results.console_errors.length || results.foreign_requests.length) console.log("console errors:", results.console_errors, "foreign requests:", results.foreign_requests);
console.log(`wrote out/bench/widget-roundtrip.json`);
