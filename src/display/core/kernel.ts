// The bridge to the notebook kernel. featurelab's kernel (src/kernel) puts an object on globalThis
// with which code in a cell displays bundles, clears its output and talks to the page over comms;
// outside a kernel there is none and displays fall back to text.
import { optionNames, rejectUnknownOptions } from "../../io/options.js";

/** A message on a comm: JSON data, metadata and optional binary buffers. */
export interface CommMessage {
  data: unknown;
  metadata: Record<string, unknown>;
  buffers: Uint8Array[];
}

/** One end of a comm: a two-way channel between kernel code and code in the page. */
export interface Comm {
  readonly id: string;
  readonly targetName: string;
  readonly closed: boolean;
  send(data: unknown, opts?: { metadata?: Record<string, unknown>; buffers?: Uint8Array[] }): void;
  close(data?: unknown): void;
  onMsg(handler: (m: CommMessage) => void | Promise<void>): Comm;
  onClose(handler: (m: CommMessage) => void | Promise<void>): Comm;
}

export type CommTargetHandler = (comm: Comm, open: CommMessage) => void | Promise<void>;

interface KernelBridge {
  display(content: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: { display_id?: string } }, update: boolean): void;
  // The featurelab kernel has these; tslab's own kernel (the bridge from an older launcher) did not.
  clearOutput?(wait?: boolean): void;
  registerCommTarget?(name: string, handler: CommTargetHandler): void;
  unregisterCommTarget?(name: string): void;
  openComm?(targetName: string, data?: unknown, opts?: { metadata?: Record<string, unknown>; buffers?: Uint8Array[] }): Comm;
  attach?(featurelab: { represent(x: unknown): Record<string, unknown> | Promise<Record<string, unknown>> }): void;
  // Widgets (src/display/widgets): the kernel answers jupyter.widget.control's request_states with
  // these states, says which cell runs and when one starts, and logs refused messages.
  setWidgetStates?(provider: () => { states: Record<string, unknown>; buffer_paths: (string | number)[][]; buffers: Uint8Array[] }): void;
  cellId?(): string | undefined;
  onCellStart?(listener: (cellId: string | undefined) => void): void;
  /** Whether a widget manager has spoken to this kernel (JupyterLab, Notebook 7, VS Code do on connecting). */
  widgetFrontend?(): boolean;
  log?(message: string): void;
  /** A line of text from the notebook's user (Jupyter's input_request on the stdin channel). */
  input?(prompt: string, opts?: { password?: boolean }): Promise<string>;
}

const BRIDGE = "__featurelab_kernel__";

export function kernel(): KernelBridge | undefined {
  return (globalThis as Record<string, unknown>)[BRIDGE] as KernelBridge | undefined;
}

export function inKernel(): boolean {
  return kernel() !== undefined;
}

let counter = 0;
export function newDisplayId(): string {
  return `fl-${process.pid.toString(36)}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

/** Where displays go while an Output widget captures them (innermost last). */
export interface CaptureSink {
  display(data: Record<string, unknown>): void;
  clear(): void;
}
const captures: CaptureSink[] = [];

/** Run `fn` with displays (sendBundle, clearOutput) going to `sink` instead of the cell. */
export async function withCapture<T>(sink: CaptureSink, fn: () => T | Promise<T>): Promise<T> {
  captures.push(sink);
  try {
    return await fn();
  } finally {
    captures.splice(captures.lastIndexOf(sink), 1);
  }
}

/** A message about widgets for the kernel's log (the Jupyter server's terminal), or stderr outside a kernel. */
export function widgetLog(message: string): void {
  const k = kernel();
  if (k?.log) k.log(`widgets: ${message}`);
  else console.warn(`featurelab widgets: ${message}`);
}

/** Send a bundle to the notebook; with an id, later calls with update=true replace it in place. */
export function sendBundle(data: Record<string, unknown>, opts: { displayId?: string; update?: boolean } = {}): boolean {
  const sink = captures[captures.length - 1];
  if (sink && !opts.update) {
    sink.display(data);
    return true;
  }
  const k = kernel();
  if (!k) return false;
  k.display({ data, metadata: {}, transient: opts.displayId ? { display_id: opts.displayId } : {} }, opts.update ?? false);
  return true;
}

/**
 * Clear the cell's output (with wait, when the next output arrives: flicker-free animation). False outside a kernel.
 * @example
 * fl.clearOutput({ wait: true });
 */
export function clearOutput(opts: { wait?: boolean } = {}): boolean {
  rejectUnknownOptions("clearOutput", opts, optionNames<typeof opts>({ wait: true }));
  const sink = captures[captures.length - 1];
  if (sink) {
    sink.clear();
    return true;
  }
  const k = kernel();
  if (!k?.clearOutput) return false;
  k.clearOutput(opts.wait ?? false);
  return true;
}

/**
 * Ask the notebook's user for a line of text (with `password`, typed hidden). The cell waits for the
 * answer while other asynchronous work goes on; an interrupt ends the wait with an error, and so does a
 * frontend that does not accept input (allow_stdin false, as nbclient runs notebooks). In the featurelab
 * kernel `prompt()` and `confirm()` ask synchronously, as in a browser.
 * @example
 * const name = await fl.input("Run name?");
 * const token = await fl.input("Token:", { password: true });
 */
export async function input(prompt = "", opts: { password?: boolean } = {}): Promise<string> {
  rejectUnknownOptions("input", opts, optionNames<typeof opts>({ password: true }));
  const k = kernel();
  if (!k?.input) throw new Error("fl.input needs the featurelab kernel: there is no notebook to ask");
  return k.input(prompt, { password: opts.password ?? false });
}

/**
 * Answer comms the page opens to `name` (e.g. a dashboard asking for a feature's data on click).
 * False outside a kernel that has comms: the page then keeps to the data embedded in it.
 * @example
 * fl.registerCommTarget("my-target", (comm) => {
 *   comm.onMsg((msg) => console.log(msg.data));
 * });
 */
export function registerCommTarget(name: string, handler: CommTargetHandler): boolean {
  const k = kernel();
  if (!k?.registerCommTarget) return false;
  k.registerCommTarget(name, handler);
  return true;
}

/**
 * Stop accepting comms for a target registered with `registerCommTarget`.
 * @example
 * fl.unregisterCommTarget("my-target");
 */
export function unregisterCommTarget(name: string): void {
  kernel()?.unregisterCommTarget?.(name);
}

/**
 * Open a comm to a target the page registered; undefined outside a kernel with comms.
 * @example
 * const comm = fl.openComm("page-target", { hello: 1 });
 */
export function openComm(targetName: string, data?: unknown, opts: { metadata?: Record<string, unknown>; buffers?: Uint8Array[] } = {}): Comm | undefined {
  rejectUnknownOptions("openComm", opts, optionNames<typeof opts>({ metadata: true, buffers: true }));
  return kernel()?.openComm?.(targetName, data, opts);
}

// Tell the kernel how featurelab displays values, so a cell's last value shows as fl.show shows it
// (featurelab's own module instance: the one the notebook imported). Loaded lazily: represent.ts
// imports most of featurelab, and this file is imported by some of it.
kernel()?.attach?.({ represent: async (x) => (await import("./represent.js")).represent(x) });
