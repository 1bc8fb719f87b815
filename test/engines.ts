// Run a check on every engine this process can switch between (native when the addon is built, and
// wasm), restoring the engine that ran before.
import { ready, engine, useEngine } from "../src/engine/backend.js";
import { loadNative } from "../src/engine/native.js";

export async function availableEngines(): Promise<("native" | "wasm")[]> {
  const e = (await ready()).engine;
  if (e !== "native" && e !== "wasm") return [];
  return loadNative().addon ? ["native", "wasm"] : ["wasm"];
}

export async function forEachEngine(check: (name: "native" | "wasm") => Promise<void> | void): Promise<void> {
  const before = (await engine()).engine;
  try {
    for (const name of await availableEngines()) {
      await useEngine(name);
      try {
        await check(name);
      } catch (err) {
        (err as Error).message = `[engine ${name}] ${(err as Error).message}`;
        throw err;
      }
    }
  } finally {
    if (before === "native" || before === "wasm") await useEngine(before);
  }
}
