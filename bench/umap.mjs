// UMAP of 16 384 decoder-like rows (unit vectors; half of them in 256 families of related
// directions, half unrelated) at 256 and 512 dimensions: wall time of fl.umap, of its exact
// neighbour graph alone, and how well the embedding keeps families together (the share of a family
// row's 10 nearest embedded neighbours in the same family). Wall and CPU seconds are both printed,
// with the 1-minute load average: on a shared machine the wall time says more about the neighbours.
// `--stock` also times umap-js as it comes (RP-forest + NN-descent, random init) on the same rows.
// `node bench/umap.mjs [--rows 16384] [--dims 256,512] [--stock]`; prints one JSON line per run.
import * as os from "node:os";
import * as fl from "featurelab";
import { UMAP } from "umap-js";
import { nearestNeighbors } from "../dist/geometry/umap.js";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const ROWS = Number(arg("rows", 16384));
const DIMS = String(arg("dims", "256,512")).split(",").map(Number);
const FAMILIES = 256;

function decoderLike(rows, dim, seed) {
  const rng = new fl.Rng(seed);
  const centres = Array.from({ length: FAMILIES }, () => rng.normals(dim));
  const values = new Float32Array(rows * dim);
  const family = new Int32Array(rows).fill(-1);
  for (let i = 0; i < rows; i++) {
    const inFamily = i % 2 === 0;
    if (inFamily) family[i] = (i / 2) % FAMILIES;
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      const v = (inFamily ? centres[family[i]][j] : 0) + (inFamily ? 0.8 : 1) * rng.normal();
      values[i * dim + j] = v;
      norm += v * v;
    }
    for (let j = 0; j < dim; j++) values[i * dim + j] /= Math.sqrt(norm);
  }
  return { values, family };
}

function familyPurity(coords, family, m = 10) {
  const n = family.length;
  const { indices } = nearestNeighbors(Float32Array.from(coords), n, 2, m + 1, "euclidean");
  let same = 0, total = 0;
  for (let i = 0; i < n; i++) {
    if (family[i] < 0) continue;
    for (let t = 1; t <= m; t++) (same += family[indices[i * (m + 1) + t]] === family[i] ? 1 : 0), total++;
  }
  return same / total;
}

await fl.ready();
const engine = await fl.engine();
for (const dim of DIMS) {
  const { values, family } = decoderLike(ROWS, dim, dim);
  for (const metric of ["euclidean", "cosine"]) {
    let t = performance.now();
    nearestNeighbors(values, ROWS, dim, 15, metric);
    const knnSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const cpu = process.cpuUsage();
    const e = fl.umap(values, dim, { seed: 0, metric });
    const seconds = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    console.log(JSON.stringify({ rows: ROWS, dim, metric, engine: engine.engine, seconds: +seconds.toFixed(1), cpuSeconds: +cpuSeconds.toFixed(1), knnSeconds: +knnSeconds.toFixed(1), familyPurity: +familyPurity(e.coords, family).toFixed(3), load: +os.loadavg()[0].toFixed(1) }));
  }
  if (process.argv.includes("--stock")) {
    const rng = new fl.Rng(0);
    const rows = Array.from({ length: ROWS }, (_, i) => Array.from(values.subarray(i * dim, (i + 1) * dim)));
    const t = performance.now();
    const cpu = process.cpuUsage();
    const out = new UMAP({ nNeighbors: 15, minDist: 0.1, random: () => rng.uniform() }).fit(rows);
    const seconds = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    const coords = Float64Array.from(out.flat());
    console.log(JSON.stringify({ rows: ROWS, dim, metric: "euclidean", run: "umap-js stock (NN-descent, random init)", seconds: +seconds.toFixed(1), cpuSeconds: +((used.user + used.system) / 1e6).toFixed(1), familyPurity: +familyPurity(coords, family).toFixed(3), load: +os.loadavg()[0].toFixed(1) }));
  }
}
