// Rips persistence barcodes H0–H1 of a noisy circle in 3-D (1,000 points): featurelab's persistence
// against gudhi's RipsComplex + persistence at the same threshold, in the same run (/usr/bin/python3
// with python3-gudhi). Prints both times, their ratio and the largest difference between the diagrams.
// The shared threshold defaults to 0.5 (the circle's radius is 1): at the enclosing radius (~2) gudhi
// would build every triangle of the cloud (~10^8 simplices), so featurelab alone is timed there too
// — its default, which gives the full barcode.
//   node bench/persistence.mjs [--n 1000] [--threshold 0.5] [--json]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as fl from "featurelab";

const args = process.argv.slice(2);
const json = args.includes("--json");
const option = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const n = option("--n", 1000), threshold = option("--threshold", 0.5);

// A circle of radius 1 with deterministic wiggles of 0.1 in every coordinate.
const X = new Float64Array(n * 3);
for (let i = 0; i < n; i++) {
  const t = (2 * Math.PI * i) / n;
  X[3 * i] = Math.cos(t) + 0.1 * Math.sin(7.1 * i);
  X[3 * i + 1] = Math.sin(t) + 0.1 * Math.cos(3.3 * i);
  X[3 * i + 2] = 0.1 * Math.sin(11.7 * i);
}
const points = { values: X, dim: 3 };

const time = (f) => {
  const t = performance.now();
  const value = f();
  return { value, ms: performance.now() - t };
};
const ours = time(() => fl.persistence(points, { maxDim: 1, threshold }));
const full = time(() => fl.persistence(points, { maxDim: 1 }));
const longest = (r) => r.diagrams[1].reduce((m, [b, d]) => Math.max(m, d - b), 0);

let gudhi = null;
const dir = mkdtempSync(join(tmpdir(), "featurelab-persistence-bench-"));
try {
  writeFileSync(join(dir, "X.f64"), X);
  const script = `
import json, time, numpy as np, gudhi
X = np.fromfile(${JSON.stringify(join(dir, "X.f64"))}).reshape(${n}, 3)
t = time.perf_counter()
st = gudhi.RipsComplex(points=X, max_edge_length=${threshold}).create_simplex_tree(max_dimension=2)
st.compute_persistence()
s = time.perf_counter() - t
d = [[[float(b), "inf" if np.isinf(e) else float(e)] for b, e in st.persistence_intervals_in_dimension(k)] for k in (0, 1)]
print(json.dumps({"s": s, "simplices": st.num_simplices(), "diagrams": d}))
`;
  const py = spawnSync("/usr/bin/python3", ["-c", script], { encoding: "utf8", maxBuffer: 1 << 28 });
  if (py.status === 0) {
    const out = JSON.parse(py.stdout);
    gudhi = { ms: out.s * 1000, simplices: out.simplices, diagrams: out.diagrams.map((d) => d.map(([b, e]) => [b, e === "inf" ? Infinity : e])) };
  } else {
    console.error(`gudhi did not run (apt-get install python3-gudhi): ${py.stderr.trim().split("\n").pop()}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// The largest difference between sorted diagrams; Infinity when the pair counts differ.
function maxDiff(a, b) {
  let worst = 0;
  for (let k = 0; k < a.length; k++) {
    if (a[k].length !== b[k].length) return Infinity;
    const s = (x) => [...x].sort((p, q) => p[0] - q[0] || p[1] - q[1]);
    const A = s(a[k]), B = s(b[k]);
    for (let i = 0; i < A.length; i++) {
      for (let j = 0; j < 2; j++) {
        if (A[i][j] === Infinity || B[i][j] === Infinity) {
          if (A[i][j] !== B[i][j]) return Infinity;
        } else worst = Math.max(worst, Math.abs(A[i][j] - B[i][j]));
      }
    }
  }
  return worst;
}

const result = {
  points: n,
  threshold,
  featurelab: { ms: ours.ms, pairs: ours.value.diagrams.map((d) => d.length) },
  featurelabFull: { ms: full.ms, threshold: full.value.threshold, pairs: full.value.diagrams.map((d) => d.length), longestH1: longest(full.value) },
  gudhi: gudhi && { ms: gudhi.ms, simplices: gudhi.simplices, pairs: gudhi.diagrams.map((d) => d.length) },
  ratio: gudhi ? gudhi.ms / ours.ms : null,
  maxDifference: gudhi ? maxDiff(ours.value.diagrams, gudhi.diagrams) : null,
};
if (json) console.log(JSON.stringify(result));
else {
  console.log(`Rips persistence H0–H1 of ${n} points (noisy circle in 3-D), threshold ${threshold}`);
  console.log(`  featurelab  ${ours.ms.toFixed(0).padStart(7)} ms   pairs H0 ${result.featurelab.pairs[0]}, H1 ${result.featurelab.pairs[1]}`);
  if (gudhi) {
    console.log(`  gudhi       ${gudhi.ms.toFixed(0).padStart(7)} ms   pairs H0 ${result.gudhi.pairs[0]}, H1 ${result.gudhi.pairs[1]} (${gudhi.simplices} simplices)`);
    console.log(`  gudhi / featurelab: ${result.ratio.toFixed(2)}×, largest difference between the diagrams ${result.maxDifference}`);
  }
  console.log(`  featurelab at the enclosing radius ${full.value.threshold.toFixed(4)} (the full barcode): ${full.ms.toFixed(0)} ms, longest H1 bar ${result.featurelabFull.longestH1.toFixed(4)}`);
}
