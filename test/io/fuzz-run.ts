// Runs fuzzed files through the public API (fl.load, fl.open + a shuffled pass and count(),
// fl.loadDictionary) in a child process (fuzz-child.ts), so a hang or a crash is observed rather than
// suffered. The cases are fuzz.ts's seeded mutants, or folders prepared by the caller (the regression
// cases). Each case ends as
//   ok           — the file still reads, and what it gives is self-consistent (rows × dim values …);
//   error        — an Error whose message names the file (InputError, as the readers throw);
// or a failure:
//   unnamed      — any other exception, or an error that does not name the file;
//   inconsistent — it read, but the result contradicts itself;
//   allocation   — a buffer of more than 64 MB was asked for (the files are a few KB: the size was a
//                  lie; fuzz-guard.ts), or the peak resident memory of the case grew by more than 256 MB;
//   hang         — no answer within 5 s (the child is killed and the run resumes at the next case);
//   crash        — the process died (what a notebook would see as a kernel death).
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const FORMATS = ["arrow", "parquet", "npy", "npz", "safetensors", "saelens", "sparsify", "parquet-fast"] as const;
export type Format = (typeof FORMATS)[number];

export type Outcome = "ok" | "error" | "unnamed" | "inconsistent" | "allocation" | "hang" | "crash";
export const FAILURES: Outcome[] = ["unnamed", "inconsistent", "allocation", "hang", "crash"];

/** A mutant of fuzz.ts (format, index under the run's seed), or a folder prepared by the caller. */
export type Case = { format: Format; index: number } | { format: Format; label: string; dir: string };

export interface CaseResult {
  format: Format;
  /** The mutant's index, or the prepared case's label. */
  id: number | string;
  outcome: Outcome;
  seed?: string;
  ops?: string[];
  detail?: string;
  ms?: number;
}

/** What the child reads from plan.json. */
export interface Plan {
  seed: number;
  cases: Case[];
  work: string;
  keep?: string;
  /** Testing the harness: each case waits this long after it starts, as a hanging reader would. */
  stallMs?: number;
}

/** The folder a case's files are in while it runs. */
export const caseDir = (plan: Plan, c: Case) => ("dir" in c ? c.dir : join(plan.work, `${c.format}-${c.index}`));
/** Copies a failing case's files to plan.keep. */
export const keepCase = (plan: Plan, c: Case) =>
  plan.keep && cpSync(caseDir(plan, c), join(plan.keep, "dir" in c ? `${c.format}-${c.label}` : `${c.format}-${plan.seed}-${c.index}`), { recursive: true, force: true });

export interface FuzzOptions {
  formats?: readonly Format[];
  /** Mutants per format (indices 0…n−1), or these mutants… */
  cases?: number | { format: Format; index: number }[];
  /** …or these prepared cases instead. */
  prepared?: { format: Format; label: string; dir: string }[];
  seed?: number;
  timeoutMs?: number;
  /** Where failing cases' files are copied (for a hang or crash, the files as they were when it happened). */
  keep?: string;
  /** Called after each case. */
  onCase?: (r: CaseResult) => void;
  /** Testing the harness: each case stalls this long (see Plan). */
  stallMs?: number;
}

export interface FuzzSummary {
  counts: Record<string, Record<Outcome, number>>;
  results: CaseResult[];
  failures: CaseResult[];
  ms: number;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const t0 = performance.now();
  const timeout = opts.timeoutMs ?? 5000;
  const work = mkdtempSync(join(tmpdir(), "featurelab-fuzz-"));
  const n = opts.cases ?? 0;
  const cases: Case[] = opts.prepared ?? (typeof n === "number" ? (opts.formats ?? FORMATS).flatMap((format) => Array.from({ length: n }, (_, index) => ({ format, index }))) : n);
  const plan: Plan = { seed: opts.seed ?? 1, cases, work, keep: opts.keep, stallMs: opts.stallMs };
  const counts: FuzzSummary["counts"] = {};
  for (const c of cases) counts[c.format] ??= Object.fromEntries(["ok", "error", ...FAILURES].map((o) => [o, 0])) as Record<Outcome, number>;
  const results: CaseResult[] = [];
  const record = (r: CaseResult) => {
    counts[r.format][r.outcome]++;
    results.push(r);
    opts.onCase?.(r);
  };
  try {
    writeFileSync(join(work, "plan.json"), JSON.stringify(plan));
    for (let start = 0; start < cases.length; ) {
      const stopped = await runChild(plan, start, timeout, record);
      if (stopped === undefined) break;
      if (plan.keep) keepCase(plan, cases[stopped]); // a hang or crash leaves the case's files in place
      start = stopped + 1; // resume after the case that hung or crashed
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { counts, results, failures: results.filter((r) => FAILURES.includes(r.outcome)), ms: performance.now() - t0 };
}

/** Runs the plan's cases from `start` in one child; returns the position it stopped at (hang or crash), or undefined when it finished. */
function runChild(plan: Plan, start: number, timeout: number, record: (r: CaseResult) => void): Promise<number | undefined> {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "test", "io", "fuzz-child.ts"), join(plan.work, "plan.json"), String(start)], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let current: { at: number; ops?: string[]; seed?: string; call?: string } | undefined;
    let timer: NodeJS.Timeout | undefined;
    let hung = false;
    let ready = false;
    let stderr = "";
    let pending = "";
    const startup = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const id = (c: Case) => ("dir" in c ? c.label : c.index);
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
    child.stdout.on("data", (d) => {
      if (hung) return; // killed: what it wrote meanwhile is not an answer in time
      pending += d;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        const msg = JSON.parse(line);
        if (msg.ready) (ready = true), clearTimeout(startup);
        else if (msg.call !== undefined && current) current.call = msg.call;
        else if (msg.start !== undefined) {
          current = { at: msg.start, ops: msg.ops, seed: msg.seed };
          timer = setTimeout(() => {
            hung = true;
            child.kill("SIGKILL");
          }, timeout);
        } else if (msg.end !== undefined) {
          clearTimeout(timer);
          current = undefined;
          const c = plan.cases[msg.end];
          record({ format: c.format, id: id(c), outcome: msg.outcome, seed: msg.seed, ops: msg.ops, detail: msg.detail, ms: msg.ms });
        }
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(startup);
      if (!ready) return reject(new Error(`fuzz: the child did not start (exit ${code ?? signal}):\n${stderr}`));
      if (!current) return code === 0 ? resolve(undefined) : reject(new Error(`fuzz: the child failed between cases (exit ${code ?? signal}):\n${stderr}`));
      const { at, ops, seed, call } = current;
      const c = plan.cases[at];
      const why = hung ? `no answer within ${timeout} ms` : code === 13 ? "a promise never settled (the event loop ran dry)" : `exit ${code ?? signal}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`;
      record({ format: c.format, id: id(c), outcome: hung || code === 13 ? "hang" : "crash", seed, ops, detail: `${call}: ${why}` });
      resolve(at);
    });
  });
}
