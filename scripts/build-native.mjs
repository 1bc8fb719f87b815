// Builds the native engine (native/: OpenBLAS sgemm and fused SAE steps) with node-gyp, against this
// machine's Node headers and Debian's libopenblas-dev. Run by `npm install` and by setup.mjs after
// apt. A machine where it cannot build still installs: featurelab then runs on tfjs-wasm.
// FEATURELAB_NATIVE=0 skips the build.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ADDON = join(root, "native", "build", "Release", "featurelab_native.node");
const CBLAS = ["/usr/include/cblas.h", "/usr/include/x86_64-linux-gnu/cblas.h", "/usr/include/aarch64-linux-gnu/cblas.h"];

/** Whether OpenBLAS's C headers (Debian's libopenblas-dev) are installed. */
export function openblasHeadersPresent() {
  return CBLAS.some(existsSync);
}

/** node-gyp's entry script: npm's own copy (what `npm install` uses for addons), else a local one. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && join(dirname(process.env.npm_execpath), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    join(dirname(dirname(process.execPath)), "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  try {
    return createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js");
  } catch {
    return undefined;
  }
}

/** Node's headers shipped with this Node (Debian and the official tarballs put them in <prefix>/include/node). */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, "include", "node", "node_api.h")) ? prefix : undefined;
}

/** Builds the addon; returns why not, or undefined on success. Never throws. */
export function buildNative({ quiet = false } = {}) {
  const say = (m) => quiet || console.log(`featurelab native engine: ${m}`);
  if (process.env.FEATURELAB_NATIVE === "0") return say("skipped (FEATURELAB_NATIVE=0)"), "skipped";
  const missing = !openblasHeadersPresent() ? "libopenblas-dev (cblas.h)" : !nodeGyp() ? "node-gyp" : !nodeDir() ? "Node's headers (include/node)" : undefined;
  if (missing) {
    say(`not built: ${missing} is missing; featurelab runs on tfjs-wasm (as root, \`npm run demo\` installs libopenblas-dev and builds it)`);
    return missing;
  }
  const args = [nodeGyp(), "rebuild", "--directory", join(root, "native"), `--nodedir=${nodeDir()}`];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", env: { ...process.env, npm_config_nodedir: nodeDir() } });
  if (r.status !== 0 || !existsSync(ADDON)) {
    const tail = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-12).join("\n");
    rmSync(join(root, "native", "build"), { recursive: true, force: true });
    say(`build failed; featurelab runs on tfjs-wasm. node-gyp said:\n${tail}`);
    return "build failed";
  }
  say("built (OpenBLAS)");
  return undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) buildNative();
