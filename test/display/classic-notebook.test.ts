// The classic notebook (Debian's python3-notebook 6.4) live, in headless chromium: figures a cell shows
// draw, plotly.js comes once from the Jupyter server (the kernelspec's folder) and never into the saved
// notebook, and a notebook reopened from disk draws every figure — also when the first figure's output
// was cleared and when a cell runs again out of order. Skipped where python3-notebook is not installed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { CEILING, CHROMIUM, launch } from "../browser.js";
import { plotlyCopies } from "./widget-page.js";
import { freePort } from "./live/harness.js";
import { ensurePlotlyResources } from "../../scripts/plotly-resources.mjs";

const root = join(import.meta.dirname, "..", "..");
const PYTHON = "/usr/bin/python3";
const hasNotebook = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import notebook"], { stdio: "ignore" }).status === 0;
const skip = !existsSync(CHROMIUM) || !hasNotebook || !existsSync(join(root, "dist", "kernel", "main.js"));
const TOKEN = "featurelab-test";

const cell = (source: string) => ({ cell_type: "code", metadata: {}, execution_count: null, outputs: [], source });
const figure = (title: string) => `fl.show(new fl.Figure({ data: [{ type: "bar", x: ["a", "b"], y: [1, 2] }], layout: { title: { text: ${JSON.stringify(title)} } } }));`;

let dir = "", home = "", base = "";
let server: ChildProcess | undefined;
let browser: Browser | undefined;

before(async () => {
  if (skip) return;
  ensurePlotlyResources();
  dir = mkdtempSync(join(root, "notebooks", ".scratch-classic-")); // under the repository: the kernel resolves "featurelab" from here
  home = mkdtempSync(join(tmpdir(), "featurelab-classic-"));
  const nb = {
    nbformat: 4,
    nbformat_minor: 4,
    metadata: { kernelspec: { name: "featurelab", display_name: "TypeScript (featurelab)", language: "typescript" } },
    cells: [cell('import * as fl from "featurelab";'), cell(figure("first")), cell(figure("second"))],
  };
  writeFileSync(join(dir, "live.ipynb"), JSON.stringify(nb));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, JUPYTER_PATH: join(root, "jupyter"), JUPYTER_CONFIG_DIR: join(home, "config"), JUPYTER_DATA_DIR: join(home, "data"), JUPYTER_RUNTIME_DIR: join(home, "runtime") };
  server = spawn(PYTHON, ["-m", "notebook", "--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0", `--NotebookApp.token=${TOKEN}`, `--notebook-dir=${dir}`, ...(process.getuid?.() === 0 ? ["--allow-root"] : [])], { env, stdio: ["ignore", "ignore", "pipe"] });
  // Up when the server says it is listening on our address (or refused when it exits or the ceiling passes).
  let log = "";
  await new Promise<void>((resolve, reject) => {
    const fail = () => reject(new Error(`the notebook server did not start:\n${log}`));
    const ceiling = setTimeout(fail, CEILING);
    server!.once("exit", () => (clearTimeout(ceiling), fail()));
    server!.stderr!.setEncoding("utf8").on("data", (d) => {
      log += d;
      if (log.includes(`${base}/`)) (clearTimeout(ceiling), resolve());
    });
  });
  assert.equal((await fetch(`${base}/api/status?token=${TOKEN}`)).ok, true, "the server answers once it says it runs");
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once("exit", r));
    server.kill("SIGTERM"); // the server shuts its kernels down on the way out
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (home) rmSync(home, { recursive: true, force: true });
});

/** Open the notebook; resolves once its kernel is connected. Requests for plotly.js are collected in `plotly`. */
async function openNotebook(plotly: string[]): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
  page.on("response", (r) => r.url().includes("plotly.min.js") && plotly.push(`${r.status()} ${new URL(r.url()).pathname}`));
  await page.goto(`${base}/notebooks/live.ipynb?token=${TOKEN}`, { waitUntil: "load", timeout: CEILING });
  await page.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.(), null, { timeout: CEILING });
  return page;
}

const drawn = (page: Page, n: number) =>
  page.waitForFunction((k) => document.querySelectorAll(".featurelab-figure[data-drawn]").length === k && document.querySelectorAll(".featurelab-figure").length === k, n, { timeout: CEILING });
const save = (page: Page) => page.evaluate(() => (window as any).Jupyter.notebook.save_notebook());
const saved = () => readFileSync(join(dir, "live.ipynb"), "utf8");

test("classic notebook: live figures draw with plotly.js from the server; reopened, every figure draws — after clearing the first and running out of order", { skip, timeout: 600_000 }, async () => {
  const requests: string[] = [];
  let page = await openNotebook(requests);
  const errors: string[] = [];
  const watch = (p: Page) => p.on("pageerror", (e) => errors.push(String(e)));
  watch(page);
  await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());
  await drawn(page, 2);
  assert.deepEqual(requests, ["200 /kernelspecs/featurelab/plotly.min.js"], "plotly.js comes once, from the kernelspec's folder");
  await save(page);
  const file = saved();
  assert.equal(plotlyCopies(file), 0, "the saved notebook holds no copy of plotly.js");
  assert.ok(file.length < 100_000, `the saved notebook is small (${file.length} bytes)`);

  // Reopened from disk: outputs come from the .ipynb (trusted: the server signed it on save).
  await page.close();
  requests.length = 0;
  page = await openNotebook(requests);
  watch(page);
  await drawn(page, 2);
  assert.deepEqual(requests, ["200 /kernelspecs/featurelab/plotly.min.js"]);

  // The first figure's output cleared: the second draws on its own when reopened.
  await page.evaluate(() => (window as any).Jupyter.notebook.get_cell(1).clear_output());
  await save(page);
  await page.close();
  page = await openNotebook([]);
  watch(page);
  await drawn(page, 1);
  assert.match((await page.locator(".featurelab-figure").first().textContent()) ?? "", /second/);

  // Out of order: the second figure's cell again, then the first's.
  await page.evaluate(() => (window as any).Jupyter.notebook.execute_cells([2, 1]));
  await drawn(page, 2);
  assert.deepEqual(errors, []);
  await page.close();
});
