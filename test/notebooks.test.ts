// Every notebook in notebooks/ executes headless with the featurelab kernel without an error or a
// line on stderr, exports to self-contained HTML, and every figure in that HTML draws in chromium.
import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executeNotebook, exportNotebook } from "../scripts/export.mjs";
import { inspectPage, CHROMIUM } from "./browser.js";
import { plotlyCopies } from "./display/widget-page.js";

const root = join(import.meta.dirname, "..");
// The longest-running notebooks start first, so the two lanes below finish close together.
const LONGEST = ["e2e.ipynb", "ablation.ipynb", "decompose.ipynb", "transcoders.ipynb", "train.ipynb"];
const notebooks = readdirSync(join(root, "notebooks"))
  .filter((f) => f.endsWith(".ipynb"))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
function rank(name: string): number {
  const i = LONGEST.indexOf(name);
  return i < 0 ? LONGEST.length : i;
}
const out = mkdtempSync(join(tmpdir(), "featurelab-notebooks-"));
after(() => rmSync(out, { recursive: true, force: true }));
const missing = ["/usr/bin/jupyter", "/usr/bin/python3", CHROMIUM].filter((p) => !existsSync(p));

test("Jupyter and chromium are installed (npm run demo installs them)", () => {
  assert.deepEqual(missing, [], `missing: ${missing.join(", ")}; run \`npm run demo\` once (as root it installs them)`);
});

// Two notebooks at a time: a kernel spends much of its time waiting on Jupyter, chromium and nbconvert.
describe("notebooks", { concurrency: 2 }, () => {
  for (const name of notebooks) {
    test(`notebooks/${name} executes cleanly, exports, and every figure draws in chromium`, { skip: missing.length > 0, timeout: 1_200_000 }, async () => {
      const { ipynb, html, images } = await exportNotebook(join(root, "notebooks", name), out);
      const nb = JSON.parse(readFileSync(ipynb, "utf8"));
      const outputs = nb.cells.flatMap((c: any) => c.outputs ?? []);
      assert.ok(!outputs.some((o: any) => o.output_type === "error" || o.name === "stderr"));
      const figureOutputs = outputs.filter((o: any) => o.data?.["application/vnd.plotly.v1+json"]);
      for (const o of figureOutputs) assert.ok(o.data["text/html"] && o.data["text/plain"], "figure bundles carry HTML and text too");
      // Every figure is a live widget view, and the widget state the views need is saved in the notebook.
      const VIEW = "application/vnd.jupyter.widget-view+json";
      const views = outputs.filter((o: any) => o.data?.[VIEW]);
      for (const o of figureOutputs) assert.ok(o.data[VIEW], "each figure is a widget view");
      const state = nb.metadata.widgets?.["application/vnd.jupyter.widget-state+json"]?.state ?? {};
      for (const v of views) assert.ok(state[v.data[VIEW].model_id], `the state of widget ${v.data[VIEW].model_id} is saved`);
      // The figures drawn: one per FigureWidget (the displayed figures, and those inside views such as fit's training view).
      const figureWidgets = Object.values(state).filter((w: any) => w.state?._anywidget_id === "featurelab.FigureWidget").length;
      assert.ok(figureWidgets >= figureOutputs.length);
      assert.equal(images, figureOutputs.length, "every figure got a static image");
      for (const o of figureOutputs) assert.ok(o.data["image/png"]?.length > 1000, "…as image/png, for renderers without JavaScript");
      const saved = readFileSync(ipynb, "utf8");
      assert.equal(plotlyCopies(saved), 0, "the saved notebook holds no copy of plotly.js (Jupyter serves it to the page)");
      const page = readFileSync(html, "utf8");
      assert.equal(plotlyCopies(page), figureWidgets > 0 ? 1 : 0, "the HTML page inlines plotly.js once (where it has figures)");
      if (name === "quickstart.ipynb") assert.ok(saved.length <= 5_000_000, `the executed quickstart is at most 5 MB (${saved.length} bytes)`);
      const report = await inspectPage(`file://${html}`, { screenshot: join(out, `${name}.png`) });
      assert.equal(report.widgets, views.length, "the page holds every widget view");
      assert.equal(report.figures, figureWidgets);
      assert.equal(report.drawn, report.figures, "every figure drew");
      assert.deepEqual(report.errors, [], "no console errors");
      assert.deepEqual(report.requests, [], "no network requests: the page is self-contained");
      assert.equal(report.statics, 0, "every static image gave way to its interactive figure");
      for (const [i, label] of report.hovers.entries()) assert.ok(label.trim().length > 0, `figure ${i} of ${name} answers a hover`);
      if (name === "quickstart.ipynb") {
        // The decoder-geometry scatter (after fit's training curves) names the feature, its density and its best match.
        assert.ok(report.hovers.some((h) => /feature \d+.*density [\d.]+.*best ground-truth feature: #\d+ \(cos [\d.]+\)/s.test(h)), report.hovers.join(" | "));
      }
    });
  }
});

test("a cell that fails or writes to stderr fails the run, and its kernel is gone", { skip: missing.length > 0, timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(root, "notebooks", ".scratch-"));
  try {
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: "featurelab", display_name: "TypeScript (featurelab)", language: "typescript" } },
      cells: [{ cell_type: "code", id: "a", metadata: {}, execution_count: null, outputs: [], source: 'console.error("something went wrong");' }],
    };
    const input = join(dir, "bad.ipynb");
    writeFileSync(input, JSON.stringify(nb));
    const output = join(dir, "bad.out.ipynb");
    let pid: number | undefined;
    await assert.rejects(
      executeNotebook(input, output),
      (err: any) => {
        pid = err.kernelPid;
        return /cell 0 wrote to stderr: something went wrong/.test(err.message);
      },
    );
    assert.ok(pid && pid > 1, "the kernel's PID was recorded");
    assert.throws(() => process.kill(pid!, 0), /ESRCH/, "the kernel process is gone");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
