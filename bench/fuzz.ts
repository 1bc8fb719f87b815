// Fuzzed readers: seeded mutants of real Arrow IPC, Parquet, .npy, .npz, .safetensors, SAELens and
// sparsify files (test/io/fuzz.ts) read through the public API in a child process (test/io/fuzz-run.ts),
// with a table of outcomes per format. Every failure is listed with how to reproduce it.
// `npm run bench:fuzz -- [--cases 1000] [--seed 1] [--formats npy,npz] [--keep dir] [--timeout 5000] [--errors]`
// (--errors: the most common clean error messages)
// (needs a build: the cases go through the built package, as a notebook's do).
import { FAILURES, FORMATS, type Format, runFuzz } from "../test/io/fuzz-run.js";

const args = process.argv.slice(2);
const option = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const cases = Number(option("--cases", "1000"));
const seed = Number(option("--seed", "1"));
const formats = option("--formats", FORMATS.join(",")).split(",") as Format[];
const keep = args.includes("--keep") ? option("--keep", "") : undefined;
const timeoutMs = Number(option("--timeout", "5000"));

const showErrors = args.includes("--errors");
const messages = new Map<string, number>();
let done = 0;
const total = cases * formats.length;
const summary = await runFuzz({
  formats,
  cases,
  seed,
  timeoutMs,
  keep,
  onCase: (r) => {
    if (showErrors && r.outcome === "error") {
      const key = `${r.format} ${r.detail!.replace(/\/[^ :]*fuzz[^ :]*/g, "<file>").replace(/\d+/g, "#").slice(0, 160)}`;
      messages.set(key, (messages.get(key) ?? 0) + 1);
    }
    if (++done % 250 === 0 && process.stderr.isTTY) process.stderr.write(`\r${done}/${total} cases`);
  },
});
if (process.stderr.isTTY) process.stderr.write("\r");

const columns = ["format", "cases", "ok", "clean errors", "failures", ...FAILURES];
const rows = Object.entries(summary.counts).map(([format, c]) => {
  const failures = FAILURES.reduce((n, o) => n + c[o], 0);
  const n = c.ok + c.error + failures;
  return [format, n, c.ok, c.error, failures, ...FAILURES.map((o) => c[o])].map(String);
});
const widths = columns.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")} |`;
console.log(`fuzzed readers: seed ${seed}, ${cases} cases per format, ${(summary.ms / 1000).toFixed(1)} s`);
console.log(line(columns));
console.log(`|${widths.map((w, i) => (i ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join("|")}|`);
for (const r of rows) console.log(line(r));
if (showErrors) for (const [m, n] of [...messages].sort((a, b) => b[1] - a[1]).slice(0, 60)) console.log(`${String(n).padStart(5)}  ${m}`);
for (const f of summary.failures) console.log(`FAIL ${f.format} #${f.id} (${f.seed}) ${f.outcome}: ${f.ops?.join("; ")} → ${f.detail}`);
process.exit(summary.failures.length ? 1 : 0);
