// One SPD training step on TMS 5-2 (C = 20, H = 16, B = 4096, the paper's shapes), featurelab
// against PyTorch (bench/torch_spd_step.py, written from the paper's definitions) on this machine.
// `node --import tsx bench/spd-step.ts [--tms 40-10] [--steps T] [--repeats R] [--batch B]` prints one JSON line:
//   {"case","featurelab_ms","torch_ms","ratio","agree","featurelab_blocks_ms","torch_blocks_ms"}
// ratio = torch_ms / featurelab_ms (> 1: featurelab is faster); each time is the median over R
// blocks of the mean step in a block of T steps, batch sampling and mask noise included (featurelab's
// from fl.spd's own loop: ParameterDecomposition.seconds / T). Before timing, both sides compute the
// loss at the same parameters, batch and noise; "agree" is their relative difference.
// PyTorch is skipped (null) when /usr/bin/python3 has no torch. Times are never asserted in tests.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as fl from "../src/index.js";
import { Rng } from "../src/engine/random.js";
import { sampleFeatures } from "../src/models/toy-superposition.js";
import { initGate } from "../src/circuits/parameter-decomposition/causal-importance.js";
import { spdStep, stepLayout, type StepModel } from "../src/circuits/parameter-decomposition/spd-step.js";

const args = process.argv.slice(2);
const option = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const T = option("--steps", 20), R = option("--repeats", 5), B = option("--batch", 4096);
// --tms 40-10: the paper's larger model (C 200, importance minimality 1e-4 with p = 2) on a fixed random W.
const big = args.includes("--tms") && args[args.indexOf("--tms") + 1] === "40-10";
const n = big ? 40 : 5, m = big ? 10 : 2, C = big ? 200 : 20, H = 16, PROB = 0.05, COEFF = big ? 1e-4 : 3e-3, PNORM = big ? 2 : 1, LR = 1e-3;
const W = big
  ? Array.from({ length: m }, (_, r) => Array.from({ length: n }, (_, i) => 0.3 * Math.cos(1.7 * r + 2.3 * i + 0.4 * r * i)))
  : [
      [1.103, 0.593, 0.078, -1.056, -0.728],
      [0.26, -0.963, 1.128, 0.422, -0.859],
    ];
const b = big ? Array(n).fill(-0.1) : [-0.25, -0.239, -0.235, -0.246, -0.239];
const target = new fl.TmsTarget({ W, b });

// The agreement check: one loss at shared random parameters, batch and noise.
const rng = new Rng(1);
const WT = Array.from({ length: n }, (_, i) => W.map((r) => r[i]));
const model: StepModel = { layers: [{ din: n, dout: m, W: Float64Array.from(W.flat()) }, { din: m, dout: n, W: Float64Array.from(WT.flat()), tiedTo: 0 }], bias: Float64Array.from(b), C, H };
const lay = stepLayout(model);
const f32 = (a: ArrayLike<number>) => Float32Array.from(a);
const blocks: Record<string, Float32Array> = { W: f32(W.flat()), b: f32(b), V: f32(rng.normals(n * C).map((v) => 0.5 * v)), U: f32(rng.normals(C * m).map((v) => 0.5 * v)) };
for (let l = 0; l < 2; l++) {
  const g = initGate(rng, C, H);
  Object.assign(blocks, { [`wIn${l}`]: g.wIn, [`bIn${l}`]: f32(rng.normals(C * H).map((v) => 0.3 * v)), [`wOut${l}`]: g.wOut, [`bOut${l}`]: f32(rng.normals(C).map((v) => 0.3 * v + 0.3)) });
}
blocks.x = sampleFeatures(rng, [0.3], B, n);
for (const k of ["uF0", "uF1", "uL0", "uL1"]) blocks[k] = Float32Array.from({ length: B * C }, () => rng.uniform());
const theta = new Float64Array(lay.size);
theta.set(blocks.V, lay.V[0]);
theta.set(blocks.U, lay.U[0]);
for (let l = 0; l < 2; l++) {
  theta.set(blocks[`wIn${l}`], lay.wIn[l]);
  theta.set(blocks[`bIn${l}`], lay.bIn[l]);
  theta.set(blocks[`wOut${l}`], lay.wOut[l]);
  theta.set(blocks[`bOut${l}`], lay.bOut[l]);
}
const ours = spdStep(model, lay, theta, new Float64Array(lay.size), blocks.x, B, [blocks.uF0, blocks.uF1], [blocks.uL0, blocks.uL1], { faithfulness: 1, stochasticRecon: 1, stochasticReconLayerwise: 1, importanceMinimality: COEFF, p: PNORM, sigmoid: "leaky_hard" }).total;

// featurelab: fl.spd's loop, R blocks of T steps (a short warm-up first).
await fl.spd(target, { components: C, importanceMinimality: COEFF, p: PNORM, steps: 3, batchSize: B, seed: 0 });
const flBlocks: number[] = [];
for (let r = 0; r < R; r++) {
  const dec = await fl.spd(target, { components: C, importanceMinimality: COEFF, p: PNORM, steps: T, batchSize: B, seed: r, logEvery: T });
  flBlocks.push((dec.seconds * 1000) / T);
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

let torch: { loss: number; torch_ms: number; blocks_ms: number[] } | undefined;
const dir = mkdtempSync(join(tmpdir(), "spd-bench-"));
try {
  for (const [k, v] of Object.entries(blocks)) writeFileSync(join(dir, `${k}.f32`), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  const run = spawnSync("/usr/bin/python3", [join(import.meta.dirname, "torch_spd_step.py"), JSON.stringify({ n, m, C, H, B, prob: PROB, coeff: COEFF, pnorm: PNORM, lr: LR, steps: T, repeats: R, dir })], { encoding: "utf8" });
  if (run.status === 0) torch = JSON.parse(run.stdout.trim().split("\n").pop()!);
  else console.error(`PyTorch skipped: ${run.stderr.trim().split("\n").pop()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const featurelabMs = median(flBlocks);
console.log(JSON.stringify({
  case: `TMS ${n}-${m}, C=${C}, H=${H}, B=${B}, p=${PNORM}`,
  featurelab_ms: +featurelabMs.toFixed(2),
  torch_ms: torch ? +torch.torch_ms.toFixed(2) : null,
  ratio: torch ? +(torch.torch_ms / featurelabMs).toFixed(3) : null,
  agree: torch ? +(Math.abs(torch.loss - ours) / Math.abs(ours)).toExponential(2) : null,
  featurelab_blocks_ms: flBlocks.map((v) => +v.toFixed(1)),
  torch_blocks_ms: torch ? torch.blocks_ms.map((v) => +v.toFixed(1)) : null,
}));
