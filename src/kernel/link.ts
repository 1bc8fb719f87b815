// The main thread's end of the I/O thread: requests come in, replies and IOPub messages go out.
import { writeSync } from "node:fs";
import { format } from "node:util";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { InputAnswer, IoOptions, ToIo, ToMain } from "./io-thread.js";
import type { CompiledCell } from "./debugger.js";
import { newHeader, readConnectionFile, type Channel, type ConnectionInfo, type Envelope, type Message } from "./wire.js";

/** The kernel's own log: the process's real stderr (the Jupyter server's log), never a cell. */
export function kernelLog(...args: unknown[]): void {
  try {
    writeSync(2, `featurelab kernel: ${format(...args)}\n`);
  } catch {}
}

export type Parent = Message["parent_header"];

export interface LinkHandlers {
  request(channel: "shell" | "control", env: Envelope): void;
  exit(reason: string): void;
}

export class Link {
  private readonly worker: Worker;
  private barriers = new Map<number, () => void>();
  private nextBarrier = 0;
  readonly ready: Promise<void>;

  readonly options: IoOptions;
  /** Where input replies arrive (read synchronously with receiveMessageOnPort). */
  private readonly inputPort: MessagePort;
  private inputSeq = 0;

  constructor(
    options: Omit<IoOptions, "phase" | "inputSignal" | "inputPort" | "debug">,
    handlers: LinkHandlers,
  ) {
    const channel = new MessageChannel();
    this.inputPort = channel.port1;
    this.options = { ...options, phase: new Int32Array(new SharedArrayBuffer(4)), inputSignal: new Int32Array(new SharedArrayBuffer(4)), inputPort: channel.port2, debug: new Int32Array(new SharedArrayBuffer(8)) };
    // The worker's stdio is not piped through process.stdout/stderr, which cells capture.
    this.worker = new Worker(new URL("./io-thread.js", import.meta.url), { workerData: this.options, transferList: [channel.port2], stdout: true, stderr: true });
    this.worker.stdout.on("data", (d: Buffer) => writeSync(1, d));
    this.worker.stderr.on("data", (d: Buffer) => writeSync(2, d));
    this.ready = new Promise((resolve, reject) => {
      this.worker.on("message", (m: ToMain) => {
        if (m.op === "ready") resolve();
        else if (m.op === "fatal") reject(new Error(m.error));
        else if (m.op === "request") handlers.request(m.channel, m.env);
        else if (m.op === "barrier") this.barriers.get(m.id)?.(), this.barriers.delete(m.id);
        else if (m.op === "exit") handlers.exit(m.reason);
      });
      this.worker.on("error", (err) => {
        kernelLog("the I/O thread failed:", err);
        reject(err);
        process.exit(1);
      });
    });
  }

  get connection(): ConnectionInfo {
    return readConnectionFile(this.options.connectionFile);
  }

  private post(m: ToIo) {
    this.worker.postMessage(m);
  }

  message(msgType: string, content: Record<string, unknown>, parent: Parent, extra: { metadata?: Record<string, unknown>; buffers?: Uint8Array[] } = {}): Message {
    return { header: newHeader(msgType, this.options.session), parent_header: parent, metadata: extra.metadata ?? {}, content, buffers: extra.buffers ?? [] };
  }

  /** A reply to `request` on the channel it came from. */
  reply(channel: Channel, request: Envelope, msgType: string, content: Record<string, unknown>, metadata: Record<string, unknown> = {}): void {
    this.send(channel, { idents: request.idents, msg: this.message(msgType, content, request.msg.header, { metadata }) });
  }

  /** An IOPub message (status, outputs, comm messages), caused by `parent`. */
  publish(msgType: string, content: Record<string, unknown>, parent: Parent, extra: { metadata?: Record<string, unknown>; buffers?: Uint8Array[] } = {}): void {
    this.send("iopub", { idents: [Buffer.from(msgType)], msg: this.message(msgType, content, parent, extra) });
  }

  stream(name: "stdout" | "stderr", text: string, parent: Parent): void {
    this.post({ op: "stream", name, text, parent });
  }

  send(channel: Channel, env: Envelope): void {
    this.post({ op: "send", channel, env });
  }

  /** Resolves once every request the I/O thread had received when this was called has been delivered. */
  barrier(): Promise<void> {
    const id = this.nextBarrier++;
    return new Promise((resolve) => {
      this.barriers.set(id, resolve);
      this.post({ op: "barrier", id });
    });
  }

  /** Where the main thread is (io-thread.ts: Phase), for the I/O thread to judge a stuck interrupt. */
  setPhase(phase: number): void {
    Atomics.store(this.options.phase, 0, phase);
  }

  /**
   * Ask the client that sent `request` for a line of text (input_request on stdin) and block this
   * thread until the I/O thread has the answer — or an interrupt or shutdown ends the wait.
   */
  input(request: Envelope, prompt: string, password: boolean): InputAnswer {
    const { seq, seen } = this.askInput(request, prompt, password, true);
    for (let counter = seen; ; counter = Atomics.load(this.options.inputSignal, 0)) {
      const answer = this.takeInput(seq);
      if (answer) return answer;
      Atomics.wait(this.options.inputSignal, 0, counter);
    }
  }

  /** `input` without blocking the event loop. */
  async inputAsync(request: Envelope, prompt: string, password: boolean): Promise<InputAnswer> {
    const { seq, seen } = this.askInput(request, prompt, password, false);
    for (let counter = seen; ; counter = Atomics.load(this.options.inputSignal, 0)) {
      const answer = this.takeInput(seq);
      if (answer) return answer;
      // Atomics.waitAsync: in V8 (Node 16+), not yet in this TypeScript's lib.
      const waiting = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync(this.options.inputSignal, 0, counter);
      if (waiting.async) await waiting.value;
    }
  }

  private askInput(request: Envelope, prompt: string, password: boolean, blocking: boolean): { seq: number; seen: number } {
    const seq = ++this.inputSeq;
    const seen = Atomics.load(this.options.inputSignal, 0);
    this.post({ op: "input", seq, idents: request.idents, parent: request.msg.header, prompt, password, blocking });
    return { seq, seen };
  }

  private takeInput(seq: number): InputAnswer | undefined {
    for (let m = receiveMessageOnPort(this.inputPort); m; m = receiveMessageOnPort(this.inputPort)) {
      const { seq: of, answer } = m.message as { seq: number; answer: InputAnswer };
      if (of === seq) return answer;
    }
    return undefined;
  }

  /**
   * While a debugger is attached: tell the I/O thread about a compiled cell and wait (up to 10 s) until
   * it has placed the cell's breakpoints — the cell runs right after this returns.
   */
  cellCompiled(cell: CompiledCell): void {
    const debug = this.options.debug;
    if (Atomics.load(debug, 0) !== 1) return;
    const seen = Atomics.load(debug, 1);
    this.post({ op: "debug-cell", cell });
    const until = Date.now() + 10_000;
    while (Atomics.load(debug, 1) === seen && Date.now() < until) Atomics.wait(debug, 1, seen, 1000);
  }

  ackInterrupt(): void {
    this.post({ op: "interrupt-ack" });
  }
}
