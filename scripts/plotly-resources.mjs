// plotly.js where Jupyter serves and nbconvert inlines it: a copy of the installed plotly.js-dist-min
// beside the kernelspec (the Jupyter server serves a kernelspec's folder at
// {baseUrl}kernelspecs/featurelab/, so figures in a notebook load it from there, with no network and no
// copy in the saved notebook) and beside the HTML template (which inlines it once per exported page).
// Both are build products (gitignored), refreshed by `npm run build` (so `npm install`) and by the export.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const PLOTLY_COPIES = ["jupyter/kernels/featurelab/plotly.min.js", "jupyter/nbconvert/templates/featurelab/plotly.min.js"].map((p) => join(root, p));

/**
 * Copy plotly.min.js to where Jupyter and nbconvert look for it, where it is missing or differs; each
 * copy is written beside and renamed into place, so a reader never sees half a file (exports run in
 * parallel).
 */
export function ensurePlotlyResources() {
  const source = readFileSync(createRequire(join(root, "package.json")).resolve("plotly.js-dist-min/plotly.min.js"));
  for (const copy of PLOTLY_COPIES) {
    if (existsSync(copy) && readFileSync(copy).equals(source)) continue;
    const tmp = `${copy}.${process.pid}.tmp`;
    writeFileSync(tmp, source);
    renameSync(tmp, copy);
  }
}
