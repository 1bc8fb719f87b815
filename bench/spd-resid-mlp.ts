// SPD on the toy model of compressed computation (the residual MLP: 100 features, d_resid 1000, 50
// ReLU neurons; `--layers 2`: 25 in each of two MLPs), beside the paper (Bushnaq, Braun & Sharkey
// 2025: mlp_in splits into ~one subcomponent per input feature, 100 in all; mlp_out into ~50 that
// fire together, one rank-50 mechanism). Trains the target as the repo does (fl.residMlpTarget),
// then fl.spd with the paper's settings (1 layer: C 100, lr 2e-3 constant, 30k steps of 2048,
// importance minimality 1e-5, p 2; 2 layers: C 400, lr 1e-3, 50k steps) except what the flags change.
// `node --import tsx bench/spd-resid-mlp.ts [--layers 1] [--steps 30000] [--batch 2048]
//   [--components 100] [--lr 2e-3] [--minimality 1e-5] [--seed 0] [--target-steps 1000]`
// prints the losses as it goes and one JSON line at the end: alive subcomponents per input feature
// and in all, per matrix (causal importance > 0.1 on one-hot inputs x_i = 0.75), how well the
// neuron contributions of mlp_in's best subcomponent match the target's, and the MSE on the labels
// of the target and of the decomposed model (masks = causal importances, stochastic, all ones).
import * as fl from "../src/index.js";

const args = process.argv.slice(2);
const option = (name: string, dflt: number | undefined) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const layers = option("--layers", 1)!;
const seed = option("--seed", 0)!;

let t0 = performance.now();
const target = await fl.residMlpTarget({ layers, seed, steps: option("--target-steps", undefined) });
const targetSeconds = (performance.now() - t0) / 1000;
const targetLoss = target.loss(target.sample(10_000, 123));
console.error(`target ${target} in ${targetSeconds.toFixed(1)} s; MSE on the labels ${targetLoss.toExponential(3)}`);
t0 = performance.now();
const cpu = process.cpuUsage();
const steps = option("--steps", undefined);
const dec = await fl.spd(target, {
  steps,
  batchSize: option("--batch", undefined),
  components: option("--components", undefined),
  lr: option("--lr", undefined),
  importanceMinimality: option("--minimality", undefined),
  seed,
  logEvery: Math.max(1, Math.floor((steps ?? (layers === 1 ? 30_000 : 50_000)) / 30)),
  onLog: (r) => console.error(`step ${r.step}  faithfulness ${r.faithfulness.toExponential(2)}  recon ${r.stochasticRecon.toExponential(2)}  layerwise ${r.stochasticReconLayerwise.toExponential(2)}  minimality ${r.importanceMinimality.toFixed(2)}  ${((performance.now() - t0) / 1000).toFixed(0)} s`),
});
const spdSeconds = (performance.now() - t0) / 1000;
const alive = dec.aliveSubcomponents();
const losses = dec.losses({ rows: 20_000 });
// Neuron contributions: cosine of the target's and the best subcomponent's per feature, and the ratio of their norms.
const contrib = Array.from({ length: layers }, (_, l) => dec.neuronContributions(l));
const perFeature = Array.from({ length: target.features }, (_, i) => {
  const t = contrib.flatMap((c) => c[i].target), s = contrib.flatMap((c) => c[i].subcomponent);
  const dot = t.reduce((a, v, j) => a + v * s[j], 0), nt = Math.hypot(...t), ns = Math.hypot(...s);
  return { cos: dot / (nt * ns), ratio: ns / nt };
});
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
console.log(JSON.stringify({
  model: `residual MLP, ${layers} layer${layers > 1 ? "s" : ""} × ${target.neurons} neurons`,
  steps: dec.history[dec.history.length - 1].step + 1,
  components: dec.components,
  seed,
  target_seconds: +targetSeconds.toFixed(1),
  spd_seconds: +spdSeconds.toFixed(1),
  spd_cpu_seconds: +(process.cpuUsage(cpu).user / 1e6).toFixed(1),
  alive: alive.map((a) => ({ matrix: a.matrix, alive: a.alive, mean_per_feature: +a.meanPerFeature.toFixed(3), features_with_exactly_one: a.featuresWithOne })),
  neuron_contributions: { mean_cosine: +mean(perFeature.map((r) => r.cos)).toFixed(4), mean_norm_ratio: +mean(perFeature.map((r) => r.ratio)).toFixed(4), distinct_subcomponents: new Set(contrib[0].map((r) => r.component)).size },
  mse_on_labels: Object.fromEntries(Object.entries(losses).map(([k, v]) => [k, +v.toExponential(4)])),
  last: dec.history[dec.history.length - 1],
}));
