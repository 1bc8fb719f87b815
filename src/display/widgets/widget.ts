// A kernel-side Jupyter widget (widget protocol 2.1, what ipywidgets 8 speaks): its state lives here
// and in every frontend showing it, kept in step over one comm on the `jupyter.widget` target —
// `comm_open` with the state, `update` both ways, `echo_update` back to the frontends, `request_state`,
// `custom` messages. Outside a kernel the widget still holds its state (scripts and tests use it);
// displaying it then prints its text.
import type { Comm, CommMessage } from "../core/kernel.js";
import { kernel, widgetLog } from "../core/kernel.js";
import type { Displayable, MimeBundle } from "../core/bundle.js";
import { escapeHtml } from "../core/escape.js";
import { IDENTITY_KEYS, checkValue, type Attribute, type ModelSchema, modelSchema } from "./schema.js";
import { putBuffers, removeBuffers } from "./buffers.js";
import { adopt, forget, opened } from "./registry.js";

/** The widget protocol version featurelab speaks (ipywidgets 8's). */
export const PROTOCOL_VERSION = "2.1.0";
/** The MIME type of a widget view in a display bundle. */
export const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";

/** What a change handler is told, as ipywidgets' `observe` tells it. */
export interface Change<T = unknown> {
  name: string;
  old: T;
  new: T;
  owner: Widget;
}

type Listener = (...args: any[]) => void | Promise<void>;

let localIds = 0;

/**
 * "IPY_MODEL_<id>": how one widget's state refers to another.
 * @example
 * const ref = fl.widgets.reference(slider);   // "IPY_MODEL_…"
 */
export function reference(w: Widget): string {
  return `IPY_MODEL_${w.id}`;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return false; // binary values always resend
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Widgets given where the state holds references become "IPY_MODEL_<id>" strings. */
function toWire(v: unknown): unknown {
  if (v instanceof Widget) return reference(v);
  if (Array.isArray(v)) return v.map(toWire);
  return v;
}

/**
 * A Jupyter widget model living in the kernel. Core controls (sliders, boxes, Output…) and
 * featurelab's own views (anywidget models) extend it.
 * @example
 * const s = new fl.widgets.IntSlider({ value: 3, max: 10, description: "feature" });
 * s.observe(({ new: v }) => console.log("now", v), "value");
 * fl.show(s);
 */
export class Widget implements Displayable {
  /** The model id (also the comm id): how frontends and other widgets name this one. */
  readonly id: string;
  protected readonly schema: ModelSchema;
  private readonly attributes: Map<string, Attribute>;
  private readonly state: Record<string, unknown> = {};
  private comm: Comm | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Values being applied from a frontend's update: echoed, not sent back as updates (unless a handler changes them again). */
  private applying = new Map<string, unknown>();
  private isClosed = false;

  /**
   * @param schema the model's schema (`modelSchema("IntSliderModel")` for a core model)
   * @param init initial values by state key; widgets where references go; `layout`/`style` as plain objects too
   * @param who the name errors use ("IntSlider")
   */
  constructor(schema: ModelSchema | string, init: Record<string, unknown> = {}, protected readonly who = typeof schema === "string" ? schema.replace(/Model$/, "") : schema.model.name) {
    this.schema = typeof schema === "string" ? modelSchema(schema) : schema;
    this.attributes = new Map(this.schema.attributes.map((a) => [a.name, a]));
    for (const key of Object.keys(init)) {
      if (!this.attributes.has(key) || IDENTITY_KEYS.includes(key)) {
        const known = [...this.attributes.keys()].filter((k) => !k.startsWith("_"));
        throw new TypeError(`featurelab: ${this.who}: unknown option "${key}" (options: ${known.join(", ")})`);
      }
    }
    for (const attr of this.schema.attributes) {
      const given = init[attr.name];
      this.state[attr.name] = given === undefined ? this.defaultOf(attr) : this.checked(attr, given);
    }
    this.state._model_module = this.schema.model.module;
    this.state._model_module_version = this.schema.model.version;
    this.state._model_name = this.schema.model.name;
    this.state._view_module = this.schema.view.module;
    this.state._view_module_version = this.schema.view.version;
    this.state._view_name = this.schema.view.name;
    const k = kernel();
    const { state, paths, buffers } = removeBuffers(this.state);
    this.comm = k?.openComm?.("jupyter.widget", { state, buffer_paths: paths }, { metadata: { version: PROTOCOL_VERSION }, buffers });
    this.id = this.comm?.id ?? `local-${process.pid.toString(36)}-${(localIds++).toString(36)}`;
    if (this.comm) {
      this.comm.onMsg((m) => this.receive(m));
      this.comm.onClose(() => this.dispose());
    }
    adopt(this);
  }

  private defaultOf(attr: Attribute): unknown {
    if (attr.type === "reference" && attr.default === "reference to new instance" && attr.widget) return reference(new Widget(`${attr.widget}Model`));
    if (attr.type === "bytes") return new Uint8Array(0);
    return structuredClone(attr.default);
  }

  /** A value for `attr` from kernel code: widgets become references, plain objects a new Layout/Style; a bad value throws. */
  private checked(attr: Attribute, value: unknown): unknown {
    if (attr.type === "reference" && attr.widget && typeof value === "object" && value !== null && !(value instanceof Widget) && !Array.isArray(value)) {
      value = new Widget(`${attr.widget}Model`, value as Record<string, unknown>, attr.widget);
    }
    const v = toWire(value);
    const err = checkValue(attr, v);
    if (err) throw new TypeError(`featurelab: ${this.who}: ${err.message}`);
    return v;
  }

  /**
   * The current value of a state key.
   * @example
   * const max = slider.get<number>("max");
   */
  get<T = unknown>(key: string): T {
    if (!this.attributes.has(key)) throw new TypeError(`featurelab: ${this.who} has no "${key}"`);
    return this.state[key] as T;
  }

  /**
   * Set state keys: checked, sent to every frontend that shows the widget, and observers told.
   * @example
   * slider.set({ max: 511, description: "feature" });
   */
  set(changes: Record<string, unknown>): this {
    const changed: [string, unknown, unknown][] = [];
    for (const [key, value] of Object.entries(changes)) {
      const attr = this.attributes.get(key);
      if (!attr || IDENTITY_KEYS.includes(key)) throw new TypeError(`featurelab: ${this.who}: unknown option "${key}"`);
      const v = this.checked(attr, value);
      if (sameValue(this.state[key], v)) continue;
      changed.push([key, this.state[key], v]);
      this.state[key] = v;
    }
    const toSend = changed.filter(([k, , v]) => !(this.applying.has(k) && sameValue(this.applying.get(k), v)));
    if (toSend.length > 0) this.sendState("update", Object.fromEntries(toSend.map(([k, , v]) => [k, v])));
    for (const [name, old, v] of changed) this.emitChange(name, old, v);
    return this;
  }

  /**
   * Call `handler` when state changes (ipywidgets' observe): for the keys named, or all.
   * @example
   * slider.observe(({ old, new: now }) => console.log(old, "→", now), "value");
   */
  observe<T = unknown>(handler: (change: Change<T>) => void | Promise<void>, names?: string | string[]): this {
    for (const n of names === undefined ? ["change"] : typeof names === "string" ? [`change:${names}`] : names.map((x) => `change:${x}`)) this.on(n, handler);
    return this;
  }

  /**
   * Listen: "change" (any key), "change:<key>" (one key), "msg:custom" (content and buffers the frontend sent), "close".
   * @example
   * slider.on("change:value", ({ new: v }) => console.log(v));
   */
  on(event: string, handler: Listener): this {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(handler);
    return this;
  }

  /**
   * Stop a handler given to `on` or `observe`.
   * @example
   * const h = () => console.log("changed");
   * slider.on("change", h).off("change", h);
   */
  off(event: string, handler: Listener): this {
    this.listeners.get(event)?.delete(handler);
    return this;
  }

  /** @internal Run the handlers of an event in order. */
  protected async emit(event: string, ...args: unknown[]): Promise<void> {
    for (const h of [...(this.listeners.get(event) ?? [])]) await h(...args);
  }

  private emitChange(name: string, old: unknown, now: unknown): void {
    const change: Change = { name, old, new: now, owner: this };
    // Handlers run in order; a rejected promise surfaces through the kernel's late-error report.
    void this.emit(`change:${name}`, change);
    void this.emit("change", change);
  }

  /**
   * Send a custom message to the frontend's side of this widget (ipywidgets' `Widget.send`).
   * @example
   * view.send({ type: "highlight", feature: 7 });
   */
  send(content: unknown, buffers: Uint8Array[] = []): void {
    if (this.comm && !this.comm.closed) this.comm.send({ method: "custom", content }, { buffers });
  }

  private sendState(method: "update" | "echo_update", state: Record<string, unknown>): void {
    if (!this.comm || this.comm.closed) return;
    const { state: json, paths, buffers } = removeBuffers(state);
    this.comm.send({ method, state: json, buffer_paths: paths }, { buffers });
  }

  /** @internal The whole state (binary values included), as the saved widget state and `request_states` give it. */
  fullState(): Record<string, unknown> {
    return { ...this.state };
  }

  /** A message from a frontend: checked, applied and echoed; anything malformed is logged and refused. */
  private async receive(m: CommMessage): Promise<void> {
    const data = m.data as Record<string, unknown> | null;
    const method = typeof data === "object" && data !== null ? data.method : undefined;
    if (method === "request_state") return this.sendState("update", this.state);
    if (method === "custom") return this.emit("msg:custom", data!.content, m.buffers);
    if (method !== "update") return widgetLog(`${this.who} ${this.id}: refused a message with method ${JSON.stringify(method)} (expected update, request_state or custom)`);
    const incoming = data!.state;
    if (typeof incoming !== "object" || incoming === null || Array.isArray(incoming)) return widgetLog(`${this.who} ${this.id}: refused an update without a state object`);
    const state = { ...(incoming as Record<string, unknown>) };
    try {
      putBuffers(state, data!.buffer_paths, m.buffers);
    } catch (err) {
      return widgetLog(`${this.who} ${this.id}: refused an update: ${(err as Error).message}`);
    }
    const accepted: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(state)) {
      const attr = this.attributes.get(key);
      const problem = !attr ? `unknown key "${key}"` : IDENTITY_KEYS.includes(key) ? `"${key}" cannot change` : checkValue(attr, value)?.message;
      if (problem) widgetLog(`${this.who} ${this.id}: refused ${problem}`);
      else accepted[key] = value;
    }
    if (Object.keys(accepted).length === 0) return;
    // Echo first (protocol 2.1): other frontends follow, the sender confirms its optimistic change.
    this.sendState("echo_update", accepted);
    for (const [k, v] of Object.entries(accepted)) this.applying.set(k, v);
    try {
      this.set(accepted);
    } finally {
      this.applying.clear();
    }
  }

  /**
   * Close the widget: frontends drop it, and it can no longer be shown.
   * @example
   * slider.close();
   */
  close(): void {
    if (this.isClosed) return;
    this.comm?.close();
    this.dispose();
  }

  private dispose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    forget(this);
    void this.emit("close");
  }

  /** Whether the widget was closed (by the kernel or a frontend). */
  get closed(): boolean {
    return this.isClosed;
  }

  /** @internal HTML for frontends without a widget manager (the classic notebook, GitHub): a note by default. */
  fallbackHtml(): string {
    return `<div class="featurelab-widget-fallback" style="font:12px system-ui,sans-serif;opacity:.7">${escapeHtml(this.toString())} — a live widget: it shows in JupyterLab, Notebook 7, VS Code and exported HTML</div>`;
  }

  /** @internal The widget-view entry of a display bundle (the widget counts as shown in the running cell). */
  widgetView(): { version_major: 2; version_minor: 0; model_id: string } {
    if (this.isClosed) throw new Error(`featurelab: ${this.who} ${this.id} is closed; make a new one to show it`);
    opened(this);
    return { version_major: 2, version_minor: 0, model_id: this.id };
  }

  /** The view, for frontends with a widget manager, with HTML and text for the rest. */
  toMimeBundle(): MimeBundle {
    return {
      [WIDGET_VIEW_MIME]: this.widgetView(),
      "text/html": this.fallbackHtml(),
      "text/plain": this.toString(),
    };
  }

  toString(): string {
    const shown = ["value", "description"].filter((k) => this.attributes.has(k) && this.state[k] !== "" && this.state[k] !== undefined);
    return `${this.who}(${shown.map((k) => `${k}=${JSON.stringify(this.state[k])}`).join(", ")})`;
  }
}
