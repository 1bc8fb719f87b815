// Parquet throughput against DuckDB (@duckdb/node-api, its own binary, both cores) in the same run, on
// the same data: rows × dim random float32 activations with document and position columns.
//   read:  fl.load(file) → an ActivationSet, against DuckDB materialising `SELECT * FROM read_parquet(file)`,
//          on featurelab's file and on DuckDB's (snappy, data pages v1);
//   write: ActivationSet.write(file.parquet), against DuckDB's `COPY t TO file (FORMAT parquet)` of the
//          same table already in DuckDB's memory.
// MB/s = the file's size / the fastest of --repeats; ratio = featurelab / DuckDB (> 1: featurelab is faster).
// --remote also runs bench/remote-stream.mjs after it (training from remote shards against local ones, and
// streaming memory), so one command prints every figure of the data layer.
//   node bench/parquet.mjs [--rows 100000] [--dim 256] [--repeats 3] [--remote]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import * as fl from "featurelab";

const args = process.argv.slice(2);
const option = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const rows = option("--rows", 100_000), dim = option("--dim", 256), repeats = option("--repeats", 3);
const dir = mkdtempSync(join(tmpdir(), "featurelab-bench-parquet-"));
const best = async (f) => {
  let s = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await f();
    s = Math.min(s, (performance.now() - t) / 1000);
  }
  return s;
};
try {
  await fl.ready();
  const rng = new fl.Rng(0);
  const acts = fl.fromVectors(rng.normals(rows * dim), dim, {
    document: Int32Array.from({ length: rows }, (_, i) => i >> 7),
    position: Int32Array.from({ length: rows }, (_, i) => i & 127),
  });
  const ours = join(dir, "featurelab.parquet"), theirs = join(dir, "duckdb.parquet");
  const con = await (await DuckDBInstance.create(":memory:")).connect();

  const writeOurs = await best(() => acts.write(ours));
  await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${ours}')`);
  const writeDuck = await best(() => con.run(`COPY t TO '${theirs}' (FORMAT parquet, COMPRESSION snappy)`));
  const mb = (f) => statSync(f).size / 1e6;

  const report = (what, file, oursS, duckS) =>
    console.log(`${what.padEnd(34)} featurelab ${(mb(file) / oursS).toFixed(0).padStart(4)} MB/s   DuckDB ${(mb(file) / duckS).toFixed(0).padStart(4)} MB/s   ratio ${(duckS / oursS).toFixed(2)}`);
  console.log(`${rows} × ${dim} float32 (+ 2 int32 columns); featurelab's file ${mb(ours).toFixed(0)} MB, DuckDB's ${mb(theirs).toFixed(0)} MB; fastest of ${repeats}`);
  report("write (featurelab's vs COPY TO)", ours, writeOurs, writeDuck * (mb(ours) / mb(theirs)));
  for (const [label, file] of [["read featurelab's file", ours], ["read DuckDB's file", theirs]]) {
    const readOurs = await best(() => fl.load(file));
    const readDuck = await best(() => con.run(`SELECT * FROM read_parquet('${file}')`));
    report(label, file, readOurs, readDuck);
  }
  con.closeSync();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (args.includes("--remote")) {
  const r = spawnSync(process.execPath, [new URL("./remote-stream.mjs", import.meta.url).pathname], { stdio: "inherit" });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
