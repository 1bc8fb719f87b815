// Shape metrics, featurelab against netrep (ahwillia/netrep) on the same machine in the same run:
//  1. the shape distance between two n × p representations (default 2,000 × 768: a layer of a
//     GPT-2-small-sized model over 2,000 stimuli), α = 1 (Procrustes) and α = 0.5, angular —
//     netrep's LinearMetric(alpha).fit(X, Y).score(X, Y);
//  2. the 20 × 20 distance matrix across 20 networks of 500 × 64 each (smaller, as netrep's tutorials
//     compare many small networks), α = 0.5, angular — netrep's per-pair fit + score, one process
//     (its pairwise_distances spreads the same calls over a process pool).
// Prints the fastest of --repeats runs of each side and ratio = netrep / featurelab (> 1: featurelab
// is faster), and the largest difference between the two sides' values.
// netrep's code comes from --netrep <dir> or NETREP_DIR (a checkout: the folder holding netrep/); its
// sklearn and tqdm imports are stood in for when they are not installed (it uses only BaseEstimator,
// check_is_fitted and check_array from them). Without it, featurelab's times only.
//   node bench/shape-metrics.mjs [--n 2000] [--p 768] [--networks 20] [--rows 500] [--dim 64] [--repeats 3] [--netrep <dir>] [--json]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import * as fl from "featurelab";

const args = process.argv.slice(2);
const json = args.includes("--json");
const option = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const n = option("--n", 2000), p = option("--p", 768), nets = option("--networks", 20), rows = option("--rows", 500), dim = option("--dim", 64);
const repeats = option("--repeats", 3);
const netrep = args.includes("--netrep") ? args[args.indexOf("--netrep") + 1] : process.env.NETREP_DIR;
const PYTHON = "/usr/bin/python3";

// Representations with structure: a shared low-rank signal seen through a different random mixing per
// network, plus noise (so the distances are neither 0 nor π/2).
const rng = new fl.Rng(0);
function network(rowsN, width, latent, mixSeed) {
  const r = new fl.Rng(mixSeed);
  const mix = Float64Array.from({ length: latent.k * width }, () => r.normal());
  const out = new Float64Array(rowsN * width);
  for (let i = 0; i < rowsN; i++) {
    for (let j = 0; j < width; j++) {
      let s = 0;
      for (let t = 0; t < latent.k; t++) s += latent.z[i * latent.k + t] * mix[t * width + j];
      out[i * width + j] = s + 2 * r.normal();
    }
  }
  return out;
}
const latentOf = (rowsN, k) => ({ k, z: Float64Array.from({ length: rowsN * k }, () => rng.normal()) });
const big = latentOf(n, 32);
const X = network(n, p, big, 1), Y = network(n, p, big, 2);
const small = latentOf(rows, 8);
const reps = Array.from({ length: nets }, (_, i) => network(rows, dim, small, 100 + i));

function fastest(f) {
  let best = Infinity, value;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    value = f();
    best = Math.min(best, performance.now() - t);
  }
  return { ms: best, value };
}

const ours = {
  "alpha 1": fastest(() => fl.shapeDistance({ values: X, dim: p }, { values: Y, dim: p }, { alpha: 1 })),
  "alpha 0.5": fastest(() => fl.shapeDistance({ values: X, dim: p }, { values: Y, dim: p }, { alpha: 0.5 })),
  pairwise: fastest(() => Array.from(fl.shapeDistances(reps.map((v) => ({ values: v, dim })), { alpha: 0.5 }).vector)),
};

let python = null;
if (netrep) {
  if (!existsSync(join(netrep, "netrep", "metrics", "linear.py"))) throw new Error(`--netrep ${netrep}: no netrep/metrics/linear.py there`);
  const dir = mkdtempSync(join(tmpdir(), "featurelab-shape-bench-"));
  try {
    writeFileSync(join(dir, "X.f64"), X);
    writeFileSync(join(dir, "Y.f64"), Y);
    reps.forEach((v, i) => writeFileSync(join(dir, `net${i}.f64`), v));
    const script = `
import sys, types, time, json
import numpy as np
sys.path.insert(0, ${JSON.stringify(netrep)})
try:
    import sklearn
except ImportError:
    # Stand-ins for the names netrep's modules import from sklearn; the metrics timed here use only
    # BaseEstimator (a base class), check_is_fitted and check_array.
    def unavailable(*a, **k): raise NotImplementedError("sklearn is not installed")
    stubs = {
        "sklearn": {}, "sklearn.base": {"BaseEstimator": object}, "sklearn.utils": {},
        "sklearn.utils.validation": {"check_is_fitted": lambda *a, **k: None, "check_array": lambda X, **k: np.asarray(X, dtype=float),
                                     "check_random_state": lambda s: s if isinstance(s, np.random.RandomState) else np.random.RandomState(s)},
        "sklearn.utils.extmath": {"randomized_svd": unavailable}, "sklearn.metrics": {}, "sklearn.metrics.pairwise": {"pairwise_kernels": unavailable},
    }
    for name, attrs in stubs.items():
        m = types.ModuleType(name); m.__path__ = []; m.__dict__.update(attrs); sys.modules[name] = m
try:
    import tqdm
except ImportError:
    t = types.ModuleType("tqdm"); t.tqdm = lambda x, **k: x; sys.modules["tqdm"] = t
from netrep.metrics.linear import LinearMetric
d = ${JSON.stringify(dir)}
X = np.fromfile(d + "/X.f64").reshape(${n}, ${p}); Y = np.fromfile(d + "/Y.f64").reshape(${n}, ${p})
nets = [np.fromfile(d + f"/net{i}.f64").reshape(${rows}, ${dim}) for i in range(${nets})]
def fastest(f):
    best, value = float("inf"), None
    for _ in range(${repeats}):
        t = time.perf_counter(); value = f(); best = min(best, time.perf_counter() - t)
    return {"ms": best * 1000, "value": value}
def pairwise():
    m = LinearMetric(alpha=0.5)
    return [m.fit(nets[i], nets[j]).score(nets[i], nets[j]) for i in range(len(nets)) for j in range(i + 1, len(nets))]
out = {
    "alpha 1": fastest(lambda: float(LinearMetric(alpha=1.0).fit(X, Y).score(X, Y))),
    "alpha 0.5": fastest(lambda: float(LinearMetric(alpha=0.5).fit(X, Y).score(X, Y))),
    "pairwise": fastest(lambda: [float(v) for v in pairwise()]),
}
print(json.dumps(out))
`;
    const r = spawnSync(PYTHON, ["-c", script], { encoding: "utf8", maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`netrep side failed:\n${r.stderr}`);
    python = JSON.parse(r.stdout.trim().split("\n").pop());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const labels = {
  "alpha 1": `shape distance ${n}×${p}, α 1 (Procrustes)`,
  "alpha 0.5": `shape distance ${n}×${p}, α 0.5`,
  pairwise: `${nets}×${nets} distances, ${rows}×${dim} each, α 0.5`,
};
const maxDiff = (a, b) => (Array.isArray(a) ? Math.max(...a.map((v, i) => Math.abs(v - b[i]))) : Math.abs(a - b));
const rowsOut = Object.keys(labels).map((key) => ({
  step: labels[key],
  featurelab_ms: ours[key].ms,
  netrep_ms: python ? python[key].ms : null,
  ratio: python ? python[key].ms / ours[key].ms : null,
  max_abs_diff: python ? maxDiff(ours[key].value, python[key].value) : null,
}));
if (json) {
  console.log(JSON.stringify({ n, p, networks: nets, rows, dim, repeats, steps: rowsOut }));
} else {
  const info = await fl.engine();
  console.log(`Shape metrics: featurelab (engine ${info.engine}) ${python ? "against netrep" : "only (pass --netrep <dir> or NETREP_DIR for netrep's times)"}; fastest of ${repeats}`);
  for (const r of rowsOut) {
    const tail = python ? `   netrep ${r.netrep_ms.toFixed(0).padStart(6)} ms   ratio ${r.ratio.toFixed(2)}   max |Δ| ${r.max_abs_diff.toExponential(1)}` : "";
    console.log(`${r.step.padEnd(42)} featurelab ${r.featurelab_ms.toFixed(0).padStart(6)} ms${tail}`);
  }
}
