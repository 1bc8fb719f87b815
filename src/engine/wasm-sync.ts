// tfjs-wasm started synchronously, so that no featurelab call needs `await fl.ready()` first.
// tfjs-wasm registers an async backend factory (it fetches and compiles its .wasm with promises), and
// tfjs skips async backends when it picks one by itself. In Node the binary is a local file: compiled
// and instantiated synchronously (emscripten's `instantiateWasm` hook), the module is ready when the
// factory returns. The factory runs on first use only, so importing featurelab stays fast.
import * as tf from "@tensorflow/tfjs";
import { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** tfjs-wasm's own priority: above "cpu", below "tensorflow" (tfjs-node). */
const WASM_PRIORITY = 2;

/** The SIMD build when this V8 compiles it, else the plain one; the same factory runs both. */
function compileWasm(dir: string): WebAssembly.Module {
  try {
    return new WebAssembly.Module(readFileSync(join(dir, "tfjs-backend-wasm-simd.wasm")));
  } catch {
    return new WebAssembly.Module(readFileSync(join(dir, "tfjs-backend-wasm.wasm")));
  }
}

/** A ready BackendWasm, built without a single await. */
function createWasmBackend(): BackendWasm {
  const factoryPath = require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.js");
  const factory = require(factoryPath) as (module: object) => Promise<unknown>;
  const compiled = compileWasm(dirname(factoryPath));
  let aborted: unknown;
  // Emscripten's Module object: the factory fills it in and, as instantiation returns at once, runs
  // the runtime before it returns. Its promise resolves the same object; nothing waits for it.
  const module: any = {
    instantiateWasm(imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
      const instance = new WebAssembly.Instance(compiled, imports);
      receive(instance, compiled);
      return instance.exports;
    },
    onAbort(what: unknown) {
      aborted = what;
    },
  };
  factory(module).catch(() => {}); // failures surface through onAbort and calledRun below
  if (aborted !== undefined || !module.calledRun) {
    throw new Error(`tfjs-wasm did not start synchronously${aborted !== undefined ? `: ${String(aborted)}` : ""}`);
  }
  // The bridge tfjs-wasm's init() builds before constructing its backend.
  module.tfjs = {
    init: module.cwrap("init", null, []),
    initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
    getThreadsCount: module.cwrap("get_threads_count", "number", []),
    registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
    disposeData: module.cwrap("dispose_data", null, ["number"]),
    dispose: module.cwrap("dispose", null, []),
  };
  return new BackendWasm(module);
}

let installed = false;

/** Replace tfjs-wasm's async factory with the synchronous one (once, before any backend starts). */
export function installSyncWasm(): void {
  if (installed) return;
  installed = true;
  if (tf.engine().registry["wasm"] !== undefined) return; // someone started it already: keep theirs
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", createWasmBackend, WASM_PRIORITY);
}

/**
 * Make `name` the tfjs backend without awaiting: every factory featurelab uses is synchronous, so
 * `tf.setBackend` has finished its work when it returns its promise. Undefined on success, else why not.
 */
export function setBackendNow(name: string): string | undefined {
  try {
    tf.setBackend(name).catch(() => {});
  } catch (err) {
    return String((err as Error)?.message ?? err).split("\n")[0];
  }
  return tf.engine().backendName === name ? undefined : `the "${name}" backend did not start (see the warning above)`;
}
