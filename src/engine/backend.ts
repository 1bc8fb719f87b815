// Chooses the TensorFlow.js backend once per process and says why.
// Order: tfjs-node ("tensorflow", native libtensorflow) → wasm (SIMD) → cpu (pure JS, slowest).
// The full @tensorflow/tfjs (core with gradients and method chaining, cpu backend, layers), so
// `fl.tf` is the tfjs users know; the wasm backend is registered beside it.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";

export interface EngineInfo {
  /** The tfjs backend every featurelab computation runs on. */
  backend: string;
  /** One line on why this backend was chosen. */
  reason: string;
  /** Each backend tried, in order, with the reason it was skipped. */
  tried: { backend: string; ok: boolean; note?: string }[];
}

let pending: Promise<EngineInfo> | undefined;

async function tryBackend(name: string): Promise<string | undefined> {
  try {
    const ok = await tf.setBackend(name);
    return ok ? undefined : `tf.setBackend("${name}") returned false`;
  } catch (err) {
    return (err as Error).message;
  }
}

async function choose(): Promise<EngineInfo> {
  const tried: EngineInfo["tried"] = [];
  const wanted = process.env.FEATURELAB_BACKEND;
  // tfjs-node is optional: its install downloads libtensorflow, which some machines cannot reach.
  try {
    createRequire(import.meta.url)("@tensorflow/tfjs-node");
  } catch (err) {
    tried.push({ backend: "tensorflow", ok: false, note: `@tensorflow/tfjs-node not usable: ${firstLine(err)}` });
  }
  const order = wanted ? [wanted] : ["tensorflow", "wasm", "cpu"];
  for (const name of order) {
    if (!tf.findBackendFactory(name)) {
      if (!tried.some((t) => t.backend === name)) tried.push({ backend: name, ok: false, note: "not registered" });
      continue;
    }
    const failure = await tryBackend(name);
    if (failure === undefined) {
      tried.push({ backend: name, ok: true });
      const reason = wanted
        ? `FEATURELAB_BACKEND=${wanted}`
        : name === "tensorflow"
          ? "native libtensorflow through @tensorflow/tfjs-node"
          : name === "wasm"
            ? "WebAssembly SIMD kernels (tfjs-node is not installed)"
            : "pure-JavaScript kernels: every faster backend failed";
      return { backend: name, reason, tried };
    }
    tried.push({ backend: name, ok: false, note: failure });
  }
  throw new Error(
    `featurelab: no TensorFlow.js backend could start (${tried.map((t) => `${t.backend}: ${t.note}`).join("; ")})`,
  );
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0];
}

/** Resolves once the backend is ready; every async featurelab entry point awaits it. */
export function ready(): Promise<EngineInfo> {
  pending ??= choose();
  return pending;
}

/** Which backend runs and why (awaits the choice). */
export async function engine(): Promise<EngineInfo> {
  return ready();
}

/** Throws a clear error when a synchronous computation runs before the backend is ready. */
export function assertReady(what: string): void {
  const name = tf.getBackend();
  if (pending === undefined || name === undefined) {
    throw new Error(`featurelab: ${what} needs the compute engine; run \`await fl.ready()\` first`);
  }
}

export { tf };
