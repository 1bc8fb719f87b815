// Seeded mutants of real files for the fuzzed-reader test (fuzz.test.ts) and benchmark (bench/fuzz.ts).
// Seed files are written by featurelab itself; each case takes one seed and applies one to three
// mutations: truncation, bit flips, overwritten/deleted/duplicated byte runs, and lies — a length,
// offset, count or shape field of the format rewritten to 0, 2^31, 2^53, −1, the file size ± 1 … —
// found by parsing the format (safetensors JSON, npy dict, zip records, Arrow IPC framing, Parquet
// thrift footer and page headers, cfg.json) or, blindly, as any aligned integer that looks like a size.
// The mutations are in fuzz-lies.ts and fuzz-parquet.ts. The same (seed, format, case) always gives the same
// mutant. fuzz-run.ts runs them (in fuzz-child.ts).
import { Table, tableToIPC } from "apache-arrow";
import * as fl from "featurelab";
import { Rng } from "../../src/engine/random.js";
import { writeNpy } from "../../src/io/npy.js";
import { writeNpz } from "../../src/io/npz.js";
import { legacyParquet } from "./fuzz-seed-parquet.js";
import { writeParquet } from "../../src/io/parquet-write.js";
import { writeSafetensors } from "../../src/io/safetensors.js";
import type { NdArray } from "../../src/io/ndarray.js";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FORMATS, type Format } from "./fuzz-run.js";
import { arrowLie, blind, bytes, cfgLie, npyLie, npzLie, pick, safetensorsLie, weightsReshape } from "./fuzz-lies.js";
import { parquetLie } from "./fuzz-parquet.js";

/** Files by name; a folder format (saelens, sparsify) has several, the others one. */
export type Files = Record<string, Uint8Array>;
export interface Seed {
  label: string;
  files: Files;
}
export interface Mutant {
  seed: string;
  files: Files;
  /** What was done, for the report: "truncate@120", "lie npy shape=(2147483648, 8)" … */
  ops: string[];
}

const N = 16;
const D = 8;
const VALUES = Float32Array.from({ length: N * D }, (_, i) => Math.sin(i * 0.7) * 2);
const f32 = (shape: number[], data = VALUES): NdArray => ({ dtype: "float32", shape, data: data.subarray(0, shape.reduce((a, b) => a * b, 1)) });
const labels: NdArray = { dtype: "int64", shape: [N], data: BigInt64Array.from({ length: N }, (_, i) => BigInt(i % 3)) };

/** The valid files every mutant starts from, a few per format to reach more of each reader. */
export async function seedFiles(format: Format, scratch: string): Promise<Seed[]> {
  mkdirSync(scratch, { recursive: true });
  // plain copies: a Buffer's slice() is a view, and a mutation must never reach the seed
  const seeds = await writeSeeds(format, scratch);
  return seeds.map((s) => ({ label: s.label, files: Object.fromEntries(Object.entries(s.files).map(([n, b]) => [n, new Uint8Array(b)])) }));
}

async function writeSeeds(format: Format, scratch: string): Promise<Seed[]> {
  const actsColumns = {
    doc: Int32Array.from({ length: N }, (_, i) => i >> 2),
    tok: Array.from({ length: N }, (_, i) => `t${i}`),
    score: Float64Array.from({ length: N }, (_, i) => i / 3),
  };
  const acts = fl.fromVectors(VALUES, D, actsColumns);
  const written = async (name: string, write: (path: string) => Promise<unknown>) => {
    const path = join(scratch, name);
    await write(path);
    return readFileSync(path);
  };
  switch (format) {
    case "arrow":
      return [
        { label: "file", files: { "m.arrow": await written("s.arrow", (p) => acts.write(p)) } },
        { label: "3 batches", files: { "m.arrow": arrowBatches(acts) } },
      ];
    case "parquet": {
      const table = { vectors: VALUES, dim: D, vectorName: "resid", metadata: { doc: Int32Array.from({ length: N }, (_, i) => i >> 2), tok: Array.from({ length: N }, (_, i) => `t${i % 5}`) } };
      return [
        // as fl.write wrote them before the vector column's own writer (fuzz-seed-parquet.ts): the pinned mutants index these bytes
        { label: "fl.write", files: { "m.parquet": await written("s.parquet", async (p) => legacyParquet(p, { vectors: VALUES, dim: D, vectorName: "vector", metadata: actsColumns })) } },
        { label: "snappy, 4 row groups", files: { "m.parquet": await written("g.parquet", async (p) => legacyParquet(p, table, { rowGroupSize: 4 })) } },
        { label: "uncompressed", files: { "m.parquet": await written("u.parquet", async (p) => legacyParquet(p, table, { compression: "UNCOMPRESSED" })) } },
      ];
    }
    case "parquet-fast": {
      // as fl.write writes them today: the vector column by its own writer (v2 pages of snappy literals), the rest by hyparquet-writer
      const table = { vectors: VALUES, dim: D, vectorName: "resid", metadata: { doc: Int32Array.from({ length: N }, (_, i) => i >> 2), tok: Array.from({ length: N }, (_, i) => `t${i % 5}`) } };
      return [
        { label: "fl.write", files: { "m.parquet": await written("f.parquet", (p) => acts.write(p)) } },
        { label: "4 row groups", files: { "m.parquet": await written("f4.parquet", (p) => writeParquet(p, table, { rowGroupSize: 4 })) } },
        { label: "uncompressed", files: { "m.parquet": await written("fu.parquet", (p) => writeParquet(p, table, { compression: "UNCOMPRESSED" })) } },
      ];
    }
    case "npy":
      return [
        { label: "f32 [N, d]", files: { "m.npy": writeNpy(f32([N, D])) } },
        { label: "f16 [2, 8, d]", files: { "m.npy": writeNpy({ dtype: "float16", shape: [2, N / 2, D], data: Uint16Array.from({ length: N * D }, (_, i) => 0x3c00 + (i % 200)) }) } },
        { label: "big-endian fortran f64", files: { "m.npy": bigEndianFortran() } },
      ];
    case "npz":
      return [
        { label: "stored", files: { "m.npz": writeNpz({ acts: f32([N, D]), label: labels }) } },
        { label: "deflated", files: { "m.npz": writeNpz({ acts: f32([N, D]), label: labels }, { compress: true }) } },
      ];
    case "safetensors":
      return [
        { label: "f32 + i64", files: { "m.safetensors": writeSafetensors({ acts: f32([N, D]), label: labels }, { format: "pt" }) } },
        { label: "bf16 [2, 8, d]", files: { "m.safetensors": writeSafetensors({ acts: { dtype: "bfloat16", shape: [2, N / 2, D], data: Uint16Array.from({ length: N * D }, (_, i) => 0x3f80 + (i % 90)) } }) } },
      ];
    case "saelens": {
      const seeds: Seed[] = [];
      for (const [label, arch, opts] of [["relu", "relu", {}], ["topk", "topk", { k: 3 }]] as const) {
        const dir = join(scratch, `sae-${label}`);
        const sae = await fl.dictionary(arch, { width: 12, ...opts }).fit(acts, { steps: 2, batchSize: 8, seed: 0, progress: false });
        await sae.save(dir);
        seeds.push({ label, files: { "cfg.json": readFileSync(join(dir, "cfg.json")), "sae_weights.safetensors": readFileSync(join(dir, "sae_weights.safetensors")) } });
      }
      return seeds;
    }
    case "sparsify": {
      const w = (shape: number[], offset: number): NdArray => ({ dtype: "float32", shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i + offset) * 0.3) });
      const weights = writeSafetensors({ "encoder.weight": w([12, D], 0), "encoder.bias": w([12], 1), W_dec: w([12, D], 2), b_dec: w([D], 3) });
      return [{ label: "topk", files: { "cfg.json": bytes(JSON.stringify({ expansion_factor: 1.5, normalize_decoder: true, num_latents: 12, k: 3, d_in: D })), "sae.safetensors": weights } }];
    }
  }
}

/** An Arrow IPC file of three record batches (fl.write writes one), so streams read several. */
function arrowBatches(acts: fl.ActivationSet): Uint8Array {
  const t = acts.toArrow();
  return tableToIPC(new Table([t.slice(0, 5), t.slice(5, 11), t.slice(11)].flatMap((p) => p.batches)), "file");
}

/** A .npy of float64, big-endian, Fortran order: the header flags the readers must honour. */
function bigEndianFortran(): Uint8Array {
  const dict = `{'descr': '>f8', 'fortran_order': True, 'shape': (${N}, ${D}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const out = new Uint8Array(total + N * D * 8);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, total - 10, true);
  out.set(bytes(dict.padEnd(total - 11, " ") + "\n"), 10);
  const view = new DataView(out.buffer, total);
  for (let r = 0; r < N; r++) for (let c = 0; c < D; c++) view.setFloat64((c * N + r) * 8, VALUES[r * D + c], false);
  return out;
}

// ---- one case ----

/** The mutant for case `index` of `format` under `seed`. */
export function mutant(format: Format, seeds: Seed[], seed: number, index: number): Mutant {
  const rng = new Rng(((seed * 7919) ^ (FORMATS.indexOf(format) * 104729) ^ Math.imul(index + 1, 2654435761)) >>> 0);
  const base = pick(rng, seeds);
  const files: Files = { ...base.files };
  const ops: string[] = [];
  const rounds = rng.uniform() < 0.75 ? 1 : 2 + rng.int(2);
  for (let r = 0; r < rounds; r++) {
    const names = Object.keys(files);
    if (!names.length) break;
    const name = pick(rng, names);
    const b = files[name];
    if (b.length === 0) continue;
    const folder = names.length > 1 || format === "saelens" || format === "sparsify";
    if (folder && rng.int(25) === 0) {
      delete files[name];
      ops.push(`delete ${name}`);
      continue;
    }
    const targeted = rng.int(3) !== 0;
    let result: [Uint8Array, string];
    try {
      if (!targeted) result = pick(rng, blind)(b, rng);
      else if (name.endsWith(".json")) result = cfgLie(b, rng);
      else if (name.endsWith(".safetensors")) result = folder && rng.int(3) === 0 ? weightsReshape(b, rng) : safetensorsLie(b, rng);
      else if (format === "npy") result = npyLie(b, rng);
      else if (format === "npz") result = npzLie(b, rng, npzMembers[base.label] ?? {});
      else if (format === "arrow") result = arrowLie(b, rng);
      else result = parquetLie(b, rng);
    } catch {
      result = blind[2](b, rng); // an earlier round left nothing to parse: flip bits instead
    }
    files[name] = result[0];
    ops.push(folder ? `${name}: ${result[1]}` : result[1]);
  }
  return { seed: base.label, files, ops };
}

/** The .npy members of each npz seed, for lies inside a well-formed zip. */
const npzMembers: Record<string, Record<string, Uint8Array>> = {
  stored: { "acts.npy": writeNpy(f32([N, D])), "label.npy": writeNpy(labels) },
  deflated: { "acts.npy": writeNpy(f32([N, D])), "label.npy": writeNpy(labels) },
};
