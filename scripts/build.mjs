// Compiles src/ to dist/ (ESM + type declarations). Run by `npm install` (prepare) and `npm run build`.
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePlotlyResources } from "./plotly-resources.mjs";
import { ensureWidgetBundle } from "./build-widgets.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let tsc;
try {
  tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
} catch {
  console.error("featurelab build: typescript is not installed; run `npm install` first");
  process.exit(1);
}
// Compile into a fresh folder, then swap it in: a process importing dist/ meanwhile never finds it
// missing, and files of deleted sources do not linger.
const fresh = join(root, `.dist-${process.pid}`);
const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.json"), "--outDir", fresh], { stdio: "inherit", cwd: root });
if (existsSync(fresh)) {
  const old = join(root, `.dist-old-${process.pid}`);
  if (existsSync(join(root, "dist"))) renameSync(join(root, "dist"), old);
  renameSync(fresh, join(root, "dist"));
  rmSync(old, { recursive: true, force: true });
}
if (r.status !== 0) process.exit(r.status ?? 1);

// node_modules/featurelab → this package, as an installed copy would be. Node finds the package by
// name through `exports` anyway; the TypeScript compiler inside tslab resolves modules the classic
// way (node_modules lookup) and needs the link to see the types.
const link = join(root, "node_modules", "featurelab");
let present = false;
try {
  lstatSync(link);
  present = true;
} catch {}
if (!present && existsSync(join(root, "node_modules"))) symlinkSync("..", link, "dir");

// plotly.js beside the kernelspec (the Jupyter server serves it to figures) and the HTML template.
ensurePlotlyResources();
// The offline widget renderer for exported HTML (widgets/offline-embed.js bundled by esbuild) at
// dist/widgets/embed.js and beside the template; rebuilt only when it is missing or older than its sources.
await ensureWidgetBundle();
