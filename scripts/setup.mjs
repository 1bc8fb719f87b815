// Installs what featurelab's notebooks need and is missing: npm dependencies (and the build), and —
// as root on Debian — Jupyter and chromium through apt. Not root: prints the one apt line and stops.
// Usable alone (`node scripts/setup.mjs`) and from demo.mjs.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildNative, openblasHeadersPresent, ADDON } from "./build-native.mjs";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const PYTHON = "/usr/bin/python3";
export const JUPYTER = "/usr/bin/jupyter";
export const CHROMIUM = "/usr/bin/chromium";
const APT_PACKAGES = [
  "jupyter-client",
  "python3-nbclient",
  "jupyter-nbconvert",
  "python3-ipykernel",
  "libjs-mathjax",
  "libjs-requirejs",
  "python3-jupyter-kernel-test",
  // The classic notebook (6.4): to open the notebooks, and test/display/classic-notebook.test.ts drives it live.
  "python3-notebook",
  // jupyter_server (1.23): test/display/live-widgets.test.ts runs a JupyterLab-style page (@jupyterlab/services
  // and ipywidgets 8's widget manager) against it, and bench/widget-roundtrip.mjs times widgets there.
  "python3-jupyter-server",
  "python3-numpy",
  "chromium",
  // The native engine (native/): OpenBLAS for matMul and the fused training steps.
  "libopenblas-dev",
  "g++",
  "make",
];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function npmDepsPresent() {
  const marker = join(root, "node_modules", ".package-lock.json");
  if (!existsSync(marker) || !existsSync(join(root, "dist", "index.js"))) return false;
  const lock = join(root, "package-lock.json");
  return !existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs - 1000;
}

function jupyterPresent() {
  if (!existsSync(PYTHON) || !existsSync(JUPYTER) || !existsSync(CHROMIUM)) return false;
  const probe = spawnSync(PYTHON, ["-c", "import nbclient, nbconvert, ipykernel, jupyter_client, jupyter_kernel_test, notebook, numpy"], { stdio: "ignore" });
  return probe.status === 0 && openblasHeadersPresent();
}

export function setup({ quiet = false } = {}) {
  const log = (m) => quiet || console.log(`featurelab setup: ${m}`);
  if (!npmDepsPresent()) {
    log("installing npm dependencies (npm install)");
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    if (run(npm, ["install", "--no-audit", "--no-fund"]) !== 0) throw new Error("npm install failed");
  }
  if (!jupyterPresent()) {
    const apt = `apt-get install -y ${APT_PACKAGES.join(" ")}`;
    if (typeof process.getuid === "function" && process.getuid() === 0) {
      log(`installing Jupyter, chromium and OpenBLAS from Debian's packages (${apt})`);
      const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
      if (run("apt-get", ["update"], { env }) !== 0) throw new Error("apt-get update failed");
      if (run("apt-get", ["install", "-y", ...APT_PACKAGES], { env }) !== 0) throw new Error("apt-get install failed");
      if (!jupyterPresent()) throw new Error(`Jupyter is still missing after: ${apt}`);
    } else {
      console.error(`featurelab needs Debian's Jupyter packages and chromium. Run, as root:\n\n  sudo apt-get update && sudo ${apt}\n\nthen run this command again.`);
      process.exit(1);
    }
  }
  // npm install tried to build it already; apt may only now have brought libopenblas-dev.
  if (!existsSync(ADDON) && process.env.FEATURELAB_NATIVE !== "0") buildNative({ quiet });
  log("ready");
}

/**
 * What only the tests need: Debian's python3-torch and python3-sentencepiece, the independent references
 * of the model-family parity tests (test/models/decoder-reference.py) and of the SentencePiece-style
 * tokenizers (test/models/sentencepiece-reference.py), and python3-pydantic, with which circuit-tracer's
 * own models (frontend/graph_models.py) check our graph files (test/circuits/attribution/graph-json.test.ts).
 * Installed as root; otherwise those tests skip and say why.
 */
export function setupTests() {
  const missing = [["torch", "python3-torch"], ["sentencepiece", "python3-sentencepiece"], ["pydantic", "python3-pydantic"]]
    .filter(([module]) => spawnSync(PYTHON, ["-c", `import ${module}`], { stdio: "ignore" }).status !== 0)
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    console.error(`featurelab tests: /usr/bin/python3 lacks ${missing.join(" and ")}, so the parity tests that use them skip (as root: apt-get install -y ${missing.join(" ")})`);
    return;
  }
  console.log(`featurelab tests: installing Debian's ${missing.join(" and ")} (references of the parity tests)`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (run("apt-get", ["install", "-y", ...missing], { env }) !== 0) {
    run("apt-get", ["update"], { env });
    if (run("apt-get", ["install", "-y", ...missing], { env }) !== 0) console.error(`featurelab tests: apt-get install ${missing.join(" ")} failed; the parity tests that use them skip`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    setup();
  } catch (err) {
    console.error(`featurelab setup: ${err.message}`);
    process.exit(1);
  }
}
