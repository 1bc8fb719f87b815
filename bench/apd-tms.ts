// APD on the toy models of superposition, our MMCS and ML2R beside the APD paper's table (Braun,
// Bushnaq, Heimersheim, Mendel & Sharkey 2025: TMS 5-2 MMCS 0.998 ± 0.000, ML2R 0.893 ± 0.004;
// TMS 40-10 0.996 ± 0.003, 0.935 ± 0.001). Trains the target as fl.tmsTarget does (the SPD paper's
// recipe: 10k steps) or, with `--target apd`, as the APD paper's appendix says (5k steps of 1024 for
// 5-2, 2k of 2048 for 40-10, both at a constant 5e-3), then fl.apd with the repo's
// tms_topk_config.yaml except what the flags change.
// `node --import tsx bench/apd-tms.ts [--features 5 --hidden 2] [--identity] [--steps 20000]
//   [--batch 2048] [--seed 0] [--target spd|apd] [--target-steps 10000] [--attributions target|apd] [--components C]
//   [--topk k] [--minimality c] [--simplicity c] [--p p]` (unset: fl.apd's defaults, the repo's configs)
// prints the losses as it goes and one JSON line at the end.
import * as fl from "../src/index.js";

const args = process.argv.slice(2);
const option = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const features = option("--features", 5), hidden = option("--hidden", 2);
const identity = args.includes("--identity");
const steps = option("--steps", 20_000), batchSize = option("--batch", 2048), seed = option("--seed", 0);
const attributions = args[args.indexOf("--attributions") + 1] as fl.ApdAttributionSource;
const tuned = Object.fromEntries((["components", "topk", "minimality", "simplicity", "p"] as const).filter((k) => args.includes(`--${k}`)).map((k) => [k, option(`--${k}`, NaN)]));
const PAPER: Record<string, { mmcs: number; ml2r: number }> = { "5-2": { mmcs: 0.998, ml2r: 0.893 }, "40-10": { mmcs: 0.996, ml2r: 0.935 } };

let t0 = performance.now();
const apdRecipe = args.includes("--target") && args[args.indexOf("--target") + 1] === "apd";
const recipe = apdRecipe ? (features <= 5 ? { steps: 5000, batchSize: 1024 } : { steps: 2000, batchSize: 2048 }) : { steps: 10_000 };
const target = await fl.tmsTarget({ features, hidden, identity, seed, ...recipe, ...(args.includes("--target-steps") ? { steps: option("--target-steps", 0) } : {}) });
console.error(`target ${target} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
t0 = performance.now();
const cpu = process.cpuUsage();
const dec = await fl.apd(target, {
  steps,
  batchSize,
  seed,
  ...tuned,
  ...(args.includes("--attributions") ? { attributions } : {}),
  logEvery: Math.max(1, Math.floor(steps / 20)),
  onLog: (r) => console.error(`step ${r.step}  lr ${r.lr.toExponential(2)}  faithfulness ${r.faithfulness.toExponential(2)}  minimality ${r.minimality.toExponential(2)}  simplicity ${r.simplicity.toExponential(3)}  (${((performance.now() - t0) / 1000).toFixed(0)} s)`),
});
const paper = PAPER[`${features}-${hidden}`];
console.log(JSON.stringify({
  model: `TMS ${features}-${hidden}${identity ? "+ID" : ""}`,
  target: { recipe: apdRecipe ? "apd" : "spd", ...recipe },
  steps,
  batchSize,
  components: dec.components,
  topk: dec.topk,
  attributions: dec.attributionSource,
  ...tuned,
  seed,
  mmcs: +dec.mmcs().toFixed(4),
  ml2r: +dec.ml2r().toFixed(4),
  paper_mmcs: paper?.mmcs ?? null,
  paper_ml2r: paper?.ml2r ?? null,
  apd_seconds: +((performance.now() - t0) / 1000).toFixed(1),
  apd_cpu_seconds: +(process.cpuUsage(cpu).user / 1e6).toFixed(1),
  ms_per_step: +((performance.now() - t0) / steps).toFixed(2),
  matches: dec.featureMatches().map((r) => [r.component, +r.cosine.toFixed(4), +r.l2Ratio.toFixed(4)]),
  large_components: dec.summary().map((r) => `${r.layer}: ${r.large}`),
}));
