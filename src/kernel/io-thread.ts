// The kernel's I/O thread (a worker): it owns the five ZeroMQ sockets, so heartbeats, interrupts,
// shutdown and kernel_info on the control channel are answered, and output keeps flowing, while
// the main thread runs a cell — even a synchronous loop. Shell requests go to the main thread in
// the order they arrived; what the main thread sends comes back here to be signed and sent.
import { createRequire } from "node:module";
import { Session as InspectorSession } from "node:inspector";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { kernelInfo } from "./kernel-info.js";
import { Debugger, type CompiledCell, type DapRequest } from "./debugger.js";
import { address, decode, encode, newHeader, readConnectionFile, Signer, type Channel, type Envelope, type Message } from "./wire.js";

export interface IoOptions {
  connectionFile: string;
  /** The kernel's session id, in the header of every message it sends. */
  session: string;
  /** The process to outlive no longer than a second (JPY_PARENT_PID); none: no watch. */
  parentPid?: number;
  /** What the main thread runs, shared: see Phase. */
  phase: Int32Array;
  /** Bumped (and notified) each time an answer to an input request is posted on `inputPort`. */
  inputSignal: Int32Array;
  /** Answers to the main thread's input requests: { seq, answer: InputAnswer }. */
  inputPort: MessagePort;
  /** [0]: 1 while a debugger is attached (the main thread then reports compiled cells); [1]: bumped when one is handled. */
  debug: Int32Array;
}

/** What an input request gets: the user's line, or why the wait ended without one. */
export type InputAnswer = { value: string } | { reason: "interrupt" | "exit" };

/** The main thread's phase, in `IoOptions.phase[0]`. */
export const enum Phase {
  /** Not running a cell (or compiling one, or in a comm handler): an interrupt waits for it. */
  Other = 0,
  /** In a cell's synchronous top level: SIGINT stops it (vm's breakOnSigint). */
  CellTopLevel = 1,
  /** In a cell's asynchronous part: a stuck loop there may have its JavaScript terminated. */
  CellAsync = 2,
}

/** I/O thread → main thread. */
export type ToMain =
  | { op: "ready" }
  | { op: "fatal"; error: string }
  | { op: "request"; channel: "shell" | "control"; env: Envelope }
  | { op: "barrier"; id: number }
  | { op: "exit"; reason: string };

/** Main thread → I/O thread. */
export type ToIo =
  | { op: "send"; channel: Channel; env: Envelope }
  | { op: "stream"; name: "stdout" | "stderr"; text: string; parent: Message["parent_header"] }
  | { op: "barrier"; id: number }
  | { op: "interrupt-ack" }
  /** A cell compiled while a debugger is attached: place its breakpoints, then bump debug[1]. */
  | { op: "debug-cell"; cell: CompiledCell }
  /** Ask the client at `idents` (the execute request's shell identity) for input, on the stdin channel. */
  | { op: "input"; seq: number; idents: Uint8Array[]; parent: Message["parent_header"]; prompt: string; password: boolean; blocking: boolean };

type Zmq = typeof import("zeromq");
type Socket = InstanceType<Zmq["Router"]> | InstanceType<Zmq["Publisher"]> | InstanceType<Zmq["Reply"]>;

/** How long a busy main thread may ignore an interrupt before its JavaScript is terminated. */
const ESCALATE_MS = 3000;
/** Stream text is gathered this long into one message (as ipykernel batches its output). */
const STREAM_FLUSH_MS = 30;

const opts = workerData as IoOptions;
const port = parentPort!;
const post = (m: ToMain) => port.postMessage(m);
const log = (...args: unknown[]) => console.error("featurelab kernel (io):", ...args);

const conn = readConnectionFile(opts.connectionFile);
const signer = new Signer(conn.signature_scheme, conn.key);
// tslab's own zeromq (a dependency of tslab, with prebuilt binaries), wherever npm put it.
const zmq = createRequire(createRequire(import.meta.url).resolve("tslab/package.json"))("zeromq") as Zmq;

/** One send at a time per socket (zeromq.js refuses a second while one is pending). */
class Outbox {
  private chain: Promise<void> = Promise.resolve();
  constructor(readonly socket: Socket) {}
  idle(): Promise<void> {
    return this.chain;
  }
  send(frames: (Uint8Array | string)[]): Promise<void> {
    this.chain = this.chain.then(
      () => (this.socket as any).send(frames),
    ).catch((err: unknown) => log("send failed:", err));
    return this.chain;
  }
}

const sockets = {
  shell: new zmq.Router(),
  control: new zmq.Router(),
  stdin: new zmq.Router(),
  iopub: new zmq.Publisher(),
  hb: new zmq.Reply(),
};
for (const s of Object.values(sockets)) s.linger = 200;
const out: Record<Channel, Outbox> = {
  shell: new Outbox(sockets.shell),
  control: new Outbox(sockets.control),
  stdin: new Outbox(sockets.stdin),
  iopub: new Outbox(sockets.iopub),
};

let mainBusy = false;
let interruptAcked = true;
let escalation: NodeJS.Timeout | undefined;
let exiting = false;

function send(channel: Channel, env: Envelope): Promise<void> {
  if (channel !== "iopub" || env.msg.header.msg_type !== "stream") flushStream();
  if (channel === "iopub" && env.msg.header.msg_type === "status") {
    const parent = env.msg.parent_header;
    if (!isControlParent(parent)) mainBusy = env.msg.content.execution_state === "busy";
    else if (env.msg.content.execution_state === "idle") controlIds.delete((parent as { msg_id: string }).msg_id);
  }
  return out[channel].send(encode(env, signer));
}

const controlIds = new Set<string>();
function isControlParent(parent: Message["parent_header"]): boolean {
  return "msg_id" in parent && controlIds.has(parent.msg_id);
}

function reply(channel: Channel, request: Envelope, msgType: string, content: Record<string, unknown>): Promise<void> {
  const msg: Message = { header: newHeader(msgType, opts.session), parent_header: request.msg.header, metadata: {}, content, buffers: [] };
  return send(channel, { idents: request.idents, msg });
}

function publish(msgType: string, content: Record<string, unknown>, parent: Message["parent_header"]): Promise<void> {
  const msg: Message = { header: newHeader(msgType, opts.session), parent_header: parent, metadata: {}, content, buffers: [] };
  return send("iopub", { idents: [Buffer.from(msgType)], msg });
}

// ---- stdout/stderr: gathered briefly, flushed before any other message -------------------------
let pending: { name: "stdout" | "stderr"; text: string; parent: Message["parent_header"] } | undefined;
let streamTimer: NodeJS.Timeout | undefined;

function stream(name: "stdout" | "stderr", text: string, parent: Message["parent_header"]) {
  const parentId = (p: Message["parent_header"]) => ("msg_id" in p ? p.msg_id : "");
  if (pending && (pending.name !== name || parentId(pending.parent) !== parentId(parent))) flushStream();
  if (!pending) {
    pending = { name, text: "", parent };
    streamTimer = setTimeout(flushStream, STREAM_FLUSH_MS);
  }
  pending.text += text;
}

function flushStream() {
  clearTimeout(streamTimer);
  if (!pending) return;
  const { name, text, parent } = pending;
  pending = undefined;
  const msg: Message = { header: newHeader("stream", opts.session), parent_header: parent, metadata: {}, content: { name, text }, buffers: [] };
  void out.iopub.send(encode({ idents: [Buffer.from("stream")], msg }, signer));
}

// ---- stdin: one input request at a time, answered to the main thread's shared signal -------------
let asking: { seq: number; msgId: string; blocking: boolean } | undefined;

function askInput(m: Extract<ToIo, { op: "input" }>) {
  if (exiting) return answerInput(m.seq, { reason: "exit" });
  const msg: Message = { header: newHeader("input_request", opts.session), parent_header: m.parent, metadata: {}, content: { prompt: m.prompt, password: m.password }, buffers: [] };
  asking = { seq: m.seq, msgId: msg.header.msg_id, blocking: m.blocking };
  void send("stdin", { idents: m.idents.map((i) => Buffer.from(i)), msg });
}

function answerInput(seq: number, answer: InputAnswer) {
  if (asking?.seq === seq) asking = undefined;
  opts.inputPort.postMessage({ seq, answer });
  Atomics.add(opts.inputSignal, 0, 1);
  Atomics.notify(opts.inputSignal, 0);
}

function inputReply(env: Envelope) {
  const parent = env.msg.parent_header;
  // Only the answer to the question asked now: a late reply to an interrupted one (its parent names that
  // one) is dropped. jupyter_client's KernelClient.input() sends no parent header: it answers the question asked now.
  if (env.msg.header.msg_type !== "input_reply" || !asking) return;
  if ("msg_id" in parent && parent.msg_id && parent.msg_id !== asking.msgId) return;
  const value = env.msg.content.value;
  answerInput(asking.seq, { value: typeof value === "string" ? value : String(value ?? "") });
}

// ---- the debugger (debugger.ts): requests on control, events on IOPub ------------------------------
let debugParent: Message["parent_header"] = {};
const dbg = new Debugger(
  (body) => void publish("debug_event", body, debugParent),
  (on) => Atomics.store(opts.debug, 0, on ? 1 : 0),
);

async function cellCompiled(cell: CompiledCell) {
  try {
    await dbg.cellCompiled(cell);
  } catch (err) {
    log("could not place breakpoints in a cell:", err);
  }
  Atomics.add(opts.debug, 1, 1);
  Atomics.notify(opts.debug, 1);
}

// ---- interrupt, shutdown, exit -----------------------------------------------------------------
function interrupt() {
  // A cell waiting for input stops waiting: its prompt() throws, as an interrupted cell. A blocked main
  // thread gets no SIGINT: vm's breakOnSigint could terminate whatever JavaScript runs when it lands.
  if (asking) {
    const { seq, blocking } = asking;
    answerInput(seq, { reason: "interrupt" });
    if (blocking) return;
  }
  // A real SIGINT: it stops a synchronous cell (vm's breakOnSigint) and reaches the main thread's
  // listeners (the kernel's, and featurelab's fit, which stops at its next step).
  process.kill(process.pid, "SIGINT");
  if (!mainBusy) return;
  interruptAcked = false;
  clearTimeout(escalation);
  escalation = setTimeout(() => {
    // Only JavaScript a cell's awaited work runs (in microtasks) is safe to terminate; elsewhere (a
    // timer or message callback, the compiler, a long native call) it could take Node down with it.
    if (interruptAcked || !mainBusy || Atomics.load(opts.phase, 0) !== Phase.CellAsync) return;
    // The main thread ran no JavaScript event handler for 3 s: a synchronous loop outside the
    // cell's top level (after an await). Terminate that JavaScript; the kernel keeps its state.
    log("the main thread does not answer the interrupt; terminating its running JavaScript");
    try {
      const session = new InspectorSession();
      session.connectToMainThread();
      session.post("Runtime.terminateExecution", () => session.disconnect());
    } catch (err) {
      log("could not terminate the main thread's JavaScript:", err);
    }
  }, ESCALATE_MS);
}

async function exitProcess(reason: string) {
  if (exiting) return;
  exiting = true;
  if (asking) answerInput(asking.seq, { reason: "exit" });
  flushStream();
  // Let what is queued go out, then close the sockets here (zeromq must not be torn down with them open).
  await Promise.all(Object.values(out).map((o) => o.idle()));
  for (const s of Object.values(sockets)) s.close();
  post({ op: "exit", reason });
  // The main thread exits at once when it is idle or awaiting; if it is stuck, end the process.
  setTimeout(() => process.kill(process.pid, "SIGKILL"), 2000).unref();
}

async function handleControl(env: Envelope, channel: "shell" | "control" = "control") {
  const type = env.msg.header.msg_type;
  controlIds.add(env.msg.header.msg_id);
  await publish("status", { execution_state: "busy" }, env.msg.header);
  try {
    if (type === "kernel_info_request") {
      await reply(channel, env, "kernel_info_reply", kernelInfo());
    } else if (type === "debug_request") {
      debugParent = env.msg.header;
      await reply(channel, env, "debug_reply", await dbg.handle(env.msg.content as unknown as DapRequest));
    } else if (type === "interrupt_request") {
      await reply(channel, env, "interrupt_reply", { status: "ok" });
      interrupt();
    } else if (type === "shutdown_request") {
      const content = { status: "ok", restart: Boolean(env.msg.content.restart) };
      await reply(channel, env, "shutdown_reply", content);
      await publish("shutdown_reply", content, env.msg.header);
      await publish("status", { execution_state: "idle" }, env.msg.header);
      void exitProcess("shutdown requested");
      return;
    } else {
      // Anything else sent on control is served by the main thread, replying on control.
      post({ op: "request", channel: "control", env });
      return;
    }
  } catch (err) {
    log(`${type} failed:`, err);
  }
  await publish("status", { execution_state: "idle" }, env.msg.header);
}

async function receive(socket: InstanceType<Zmq["Router"]>, channel: "shell" | "control" | "stdin") {
  try {
    await receiveAll(socket, channel);
  } catch (err) {
    if (!exiting) log(`${channel} stopped:`, err);
  }
}

async function receiveAll(socket: InstanceType<Zmq["Router"]>, channel: "shell" | "control" | "stdin") {
  for await (const frames of socket) {
    let env: Envelope;
    try {
      env = decode(frames, signer);
    } catch (err) {
      log(`dropped a message on ${channel}: ${(err as Error).message}`);
      continue;
    }
    if (channel === "control" || (channel === "shell" && env.msg.header.msg_type === "shutdown_request")) void handleControl(env, channel);
    else if (channel === "shell") post({ op: "request", channel, env });
    else inputReply(env);
  }
}

async function heartbeat() {
  try {
    for await (const frames of sockets.hb) await sockets.hb.send(frames);
  } catch (err) {
    if (!exiting) log("heartbeat stopped:", err);
  }
}

port.on("message", (m: ToIo) => {
  if (m.op === "send") void send(m.channel, m.env);
  else if (m.op === "stream") stream(m.name, m.text, m.parent);
  else if (m.op === "barrier") post({ op: "barrier", id: m.id });
  else if (m.op === "input") askInput(m);
  else if (m.op === "debug-cell") void cellCompiled(m.cell);
  else if (m.op === "interrupt-ack") {
    interruptAcked = true;
    clearTimeout(escalation);
  }
});

// A kernel whose client is gone has no one to serve: exit when the parent process dies (or when
// this process is handed to another parent, which is what happens to orphans).
if (opts.parentPid && opts.parentPid > 1) {
  const parent = opts.parentPid;
  const ppid = process.ppid;
  setInterval(() => {
    let alive = true;
    try {
      process.kill(parent, 0);
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === "EPERM";
    }
    if (!alive || (ppid === parent && process.ppid !== parent)) void exitProcess(`parent process ${parent} is gone`);
  }, 500);
}

try {
  await Promise.all([
    sockets.shell.bind(address(conn, conn.shell_port)),
    sockets.control.bind(address(conn, conn.control_port)),
    sockets.stdin.bind(address(conn, conn.stdin_port)),
    sockets.iopub.bind(address(conn, conn.iopub_port)),
    sockets.hb.bind(address(conn, conn.hb_port)),
  ]);
} catch (err) {
  post({ op: "fatal", error: `cannot bind the kernel's sockets: ${(err as Error).message}` });
  throw err;
}
void receive(sockets.shell, "shell");
void receive(sockets.control, "control");
void receive(sockets.stdin, "stdin");
void heartbeat();
void publish("status", { execution_state: "starting" }, {});
post({ op: "ready" });
