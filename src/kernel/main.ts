// The featurelab kernel: a Jupyter kernel for TypeScript. tslab compiles and runs the cells; this
// kernel speaks the whole Jupyter protocol around them. The main thread runs cells and answers the
// shell channel (shell.ts); a worker thread owns the sockets (io-thread.ts). Started by
// jupyter/kernels/featurelab/launch.cjs with the connection file Jupyter wrote.
import { randomUUID } from "node:crypto";
import { Compiler } from "./compiler.js";
import { Execution } from "./execution.js";
import { History } from "./history.js";
import { installHeapGuard } from "./heap-guard.js";
import { armLastWords, clearLastWords } from "./last-words.js";
import { kernelLog, Link } from "./link.js";
import { Shell } from "./shell.js";
import { installStackTraces } from "./source-maps.js";
import { trace } from "./trace.js";

/** `compiler`: started by the launcher before this module loaded (else here), so TypeScript loads meanwhile. */
export async function start(connectionFile: string, compiler = new Compiler()): Promise<void> {
  trace("kernel module loaded");
  let shell: Shell | undefined;
  let exec: Execution | undefined;
  const parentPid = Number(process.env.JPY_PARENT_PID);
  const link = new Link(
    { connectionFile, session: randomUUID(), parentPid: parentPid > 1 ? parentPid : undefined },
    {
      request: (channel, env) => shell!.request(channel, env),
      exit: (reason) => {
        kernelLog(`exiting: ${reason}`);
        clearLastWords();
        try {
          exec?.close();
        } catch {}
        process.exit(0);
      },
    },
  );
  trace("i/o thread started");
  installStackTraces();
  armLastWords(connectionFile);
  exec = new Execution(process.cwd(), (phase) => link.setPhase(phase), installHeapGuard(), compiler);
  exec.onCompiled = (cell) => link.cellCompiled(cell);
  trace("execution ready");
  shell = new Shell(link, exec, new History());

  // Interrupt (or the heap guard): tell the I/O thread the main thread heard it, then stop the running cell.
  process.on("SIGINT", () => {
    link.ackInterrupt();
    exec!.interrupt();
  });
  // What cells start and do not await must not end the kernel when it fails.
  process.on("uncaughtException", (err) => shell!.report(err, "uncaught exception"));
  process.on("unhandledRejection", (reason) => shell!.report(reason, "unhandled promise rejection"));
  guardProcessErrorEvents();

  trace("main thread set up");
  try {
    await link.ready;
    trace("sockets ready");
  } catch (err) {
    kernelLog((err as Error).message);
    process.exit(1);
  }
}

/**
 * Listeners of uncaughtException / unhandledRejection that libraries add must not end the kernel:
 * Emscripten-built modules (tfjs-backend-wasm among them) rethrow from theirs, which Node treats
 * as fatal. Each listener runs guarded; what one throws goes to the kernel's log.
 */
function guardProcessErrorEvents(): void {
  const emit = process.emit;
  (process as { emit: typeof process.emit }).emit = function (this: NodeJS.Process, event: string | symbol, ...args: unknown[]) {
    if (event !== "uncaughtException" && event !== "unhandledRejection") return (emit as Function).call(this, event, ...args);
    const listeners = process.listeners(event as "uncaughtException");
    for (const listener of listeners) {
      try {
        (listener as Function).apply(process, args);
      } catch (err) {
        if (err !== args[0]) kernelLog(`a ${event} listener failed:`, err);
      }
    }
    return listeners.length > 0;
  } as typeof process.emit;
}
