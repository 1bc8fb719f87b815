// Execute a notebook headless with the featurelab kernel, give every plotly figure a static PNG (for
// readers without JavaScript: GitHub, nbviewer, an untrusted notebook), save it signed (it opens
// trusted, figures showing) and export a self-contained HTML page (plotly.js inlined once, nothing
// from the network). The one implementation: `npm run export -- x.ipynb [outDir]`,
// `node scripts/export.mjs x.ipynb [outDir]` and fl.export(path, outDir) all run exportNotebook.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { root, PYTHON, JUPYTER } from "./setup.mjs";
import { ensurePlotlyResources } from "./plotly-resources.mjs";
import { ensureWidgetBundle } from "./build-widgets.mjs";

/** The environment for Jupyter commands: the repository's jupyter/ folder (kernelspec, nbconvert template) on JUPYTER_PATH. */
export function jupyterEnv() {
  const extra = join(root, "jupyter");
  return { ...process.env, JUPYTER_PATH: process.env.JUPYTER_PATH ? `${extra}:${process.env.JUPYTER_PATH}` : extra };
}

/** Kill a kernel left behind (its PID is in pidfile), if it is still alive; returns its PID. */
export function killLeftoverKernel(pidfile) {
  if (!existsSync(pidfile)) return undefined;
  const pid = Number(readFileSync(pidfile, "utf8"));
  rmSync(pidfile, { force: true });
  if (!(pid > 1)) return undefined;
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
  return pid;
}

/**
 * Run a command without blocking the event loop (so several notebooks can execute at once); resolves
 * with its exit status and stderr. `timeoutMs` ends it with SIGKILL, by its PID.
 */
function runAsync(cmd, args, { env, timeoutMs, stdout = "ignore" } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", stdout, "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    const timer = timeoutMs ? setTimeout(() => child.kill("SIGKILL"), timeoutMs) : undefined;
    child.on("error", (error) => {
      clearTimeout(timer);
      resolvePromise({ status: null, stderr, error });
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolvePromise({ status, signal, stderr });
    });
  });
}

/** Execute a notebook into `output`; resolves to the PID its kernel had (that kernel is gone by then). */
export async function executeNotebook(input, output, { timeoutSeconds = 900, sign = false } = {}) {
  const pidfile = `${output}.kernel-pid`;
  let kernelPid;
  try {
    const r = await runAsync(PYTHON, [join(root, "scripts", "run-notebook.py"), input, output, "--timeout", "600", "--pidfile", pidfile, ...(sign ? ["--sign"] : [])], {
      stdout: "inherit",
      env: jupyterEnv(),
      timeoutMs: timeoutSeconds * 1000,
    });
    if (r.error) throw new Error(`executing ${input}: ${r.error.message}`);
    if (r.signal) throw Object.assign(new Error(`executing ${input} was stopped (${r.signal}) after ${timeoutSeconds} s`), { kernelPid: readPid(pidfile) });
    if (r.status !== 0) throw Object.assign(new Error(`executing ${input} failed:\n${r.stderr}`), { kernelPid: readPid(pidfile) });
  } finally {
    kernelPid = killLeftoverKernel(pidfile);
  }
  return kernelPid;
}

function readPid(pidfile) {
  return existsSync(pidfile) ? Number(readFileSync(pidfile, "utf8")) : undefined;
}

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/**
 * PNGs of plotly figures, rendered by Plotly.toImage in headless chromium (playwright-core drives
 * it; no network). Returns base64 strings in order, or undefined when chromium or playwright-core
 * is missing (the export then keeps the interactive figures only).
 */
export async function renderFigures(specs) {
  if (specs.length === 0) return [];
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch {
    return undefined;
  }
  if (!existsSync(CHROMIUM)) return undefined;
  const plotly = createRequire(join(root, "package.json")).resolve("plotly.js-dist-min/plotly.min.js");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
  try {
    const page = await browser.newPage();
    await page.setContent("<!doctype html><html><body></body></html>");
    await page.addScriptTag({ path: plotly });
    const out = [];
    for (const spec of specs) {
      const layout = spec.layout ?? {};
      const url = await page.evaluate(
        ([s, w, h]) => window.Plotly.toImage({ data: s.data, layout: { ...s.layout, width: w, height: h }, config: s.config ?? {} }, { format: "png", width: w, height: h }),
        [spec, Number(layout.width) || 900, Number(layout.height) || 440],
      );
      out.push(String(url).replace(/^data:image\/png;base64,/, ""));
    }
    return out;
  } finally {
    await browser.close();
  }
}

/**
 * Add a static PNG to every plotly figure output of a saved notebook: as image/png in the bundle,
 * and inside the figure's div in text/html (removed when the figure draws), so renderers that
 * strip scripts show the picture. Returns how many figures got one (undefined: no renderer).
 */
export async function addStaticImages(ipynb) {
  const nb = JSON.parse(readFileSync(ipynb, "utf8"));
  const outputs = nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data?.["application/vnd.plotly.v1+json"]);
  const pngs = await renderFigures(outputs.map((o) => o.data["application/vnd.plotly.v1+json"]));
  if (!pngs) return undefined;
  outputs.forEach((o, i) => {
    o.data["image/png"] = pngs[i];
    const html = Array.isArray(o.data["text/html"]) ? o.data["text/html"].join("") : o.data["text/html"];
    if (typeof html === "string") {
      const img = `<img class="featurelab-static" alt="static rendering of the figure" style="max-width:100%" src="data:image/png;base64,${pngs[i]}">`;
      // The figure's div is empty in the bundle; the image goes inside it (first match only).
      o.data["text/html"] = html.replace(/(<div id="[^"]*" class="featurelab-figure"[^>]*>)(<\/div>)/, `$1${img}$2`);
    }
  });
  writeFileSync(ipynb, JSON.stringify(nb, null, 1) + "\n");
  return pngs.length;
}

const SIGN = "import sys, nbformat\nfrom nbformat.sign import NotebookNotary\nnb = nbformat.read(sys.argv[1], as_version=4)\nNotebookNotary().sign(nb)\nnbformat.write(nb, sys.argv[1])\n";
const CHECK = "import sys, nbformat\nfrom nbformat.sign import NotebookNotary\nprint(NotebookNotary().check_signature(nbformat.read(sys.argv[1], as_version=4)))\n";

/** Sign a notebook for this user (it opens trusted), as `jupyter trust` does. */
export function signNotebook(ipynb) {
  const r = spawnSync(PYTHON, ["-c", SIGN, ipynb], { env: jupyterEnv(), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`signing ${ipynb} failed:\n${r.stderr}`);
}

/** Whether this user's Jupyter trusts the notebook's signature. */
export function isSigned(ipynb) {
  const r = spawnSync(PYTHON, ["-c", CHECK, ipynb], { env: jupyterEnv(), encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() === "True";
}

/** Execute, add static images, sign, convert to HTML; returns the paths and the number of images. */
export async function exportNotebook(input, outDir = join(root, "out")) {
  const name = basename(input, ".ipynb");
  const ipynb = resolve(outDir, `${name}.ipynb`);
  const html = resolve(outDir, `${name}.html`);
  mkdirSync(resolve(outDir), { recursive: true });
  await executeNotebook(resolve(input), ipynb, { sign: true });
  const images = await addStaticImages(ipynb);
  if (images) signNotebook(ipynb);
  const env = jupyterEnv();
  ensurePlotlyResources(); // the template inlines plotly.js from its folder
  await ensureWidgetBundle(); // and the widget renderer, in pages with widget state
  const conv = await runAsync(JUPYTER, ["nbconvert", "--to", "html", "--template", "featurelab", ipynb, "--output-dir", resolve(outDir)], { env });
  if (conv.status !== 0) throw new Error(`exporting ${ipynb} to HTML failed:\n${conv.stderr}`);
  return { ipynb, html, images: images ?? 0 };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [input, outDir = join(root, "out")] = process.argv.slice(2);
  if (!input) {
    console.error("usage: node scripts/export.mjs <notebook.ipynb> [outDir]");
    process.exit(2);
  }
  try {
    const { ipynb, html, images } = await exportNotebook(input, outDir);
    console.log(`executed notebook: ${ipynb} (${images} figure${images === 1 ? "" : "s"} with a static image)\nHTML report:       ${html}`);
  } catch (err) {
    console.error(`featurelab export: ${err.message}`);
    process.exit(1);
  }
}
