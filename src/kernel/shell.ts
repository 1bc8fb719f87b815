// The shell channel's requests, answered one at a time in the order they came (as ipykernel does):
// execute (execution counts, execute_input / execute_result / error, history, and the abort of cells
// queued behind a failed one), kernel_info, is_complete, complete, inspect, history, comms.
import { trace } from "./trace.js";
import { Comms } from "./comms.js";
import { WidgetControl } from "./widget-control.js";
import { displaysSettled, installBridge } from "./bridge.js";
import { Stdin } from "./stdin.js";
import { runtimeError, type ErrorContent } from "./errors.js";
import type { Execution } from "./execution.js";
import type { History } from "./history.js";
import { complete, endsWithSemicolon, helpTarget, inspectAt, isComplete, toCodePoints } from "./introspection.js";
import { kernelInfo } from "./kernel-info.js";
import { noteRunning, takePredecessorNote } from "./last-words.js";
import { kernelLog, type Link, type Parent } from "./link.js";
import { bundleOf } from "./results.js";
import type { Envelope } from "./wire.js";

type Channel = "shell" | "control";
/** How many errors raised between cells the next cell shows in full. */
const PENDING_LIMIT = 20;
interface Request {
  channel: Channel;
  env: Envelope;
}

export class Shell {
  private queue: Request[] = [];
  private pumping = false;
  /** Execute requests that were queued behind a cell that failed: answered "aborted". */
  private toAbort = new Set<string>();
  private executionCount = 0;
  /** Where output goes: the last execute request (later output of what it started goes there too). */
  private outputParent?: Parent;
  /** While a comm message is handled, what its handler writes and sends belongs to it. */
  private commParent?: Parent;
  /** The label of the last cell run ("Cell In[3]"). */
  private lastLabel?: string;
  /** Errors raised while no cell ran (by what earlier cells started): shown on the next cell. */
  private pending: string[] = [];
  private pendingDropped = 0;
  readonly comms: Comms;
  readonly widgets: WidgetControl;
  readonly stdin: Stdin;

  constructor(
    private readonly link: Link,
    private readonly exec: Execution,
    private readonly history: History,
  ) {
    this.comms = new Comms(link, () => this.parent() ?? {}, (err, where) => this.report(err, `in a comm handler for ${where}`));
    this.widgets = new WidgetControl(this.comms);
    this.stdin = new Stdin(link);
    installBridge(link, this.comms, this.widgets, () => this.parent(), this.stdin);
  }

  parent(): Parent | undefined {
    return this.commParent ?? this.outputParent;
  }

  /** A request from the I/O thread. Control requests are not queued behind running cells. */
  request(channel: Channel, env: Envelope): void {
    if (channel === "control") {
      void this.dispatch({ channel, env });
      return;
    }
    this.queue.push({ channel, env });
    void this.pump();
  }

  private async pump() {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) await this.dispatch(this.queue.shift()!);
    } finally {
      this.pumping = false;
    }
  }

  /**
   * A cell failed with stop_on_error: the execute requests queued behind it are aborted — all those
   * the I/O thread had received before the failed cell's reply goes out (so none the client sent
   * after seeing it).
   */
  private async abortQueued(): Promise<void> {
    await this.link.barrier();
    for (const r of this.queue) if (r.env.msg.header.msg_type === "execute_request") this.toAbort.add(r.env.msg.header.msg_id);
  }

  private async dispatch({ channel, env }: Request): Promise<void> {
    const type = env.msg.header.msg_type;
    const reply = (msgType: string, content: Record<string, unknown>, metadata?: Record<string, unknown>) => this.link.reply(channel, env, msgType, content, metadata);
    this.link.publish("status", { execution_state: "busy" }, env.msg.header);
    try {
      const c = env.msg.content;
      switch (type) {
        case "execute_request":
          if (this.toAbort.delete(env.msg.header.msg_id)) reply("execute_reply", { status: "aborted", execution_count: this.executionCount }, { status: "aborted" });
          else await this.execute(env, reply);
          break;
        case "kernel_info_request":
          reply("kernel_info_reply", kernelInfo());
          break;
        case "is_complete_request":
          reply("is_complete_reply", isComplete(String(c.code ?? "")));
          break;
        case "complete_request": {
          const code = String(c.code ?? "");
          const cursor = typeof c.cursor_pos === "number" ? c.cursor_pos : toCodePoints(code, code.length);
          reply("complete_reply", { ...complete(this.exec, code, cursor) });
          break;
        }
        case "inspect_request": {
          const code = String(c.code ?? "");
          const cursor = typeof c.cursor_pos === "number" ? c.cursor_pos : toCodePoints(code, code.length);
          reply("inspect_reply", { status: "ok", ...inspectAt(this.exec, code, cursor), metadata: {} });
          break;
        }
        case "history_request":
          reply("history_reply", { status: "ok", history: this.history.answer(c) });
          break;
        case "comm_info_request":
          reply("comm_info_reply", { status: "ok", comms: this.comms.info(typeof c.target_name === "string" ? c.target_name : undefined) });
          break;
        case "comm_open":
        case "comm_msg":
        case "comm_close":
          this.commParent = env.msg.header;
          if (this.comms.targetOf(String(c.comm_id ?? c.target_name ?? "")) === "jupyter.widget" || c.target_name === "jupyter.widget") this.widgets.frontendSeen = true;
          try {
            await this.comms.handle(env);
          } finally {
            this.commParent = undefined;
          }
          break;
        case "connect_request": {
          const { shell_port, iopub_port, stdin_port, control_port, hb_port } = this.link.connection;
          reply("connect_reply", { status: "ok", shell_port, iopub_port, stdin_port, control_port, hb_port });
          break;
        }
        default:
          kernelLog(`unknown message type ${type} on ${channel}`);
      }
    } catch (err) {
      kernelLog(`${type} failed:`, err);
      const reason = err instanceof Error ? err : new Error(String(err));
      if (type.endsWith("_request")) reply(type.replace(/_request$/, "_reply"), { status: "error", ename: reason.name, evalue: reason.message, traceback: [String(reason.stack)] });
    }
    this.link.publish("status", { execution_state: "idle" }, env.msg.header);
    trace(`${type} done`);
  }

  private async execute(env: Envelope, reply: (t: string, c: Record<string, unknown>, m?: Record<string, unknown>) => void): Promise<void> {
    const c = env.msg.content;
    const code = String(c.code ?? "");
    const silent = Boolean(c.silent);
    const store = !silent && c.store_history !== false;
    const started = new Date().toISOString();
    trace("execute_request received");
    if (store) this.executionCount++;
    const count = this.executionCount;
    this.outputParent = env.msg.header;
    const parent = env.msg.header;
    if (!silent) this.widgets.cellStarted(typeof env.msg.metadata?.cellId === "string" ? env.msg.metadata.cellId : undefined);
    if (!silent) this.link.publish("execute_input", { code, execution_count: count }, parent);
    // The kernel this one replaced died (out of memory): say so on the first cell the user runs.
    const predecessor = silent ? undefined : takePredecessorNote();
    if (predecessor) process.stderr.write(predecessor);
    if (!silent) this.flushPending();

    const payload: Record<string, unknown>[] = [];
    let error: ErrorContent | undefined;
    let resultText: string | null = null;
    const help = helpTarget(code);
    if (help !== undefined) {
      const found = inspectAt(this.exec, help, [...help].length);
      if (found.found) payload.push({ source: "page", data: found.data, start: 0 });
      else process.stderr.write(`Object \`${help}\` not found.\n`);
    } else {
      const label = store ? `Cell In[${count}]` : "Cell In[ ]";
      noteRunning(label);
      this.lastLabel = label;
      this.stdin.begin(env);
      const outcome = await this.exec.execute(code, label).finally(() => {
        noteRunning(undefined);
        this.stdin.end();
      });
      // What the cell displayed with display() and did not await shows before its result (an interrupt stops the wait).
      if (outcome.status === "ok") await untilInterrupt(displaysSettled());
      if (outcome.status === "error") error = outcome.error;
      else if (outcome.result && outcome.result.value !== undefined && !silent && !endsWithSemicolon(code)) {
        const data = await bundleOf(outcome.result.value);
        resultText = typeof data["text/plain"] === "string" ? data["text/plain"] : null;
        this.link.publish("execute_result", { execution_count: count, data, metadata: {} }, parent);
      }
    }
    if (error) this.link.publish("error", { ...error }, parent);
    const userExpressions = error ? {} : await this.userExpressions(c.user_expressions);
    if (store) this.history.add(count, code, resultText);
    if (error && c.stop_on_error !== false) await this.abortQueued();
    const status = error ? "error" : "ok";
    reply("execute_reply", { status, execution_count: count, ...(error ?? {}), payload, user_expressions: userExpressions }, { started, status });
  }

  private flushPending(): void {
    for (const text of this.pending.splice(0)) process.stderr.write(text);
    if (this.pendingDropped > 0) process.stderr.write(`(and ${this.pendingDropped} more errors like these)\n`);
    this.pendingDropped = 0;
  }

  private async userExpressions(expressions: unknown): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    if (typeof expressions !== "object" || expressions === null) return out;
    for (const [name, expression] of Object.entries(expressions)) {
      try {
        out[name] = { status: "ok", data: await bundleOf(this.exec.evaluate(String(expression))), metadata: {} };
      } catch (err) {
        out[name] = { status: "error", ...runtimeError(err) };
      }
    }
    return out;
  }

  /**
   * An error outside any cell's run (a comm handler, a callback, a rejected promise), on stderr of the
   * cell running, or — when none runs — of the last cell run, as ipykernel sends output to its current
   * parent message. A finished cell's late output is not shown by every frontend (JupyterLab drops it),
   * so an error raised while no cell runs is also shown on the next cell run.
   * (Telling which cell started the failing code would take async_hooks, e.g. AsyncLocalStorage; with
   * any hook installed, Node aborts when the I/O thread terminates a stuck awaited cell's JavaScript.)
   */
  report(err: unknown, where: string): void {
    const { traceback } = runtimeError(err);
    const text = `${traceback.join("\n")}\n(${where})\n`;
    if (this.commParent || this.exec.running) {
      process.stderr.write(text);
      return;
    }
    if (this.outputParent) this.link.stream("stderr", text, this.outputParent);
    else kernelLog(text);
    const late = `Raised while no cell ran${this.lastLabel ? ` (after ${this.lastLabel} had finished)` : ""}, by what an earlier cell started:\n${text}`;
    if (this.pending.length < PENDING_LIMIT) this.pending.push(late);
    else this.pendingDropped++;
  }
}

/** `work`, or nothing once an interrupt comes first. */
async function untilInterrupt(work: Promise<void>): Promise<void> {
  let stop!: () => void;
  const interrupted = new Promise<void>((resolve) => (stop = resolve));
  process.once("SIGINT", stop);
  try {
    await Promise.race([work, interrupted]);
  } finally {
    process.off("SIGINT", stop);
  }
}
