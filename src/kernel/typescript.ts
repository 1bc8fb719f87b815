// The TypeScript module tslab compiles with: one copy per thread, shared by tslab and the kernel's
// parser uses, loaded through V8's code cache (code-cache.ts).
import { createRequire } from "node:module";
import { requireCached } from "./code-cache.js";

const require = createRequire(import.meta.url);

export type TS = typeof import("@tslab/typescript-for-tslab");

let ts: TS | undefined;
let path: string | undefined;

/** Where tslab's TypeScript is: the file tslab itself requires. */
export function typescriptPath(): string {
  path ??= createRequire(require.resolve("tslab/dist/converter.js")).resolve("@tslab/typescript-for-tslab");
  return path;
}

export function typescript(): TS {
  ts ??= requireCached(typescriptPath()).exports as TS;
  return ts;
}

/** Keep the compiled TypeScript in the code cache, once it has compiled a program (more of it is then compiled). */
export function saveTypescriptCache(): void {
  requireCached(typescriptPath()).save();
}

/**
 * Replace some of TypeScript's functions for tslab's converter, which is loaded after this: the copy
 * tslab requires becomes an object over the previous one with `overrides(previous)` on top (each
 * override calls through `previous`, untyped: it forwards whatever tslab passes).
 */
export function overrideForTslab(overrides: (previous: any) => Record<string, unknown>): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  typescript();
  const mod = require.cache[typescriptPath()]!;
  const previous = mod.exports;
  const next = Object.create(previous);
  // The converter imports it with __importStar: an __esModule object is used as it is.
  Object.defineProperty(next, "__esModule", { value: true });
  for (const [name, value] of Object.entries(overrides(previous))) Object.defineProperty(next, name, { value });
  mod.exports = next;
}
