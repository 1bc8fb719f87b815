// Execute a notebook headless with the featurelab kernel, save it signed (it opens trusted, figures
// showing) and export a self-contained HTML page (plotly.js inlined once, nothing from the network).
// CLI: node scripts/export.mjs notebooks/x.ipynb [outDir]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { root, PYTHON, JUPYTER } from "./setup.mjs";

function jupyterEnv() {
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

/** Execute a notebook into `output`; returns the PID its kernel had (that kernel is gone by then). */
export function executeNotebook(input, output, { timeoutSeconds = 900, sign = false } = {}) {
  const pidfile = `${output}.kernel-pid`;
  let kernelPid;
  try {
    const r = spawnSync(PYTHON, [join(root, "scripts", "run-notebook.py"), input, output, "--timeout", "600", "--pidfile", pidfile, ...(sign ? ["--sign"] : [])], {
      stdio: ["ignore", "inherit", "pipe"],
      env: jupyterEnv(),
      timeout: timeoutSeconds * 1000,
      killSignal: "SIGKILL",
      encoding: "utf8",
    });
    if (r.error) throw new Error(`executing ${input}: ${r.error.message}`);
    if (r.status !== 0) throw Object.assign(new Error(`executing ${input} failed:\n${r.stderr}`), { kernelPid: readPid(pidfile) });
  } finally {
    kernelPid = killLeftoverKernel(pidfile);
  }
  return kernelPid;
}

function readPid(pidfile) {
  return existsSync(pidfile) ? Number(readFileSync(pidfile, "utf8")) : undefined;
}

export function exportNotebook(input, outDir) {
  const name = basename(input, ".ipynb");
  const ipynb = resolve(outDir, `${name}.ipynb`);
  const html = resolve(outDir, `${name}.html`);
  mkdirSync(resolve(outDir), { recursive: true });
  executeNotebook(resolve(input), ipynb, { sign: true });
  const env = jupyterEnv();
  const conv = spawnSync(JUPYTER, ["nbconvert", "--to", "html", "--template", "featurelab", ipynb, "--output-dir", resolve(outDir)], { env, encoding: "utf8" });
  if (conv.status !== 0) throw new Error(`exporting ${ipynb} to HTML failed:\n${conv.stderr}`);
  return { ipynb, html };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [input, outDir = join(root, "out")] = process.argv.slice(2);
  if (!input) {
    console.error("usage: node scripts/export.mjs <notebook.ipynb> [outDir]");
    process.exit(2);
  }
  try {
    const { ipynb, html } = exportNotebook(input, outDir);
    console.log(`executed notebook: ${ipynb}\nHTML report:       ${html}`);
  } catch (err) {
    console.error(`featurelab export: ${err.message}`);
    process.exit(1);
  }
}
