// Training from remote Parquet shards against training from the same shards on disk, and streaming memory
// as the dataset grows. Writes float32 activations as Parquet shards, serves them from a child process on
// 127.0.0.1 that answers as the Hugging Face Hub does (Range requests on /datasets/…/resolve/main/…, the
// tree API for the folder), then, each in a fresh process: a TopK SAE trained for --steps steps streaming
// from the local folder and from hf://datasets/…; and one shuffled read pass over a small and a 10× larger
// dataset. Prints steps/s (ratio remote / local, the median of --runs pairs run alternately, as this
// machine's speed drifts; the target is ≥ 0.9) and peak resident memory (VmHWM; the larger dataset's
// should stay within 1.2× of the smaller's). The server shares the two cores with the training here;
// a real Hub's does not.
//   node bench/remote-stream.mjs [--mb 200] [--steps 300] [--dim 256] [--runs 3]
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as fl from "featurelab";

const args = process.argv.slice(2);
const option = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const mb = option("--mb", 200), steps = option("--steps", 300), dim = option("--dim", 256), runs = option("--runs", 3);
const dir = mkdtempSync(join(tmpdir(), "featurelab-remote-stream-"));

/** Shards of `total` MB of float32 vectors under dir/name/data, 8 shards of row groups of 8192 rows. */
async function writeShards(name, total) {
  const folder = join(dir, name, "data");
  mkdirSync(folder, { recursive: true });
  const rows = Math.ceil((total * 1e6) / (4 * dim) / 8);
  const rng = new fl.Rng(1);
  const block = rng.normals(rows * dim);
  for (let s = 0; s < 8; s++) {
    for (let i = 0; i < 1000; i++) block[(i * 7919 + s) % block.length] += 0.5; // shards differ a little
    await fl.fromVectors(block, dim, { shard: new Int32Array(rows).fill(s) }).write(join(folder, `train-${s}.parquet`));
  }
  return rows * 8;
}

const SERVER = `
import { createServer } from "node:http";
import { openSync, readSync, readdirSync, statSync, closeSync } from "node:fs";
import { join } from "node:path";
const root = process.argv[1];
const server = createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  const tree = /^\\/api\\/datasets\\/bench\\/([^/]+)\\/tree\\/main\\/(.*)$/.exec(url.pathname);
  if (tree) {
    const folder = join(root, tree[1], tree[2]);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(readdirSync(folder).map((f) => ({ type: "file", path: tree[2] + "/" + f, size: statSync(join(folder, f)).size }))));
    return;
  }
  const m = /^\\/datasets\\/bench\\/([^/]+)\\/resolve\\/main\\/(.+)$/.exec(url.pathname);
  if (!m) return void res.writeHead(404).end();
  const file = join(root, m[1], decodeURIComponent(m[2]));
  const size = statSync(file).size;
  const r = /bytes=(\\d+)-(\\d+)/.exec(req.headers.range ?? "");
  const [start, end] = r ? [Number(r[1]), Math.min(Number(r[2]), size - 1)] : [0, size - 1];
  const body = Buffer.allocUnsafe(end - start + 1);
  const fd = openSync(file, "r");
  readSync(fd, body, 0, body.length, start);
  closeSync(fd);
  res.writeHead(r ? 206 : 200, { "content-length": body.length, "content-range": "bytes " + start + "-" + end + "/" + size });
  res.end(body);
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

/** Runs `code` in a fresh Node process; returns its last JSON line. */
function child(code, env = {}) {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", env: { ...process.env, ...env }, cwd: process.cwd() });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

const PEAK = `Number((await import("node:fs")).readFileSync("/proc/self/status", "utf8").split("\\n").find((l) => l.startsWith("VmHWM:")).split(/ +/)[1]) * 1024`;

let server;
try {
  await fl.ready();
  const small = await writeShards("small", mb);
  const large = await writeShards("large", 10 * mb);
  server = spawn(process.execPath, ["--input-type=module", "-e", SERVER, dir], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((resolve) => server.stdout.once("data", (d) => resolve(Number(String(d).trim()))));
  const env = { HF_ENDPOINT: `http://127.0.0.1:${port}` };

  const train = (source) => child(`
    import * as fl from "featurelab";
    await fl.ready();
    const stream = await fl.open(${JSON.stringify(source)});
    const t = performance.now();
    await fl.dictionary("topk", { width: 1024, k: 32 }).fit(stream, { steps: ${steps}, batchSize: 1024, seed: 0, progress: false });
    console.log(JSON.stringify({ seconds: (performance.now() - t) / 1000, peak: ${PEAK} }));
  `, env);
  const pass = (source) => child(`
    import * as fl from "featurelab";
    await fl.ready();
    const stream = await fl.open(${JSON.stringify(source)});
    const t = performance.now();
    let rows = 0;
    for await (const b of stream.rowBatches({ size: 4096, shuffle: true, seed: 0 })) rows += b.rows;
    console.log(JSON.stringify({ rows, seconds: (performance.now() - t) / 1000, peak: ${PEAK} }));
  `, env);

  console.log(`training ${steps} steps of a TopK SAE (width 1024, k 32, batch 1024, d ${dim}) streaming ${small} rows (${mb} MB):`);
  const ratios = [];
  for (let r = 0; r < runs; r++) {
    const local = train(join(dir, "small", "data"));
    const remote = train("hf://datasets/bench/small/data");
    ratios.push(local.seconds / remote.seconds);
    console.log(`  local ${(steps / local.seconds).toFixed(1)} steps/s, remote (loopback Hub) ${(steps / remote.seconds).toFixed(1)} steps/s: ratio ${ratios.at(-1).toFixed(2)}`);
  }
  console.log(`  remote / local, median of ${runs}: ${ratios.sort((a, b) => a - b)[runs >> 1].toFixed(2)}`);
  for (const [label, source, rows] of [["small", "hf://datasets/bench/small/data", small], ["large", "hf://datasets/bench/large/data", large], ["large, local", join(dir, "large", "data"), large]]) {
    const r = pass(source);
    console.log(`  shuffled pass, ${label}: ${rows} rows at ${(r.rows / r.seconds).toFixed(0)} rows/s (${((r.rows * dim * 4) / 1e6 / r.seconds).toFixed(0)} MB/s), peak RSS ${(r.peak / 1e6).toFixed(0)} MB`);
  }
} finally {
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
}
