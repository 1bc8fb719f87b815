// What code running in the kernel reaches the notebook through: process.stdout/stderr become
// stream messages; `globalThis.__featurelab_kernel__` (read by src/display/core/kernel.ts) sends display
// bundles, clears output, and registers and opens comms; tslab's own display API is routed the same
// way; console.clear() clears the cell's output. Cells also get globals as in Deno's notebooks:
// `prompt()` and `confirm()` (input from the user, stdin.ts) and `display(x)`.
import { attachRepresenter, bundleOf, mimeData, type Bundle } from "./results.js";
import type { Stdin } from "./stdin.js";
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
  /** A line of text from the notebook's user (input_request on stdin); `fl.input` uses it. */
  input(prompt: string, opts?: { password?: boolean }): Promise<string>;
}

/** Options of the global `display(x, options)`, as Deno's `Deno.jupyter.display` takes them. */
export interface DisplayOptions {
  /** `x` is a MIME bundle to send as it is. */
  raw?: boolean;
  display_id?: string;
  /** Replace the output shown with `display_id`. */
  update?: boolean;
}

/** The globals cells see, declared for the type checker (execution.ts prepends this to the cells' declarations). */
export const GLOBALS_DECLARATION = `export {};
declare global {
  /** Ask the notebook's user for a line of text; the cell waits for the answer. An empty answer gives defaultValue. */
  function prompt(message?: string, defaultValue?: string): string;
  /** Ask the notebook's user a yes/no question ("message [y/N]"): true for y or Y. */
  function confirm(message?: string): boolean;
  /** Show a value in the cell's output: featurelab's display for its objects, Symbol.for("Jupyter.display") where a value has it, else text. */
  function display(value: unknown, options?: { raw?: boolean; display_id?: string; update?: boolean }): Promise<void>;
}
`;

/** Displays started by the global display() that the cell did not await: the kernel waits for them before it replies. */
const pendingDisplays = new Set<Promise<unknown>>();

export async function displaysSettled(): Promise<void> {
  while (pendingDisplays.size > 0) await Promise.allSettled([...pendingDisplays]);
}

export function installBridge(link: Link, comms: Comms, widgets: WidgetControl, parent: () => Parent | undefined, stdin: Stdin): Bridge {
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
    input: (prompt, opts = {}) => stdin.readAsync(String(prompt ?? ""), Boolean(opts.password), "fl.input()"),
  };
  (globalThis as Record<string, unknown>)[BRIDGE] = bridge;

  // Deno's notebook globals. prompt() and confirm() block the cell until the user answers.
  const globals = globalThis as Record<string, unknown>;
  let lastDisplay: Promise<void> = Promise.resolve();
  globals.prompt = (message: unknown = "Prompt", defaultValue: unknown = "") => {
    const fallback = defaultValue === undefined || defaultValue === null ? "" : String(defaultValue);
    const answer = stdin.read(`${String(message)}${fallback !== "" ? ` [${fallback}]` : ""} `, false, "prompt()");
    return answer === "" ? fallback : answer;
  };
  globals.confirm = (message: unknown = "Confirm") => {
    const answer = stdin.read(`${String(message)} [y/N] `, false, "confirm()");
    return answer === "y" || answer === "Y";
  };
  globals.display = (value: unknown, options: DisplayOptions = {}) => {
    const raw = options.raw && typeof value === "object" && value !== null && !Array.isArray(value);
    const data = raw ? Promise.resolve(value as Bundle) : bundleOf(value);
    // Shown in the order display() was called, whichever bundle is ready first.
    const shown = lastDisplay.catch(() => {}).then(async () => {
      bridge.display({ data: await data, metadata: {}, transient: options.display_id ? { display_id: options.display_id } : {} }, Boolean(options.update));
    });
    lastDisplay = shown;
    pendingDisplays.add(shown);
    void shown.finally(() => pendingDisplays.delete(shown)).catch(() => {});
    return shown;
  };
  // Cells compile names declared in GLOBALS_DECLARATION as the cells' own variables (tslab's exports).
  const cellVariables = (globals.__tslab__ as { exports?: Record<string, unknown> } | undefined)?.exports;
  if (cellVariables) for (const name of ["prompt", "confirm", "display"]) cellVariables[name] = globals[name];

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
