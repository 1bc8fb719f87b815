// One SAE training step, featurelab against PyTorch on the same machine in the same run.
// `npm run bench -- --json` prints one JSON line per case:
//   {"case","engine","featurelab_ms","torch_ms","ratio","gflops","agree"}
// ratio = torch_ms / featurelab_ms (> 1: featurelab is faster); gflops counts 12·B·d·h per step.
// featurelab's time is the whole step a user gets from fit() — batching, the step, Adam, bookkeeping —
// from the time fit() records at each step (the fastest of --repeats blocks of T steps). Before timing,
// both sides run the same first steps from the same initial weights on the same batches, and the
// losses must agree (relative 1e-4 at step 10). PyTorch is skipped (null) when /usr/bin/python3 has no torch.
// Each line also gives "agree" (the loss check) and "l0", the mean L0 over the timed steps.
// Options: --quick (small cases), --steps T (steps per timed block, default 8), --repeats R (default 3),
// --only relu|topk|batchtopk|jumprelu|gated.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as fl from "featurelab";
import { architecture } from "../dist/dictionaries/registry.js";
import { endlessBatches } from "../dist/data/endless-batches.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
const option = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const timed = Number(option("--steps", quick ? 4 : 8));
const only = option("--only", undefined);
const PYTHON = "/usr/bin/python3";
const CHECK_STEPS = 10;
const REPEATS = Number(option("--repeats", 3));
const SEED = 0;
const LR = 3e-4;

const shapes = quick ? [{ d: 128, h: 1024, B: 256 }] : [{ d: 512, h: 4096, B: 1024 }, { d: 512, h: 4096, B: 4096 }];
// ReLU twice: with a tiny λ its activations stay dense (half the features fire, as at init: every
// product is a dense sgemm), and with λ = 1 timed once L0 has fallen (featurelab's step then runs the
// f-products on the nonzeros; PyTorch's cost does not change) — most of a real run looks like the latter.
const archs = [
  { name: "relu", label: "relu (dense phase)", options: { l1: 0.001 }, torch: { arch: "relu", l1: 0.001 }, warmup: 2 },
  { name: "relu", label: "relu (sparse phase)", options: { l1: 1 }, torch: { arch: "relu", l1: 1 }, warmup: 30 },
  { name: "topk", label: "topk k=32", options: { k: 32 }, torch: { arch: "topk", k: 32 }, warmup: 2 },
  { name: "batchtopk", label: "batchtopk k=32", options: { k: 32 }, torch: { arch: "batchtopk", k: 32 }, warmup: 2 },
  // JumpReLU (SAELens' L0 loss, θ trained through the rectangle kernel) and Gated: dense f-products on both sides.
  { name: "jumprelu", label: "jumprelu λ=1e-3", options: { l1: 1e-3 }, torch: { arch: "jumprelu", l1: 1e-3, bandwidth: 0.05 }, warmup: 2 },
  { name: "gated", label: "gated λ=1", options: { l1: 1 }, torch: { arch: "gated", l1: 1 }, warmup: 2 },
].filter((a) => !only || a.name === only);

const torchVersion = spawnSync(PYTHON, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
const haveTorch = torchVersion.status === 0;
const info = await fl.engine();
if (!json) console.log(`featurelab engine: ${info.engine} — ${info.reason}\nPyTorch: ${haveTorch ? torchVersion.stdout.trim() : "not installed (apt-get install python3-torch)"}`);

for (const { d, h, B } of shapes) {
  const rows = Math.max(4 * B, 16384);
  const toy = fl.toy.sharkey({ rows, features: 2 * d, dim: d, avgActive: 8, seed: 1 });
  const acts = toy.acts;
  for (const a of archs) {
    const { l1 = 0, ...archOptions } = a.options;
    const spec = fl.dictionary(a.name, { width: h, ...a.options });
    const fitOpts = { batchSize: B, lr: LR, seed: SEED, progress: false, l1WarmupSteps: 0, deadWindowTokens: 1e12 };

    // The agreement run: fit()'s own losses for the first CHECK_STEPS steps…
    const check = await spec.fit(acts, { ...fitOpts, steps: CHECK_STEPS, logEvery: 1 });
    const ours = check.history.map((r) => r.loss);
    check.dispose();

    // …and fit()'s initial weights and batches, drawn exactly as fit draws them, for PyTorch.
    const dir = mkdtempSync(join(tmpdir(), "featurelab-bench-"));
    let torch = null;
    try {
      if (haveTorch) {
        const rng = new fl.Rng(SEED);
        const init = architecture(a.name, archOptions).init(d, h, rng);
        for (const [name, t] of Object.entries(init)) writeFileSync(join(dir, `${name}.f32`), t.values);
        const batches = endlessBatches(acts, B, rng);
        const all = new Float32Array(CHECK_STEPS * B * d);
        for (let i = 0; i < CHECK_STEPS; i++) all.set((await batches.next()).value, i * B * d);
        await batches.return();
        writeFileSync(join(dir, "batches.f32"), all);
        writeFileSync(join(dir, "data.f32"), acts.vectors);
        const c = { ...a.torch, d, h, B, lr: LR, dir, rows, shapes: Object.fromEntries(Object.entries(init).map(([n, t]) => [n, t.shape])), check_steps: CHECK_STEPS, warmup: a.warmup, timed_steps: timed, repeats: REPEATS };
        const r = spawnSync(PYTHON, [join(import.meta.dirname, "torch_step.py"), JSON.stringify(c)], { encoding: "utf8", maxBuffer: 1 << 20 });
        if (r.status !== 0) throw new Error(`PyTorch step failed:\n${r.stderr}`);
        torch = JSON.parse(r.stdout.trim().split("\n").pop());
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    let agree = null;
    if (torch) {
      const rel = Math.abs(ours[CHECK_STEPS - 1] - torch.losses[CHECK_STEPS - 1]) / Math.abs(torch.losses[CHECK_STEPS - 1]);
      agree = rel < 1e-4;
      if (!agree) {
        console.error(`${a.label} B=${B}: losses disagree (relative ${rel.toExponential(2)})\n featurelab ${ours.join(", ")}\n pytorch    ${torch.losses.join(", ")}`);
        process.exitCode = 1;
      }
    }

    // Timing: one fit() of 2 warm-up steps and REPEATS blocks of T steps, each step logged with its
    // wall-clock time; the fastest block's mean (this machine is shared and noisy; PyTorch is timed alike).
    const w = a.warmup;
    const run = await spec.fit(acts, { ...fitOpts, steps: w + REPEATS * timed, logEvery: 1 });
    const at = (step) => run.history[step - 1].seconds * 1000;
    const blocks = Array.from({ length: REPEATS }, (_, r) => (at(w + (r + 1) * timed) - at(w + r * timed)) / timed);
    const ms = Math.min(...blocks);
    const timedL0 = run.history.slice(w).reduce((sum, r) => sum + r.l0, 0) / (REPEATS * timed);
    run.dispose();
    const torchMs = torch ? torch.ms : null;
    const row = {
      case: `${a.label} d=${d} h=${h} B=${B}`,
      engine: info.engine,
      featurelab_ms: +ms.toFixed(1),
      torch_ms: torchMs === null ? null : +torchMs.toFixed(1),
      ratio: torchMs === null ? null : +(torchMs / ms).toFixed(2),
      gflops: +((12 * B * d * h) / (ms * 1e6)).toFixed(1),
      agree,
      l0: +timedL0.toFixed(1),
    };
    console.log(json ? JSON.stringify(row) : `${row.case}: featurelab ${row.featurelab_ms} ms (${row.engine}), PyTorch ${row.torch_ms ?? "–"} ms, ratio ${row.ratio ?? "–"}, ${row.gflops} GFLOP/s, losses agree: ${agree ?? "–"}`);
  }
}
