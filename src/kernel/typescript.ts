// The TypeScript module tslab compiles with: one copy in the process, shared by the kernel's parser uses.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export type TS = typeof import("@tslab/typescript-for-tslab");

let ts: TS | undefined;

export function typescript(): TS {
  ts ??= require(createRequire(require.resolve("tslab/dist/converter.js")).resolve("@tslab/typescript-for-tslab")) as TS;
  return ts;
}
