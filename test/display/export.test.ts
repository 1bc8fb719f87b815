// fl.export / npm run export: a notebook executes headless, every plotly figure gets a static PNG
// (image/png, and an <img> inside its div for renderers that strip scripts), the notebook is saved
// signed, and the HTML page draws the interactive figures (the static image gives way) in chromium.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import * as fl from "../../src/index.js";
import { CHROMIUM } from "../browser.js";
import { OUT, open } from "./widget-page.js";
import { isSigned } from "../../scripts/export.mjs";

const root = join(import.meta.dirname, "..", "..");
const missing = ["/usr/bin/jupyter", "/usr/bin/python3", CHROMIUM].filter((p) => !existsSync(p));
const dir = mkdtempSync(join(root, "notebooks", ".scratch-export-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const SOURCE = `import * as fl from "featurelab";
await fl.ready();
const labels = ["<img src=x onerror=alert(1)>", "b", "c", "d"];
fl.show(fl.plot.rdm(new fl.RDM([1, 2, 3, 4, 5, 6], { labels, name: "demo" })));
fl.show(new fl.Figure({ data: [{ type: "bar", x: ["a", "b"], y: [1, 2] }], layout: { title: { text: "bars" } } }));`;

test("fl.export executes a notebook, adds a static image per figure, signs it, and the HTML draws", { skip: missing.length > 0, timeout: 300_000 }, async () => {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "featurelab", display_name: "TypeScript (featurelab)", language: "typescript" } },
    cells: [{ cell_type: "code", id: "a", metadata: {}, execution_count: null, outputs: [], source: SOURCE }],
  };
  const input = join(dir, "tiny.ipynb");
  writeFileSync(input, JSON.stringify(nb));
  const { ipynb, html, images } = await fl.export(input, join(dir, "out"));
  assert.equal(images, 2);
  const saved = JSON.parse(readFileSync(ipynb, "utf8"));
  const figs = saved.cells[0].outputs.filter((o: any) => o.data?.["application/vnd.plotly.v1+json"]);
  assert.equal(figs.length, 2);
  for (const o of figs) {
    const png = Buffer.from(o.data["image/png"], "base64");
    assert.equal(png.subarray(1, 4).toString(), "PNG", "image/png is a PNG");
    assert.ok(png.length > 2000);
    assert.match(String(o.data["text/html"]), /class="featurelab-figure"[^>]*><img class="featurelab-static"/, "the static image sits in the figure's div");
  }
  assert.ok(isSigned(ipynb), "the notebook stays signed after the images were added");

  const { browser, page, dialogs, errors, requests } = await open(html);
  try {
    assert.equal(await page.locator(".featurelab-figure .main-svg").count() > 0, true);
    assert.equal(await page.locator(".featurelab-static").count(), 0, "interactive figures replaced the static images");
    assert.deepEqual(dialogs, []);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
    await page.screenshot({ path: join(OUT, "export-html.png"), fullPage: true });
    // The page as a reader without JavaScript sees it: the static images.
    await page.setContent(saved.cells[0].outputs.map((o: any) => String(o.data?.["text/html"] ?? "").replace(/<script[\s\S]*?<\/script>/g, "")).join(""));
    assert.equal(await page.locator("img.featurelab-static").count(), 2);
    await page.screenshot({ path: join(OUT, "export-no-js.png"), fullPage: true });
    writeFileSync(join(OUT, "export-first-figure.png"), Buffer.from(figs[0].data["image/png"], "base64"));
  } finally {
    await browser.close();
  }
});

test("npm run export is wired to scripts/export.mjs", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  assert.equal(pkg.scripts.export, "node scripts/export.mjs");
  const usage = spawnSync(process.execPath, [join(root, "scripts", "export.mjs")], { encoding: "utf8" });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /usage: node scripts\/export.mjs <notebook.ipynb> \[outDir\]/);
});
