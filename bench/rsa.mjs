// RSA at scale: the RDM of 2,000 conditions × 768 channels (1,999,000 dissimilarities), then every
// comparison method between it and a model RDM. Target: all of it under 1 s.
// `node bench/rsa.mjs` (after `npm run build`); options: --json, --conditions K, --channels C.
// The same computation with numpy/scipy (rsatoolbox's building blocks: its Gram-matrix euclidean
// RDM, scipy's rankdata and kendalltau) runs too when /usr/bin/python3 has them, for reference;
// with rsatoolbox installed there, its own compare() is timed instead.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as fl from "featurelab";

const args = process.argv.slice(2);
const json = args.includes("--json");
const option = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const K = option("--conditions", 2000), C = option("--channels", 768);
const methods = ["cosine", "corr", "spearman", "kendall", "tau-a", "rho-a", "cosine_cov", "corr_cov"];

// Patterns with category structure (20 categories) plus noise; the model is the category RDM blurred.
const rng = new fl.Rng(0);
const centres = Array.from({ length: 20 }, () => Array.from({ length: C }, () => rng.normal()));
const X = new Float64Array(K * C);
for (let i = 0; i < K; i++) for (let c = 0; c < C; c++) X[i * C + c] = centres[i % 20][c] + 1.5 * rng.normal();

// Wall time, and CPU time of all this process's threads (on a busy machine the CPU time of a
// single-threaded step is close to its wall time on an idle one).
const time = (f) => {
  const t = performance.now(), c = process.cpuUsage();
  const value = f();
  const u = process.cpuUsage(c);
  return { value, ms: performance.now() - t, cpu: (u.user + u.system) / 1000 };
};

const total = performance.now();
const data = time(() => fl.rdm(X, { conditions: K, channels: C, distance: "euclidean" }));
const model = fl.categoricalRdm(Array.from({ length: K }, (_, i) => i % 20)).withName("categories");
const rows = [{ step: `rdm euclidean ${K}×${C}`, ms: data.ms, cpu: data.cpu, value: null }];
for (const m of methods) {
  const r = time(() => fl.compareRdms(data.value, model, m));
  rows.push({ step: `compare ${m}`, ms: r.ms, cpu: r.cpu, value: r.value });
}
const totalMs = performance.now() - total;
const totalCpu = rows.reduce((s, r) => s + r.cpu, 0);

// The same in Python, when numpy and scipy are there.
let python = null;
const dir = mkdtempSync(join(tmpdir(), "featurelab-rsa-bench-"));
try {
  writeFileSync(join(dir, "X.f64"), X);
  writeFileSync(join(dir, "m.f64"), model.vector);
  const script = `
import time, json, numpy as np, scipy.stats
X = np.fromfile(${JSON.stringify(join(dir, "X.f64"))}).reshape(${K}, ${C}); m = np.fromfile(${JSON.stringify(join(dir, "m.f64"))})
out = {}
t = time.perf_counter()
s = np.sum(X**2, axis=1, keepdims=True); D = s + s.T - 2 * X @ X.T
d = D[np.triu_indices(${K}, 1)] / ${C}
out["rdm euclidean"] = time.perf_counter() - t
try:
    from rsatoolbox.rdm import RDMs, compare
    for meth in ${JSON.stringify(methods)}:
        t = time.perf_counter(); compare(RDMs(d[None]), RDMs(m[None]), meth); out["compare " + meth] = time.perf_counter() - t
    out["peer"] = "rsatoolbox"
except ImportError:
    def cos(a, b): return a @ b / np.sqrt(a @ a) / np.sqrt(b @ b)
    t = time.perf_counter(); cos(d, m); out["compare cosine"] = time.perf_counter() - t
    t = time.perf_counter(); cos(d - d.mean(), m - m.mean()); out["compare corr"] = time.perf_counter() - t
    t = time.perf_counter(); a = scipy.stats.rankdata(d); b = scipy.stats.rankdata(m); cos(a - a.mean(), b - b.mean()); out["compare spearman"] = time.perf_counter() - t
    t = time.perf_counter(); scipy.stats.kendalltau(d, m); out["compare kendall"] = time.perf_counter() - t
    out["peer"] = "numpy/scipy (rsatoolbox not installed)"
print(json.dumps(out))
`;
  const r = spawnSync("/usr/bin/python3", ["-c", script], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status === 0) python = JSON.parse(r.stdout.trim().split("\n").pop());
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (json) {
  console.log(JSON.stringify({ conditions: K, channels: C, pairs: data.value.nPairs, total_ms: totalMs, total_cpu_ms: totalCpu, steps: rows, python }));
} else {
  const info = await fl.engine();
  console.log(`RSA benchmark: ${K} conditions × ${C} channels → ${data.value.nPairs.toLocaleString("en")} dissimilarities (engine ${info.engine}: ${info.engine === "native" ? "Gram products by OpenBLAS dgemm, the rest" : "RSA runs"} in float64 JavaScript)`);
  console.log(`${"step".padEnd(28)} ${"featurelab".padStart(11)} ${"(cpu)".padStart(9)} ${python ? (python.peer.startsWith("rsatoolbox") ? "rsatoolbox" : "numpy/scipy").padStart(12) : ""}   value`);
  for (const r of rows) {
    const key = r.step.startsWith("rdm") ? "rdm euclidean" : r.step;
    const py = python && python[key] !== undefined ? `${(python[key] * 1000).toFixed(0)} ms`.padStart(12) : python ? "—".padStart(12) : "";
    console.log(`${r.step.padEnd(28)} ${`${r.ms.toFixed(0)} ms`.padStart(11)} ${`${r.cpu.toFixed(0)} ms`.padStart(9)} ${py}   ${r.value === null ? "" : r.value.toFixed(6)}`);
  }
  console.log(`${"total".padEnd(28)} ${`${totalMs.toFixed(0)} ms`.padStart(11)} ${`${totalCpu.toFixed(0)} ms`.padStart(9)}   (target < 1000 ms wall)`);
  if (python) console.log(`Python peer: ${python.peer}`);
}
