// The TypeScript module tslab compiles with: one copy per thread, shared by tslab and the kernel's
// parser uses, loaded through V8's code cache (code-cache.ts).
import { createRequire } from "node:module";
import { requireCached } from "./code-cache.js";

const require = createRequire(import.meta.url);

export type TS = typeof import("@tslab/typescript-for-tslab");

let ts: TS | undefined;

/** Where tslab's TypeScript is: the file tslab itself requires. */
export function typescriptPath(): string {
  return createRequire(require.resolve("tslab/dist/converter.js")).resolve("@tslab/typescript-for-tslab");
}

export function typescript(): TS {
  ts ??= requireCached(typescriptPath()).exports as TS;
  return ts;
}

/** Keep the compiled TypeScript in the code cache, once it has compiled a program (more of it is then compiled). */
export function saveTypescriptCache(): void {
  requireCached(typescriptPath()).save();
}
