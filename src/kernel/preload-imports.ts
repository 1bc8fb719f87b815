// While the compiler thread type-checks a cell, the main thread loads the packages the cell imports
// (a first `import * as fl from "featurelab"` spends ~0.7 s loading TensorFlow.js, Arrow and the rest
// and ~1 s type-checking their declarations: done side by side, the cell answers in the longer of the
// two). Only packages — bare specifiers resolved from node_modules, as the cell's require would — are
// loaded early, never the user's own files, which they may be editing; a package that fails to load
// here is left for the cell's own import to report.
import { createRequire } from "node:module";
import { join } from "node:path";
import { trace } from "./trace.js";
import { typescript } from "./typescript.js";

const TYPE_ONLY = /\b(import|export)\s+type\b[^;]*$/;

/** The packages a cell imports as values (not `import type`, not relative paths, not node: builtins). */
export function importedPackages(src: string): string[] {
  const found = new Set<string>();
  // TypeScript's pre-processor: import declarations, import() and require() calls, not comments or strings.
  for (const { fileName: spec, pos } of typescript().preProcessFile(src, true, true).importedFiles) {
    if (spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("node:") || spec === "tslab") continue;
    const statementStart = Math.max(src.lastIndexOf(";", pos), src.lastIndexOf("\n", pos));
    if (TYPE_ONLY.test(src.slice(statementStart + 1, pos))) continue;
    found.add(spec);
  }
  return [...found];
}

const tried = new Set<string>();

/** Load (once) the packages `src` imports, resolved from `cwd` as the cells' require resolves them. */
export function preloadImports(cwd: string, src: string): void {
  const specs = importedPackages(src).filter((s) => !tried.has(s));
  if (specs.length === 0) return;
  const require = createRequire(join(cwd, "__tslab__.js"));
  for (const spec of specs) {
    tried.add(spec);
    try {
      require(spec);
      trace(`preloaded ${spec}`);
    } catch {}
  }
}
