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

export type EngineName = "tensorflow" | "native" | "wasm" | "cpu";
const ENGINES: EngineName[] = ["tensorflow", "native", "wasm", "cpu"];

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

let pending: Promise<EngineInfo> | undefined;
let current: EngineInfo | undefined;

async function tryBackend(name: string): Promise<string | undefined> {
  try {
    const ok = await tf.setBackend(name);
    return ok ? undefined : `tf.setBackend("${name}") returned false`;
  } catch (err) {
    return firstLine(err);
  }
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

async function startWasm(addon: NativeAddon | undefined): Promise<string | undefined> {
  const failure = await tryBackend("wasm");
  if (failure === undefined) {
    installMatMulKernels();
    useNativeMatMul(addon);
  }
  return failure;
}

async function choose(): Promise<EngineInfo> {
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
      const failure = await tryBackend("tensorflow");
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
      const failure = await startWasm(addon);
      if (failure !== undefined) {
        tried.push({ engine, ok: false, note: `tfjs-wasm did not start: ${failure}` });
        continue;
      }
      if (tensorflowMs !== undefined) {
        const nativeMs = timeMatMul();
        if (tensorflowMs <= nativeMs) {
          await tryBackend("tensorflow");
          tried.push({ engine, ok: false, note: `matMul in ${nativeMs.toFixed(1)} ms: slower than tfjs-node` });
          return { engine: "tensorflow", backend: "tensorflow", reason: `tfjs-node measured faster than OpenBLAS here (${tensorflowMs.toFixed(1)} vs ${nativeMs.toFixed(1)} ms per matMul)`, tried };
        }
        tried.push({ engine, ok: true, note: `matMul in ${nativeMs.toFixed(1)} ms` });
      } else tried.push({ engine, ok: true });
      const why = wanted ? `FEATURELAB_BACKEND=${wanted}` : tensorflowMs !== undefined ? "OpenBLAS measured faster than tfjs-node" : "tfjs-node is not installed";
      return { engine, backend: "wasm", reason: `OpenBLAS (${nativeInfo!.core}, ${nativeInfo!.threads} threads) for matMul and fused training steps, tfjs-wasm for the rest (${why})`, tried, native: nativeInfo };
    }
    const failure = engine === "wasm" ? await startWasm(undefined) : await tryBackend(engine);
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

/** Resolves once the engine is ready; every async featurelab entry point awaits it. */
export function ready(): Promise<EngineInfo> {
  pending ??= choose().then((info) => (current = info));
  return pending;
}

/** Which engine runs and why (awaits the choice). */
export async function engine(): Promise<EngineInfo> {
  await ready();
  return current!;
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
  return current?.engine === "native" ? loadNative().addon : undefined;
}

/** Throws a clear error when a synchronous computation runs before the engine is ready. */
export function assertReady(what: string): void {
  const name = tf.getBackend();
  if (pending === undefined || name === undefined) {
    throw new Error(`featurelab: ${what} needs the compute engine; run \`await fl.ready()\` first`);
  }
}

export { tf };
