// A cell that fills the JavaScript heap gets an error, not a dead kernel. V8 ends the process when the
// heap reaches its limit; the native addon's near-heap-limit callback (native/heap_guard.cc) gives the
// heap a little more room and raises SIGINT, which stops the cell as an interrupt would. Execution
// then tells an interrupt from an out-of-memory stop by the guard's count. Without the addon (not
// built, FEATURELAB_NATIVE=0) there is no guard, and V8 ends the kernel as it would anywhere.
import { getHeapStatistics } from "node:v8";
import { loadNative } from "../engine/native.js";

export interface HeapGuard {
  /** How many times the heap has reached its limit since the kernel started. */
  hits(): number;
  /** The heap limit the kernel started with, in MB. */
  limitMB: number;
}

interface GuardAddon {
  installHeapGuard(): boolean;
  heapGuardHits(): number;
}

/** Installs the guard once; undefined when the native addon is not there. */
export function installHeapGuard(): HeapGuard | undefined {
  const addon = loadNative().addon as unknown as Partial<GuardAddon> | undefined;
  if (!addon?.installHeapGuard || !addon.heapGuardHits) return undefined;
  addon.installHeapGuard();
  const hits = addon.heapGuardHits.bind(addon);
  return { hits, limitMB: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20) };
}

/** The error a cell stopped by the guard reports. */
export function outOfMemoryMessage(limitMB: number): string {
  return (
    `the cell filled the JavaScript heap (limit ${limitMB} MB) and was stopped; the kernel lives on. ` +
    `What it kept in variables still holds memory: free it (e.g. set them to undefined), or restart the kernel. ` +
    `Large numeric data belongs in typed arrays (Float32Array), which live outside this limit; ` +
    `NODE_OPTIONS=--max-old-space-size=<MB> raises the limit.`
  );
}
