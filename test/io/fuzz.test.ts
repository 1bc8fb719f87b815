// Fuzzed readers: a few hundred seeded mutants of real Arrow IPC, Parquet, .npy, .npz, .safetensors,
// SAELens and sparsify files per format (truncated, bit-flipped, overwritten, lying lengths, offsets,
// counts and shapes; test/io/fuzz.ts), each read through the public API in a child process: every one
// reads or fails with an error naming the file — no other exception, no hang over 5 s, no allocation
// from a lying size, no dead process. `npm run bench:fuzz` runs thousands per format.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FORMATS, runFuzz } from "./fuzz-run.js";

const CASES = 300;

test(`${CASES} mutants per format read or fail with an error naming the file`, { timeout: 300_000 }, async () => {
  const s = await runFuzz({ cases: CASES, seed: 2024 });
  assert.deepEqual(
    s.failures.map((f) => `${f.format} #${f.id} ${f.outcome}: ${f.ops?.join("; ")} → ${f.detail}`),
    [],
    `reproduce one with: npm run bench:fuzz -- --seed 2024 --cases ${CASES} --formats <format> --keep <dir>`,
  );
  for (const format of FORMATS) {
    const c = s.counts[format];
    assert.equal(c.ok + c.error, CASES, format);
    assert.ok(c.error > CASES / 2, `${format}: most mutants should be refused, ${c.error} were`);
  }
});

test("a case with no answer in time is reported as a hang, and the run goes on with the next case", { timeout: 120_000 }, async () => {
  const s = await runFuzz({ formats: ["npy"], cases: 2, seed: 1, timeoutMs: 200, stallMs: 600_000 });
  assert.deepEqual(
    s.results.map((r) => [r.id, r.outcome]),
    [
      [0, "hang"],
      [1, "hang"],
    ],
  );
});
