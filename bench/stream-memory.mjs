// Streaming beyond memory: writes Arrow IPC files of ~200 MB and ~2 GB (deleted afterwards), then in
// a fresh process per file streams them — a shuffled read pass, a dictionary's metrics, a short
// training run — and reports rows/s and peak resident memory (VmHWM). The 2 GB run's peak should
// stay within 1.2× of the 200 MB run's: memory follows the batch and buffer sizes, not the file.
// `node bench/stream-memory.mjs [--sizes 200,2000]`; prints one JSON line per file.
import { spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FixedSizeList, Field, Float32, makeData, makeVector, RecordBatchFileWriter, Table, tableFromArrays } from "apache-arrow";

const DIM = 256;
const CHUNK_ROWS = 8192;

async function writeFile(path, megabytes) {
  const rows = Math.ceil((megabytes * 1e6) / (DIM * 4));
  const block = new Float32Array(CHUNK_ROWS * DIM);
  let s = 1;
  for (let i = 0; i < block.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    block[i] = (s / 2 ** 32 - 0.5) * 2;
  }
  const writer = RecordBatchFileWriter.throughNode();
  const out = createWriteStream(path);
  writer.pipe(out);
  const listType = new FixedSizeList(DIM, new Field("item", new Float32(), false));
  for (let start = 0; start < rows; start += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, rows - start);
    const values = block.slice(0, n * DIM).map((v, i) => v + ((start + i) % 7) * 0.01);
    const child = makeData({ type: new Float32(), length: n * DIM, data: values });
    const t = tableFromArrays({ row: Int32Array.from({ length: n }, (_, i) => start + i) }).assign(
      new Table({ resid: makeVector(makeData({ type: listType, length: n, nullCount: 0, child })) }),
    );
    for (const rb of t.batches) writer.write(rb);
    if (out.writableLength > 64e6) await new Promise((r) => out.once("drain", r));
  }
  writer.end();
  await new Promise((r) => out.on("finish", r));
  return rows;
}

function peakRssMb() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

async function child(path) {
  const fl = await import("featurelab");
  const stream = await fl.open(path, { vector: "resid" });
  let t0 = performance.now();
  let rows = 0;
  for await (const b of stream.rowBatches({ size: 4096, shuffle: true, seed: 0 })) rows += b.rows;
  const readRowsPerS = rows / ((performance.now() - t0) / 1000);
  const sae = await fl.dictionary("relu", { width: 64, l1: 0.1 }).fit(stream, { steps: 100, batchSize: 1024, progress: false });
  t0 = performance.now();
  const m = await sae.metrics(stream, { batchSize: 4096 });
  const metricsRowsPerS = m.rows / ((performance.now() - t0) / 1000);
  console.log(JSON.stringify({ rows, readRowsPerS: Math.round(readRowsPerS), metricsRowsPerS: Math.round(metricsRowsPerS), peakRssMb: Math.round(peakRssMb()) }));
}

async function main() {
  const arg = process.argv.indexOf("--sizes");
  const sizes = (arg > 0 ? process.argv[arg + 1] : "200,2000").split(",").map(Number);
  const dir = mkdtempSync(join(tmpdir(), "featurelab-stream-"));
  const results = [];
  try {
    for (const mb of sizes) {
      const path = join(dir, `acts-${mb}mb.arrow`);
      const t0 = performance.now();
      await writeFile(path, mb);
      const writeSeconds = (performance.now() - t0) / 1000;
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", path], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(r.stderr);
      const res = { file_mb: Math.round(statSync(path).size / 1e6), write_s: +writeSeconds.toFixed(1), ...JSON.parse(r.stdout.trim().split("\n").pop()) };
      rmSync(path);
      console.log(JSON.stringify(res));
      results.push(res);
    }
    if (results.length >= 2) {
      const ratio = results[results.length - 1].peakRssMb / results[0].peakRssMb;
      console.log(JSON.stringify({ peak_rss_ratio: +ratio.toFixed(3), within_1_2: ratio <= 1.2 }));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") await child(process.argv[3]);
else await main();
