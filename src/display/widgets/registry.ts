// The kernel's live widgets: what `jupyter.widget.control`'s request_states answers with (a frontend
// that connects late — a reopened JupyterLab tab — gets them all in one message), and which cell made
// and showed each one, so re-running a cell closes the views it replaces instead of leaking them.
import { kernel } from "../core/kernel.js";
import { removeBuffers } from "./buffers.js";
import type { Widget } from "./widget.js";

interface Entry {
  widget: Widget;
  /** The cell that was running when the widget was made (undefined: none, or a frontend without cell ids). */
  cell: string | undefined;
  /** Cells whose output shows the widget. */
  shownIn: Set<string | undefined>;
}

const live = new Map<string, Entry>();
let hooked = false;

function currentCell(): string | undefined {
  return kernel()?.cellId?.();
}

/** Tell the kernel where widget states come from and when cells start (once). */
function hook(): void {
  if (hooked) return;
  hooked = true;
  const k = kernel();
  k?.setWidgetStates?.(allStates);
  k?.onCellStart?.(closeReplaced);
}

/** @internal A new widget. */
export function adopt(w: Widget): void {
  hook();
  live.set(w.id, { widget: w, cell: currentCell(), shownIn: new Set() });
}

/** @internal A widget closed (by the kernel or a frontend). */
export function forget(w: Widget): void {
  live.delete(w.id);
}

/** @internal A widget displayed in the running cell. */
export function opened(w: Widget): void {
  live.get(w.id)?.shownIn.add(currentCell());
}

/**
 * The live widgets (open comms), newest last.
 * @example
 * console.log(fl.widgets.liveWidgets().length, "widgets open");
 */
export function liveWidgets(): Widget[] {
  return [...live.values()].map((e) => e.widget);
}

/**
 * Every live widget's state as ipywidgets' `update_states` gives it (what ManagerBase._loadFromKernel
 * reads): per model id { model_name, model_module, model_module_version, state }, binary values split
 * out with their paths as [model id, "state", ...path].
 */
export function allStates(): { states: Record<string, unknown>; buffer_paths: (string | number)[][]; buffers: Uint8Array[] } {
  const states: Record<string, unknown> = {};
  const buffer_paths: (string | number)[][] = [];
  const buffers: Uint8Array[] = [];
  for (const { widget } of live.values()) {
    const r = removeBuffers(widget.fullState());
    const { _model_name, _model_module, _model_module_version } = r.state as Record<string, unknown>;
    states[widget.id] = { model_name: _model_name, model_module: _model_module, model_module_version: _model_module_version, state: r.state };
    r.paths.forEach((p, i) => {
      buffer_paths.push([widget.id, "state", ...p]);
      buffers.push(r.buffers[i]);
    });
  }
  return { states, buffer_paths, buffers };
}

function referencedIds(w: Widget): string[] {
  const ids: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string" && v.startsWith("IPY_MODEL_")) ids.push(v.slice(10));
    else if (Array.isArray(v)) v.forEach(walk);
  };
  Object.values(w.fullState()).forEach(walk);
  return ids;
}

/**
 * A cell is running again: its old output is gone from the page, so the widgets it made and showed
 * only there close, with the parts only they held (layouts, styles, children made in that cell).
 * Widgets it made that other cells show stay.
 */
export function closeReplaced(cell: string | undefined): void {
  if (cell === undefined) return;
  const owned = (e: Entry | undefined): e is Entry => e !== undefined && e.cell === cell && [...e.shownIn].every((c) => c === cell);
  const doomed = new Set<string>();
  const visit = (id: string) => {
    const e = live.get(id);
    if (doomed.has(id) || !owned(e)) return;
    doomed.add(id);
    referencedIds(e.widget).forEach(visit);
  };
  for (const [id, e] of live) if (e.cell === cell && e.shownIn.size > 0 && owned(e)) visit(id);
  for (const id of doomed) live.get(id)?.widget.close();
}
