// The Jupyter debug protocol (debug_request / debug_reply on the control channel, debug_event on
// IOPub; the Debug Adapter Protocol inside), served by the I/O thread over the V8 inspector of the
// main thread — what JupyterLab's debugger panel and VS Code's "Debug Cell" speak. The I/O thread
// stays free while the main thread is paused at a breakpoint, so it answers stackTrace, scopes and
// variables then. Cells are named as ipykernel names them — a file under tmpFilePrefix whose name is
// the MurmurHash2 of the cell's code — and a breakpoint on a cell's TypeScript line goes to the
// compiled JavaScript through the cell's source maps, set while the main thread waits, before the
// cell runs (the main thread tells this thread each compiled cell: see `cellCompiled`).
import { Session } from "node:inspector";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HASH_SEED, murmur2 } from "./murmur2.js";
import { mapsOf, originalPosition, register, type RawMaps } from "./source-maps.js";

/** A compiled cell, as the main thread reports it. */
export interface CompiledCell {
  /** The sourceURL of the compiled script (featurelab-cell-N). */
  url: string;
  label: string;
  /** What the user wrote. */
  code: string;
  /** The compiled JavaScript the executor runs (after its one-line wrapper prefix). */
  output: string;
  maps?: RawMaps;
  firstLineShift: number;
  lineShift: number;
}

type Json = Record<string, unknown>;
export interface DapRequest {
  seq: number;
  type: "request";
  command: string;
  arguments?: Json;
}
type Scope = { type: string; object: { objectId?: string }; name?: string };
type CallFrame = { callFrameId: string; functionName: string; location: { scriptId: string; lineNumber: number; columnNumber: number }; scopeChain: Scope[]; this: Json };

interface CellInfo {
  path: string;
  /** 1-based TypeScript line → first 0-based position in the compiled script on it. */
  lines: Map<number, { line: number; column: number }>;
}

const THREAD_ID = 1;
/** DAP's ways to go on from a pause → the inspector's. */
const RESUME: Record<string, string> = { continue: "Debugger.resume", next: "Debugger.stepOver", stepIn: "Debugger.stepInto", stepOut: "Debugger.stepOut" };
/**
 * The cells' variables: tslab keeps them on a Proxy (`__tslab__.exports`), whose properties the
 * inspector does not list, so they are copied to a plain object — without the kernel's own globals.
 */
const CELL_VARIABLES = `(() => {
  const cells = globalThis.__tslab__.exports, out = {};
  for (const k of Object.getOwnPropertyNames(cells)) if (cells[k] !== globalThis[k] || !["prompt", "confirm", "display"].includes(k)) out[k] = cells[k];
  return out;
})()`;

export class Debugger {
  private session?: Session;
  private seq = 0;
  readonly prefix = join(tmpdir(), `featurelab_${process.pid}`) + "/";
  readonly suffix = ".ts";
  /** path → the lines the user asked for (DAP source breakpoints). */
  private breakpoints = new Map<string, { line: number; condition?: string }[]>();
  /** path → inspector breakpoint ids set for it. */
  private v8Breakpoints = new Map<string, string[]>();
  /** sourceURL → its cell; path → the sourceURLs of the cells compiled from it. */
  private cells = new Map<string, CellInfo>();
  private urlsOf = new Map<string, string[]>();
  private scripts = new Map<string, string>();
  private paused?: { callFrames: CallFrame[]; reason: string };
  private refs = new Map<number, { objectId?: string; evaluate?: string }>();
  private nextRef = 1;
  private exceptionState: "none" | "uncaught" | "all" = "none";

  /** `event` sends a DAP event (as a debug_event on IOPub); `active` tells the main thread to report compiled cells. */
  constructor(
    private readonly event: (body: Json) => void,
    private readonly active: (on: boolean) => void,
  ) {}

  get started(): boolean {
    return this.session !== undefined;
  }

  pathOf(code: string): string {
    return `${this.prefix}${murmur2(code, HASH_SEED)}${this.suffix}`;
  }

  private post<T = Json>(method: string, params: Json = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      if (!this.session) return reject(new Error("the debugger is not attached"));
      this.session.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T)));
    });
  }

  private send(event: string, body: Json = {}): void {
    this.event({ seq: ++this.seq, type: "event", event, body });
  }

  /** One DAP request → its response. */
  async handle(req: DapRequest): Promise<Json> {
    const ok = (body: Json = {}) => ({ seq: ++this.seq, type: "response", request_seq: req.seq, success: true, command: req.command, body });
    const args = req.arguments ?? {};
    try {
      switch (req.command) {
        case "initialize":
          return ok({
            supportsConfigurationDoneRequest: true,
            supportsConditionalBreakpoints: true,
            supportsEvaluateForHovers: true,
            supportsDelayedStackTraceLoading: false,
            exceptionBreakpointFilters: [
              { filter: "raised", label: "Raised Exceptions", default: false },
              { filter: "uncaught", label: "Uncaught Exceptions", default: false },
            ],
          });
        case "attach":
          await this.attach();
          setImmediate(() => this.send("initialized"));
          return ok();
        case "configurationDone":
          return ok();
        case "disconnect":
          await this.detach();
          return ok();
        case "debugInfo":
          return ok({
            isStarted: this.started,
            hashMethod: "Murmur2",
            hashSeed: HASH_SEED,
            tmpFilePrefix: this.prefix,
            tmpFileSuffix: this.suffix,
            breakpoints: [...this.breakpoints].map(([path, bps]) => ({ source: path, breakpoints: bps.map((b) => ({ line: b.line })) })),
            stoppedThreads: this.paused ? [THREAD_ID] : [],
            richRendering: false,
            exceptionPaths: [],
          });
        case "dumpCell": {
          const code = String(args.code ?? "");
          const path = this.pathOf(code);
          mkdirSync(this.prefix, { recursive: true });
          writeFileSync(path, code);
          return ok({ sourcePath: path });
        }
        case "setBreakpoints":
          return ok({ breakpoints: await this.setBreakpoints(args) });
        case "setExceptionBreakpoints": {
          const filters = (args.filters as string[] | undefined) ?? [];
          this.exceptionState = filters.includes("raised") ? "all" : filters.includes("uncaught") ? "uncaught" : "none";
          if (this.started) await this.post("Debugger.setPauseOnExceptions", { state: this.exceptionState });
          return ok();
        }
        case "threads":
          return ok({ threads: [{ id: THREAD_ID, name: "main" }] });
        case "stackTrace":
          return ok(this.stackTrace());
        case "scopes":
          return ok({ scopes: this.scopes(Number(args.frameId)) });
        case "variables":
          return ok({ variables: await this.variables(Number(args.variablesReference)) });
        case "continue":
        case "next":
        case "stepIn":
        case "stepOut":
          await this.resume(RESUME[req.command]);
          return ok(req.command === "continue" ? { allThreadsContinued: true } : {});
        case "pause":
          await this.post("Debugger.pause");
          return ok();
        case "evaluate":
          return ok(await this.evaluate(String(args.expression ?? ""), args.frameId as number | undefined));
        case "inspectVariables":
          return ok({ variables: await this.cellVariables() });
        case "richInspectVariables":
          return ok(await this.richInspect(String(args.variableName ?? ""), args.frameId as number | undefined));
        case "source": {
          const path = String((args.source as Json | undefined)?.path ?? "");
          return ok({ content: readFileSync(path, "utf8") });
        }
        case "loadedSources":
          return ok({ sources: [...this.urlsOf.keys()].map((path) => ({ name: path.slice(this.prefix.length), path })) });
        case "modules":
          return ok({ modules: [], totalModules: 0 });
        default:
          return { seq: ++this.seq, type: "response", request_seq: req.seq, success: false, command: req.command, message: `the featurelab kernel's debugger does not support "${req.command}"` };
      }
    } catch (err) {
      return { seq: ++this.seq, type: "response", request_seq: req.seq, success: false, command: req.command, message: (err as Error)?.message ?? String(err) };
    }
  }

  private async attach(): Promise<void> {
    if (this.session) return;
    const session = new Session();
    session.connectToMainThread();
    this.session = session;
    session.on("Debugger.scriptParsed", ({ params }: { params: { scriptId: string; url: string } }) => this.scripts.set(params.scriptId, params.url));
    session.on("Debugger.paused", ({ params }: { params: { callFrames: CallFrame[]; reason: string; hitBreakpoints?: string[] } }) => {
      this.refs.clear();
      this.nextRef = 1;
      const reason = params.hitBreakpoints?.length ? "breakpoint" : params.reason === "exception" || params.reason === "promiseRejection" ? "exception" : this.stepping ? "step" : "pause";
      this.paused = { callFrames: params.callFrames, reason };
      this.send("stopped", { reason, threadId: THREAD_ID, allThreadsStopped: true, ...(params.hitBreakpoints?.length ? { hitBreakpointIds: params.hitBreakpoints } : {}) });
    });
    session.on("Debugger.resumed", () => {
      this.paused = undefined;
    });
    await this.post("Debugger.enable");
    await this.post("Runtime.enable");
    await this.post("Debugger.setPauseOnExceptions", { state: this.exceptionState });
    this.active(true);
    for (const path of this.breakpoints.keys()) await this.placeBreakpoints(path);
  }

  private async detach(): Promise<void> {
    if (!this.session) return;
    this.active(false);
    try {
      for (const ids of this.v8Breakpoints.values()) for (const id of ids) await this.post("Debugger.removeBreakpoint", { breakpointId: id });
      if (this.paused) await this.post("Debugger.resume");
      await this.post("Debugger.disable");
    } catch {}
    this.v8Breakpoints.clear();
    this.breakpoints.clear();
    this.paused = undefined;
    this.session.disconnect();
    this.session = undefined;
  }

  private stepping = false;

  private async resume(method: string): Promise<void> {
    if (!this.paused) throw new Error("the kernel is not paused");
    this.stepping = method !== "Debugger.resume";
    this.paused = undefined;
    await this.post(method);
    this.send("continued", { threadId: THREAD_ID, allThreadsContinued: true });
  }

  /** The main thread compiled a cell: learn its lines, and place the breakpoints asked for its code (before it runs). */
  async cellCompiled(cell: CompiledCell): Promise<void> {
    const path = this.pathOf(cell.code);
    register(cell.url, { label: cell.label, source: cell.code, maps: mapsOf(cell.maps), firstLineShift: cell.firstLineShift, lineShift: cell.lineShift, compiledLines: cell.output.split("\n").length });
    const lines = new Map<number, { line: number; column: number }>();
    cell.output.split("\n").forEach((text, i) => {
      const first = text.search(/\S/);
      if (first < 0) return;
      const column = first + (i === 0 ? cell.firstLineShift : 0);
      const pos = originalPosition(cell.url, i + 1, column + 1);
      if (pos && !lines.has(pos.line)) lines.set(pos.line, { line: i, column });
    });
    this.cells.set(cell.url, { path, lines });
    this.urlsOf.set(path, [...(this.urlsOf.get(path) ?? []), cell.url]);
    if (this.breakpoints.has(path)) await this.placeBreakpoints(path);
  }

  private async setBreakpoints(args: Json): Promise<Json[]> {
    const path = String((args.source as Json | undefined)?.path ?? "");
    const asked = ((args.breakpoints as { line: number; condition?: string }[] | undefined) ?? []).map((b) => ({ line: Number(b.line), condition: b.condition }));
    if (asked.length) this.breakpoints.set(path, asked);
    else this.breakpoints.delete(path);
    if (this.started) await this.placeBreakpoints(path);
    const cell = this.latestCell(path);
    return asked.map((b, i) => {
      const line = cell ? this.codeLineFrom(cell, b.line) : b.line;
      return { id: i + 1, verified: line !== undefined, line: line ?? b.line, source: { path } };
    });
  }

  private latestCell(path: string): CellInfo | undefined {
    const urls = this.urlsOf.get(path);
    return urls?.length ? this.cells.get(urls[urls.length - 1]) : undefined;
  }

  /** The first line at or after `line` that has code (a breakpoint on a comment or type moves down). */
  private codeLineFrom(cell: CellInfo, line: number): number | undefined {
    const candidates = [...cell.lines.keys()].filter((l) => l >= line);
    return candidates.length ? Math.min(...candidates) : undefined;
  }

  /** Replace the inspector breakpoints of `path` by those asked for, in every compiled cell with that code. */
  private async placeBreakpoints(path: string): Promise<void> {
    for (const id of this.v8Breakpoints.get(path) ?? []) await this.post("Debugger.removeBreakpoint", { breakpointId: id }).catch(() => {});
    const ids: string[] = [];
    for (const url of this.urlsOf.get(path) ?? []) {
      const cell = this.cells.get(url)!;
      for (const bp of this.breakpoints.get(path) ?? []) {
        const line = this.codeLineFrom(cell, bp.line);
        if (line === undefined) continue;
        const at = cell.lines.get(line)!;
        const r = await this.post<{ breakpointId: string }>("Debugger.setBreakpointByUrl", { url, lineNumber: at.line, columnNumber: at.column, condition: bp.condition ?? "" });
        ids.push(r.breakpointId);
      }
    }
    this.v8Breakpoints.set(path, ids);
  }

  private where(frame: CallFrame): { source: Json; line: number; column: number } {
    const url = this.scripts.get(frame.location.scriptId) ?? "";
    const cell = this.cells.get(url);
    if (cell) {
      const pos = originalPosition(url, frame.location.lineNumber + 1, frame.location.columnNumber + 1);
      return { source: { name: cell.path.slice(this.prefix.length), path: cell.path }, line: pos?.line ?? 1, column: pos?.column ?? 1 };
    }
    const path = url.startsWith("file://") ? fileURLToPath(url) : url;
    return { source: path.startsWith("/") ? { name: path.split("/").pop(), path } : { name: path || "(internal)" }, line: frame.location.lineNumber + 1, column: frame.location.columnNumber + 1 };
  }

  private stackTrace(): Json {
    if (!this.paused) return { stackFrames: [], totalFrames: 0 };
    const frames = this.paused.callFrames.map((f, id) => ({ id, name: f.functionName || "(cell)", ...this.where(f) }));
    return { stackFrames: frames, totalFrames: frames.length };
  }

  private ref(target: { objectId?: string; evaluate?: string }): number {
    const id = this.nextRef++;
    this.refs.set(id, target);
    return id;
  }

  private scopes(frameId: number): Json[] {
    const frame = this.paused?.callFrames[frameId];
    if (!frame) throw new Error(`no frame ${frameId}: the kernel is not paused there`);
    const names: Record<string, string> = { local: "Locals", block: "Block", closure: "Closure", catch: "Catch", with: "With", script: "Script", module: "Module" };
    const out: Json[] = [];
    for (const s of frame.scopeChain) {
      if (s.type === "global" || !s.object.objectId) continue;
      // The cells' own variables live in tslab's `exports`: shown as one scope below.
      out.push({ name: names[s.type] ?? s.type, variablesReference: this.ref({ objectId: s.object.objectId }), expensive: false });
    }
    out.push({ name: "Cell variables", variablesReference: this.ref({ evaluate: CELL_VARIABLES }), expensive: false });
    return out;
  }

  private async objectIdOf(target: { objectId?: string; evaluate?: string }): Promise<string | undefined> {
    if (target.objectId) return target.objectId;
    const r = await this.post<{ result: { objectId?: string } }>("Runtime.evaluate", { expression: target.evaluate });
    return r.result.objectId;
  }

  private describe(name: string, value: { type: string; subtype?: string; value?: unknown; description?: string; objectId?: string; className?: string } | undefined): Json {
    if (!value) return { name, value: "undefined", type: "undefined", variablesReference: 0 };
    const shown = value.type === "string" ? JSON.stringify(value.value) : value.description ?? String(value.value);
    const type = value.subtype ?? value.className ?? value.type;
    return { name, value: shown, type, variablesReference: value.objectId && value.type === "object" && value.subtype !== "null" ? this.ref({ objectId: value.objectId }) : 0 };
  }

  private async variables(reference: number): Promise<Json[]> {
    const target = this.refs.get(reference);
    if (!target) throw new Error(`unknown variablesReference ${reference}`);
    const objectId = await this.objectIdOf(target);
    if (!objectId) return [];
    const r = await this.post<{ result: { name: string; value?: Parameters<Debugger["describe"]>[1] }[] }>("Runtime.getProperties", { objectId, ownProperties: true, generatePreview: false });
    return r.result.filter((p) => p.name !== "__proto__").map((p) => this.describe(p.name, p.value));
  }

  private async cellVariables(): Promise<Json[]> {
    if (!this.started) await this.attach();
    if (!this.paused) this.refs.clear();
    return this.variables(this.ref({ evaluate: CELL_VARIABLES }));
  }

  private async evaluate(expression: string, frameId?: number): Promise<Json> {
    const frame = frameId !== undefined ? this.paused?.callFrames[frameId] : undefined;
    const r = frame
      ? await this.post<{ result: Parameters<Debugger["describe"]>[1]; exceptionDetails?: { text: string; exception?: { description?: string } } }>("Debugger.evaluateOnCallFrame", { callFrameId: frame.callFrameId, expression })
      : await this.post<{ result: Parameters<Debugger["describe"]>[1]; exceptionDetails?: { text: string; exception?: { description?: string } } }>("Runtime.evaluate", { expression: `with (globalThis.__tslab__.exports) { ${expression} }` });
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
    const d = this.describe("", r.result);
    return { result: d.value, type: d.type, variablesReference: d.variablesReference };
  }

  private async richInspect(name: string, frameId?: number): Promise<Json> {
    const r = await this.evaluate(name, frameId);
    return { data: { "text/plain": r.result }, metadata: {} };
  }
}
