// Chooses the compute engine once per process and says why. TensorFlow.js is always the tensor API;
// the engine decides what runs underneath:
//   "tensorflow" — @tensorflow/tfjs-node (native libtensorflow), when installed and faster than native;
//   "native"     — tfjs-wasm for element-wise work, OpenBLAS (the addon in native/) for every matMul,
//                  and fused C++ training steps for the architectures that have one;
//   "wasm"       — tfjs-wasm alone (SIMD, one thread), matMuls transposed explicitly first;
//   "cpu"        — tfjs's pure-JavaScript kernels, when nothing faster starts.
// FEATURELAB_BACKEND=<engine> asks for one engine and fails loudly if it cannot start.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { loadNative, type NativeAddon } from "./native.js";
import { installMatMulKernels, useNativeMatMul } from "./matmul-kernels.js";
import { installSyncWasm, setBackendNow } from "./wasm-sync.js";

installSyncWasm();

export type EngineName = "tensorflow" | "native" | "wasm" | "cpu";
const ENGINES: EngineName[] = ["tensorflow", "native", "wasm", "cpu"];

/** What `engine()` says: the engine, the tfjs backend under it, and why. */
export interface EngineInfo {
  /** What runs featurelab's computations. */
  engine: EngineName;
  /** The tfjs backend underneath ("tensorflow", "wasm" or "cpu"). */
  backend: string;
  /** One line on why this engine was chosen. */
  reason: string;
  /** Each engine considered, in order, with why it was skipped. */
  tried: { engine: EngineName; ok: boolean; note?: string }[];
  /** BLAS build and threads, when the native addon is loaded. */
  native?: { blas: string; core: string; threads: number };
}

let current: EngineInfo | undefined;

function tryBackend(name: string): string | undefined {
  return setBackendNow(name);
}

/** The addon's BLAS build and thread count, as EngineInfo.native reports them. */
function nativeSummary(addon: NativeAddon): NonNullable<EngineInfo["native"]> {
  const { blas, core, blasThreads } = addon.info();
  return { blas, core, threads: blasThreads };
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0];
}

/** Milliseconds for one [1024, 512]·[512, 4096] matMul on the current backend (after a warm-up). */
function timeMatMul(): number {
  return tf.tidy(() => {
    const a = tf.randomNormal([1024, 512]);
    const b = tf.randomNormal([512, 4096]);
    tf.matMul(a, b).dataSync();
    const t0 = performance.now();
    tf.matMul(a, b).dataSync();
    return performance.now() - t0;
  });
}

function startWasm(addon: NativeAddon | undefined): string | undefined {
  const failure = tryBackend("wasm");
  if (failure === undefined) {
    installMatMulKernels();
    useNativeMatMul(addon);
  }
  return failure;
}

function choose(): EngineInfo {
  const tried: EngineInfo["tried"] = [];
  const wanted = (process.env.FEATURELAB_BACKEND || undefined) as EngineName | undefined;
  if (wanted !== undefined && !ENGINES.includes(wanted)) {
    throw new Error(`featurelab: FEATURELAB_BACKEND=${wanted} is not an engine; use one of ${ENGINES.join(", ")}`);
  }
  const order = wanted ? [wanted] : ENGINES;
  const { addon, problem } = loadNative();
  const nativeInfo = addon ? nativeSummary(addon) : undefined;
  let tensorflowMs: number | undefined;

  for (const engine of order) {
    if (engine === "tensorflow") {
      // Optional: its install downloads libtensorflow, which some machines cannot reach.
      try {
        createRequire(import.meta.url)("@tensorflow/tfjs-node");
      } catch (err) {
        tried.push({ engine, ok: false, note: `@tensorflow/tfjs-node is not installed: ${firstLine(err)}` });
        continue;
      }
      const failure = tryBackend("tensorflow");
      if (failure !== undefined) {
        tried.push({ engine, ok: false, note: failure });
        continue;
      }
      if (wanted || !addon) {
        tried.push({ engine, ok: true });
        return { engine, backend: "tensorflow", reason: wanted ? `FEATURELAB_BACKEND=${wanted}` : "native libtensorflow through @tensorflow/tfjs-node", tried };
      }
      // Both are here: keep whichever multiplies matrices faster.
      tensorflowMs = timeMatMul();
      tried.push({ engine, ok: true, note: `matMul 1024×512×4096 in ${tensorflowMs.toFixed(1)} ms` });
      continue;
    }
    if (engine === "native") {
      if (!addon) {
        tried.push({ engine, ok: false, note: problem });
        continue;
      }
      const failure = startWasm(addon);
      if (failure !== undefined) {
        tried.push({ engine, ok: false, note: `tfjs-wasm did not start: ${failure}` });
        continue;
      }
      if (tensorflowMs !== undefined) {
        const nativeMs = timeMatMul();
        if (tensorflowMs <= nativeMs) {
          tryBackend("tensorflow");
          tried.push({ engine, ok: false, note: `matMul in ${nativeMs.toFixed(1)} ms: slower than tfjs-node` });
          return { engine: "tensorflow", backend: "tensorflow", reason: `tfjs-node measured faster than OpenBLAS here (${tensorflowMs.toFixed(1)} vs ${nativeMs.toFixed(1)} ms per matMul)`, tried };
        }
        tried.push({ engine, ok: true, note: `matMul in ${nativeMs.toFixed(1)} ms` });
      } else tried.push({ engine, ok: true });
      const why = wanted ? `FEATURELAB_BACKEND=${wanted}` : tensorflowMs !== undefined ? "OpenBLAS measured faster than tfjs-node" : "tfjs-node is not installed";
      return { engine, backend: "wasm", reason: `OpenBLAS (${nativeInfo!.core}, ${nativeInfo!.threads} threads) for matMul and fused training steps, tfjs-wasm for the rest (${why})`, tried, native: nativeInfo };
    }
    const failure = engine === "wasm" ? startWasm(undefined) : tryBackend(engine);
    if (failure === undefined) {
      tried.push({ engine, ok: true });
      const reason = wanted
        ? `FEATURELAB_BACKEND=${wanted}`
        : engine === "wasm"
          ? `WebAssembly SIMD kernels, one thread (${problem ?? "the native addon did not start"})`
          : "pure-JavaScript kernels: every faster engine failed";
      return { engine, backend: engine, reason, tried };
    }
    tried.push({ engine, ok: false, note: failure });
  }
  throw new Error(`featurelab: no compute engine could start (${tried.map((t) => `${t.engine}: ${t.note}`).join("; ")})`);
}

/**
 * Starts the compute engine if it has not started (synchronously, on first use: every computation
 * calls it, so no script needs `await fl.ready()`), and says which it is.
 */
export function ensureEngine(): EngineInfo {
  current ??= choose();
  return current;
}

/**
 * Resolves once the engine is ready. Optional: every computation starts the engine itself.
 * @example
 * fl.ready().then((info) => console.log(info.engine));   // never needed: the first computation starts the engine
 */
export function ready(): Promise<EngineInfo> {
  try {
    return Promise.resolve(ensureEngine());
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Which engine runs and why (starting it if need be).
 * @example
 * console.log((await fl.engine()).reason);
 */
export async function engine(): Promise<EngineInfo> {
  return ensureEngine();
}

/**
 * Switch between the "native" and "wasm" engines in a running process (both sit on tfjs-wasm),
 * e.g. to check that they agree. Returns the engine that was active before.
 */
export async function useEngine(name: "native" | "wasm"): Promise<EngineName> {
  const before = (await engine()).engine;
  if (before !== "native" && before !== "wasm") throw new Error(`featurelab: useEngine("${name}") switches between native and wasm; this process runs ${before}`);
  const { addon, problem } = loadNative();
  if (name === "native" && !addon) throw new Error(`featurelab: the native engine is not available: ${problem}`);
  useNativeMatMul(name === "native" ? addon : undefined);
  const nativeInfo = addon ? nativeSummary(addon) : undefined;
  current = { ...current!, engine: name, reason: `useEngine("${name}")`, ...(name === "native" ? { native: nativeInfo } : { native: undefined }) };
  return before;
}

/** The native addon when the native engine is the one running, else undefined. */
export function nativeEngine(): NativeAddon | undefined {
  return ensureEngine().engine === "native" ? loadNative().addon : undefined;
}

export { tf };
