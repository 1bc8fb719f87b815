// SPD on the toy models of superposition, our MMCS and ML2R beside the paper's Table 1 (Bushnaq,
// Braun & Sharkey 2025: TMS 5-2 MMCS 1.000 ± 0.000, ML2R 0.993 ± 0.002; TMS 40-10 1.000 ± 0.000,
// 1.010 ± 0.007). Trains the target as the paper does (fl.tmsTarget), then fl.spd with the paper's
// settings except what the flags change.
// `node --import tsx bench/spd-tms.ts [--features 5 --hidden 2] [--identity] [--steps 40000]
//   [--batch 4096] [--components 20] [--lr 1e-3] [--seed 0] [--target-steps 10000]`
// prints the losses as it goes and one JSON line at the end, with the description length of the
// decomposition's mechanisms (dec.descriptionLength, bits per input at FVU tolerance 0.01).
import * as fl from "../src/index.js";

const args = process.argv.slice(2);
const option = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const features = option("--features", 5), hidden = option("--hidden", 2);
const identity = args.includes("--identity");
const steps = option("--steps", 40_000), batchSize = option("--batch", 4096), seed = option("--seed", 0);
const components = option("--components", features <= 5 ? 20 : 200), lr = option("--lr", 1e-3);
const PAPER: Record<string, { mmcs: number; ml2r: number }> = { "5-2": { mmcs: 1.0, ml2r: 0.993 }, "40-10": { mmcs: 1.0, ml2r: 1.01 } };

let t0 = performance.now();
const target = await fl.tmsTarget({ features, hidden, identity, seed, steps: option("--target-steps", 10_000) });
const targetSeconds = (performance.now() - t0) / 1000;
console.error(`target ${target} in ${targetSeconds.toFixed(1)} s; W = ${JSON.stringify(target.W.map((r) => r.map((v) => +v.toFixed(3))))}`);
t0 = performance.now();
const cpu = process.cpuUsage();
const dec = await fl.spd(target, {
  steps,
  batchSize,
  components,
  lr,
  seed,
  logEvery: Math.max(1, Math.floor(steps / 20)),
  onLog: (r) => console.error(`step ${r.step}  lr ${r.lr.toExponential(2)}  faithfulness ${r.faithfulness.toExponential(2)}  recon ${r.stochasticRecon.toExponential(2)}  layerwise ${r.stochasticReconLayerwise.toExponential(2)}  minimality ${r.importanceMinimality.toFixed(3)}`),
});
const paper = PAPER[`${features}-${hidden}`];
// The description length of (network, dataset) in the decomposition's mechanisms, on fresh inputs.
const bits = await dec.descriptionLength(target.sample(4000, seed + 1), { tolerance: 0.01 });
console.log(JSON.stringify({
  model: `TMS ${features}-${hidden}${identity ? "+ID" : ""}`,
  steps,
  batchSize,
  components,
  seed,
  mmcs: +dec.mmcs().toFixed(4),
  ml2r: +dec.ml2r().toFixed(4),
  paper_mmcs: paper?.mmcs ?? null,
  paper_ml2r: paper?.ml2r ?? null,
  spd_seconds: +((performance.now() - t0) / 1000).toFixed(1),
  spd_cpu_seconds: +(process.cpuUsage(cpu).user / 1e6).toFixed(1),
  matches: dec.featureMatches().map((r) => [r.component, +r.cosine.toFixed(4), +r.l2Ratio.toFixed(4)]),
  large_subcomponents: dec.summary().map((r) => `${r.layer}: ${r.large}`),
  mechanism_bits: { per_input: +bits.bitsPerInput.toFixed(3), joint: +bits.jointBits.toFixed(3), l0: +bits.l0.toFixed(3), threshold: +bits.threshold.toPrecision(3), fvu: +bits.loss.toPrecision(3), fvu_all_kept: +bits.lossAllKept.toPrecision(3), meets: bits.meetsTarget },
}));
