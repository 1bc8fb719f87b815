// The kernel's side of `jupyter.widget.control` (ipywidgets' control comm): a widget manager that
// connects (JupyterLab, Notebook 7, VS Code — on opening a notebook or reconnecting) asks for every
// widget's state in one message. featurelab's widget registry provides the states through the bridge;
// before featurelab is imported there are none. The kernel also notes that a widget manager is
// listening, so displays that update in place can rely on widget state alone.
import type { Comm, CommMessage, Comms } from "./comms.js";
import { kernelLog } from "./link.js";

export interface WidgetStates {
  states: Record<string, unknown>;
  buffer_paths: (string | number)[][];
  buffers: Uint8Array[];
}

export class WidgetControl {
  private provider?: () => WidgetStates;
  private listeners: ((cellId: string | undefined) => void)[] = [];
  private cell: string | undefined;
  /** A widget manager has opened the control comm or sent a widget message. */
  frontendSeen = false;

  constructor(comms: Comms) {
    comms.registerTarget("jupyter.widget.control", (comm) => {
      this.frontendSeen = true;
      comm.onMsg((m) => this.answer(comm, m));
    });
  }

  private answer(comm: Comm, m: CommMessage): void {
    const method = (m.data as { method?: unknown } | null)?.method;
    if (method !== "request_states") {
      kernelLog(`jupyter.widget.control: refused a message with method ${JSON.stringify(method)} (expected request_states)`);
      return;
    }
    const s = this.provider?.() ?? { states: {}, buffer_paths: [], buffers: [] };
    comm.send({ method: "update_states", states: s.states, buffer_paths: s.buffer_paths }, { buffers: s.buffers });
  }

  setProvider(provider: () => WidgetStates): void {
    this.provider = provider;
  }

  onCellStart(listener: (cellId: string | undefined) => void): void {
    this.listeners.push(listener);
  }

  /** An execute request begins: its cell id (JupyterLab, Notebook 7 and VS Code send one) goes to the listeners. */
  cellStarted(cellId: string | undefined): void {
    this.cell = cellId;
    for (const l of this.listeners) {
      try {
        l(cellId);
      } catch (err) {
        kernelLog("a cell-start listener failed:", err);
      }
    }
  }

  cellId(): string | undefined {
    return this.cell;
  }
}
