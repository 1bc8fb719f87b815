// JumpReLU's sparsity coefficient against L0 and FVU (issue 16): one dictionary per coefficient on the
// same toy data (Sharkey et al.: 16,384 rows, d 64, 128 ground-truth features, ~4 active per row),
// width 256, 1,500 steps of 1,024 rows, Adam lr 1e-3, seed 0, the architecture's default options.
// `node --import tsx bench/jumprelu-sweep.ts [--arch jumprelu] [--l1 0,1e-3,1e-2,0.1,1] [--steps 1500]
//   [--options '{"sparsityLossMode":"tanh"}'] [--normalize] [--json]` — L0 and FVU on the training rows,
// one line per coefficient (a minute or so each on two cores). --normalize scales the rows to mean norm
// √d first, as SAELens' normalize_activations "expected_average_only_in" does (the raw rows have mean
// squared norm ≈ 0.44, so the same λ weighs ~145× more against the MSE there).
import { ready } from "../src/engine/backend.js";
import { sharkeyToyData } from "../src/data/synthetic.js";
import { dictionary } from "../src/training/spec.js";

const args = process.argv.slice(2);
const option = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const arch = option("--arch", "jumprelu");
const coefficients = option("--l1", "0,1e-3,1e-2,0.1,1").split(",").map(Number);
const steps = Number(option("--steps", "1500"));
const archOptions = JSON.parse(option("--options", "{}")) as Record<string, unknown>;
const json = args.includes("--json");
const normalize = args.includes("--normalize");

const engine = await ready();
const toy = sharkeyToyData({ rows: 16384, features: 128, dim: 64, avgActive: 4, decay: 0.98, seed: 0 });
const acts = normalize ? toy.acts.normalize() : toy.acts;
if (!json) console.log(`${arch} ${JSON.stringify(archOptions)}, ${steps} steps${normalize ? ", normalised rows" : ""}, engine ${engine.engine}\n    c        L0      FVU   seconds`);
for (const l1 of coefficients) {
  const t0 = performance.now();
  const sae = await dictionary(arch, { width: 256, l1, ...archOptions }).fit(acts, { steps, batchSize: 1024, lr: 1e-3, seed: 0, progress: false });
  const m = sae.metrics(acts);
  const seconds = (performance.now() - t0) / 1000;
  if (json) console.log(JSON.stringify({ arch, options: archOptions, normalize, l1, l0: m.l0, fvu: m.fvu, seconds }));
  else console.log(`${String(l1).padStart(5)}  ${m.l0.toFixed(1).padStart(8)}  ${m.fvu.toFixed(4)}  ${seconds.toFixed(0).padStart(6)}`);
  sae.dispose();
}
