// When the kernel dies anyway. Some deaths nothing inside the process can stop: a heap that fills in a
// timer or after an await (where neither an interrupt nor the heap guard can stop the code), or any
// heap at all without the native addon. V8 then ends the process, and the kernel manager (the Jupyter
// server's restarter) starts a new kernel on the same connection file. Node writes a diagnostic report
// on such a fatal error; the kernel names the file after its connection file, so the kernel that
// replaces it finds it and tells the notebook why its predecessor died, on the first cell
// it runs: "The previous kernel ran out of memory (JavaScript heap limit 176 MB) while running its
// Cell In[4], and this kernel replaced it…".
// Which cell ran is read from the report's copy of the environment, where the shell notes it.
import { createHash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { getHeapStatistics } from "node:v8";
import { kernelLog } from "./link.js";

/** Set while a cell runs: its label ("Cell In[4]"), read back from the report of a fatal error. */
const RUNNING = "FEATURELAB_KERNEL_RUNNING";

let file: string | undefined;
let note: string | undefined;

/** Where this kernel's fatal-error report goes: one file per connection file, so a restart finds it. */
export function reportFile(connectionFile: string): string {
  const key = createHash("sha256").update(resolve(connectionFile)).digest("hex").slice(0, 16);
  return join(tmpdir(), `featurelab-kernel-${key}.fatal-report.json`);
}

/** Reads what a predecessor on this connection file left, then has Node report this kernel's fatal errors there. */
export function armLastWords(connectionFile: string): void {
  file = reportFile(connectionFile);
  note = predecessorNote(file);
  try {
    const report = process.report as NodeJS.ProcessReport & { excludeNetwork?: boolean };
    report.directory = dirname(file);
    report.filename = basename(file);
    report.excludeNetwork = true;
    report.reportOnFatalError = true;
  } catch (err) {
    kernelLog("cannot arrange a report of fatal errors:", err);
  }
}

function predecessorNote(path: string): string | undefined {
  let report: { header?: { trigger?: string; event?: string; processId?: number }; environmentVariables?: Record<string, string> };
  try {
    report = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  } finally {
    rmSync(path, { force: true });
  }
  const { trigger = "", event = "", processId } = report.header ?? {};
  if (processId === process.pid || !/^(OOMError|FatalError)$/.test(trigger)) return undefined;
  const cell = report.environmentVariables?.[RUNNING];
  const where = cell ? `while running its ${cell}` : "while no cell was running (in a callback, timer or promise a cell started)";
  const restarted = "and this kernel replaced it: the variables of earlier cells are gone, run the cells they come from again.";
  if (trigger === "OOMError" || /out of memory/i.test(event)) {
    const limitMB = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
    return (
      `The previous kernel ran out of memory (JavaScript heap limit ${limitMB} MB) ${where}, ${restarted}\n` +
      `Large numeric data belongs in typed arrays (Float32Array), which live outside this limit; ` +
      `NODE_OPTIONS=--max-old-space-size=<MB> in the environment Jupyter starts from raises it.\n`
    );
  }
  return `The previous kernel died of a fatal error (${event}) ${where}, ${restarted}\n`;
}

/** Why the previous kernel on this connection file died, once: the first cell shows it. */
export function takePredecessorNote(): string | undefined {
  const n = note;
  note = undefined;
  return n;
}

/** Notes which cell runs (undefined: none), for the report of a fatal error. */
export function noteRunning(label: string | undefined): void {
  if (label === undefined) delete process.env[RUNNING];
  else process.env[RUNNING] = label;
}

/** A kernel that shuts down cleanly leaves nothing behind. */
export function clearLastWords(): void {
  if (file) rmSync(file, { force: true });
}
