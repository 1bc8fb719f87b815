// The child process of the fuzz run (fuzz-run.ts starts it): builds the seeds, then for each case writes
// the mutant, reads it through the public API and reports one JSON line before and after.
// `node --import tsx test/io/fuzz-child.ts <plan.json> <first case>`
import { arm, disarm, resetGuard } from "./fuzz-guard.js"; // first: it must wrap the constructors before anything else loads
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { mutant, seedFiles, type Seed } from "./fuzz.js";
import { caseDir, FAILURES, type Format, keepCase, type Outcome, type Plan } from "./fuzz-run.js";

/** A case whose peak resident memory grows more than this allocated (and touched) what a lie asked for. */
const PEAK_LIMIT = 256 * 2 ** 20;
const status = () => readFileSync("/proc/self/status", "utf8");
const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status())?.[1] ?? 0) * 1024;
function resetPeak(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/** One line to the parent (stdout to a pipe is written synchronously on Linux, so it is out before a hang). */
const emit = (msg: object) => process.stdout.write(JSON.stringify(msg) + "\n");

async function child(plan: Plan, start: number): Promise<void> {
  const fl = await import("featurelab");
  await fl.ready();
  const seeds = new Map<Format, Seed[]>();
  for (const { format } of plan.cases.slice(start)) {
    if (seeds.has(format)) continue;
    const scratch = join(plan.work, `seed-${format}-${process.pid}`);
    seeds.set(format, await seedFiles(format, scratch));
    // every seed must read as it is, or its mutants measure nothing
    for (const seed of seeds.get(format)!) {
      const dir = join(scratch, `check-${seed.label.replace(/\W+/g, "-")}`);
      writeFiles(dir, seed.files);
      const { outcome, detail } = await exercise(fl, format, target(format, dir));
      if (outcome !== "ok") throw new Error(`fuzz: the ${format} seed '${seed.label}' does not read: ${detail}`);
    }
  }
  const peaks = resetPeak();
  let stray: string | undefined;
  process.on("unhandledRejection", (e) => void (stray ??= `unhandled rejection: ${String((e as Error)?.stack ?? e).split("\n").slice(0, 2).join(" ")}`));
  process.on("uncaughtException", (e) => void (stray ??= `uncaught exception: ${String(e?.stack ?? e).split("\n").slice(0, 2).join(" ")}`));
  emit({ ready: true });
  for (let at = start; at < plan.cases.length; at++) {
    const c = plan.cases[at];
    const dir = caseDir(plan, c);
    const m = "dir" in c ? undefined : mutant(c.format, seeds.get(c.format)!, plan.seed, c.index);
    if (m) writeFiles(dir, m.files);
    emit({ start: at, seed: m?.seed, ops: m?.ops });
    if (plan.stallMs) await new Promise((r) => setTimeout(r, plan.stallMs)); // the harness's own test: a case that never answers in time
    resetGuard();
    stray = undefined;
    if (peaks) resetPeak();
    const rss = kb("VmRSS");
    const t = performance.now();
    let { outcome, detail } = await exercise(fl, c.format, target(c.format, dir));
    await new Promise((r) => setImmediate(r)); // let stray rejections of this case surface now
    const peak = peaks ? kb("VmHWM") - rss : 0;
    const allocation = disarm();
    if (allocation || peak > PEAK_LIMIT) (outcome = "allocation"), (detail = allocation ?? `peak resident memory grew by ${(peak / 2 ** 20).toFixed(0)} MB`);
    else if (stray) (outcome = "crash"), (detail = stray);
    emit({ end: at, seed: m?.seed, ops: m?.ops, outcome, detail, ms: Math.round(performance.now() - t) });
    if (FAILURES.includes(outcome)) keepCase(plan, c);
    if (m) rmSync(dir, { recursive: true, force: true });
  }
}

function writeFiles(dir: string, files: Record<string, Uint8Array>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
}

/** What the reader is given: the folder itself for a dictionary, else the one file in it. */
function target(format: Format, dir: string): string {
  if (format === "saelens" || format === "sparsify") return dir;
  return join(dir, readdirSync(dir)[0] ?? "missing");
}

type Fl = typeof import("featurelab");

/** Every public reader the format has, in turn; the worst outcome counts. */
async function exercise(fl: Fl, format: Format, target: string): Promise<{ outcome: Outcome; detail?: string }> {
  const name = basename(target);
  const calls: [string, () => Promise<string | undefined>][] =
    format === "saelens" || format === "sparsify" ? [["loadDictionary", () => fl.loadDictionary(target).then((d) => checkDictionary(fl, d))]]
    : format === "arrow" || format === "parquet" || format === "parquet-fast" ? [["load", () => fl.load(target).then(checkSet)], ["open", () => fl.open(target).then(checkStream)]]
    : [["load", () => fl.load(target).then(checkSet)]];
  let worst: { outcome: Outcome; detail?: string } = { outcome: "ok" };
  for (const [call, run] of calls) {
    emit({ call });
    arm(call);
    let result: { outcome: Outcome; detail?: string };
    try {
      const problem = await run();
      result = problem ? { outcome: "inconsistent", detail: `${call}: ${problem}` } : { outcome: "ok" };
    } catch (e) {
      const message = e instanceof Error ? `${e.name}: ${e.message}` : `threw ${typeof e} ${String(e)}`;
      result = e instanceof Error && e.message.includes(name) ? { outcome: "error", detail: `${call}: ${message.slice(0, 300)}` } : { outcome: "unnamed", detail: `${call}: ${message.slice(0, 300)}` };
    }
    disarm();
    if (rank(result.outcome) > rank(worst.outcome)) worst = result;
  }
  return worst;
}
const rank = (o: Outcome) => (o === "ok" ? 0 : o === "error" ? 1 : 2);

function checkSet(acts: import("featurelab").ActivationSet): string | undefined {
  if (!(Number.isInteger(acts.dim) && acts.dim > 0)) return `dim ${acts.dim}`;
  if (acts.vectors.length !== acts.numRows * acts.dim) return `${acts.vectors.length} values for ${acts.numRows} rows of dim ${acts.dim}`;
  for (const c of acts.columns) if (acts.column(c).length !== acts.numRows) return `column ${c} has ${acts.column(c).length} values for ${acts.numRows} rows`;
  for (const v of acts.vectors) if (!Number.isFinite(v)) return "a non-finite value passed the default nonFinite: 'error'";
  return undefined;
}

async function checkStream(s: import("featurelab").ActivationStream): Promise<string | undefined> {
  let rows = 0;
  for await (const b of s.rowBatches({ size: 5, shuffle: true, seed: 1, bufferRows: 7 })) {
    if (b.vectors.length !== b.rows * s.dim) return `a batch of ${b.rows} rows holds ${b.vectors.length} values (dim ${s.dim})`;
    rows += b.rows;
  }
  const count = await s.count();
  return count === rows ? undefined : `count() says ${count}, a pass gave ${rows} rows`;
}

function checkDictionary(fl: Fl, d: import("featurelab").Dictionary): string | undefined {
  const { W_enc, W_dec, b_enc, b_dec } = d.params;
  const shapes = `W_enc [${W_enc?.shape}], W_dec [${W_dec?.shape}], b_enc [${b_enc?.shape}], b_dec [${b_dec?.shape}]`;
  if (!(Number.isInteger(d.dIn) && d.dIn > 0 && Number.isInteger(d.width) && d.width > 0)) return `d_in ${d.dIn}, d_sae ${d.width}`;
  if (W_enc?.shape.join() !== `${d.dIn},${d.width}` || W_dec?.shape[0] !== d.width || b_enc?.shape.join() !== `${d.width}` || b_dec?.shape.join() !== `${W_dec.shape[1]}`) {
    return `d_in ${d.dIn}, d_sae ${d.width} but ${shapes}`;
  }
  const x = fl.fromVectors(new Float32Array(3 * d.dIn).fill(0.5), d.dIn);
  const codes = d.encode(x);
  if (codes.numRows !== 3) return `encode gave ${codes.numRows} rows for 3`;
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  child(JSON.parse(readFileSync(process.argv[2], "utf8")), Number(process.argv[3] ?? 0)).then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(70);
    },
  );
}
