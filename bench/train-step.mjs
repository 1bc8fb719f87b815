// One SAE training step, featurelab against PyTorch on the same machine in the same run.
// `npm run bench -- --json` prints one JSON line per case:
//   {"case","engine","featurelab_ms","torch_ms","ratio","gflops","agree"}
// ratio = torch_ms / featurelab_ms (> 1: featurelab is faster); gflops counts 12·B·d·h per step.
// featurelab's time is the whole step a user gets from fit() — batching, the step, Adam, bookkeeping —
// as the difference between a run of 2 + T steps and a run of 2 (fixed costs cancel). Before timing,
// both sides run the same first steps from the same initial weights on the same batches, and the
// losses must agree (relative 1e-4 at step 10). PyTorch is skipped (null) when /usr/bin/python3 has no torch.
// Options: --quick (small cases), --steps T (timed steps, default 8), --only relu|topk.
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
const SEED = 0;
const LR = 3e-4;

const shapes = quick ? [{ d: 128, h: 1024, B: 256 }] : [{ d: 512, h: 4096, B: 1024 }, { d: 512, h: 4096, B: 4096 }];
const archs = [
  { name: "relu", options: { l1: 1 }, torch: { arch: "relu", l1: 1 } },
  { name: "topk", options: { k: 32 }, torch: { arch: "topk", k: 32 } },
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
        const c = { ...a.torch, d, h, B, lr: LR, dir, rows, check_steps: CHECK_STEPS, warmup: 2, timed_steps: timed };
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
        console.error(`${a.name} B=${B}: losses disagree (relative ${rel.toExponential(2)})\n featurelab ${ours.join(", ")}\n pytorch    ${torch.losses.join(", ")}`);
        process.exitCode = 1;
      }
    }

    // Timing: fit() for 2 steps and for 2 + T steps; the difference is T steps.
    const timeFit = async (steps) => {
      const t0 = performance.now();
      const dict = await spec.fit(acts, { ...fitOpts, steps, logEvery: steps });
      const ms = performance.now() - t0;
      dict.dispose();
      return ms;
    };
    await timeFit(2); // warm-up: kernels compiled, memory allocated
    const base = await timeFit(2);
    const ms = ((await timeFit(2 + timed)) - base) / timed;
    const torchMs = torch ? torch.ms : null;
    const row = {
      case: `${a.name}${a.name === "topk" ? ` k=${a.options.k}` : ""} d=${d} h=${h} B=${B}`,
      engine: info.engine,
      featurelab_ms: +ms.toFixed(1),
      torch_ms: torchMs === null ? null : +torchMs.toFixed(1),
      ratio: torchMs === null ? null : +(torchMs / ms).toFixed(2),
      gflops: +((12 * B * d * h) / (ms * 1e6)).toFixed(1),
      agree,
    };
    console.log(json ? JSON.stringify(row) : `${row.case}: featurelab ${row.featurelab_ms} ms (${row.engine}), PyTorch ${row.torch_ms ?? "–"} ms, ratio ${row.ratio ?? "–"}, ${row.gflops} GFLOP/s, losses agree: ${agree ?? "–"}`);
  }
}
