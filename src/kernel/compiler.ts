// The main thread's end of the compiler thread (compiler-thread.ts): tslab's Converter interface,
// answered synchronously — tslab's executor calls convert() synchronously — by posting the request
// and waiting on a shared counter. While it waits for a conversion the main thread may do other
// work first (`whileWaiting`: the kernel loads the packages the cell imports). A small supervisor
// thread starts the compiler thread and watches it: if it stops (out of memory, a crash), the wait
// ends with an error naming why, and the next request starts a new one. FEATURELAB_COMPILER_HEAP_MB
// caps the compiler thread's heap (default: V8's, as for the main thread).
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { Converter } from "tslab/dist/converter.js";
import type { CompilerAnswer, CompilerData, CompilerOp, CompilerRequest } from "./compiler-thread.js";
import { kernelLog } from "./link.js";

// Runs in its own thread: starts the compiler, forwards its output to the kernel's log, and marks
// signal[1] (with a reason on `notes`) when it stops.
const SUPERVISOR = `
const { Worker, workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const { script, data, notes, heapMB } = workerData;
const resourceLimits = heapMB > 0 ? { maxOldGenerationSizeMb: heapMB } : undefined;
const compiler = new Worker(new URL(script), { workerData: data, transferList: [data.port], stdout: true, stderr: true, resourceLimits });
for (const s of [compiler.stdout, compiler.stderr]) s.on("data", (d) => { try { writeSync(2, d); } catch {} });
let reason = "it exited";
compiler.on("error", (err) => { reason = (err && err.code === "ERR_WORKER_OUT_OF_MEMORY") ? "it ran out of memory" : String(err && err.stack || err); });
compiler.on("exit", (code) => {
  notes.postMessage(reason + " (exit code " + code + ")");
  Atomics.store(data.signal, 1, 1);
  Atomics.add(data.signal, 0, 1);
  Atomics.notify(data.signal, 0);
  notes.close();
});
`;

interface Thread {
  supervisor: Worker;
  port: MessagePort;
  notes: MessagePort;
  signal: Int32Array;
}

export class Compiler {
  private thread?: Thread;
  private seq = 0;

  constructor() {
    this.thread = this.start();
  }

  private start(): Thread {
    const work = new MessageChannel();
    const notes = new MessageChannel();
    const signal = new Int32Array(new SharedArrayBuffer(12));
    const data: CompilerData = { port: work.port2, signal };
    const supervisor = new Worker(SUPERVISOR, {
      eval: true,
      workerData: { script: new URL("./compiler-thread.js", import.meta.url).href, data, notes: notes.port2, heapMB: Number(process.env.FEATURELAB_COMPILER_HEAP_MB) || 0 },
      transferList: [work.port2, notes.port2],
    });
    // Neither thread keeps the kernel alive on its own.
    supervisor.unref();
    work.port1.unref();
    notes.port1.unref();
    return { supervisor, port: work.port1, notes: notes.port1, signal };
  }

  /** Ask the compiler thread; `whileWaiting` runs after the request is posted, before the wait. */
  call(mode: "node" | "browser", op: CompilerOp, args: unknown[], whileWaiting?: () => void): unknown {
    const t = (this.thread ??= this.start());
    const seq = ++this.seq;
    const seen = Atomics.load(t.signal, 0);
    t.port.postMessage({ seq, mode, op, args } satisfies CompilerRequest);
    try {
      whileWaiting?.();
    } catch {}
    // This thread's own work for the request (loading what the cell imports) is done.
    Atomics.store(t.signal, 2, seq);
    Atomics.notify(t.signal, 2);
    for (let counter = seen; ; counter = Atomics.load(t.signal, 0)) {
      for (let m = receiveMessageOnPort(t.port); m; m = receiveMessageOnPort(t.port)) {
        const a = m.message as CompilerAnswer;
        if (a.seq !== seq) continue;
        if ("error" in a) throw new Error(`TypeScript failed on this cell: ${a.error}`);
        return a.value;
      }
      if (Atomics.load(t.signal, 1) === 1) {
        const why = receiveMessageOnPort(t.notes)?.message ?? "it stopped";
        this.thread = undefined;
        kernelLog(`the compiler thread stopped: ${why}`);
        throw new Error(`the TypeScript compiler stopped while it compiled this cell: ${why}. The next cell starts a new one (its first compile takes a few seconds).`);
      }
      Atomics.wait(t.signal, 0, counter);
    }
  }

  /** tslab's Converter for Node or browser cells, answered by the compiler thread. */
  converter(mode: "node" | "browser", whileConverting?: (src: string) => void): Converter {
    return {
      convert: (prevDecl, src) => this.call(mode, "convert", [prevDecl, src], whileConverting && (() => whileConverting(src))) as ReturnType<Converter["convert"]>,
      inspect: (prevDecl, src, position) => this.call(mode, "inspect", [prevDecl, src, position]) as ReturnType<Converter["inspect"]>,
      complete: (prevDecl, src, position) => this.call(mode, "complete", [prevDecl, src, position]) as ReturnType<Converter["complete"]>,
      addModule: (name, content, meta) => this.call(mode, "addModule", [name, content, meta]) as ReturnType<Converter["addModule"]>,
      close: () => this.close(),
    };
  }

  close(): void {
    const t = this.thread;
    this.thread = undefined;
    void t?.supervisor.terminate();
  }
}
