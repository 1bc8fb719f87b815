// One case for each kind of failure the fuzzer found in the readers, as the exact mutant it found
// (seed, index: the same bytes every run; its mutations are checked, so a change to the mutator cannot
// silently swap the case). Before the fixes each of these hung, died, allocated what a lying size said,
// threw an error that did not name the file, or read wrong data; now each is an InputError naming the
// file and saying what is wrong. They run in the fuzzer's child process, where a hang or a death is
// reported instead of taking the test run with it.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { type CaseResult, type Format, runFuzz } from "./fuzz-run.js";

interface Regression {
  seed: number;
  format: Format;
  index: number;
  /** What the fuzzer did to the seed file. */
  ops: string;
  /** What happened before the fix. */
  was: string;
  /** The error now (after the file's name), or "reads": the damage is to something the reader no longer needs, and the file reads whole and consistent. */
  now: RegExp | "reads";
}

const CASES: Regression[] = [
  // Arrow IPC (apache-arrow trusts the file's framing and flatbuffers)
  { seed: 1, format: "arrow", index: 10, ops: "duplicate 7 bytes@1052; lie arrow message length@884 312 → 255; lie arrow message length@884 255 → 2147483648", was: "load: hang (a record batch block that holds another kind of message: the file reader re-reads it forever)", now: /record batch 1 \(at byte 880\): a message claims -2147483648 bytes of metadata, but 312 bytes follow/ },
  { seed: 1, format: "arrow", index: 25, ops: "overwrite 3 bytes@1866 with noise", was: "open: allocation of 1.3 GB (the footer length read from the damaged tail)", now: /starts like an Arrow IPC file but does not end with its footer magic 'ARROW1'/ },
  { seed: 1, format: "arrow", index: 16, ops: "lie arrow message length@316 312 → 2601", was: "open: Error 'Expected to read 2601 metadata bytes' without the file name", now: /record batch 0 \(at byte 312\): a message claims 2601 bytes of metadata, but 312 bytes follow/ },
  { seed: 1, format: "arrow", index: 53, ops: "duplicate 8 bytes@416; lie int32@2296: 6 → 5220", was: "open: TypeError 'Cannot destructure property length' (a flatbuffer offset pointing outside the footer)", now: /footer: it points at bytes 228–5448, outside its 528 bytes/ },
  { seed: 1, format: "arrow", index: 145, ops: "lie int32@1560: 5 → -2147483648", was: "open: RangeError 'Invalid typed array length' without the file name", now: /is not a valid Arrow IPC file or stream \(Invalid typed array length/ },
  // Parquet (hyparquet trusts counts and sizes; a rejection it never awaits killed the process)
  { seed: 1, format: "parquet", index: 44, ops: "lie parquet page.8.6 (int) 5 → 1", was: "load: hang (a run-length run longer than its page: hyparquet writes every value it claims)", now: /row group 3, column 'resid.list.element' is corrupt: the page at byte 849: its repetition levels end inside a bit-packed run/ },
  { seed: 2, format: "parquet", index: 973, ops: "flip 3 bits", was: "load: the process died (an unhandled rejection of a read hyparquet started and never awaited)", now: /has a corrupt Parquet footer: row group 0, column 'tok' has no byte range/ },
  { seed: 1, format: "parquet", index: 11, ops: "flip 5 bits", was: "load: TypeError 'Cannot read properties of undefined' from the schema", now: /has a corrupt Parquet footer: its \d+ schema elements do not nest as their num_children say/ },
  { seed: 1, format: "parquet", index: 39, ops: "lie parquet 2.6 (int) 3 → 0", was: "load and open: 16 rows with no vectors (a damaged LIST annotation decoded as a struct, read as empty); then an error", now: "reads" }, // the vector fast path reads the list by its levels, as the logical type still says
  { seed: 1, format: "parquet", index: 541, ops: "lie parquet 4.3 (int) 4 → 1", was: "load and open: 13 of 16 rows, silently (a row group's row count)", now: /has a corrupt Parquet footer: row group 3, column 'doc' holds 4 values for 1 rows/ },
  { seed: 1, format: "parquet", index: 229, ops: "lie parquet 4.1.3.13.3 (int) 1 → 1024; lie parquet 3 (int) 16 → -1; lie parquet 4.1.3.13.1 (int) 3 → 65535", was: "open: count() -1 for 16 rows", now: /has a corrupt Parquet footer: the footer says -1 rows, but its row groups hold 16/ },
  { seed: 2, format: "parquet", index: 647, ops: "overwrite 8 bytes@1702 with 0", was: "open: TypeError 'Cannot read properties of undefined (reading dim)' (a row group without a row count)", now: /has a corrupt Parquet footer: row group 3 claims undefined rows/ },
  { seed: 2024, format: "parquet", index: 230, ops: "lie parquet 2.5 (int) 1 → -1; overwrite 27 bytes@510 with 0", was: "load: hang (hyparquet's GeoParquet pass steps through the schema by num_children, here −1)", now: /has a corrupt Parquet footer \(parquet schema element not found/ },
  // .npy, .npz
  { seed: 1, format: "npy", index: 125, ops: "lie npy shape=(4294967296, 4294967296, 0)", was: "load: allocation of 2^55 bytes (metadata for 2^64 rows of empty vectors)", now: /array 'array' has shape \[4294967296, 4294967296, 0\]: its vectors are empty/ },
  { seed: 1, format: "npz", index: 1, ops: "lie zip central.usize 256 → 4294967295", was: "load: allocation of 4 GB (fflate allocates the zip directory's uncompressed size)", now: /\.npz member label\.npy claims 4294967295 bytes from 80 deflated bytes in a 876-byte file/ },
  // SAELens and sparsify folders
  { seed: 1, format: "saelens", index: 2, ops: "cfg.json: cfg.json d_in = 1099511627776; cfg.json: cfg.json d_sae = 24", was: "loadDictionary: allocation of 10^14 bytes (the layout of a dictionary of cfg.json's size)", now: /cfg\.json: says d_in 1099511627776, d_sae 24: 26388279066624 weights, but .* holds \d+ values/ },
  { seed: 1, format: "saelens", index: 370, ops: "cfg.json: cfg.json d_in = -1", was: "loadDictionary: RangeError 'Invalid typed array length' without the file name", now: /cfg\.json: needs 'd_in' to be a positive integer, got -1/ },
  { seed: 1, format: "saelens", index: 14, ops: "cfg.json: cfg.json is null", was: "loadDictionary: TypeError 'Cannot read properties of null'", now: /cfg\.json: is null, not a JSON object of settings/ },
  { seed: 1, format: "saelens", index: 154, ops: "cfg.json: cfg.json k = 32768", was: "loadDictionary: Error 'k must be at most the width' without the file name", now: /cfg\.json: topk: option k = 32768 must be at most the width/ },
  { seed: 1, format: "saelens", index: 119, ops: 'cfg.json: cfg.json featurelab.architecture = "nope"', was: "loadDictionary: Error 'unknown dictionary architecture' without the file name", now: /cfg\.json: unknown dictionary architecture 'nope'/ },
  { seed: 1, format: "sparsify", index: 660, ops: "cfg.json: cfg.json k = 2147483648", was: "loadDictionary: a dictionary whose encode() then failed (k above the number of latents)", now: /cfg\.json: says k = 2147483648, more than the 12 latents/ },
  { seed: 101, format: "sparsify", index: 4827, ops: "sae.safetensors: weights: transpose W_dec; sae.safetensors: weights: transpose encoder.weight; cfg.json: cfg.json d_out = 2147483648", was: "loadDictionary: a dictionary whose biases did not fit its weights (only W_dec was compared with encoder.weight)", now: /sae\.safetensors: encoder\.bias has shape \[12\], expected \[8\] to match encoder\.weight/ },
];

const results = new Map<string, CaseResult>();
const key = (seed: number, format: string, id: number | string) => `${seed}/${format}/${id}`;

before(async () => {
  for (const seed of new Set(CASES.map((c) => c.seed))) {
    const s = await runFuzz({ seed, cases: CASES.filter((c) => c.seed === seed).map(({ format, index }) => ({ format, index })) });
    for (const r of s.results) results.set(key(seed, r.format, r.id), r);
  }
});

for (const c of CASES) {
  test(`${c.format} #${c.index} (seed ${c.seed}), which was ${c.was}`, () => {
    const r = results.get(key(c.seed, c.format, c.index));
    assert.ok(r, "the case ran");
    assert.equal(r.ops?.join("; "), c.ops, "the mutant is the one the fuzzer found");
    if (c.now === "reads") return assert.equal(r.outcome, "ok", r.detail);
    assert.equal(r.outcome, "error", r.detail);
    assert.match(r.detail ?? "", c.now);
  });
}
