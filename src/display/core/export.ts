// fl.export(notebook, outDir): execute a notebook headless with the featurelab kernel, give every
// figure a static PNG for readers without JavaScript, save it signed and write a self-contained
// HTML page. A thin wrapper: the one implementation is scripts/export.mjs (also `npm run export`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** What `fl.export` wrote. */
export interface ExportResult {
  /** The executed, signed notebook. */
  ipynb: string;
  /** The self-contained HTML page. */
  html: string;
  /** Figures that got a static image (0 when chromium or playwright-core is missing). */
  images: number;
}

/**
 * Execute `notebook` and export it to `outDir` (default: the package's out/).
 * @example
 * const { html } = await fl.export("notebooks/quickstart.ipynb", "out");
 */
export async function exportNotebook(notebook: string, outDir?: string): Promise<ExportResult> {
  // Same relative path from src/display/core/ (tsx) and dist/display/core/ (the build).
  const script = new URL("../../../scripts/export.mjs", import.meta.url);
  if (!existsSync(fileURLToPath(script))) throw new Error(`featurelab: export needs ${fileURLToPath(script)} (shipped with the package)`);
  const mod = (await import(script.href)) as { exportNotebook(input: string, outDir?: string): Promise<ExportResult> };
  return mod.exportNotebook(notebook, outDir);
}
