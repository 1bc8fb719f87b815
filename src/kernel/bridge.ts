// What code running in the kernel reaches the notebook through: process.stdout/stderr become
// stream messages; `globalThis.__featurelab_kernel__` (read by src/display/core/kernel.ts) sends display
// bundles, clears output, and registers and opens comms; tslab's own display API is routed the same
// way; console.clear() clears the cell's output.
import { attachRepresenter, mimeData, type Bundle } from "./results.js";
import type { Comm, CommTargetHandler, Comms } from "./comms.js";
import type { Link, Parent } from "./link.js";
import { kernelLog } from "./link.js";
import type { WidgetControl, WidgetStates } from "./widget-control.js";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export const BRIDGE = "__featurelab_kernel__";

export interface DisplayContent {
  data: Bundle;
  metadata?: Record<string, unknown>;
  transient?: { display_id?: string };
}

export interface Bridge {
  display(content: DisplayContent, update: boolean): void;
  clearOutput(wait?: boolean): void;
  registerCommTarget(name: string, handler: CommTargetHandler): void;
  unregisterCommTarget(name: string): void;
  openComm(targetName: string, data?: unknown, opts?: { metadata?: Record<string, unknown>; buffers?: Uint8Array[] }): Comm;
  /** featurelab calls this when it loads, so cells' last values show with its displays. */
  attach(featurelab: { represent?: (x: unknown) => Bundle | Promise<Bundle> }): void;
  setWidgetStates(provider: () => WidgetStates): void;
  cellId(): string | undefined;
  onCellStart(listener: (cellId: string | undefined) => void): void;
  widgetFrontend(): boolean;
  log(message: string): void;
}

export function installBridge(link: Link, comms: Comms, widgets: WidgetControl, parent: () => Parent | undefined): Bridge {
  const publish = (msgType: string, content: Record<string, unknown>) => {
    const p = parent();
    if (!p) throw new Error("featurelab kernel: no cell has run yet, so there is no output to write to");
    link.publish(msgType, content, p);
  };
  const bridge: Bridge = {
    display(content, update) {
      const transient = content.transient?.display_id ? { display_id: content.transient.display_id } : {};
      const type = update && "display_id" in transient ? "update_display_data" : "display_data";
      publish(type, { data: mimeData(content.data), metadata: content.metadata ?? {}, transient });
    },
    clearOutput(wait = false) {
      publish("clear_output", { wait: Boolean(wait) });
    },
    registerCommTarget: (name, handler) => comms.registerTarget(name, handler),
    unregisterCommTarget: (name) => comms.unregisterTarget(name),
    openComm: (targetName, data, opts) => comms.openComm(targetName, data, opts),
    attach(featurelab) {
      attachRepresenter(featurelab.represent);
    },
    setWidgetStates: (provider) => widgets.setProvider(provider),
    cellId: () => widgets.cellId(),
    onCellStart: (listener) => widgets.onCellStart(listener),
    widgetFrontend: () => widgets.frontendSeen,
    log: (message) => kernelLog(message),
  };
  (globalThis as Record<string, unknown>)[BRIDGE] = bridge;

  // tslab's display API (`import * as tslab from "tslab"; tslab.display.html(…)`).
  const tslabJupyter = require("tslab/dist/jupyter.js") as { lastWriteDisplayData: unknown };
  tslabJupyter.lastWriteDisplayData = (content: DisplayContent, update: boolean) => bridge.display(content, update);

  // Output written while a cell runs — or later, by what it started — goes to the last cell (as in ipykernel).
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error) => void), cb?: (err?: Error) => void) => {
      const p = parent();
      if (!p) return original(chunk, encoding, cb);
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString(typeof encoding === "string" ? encoding : "utf8");
      link.stream(name, text, p);
      const done = typeof encoding === "function" ? encoding : cb;
      if (done) process.nextTick(done);
      return true;
    }) as typeof stream.write;
  }
  console.clear = () => {
    if (parent()) bridge.clearOutput(false);
  };
  return bridge;
}
