import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ready } from "../../src/engine/backend.js";
import { sharkeyToyData } from "../../src/data/synthetic.js";
import { dictionary } from "../../src/training/spec.js";
import { scratchDir } from "../python.js";

const dir = scratchDir("featurelab-ckpt-");
const toy = sharkeyToyData({ rows: 700, features: 24, dim: 12, avgActive: 3, seed: 2 });
// Schedules fixed explicitly, so a 30-step run and a 60-step run share their first 30 steps.
const common = { batchSize: 64, lr: 3e-3, seed: 4, progress: false, l1WarmupSteps: 10, deadWindowTokens: 640 } as const;

test("resume continues a checkpointed run exactly where it stopped (every weight, BatchTopK's and JumpReLU's thresholds too)", async () => {
  await ready();
  for (const [arch, options] of [["relu", { l1: 0.1 }], ["batchtopk", { k: 3 }], ["jumprelu", { l1: 0.01 }], ["gated", { l1: 0.1 }]] as const) {
    const spec = dictionary(arch, { width: 32, ...options });
    const straight = await spec.fit(toy.acts, { ...common, steps: 60 });
    const ckpt = join(dir, `run-${arch}`);
    const first = await spec.fit(toy.acts, { ...common, steps: 30, checkpoint: { dir: ckpt, every: 10 } });
    assert.equal((first.cfg.training as { steps: number }).steps, 30);
    assert.deepEqual(readdirSync(ckpt), ["checkpoint.safetensors"], "no temp files left behind");
    const resumed = await spec.fit(toy.acts, { ...common, steps: 60, resume: ckpt });
    assert.deepEqual(Object.keys(resumed.params).sort(), Object.keys(straight.params).sort());
    for (const name of Object.keys(straight.params)) {
      assert.deepEqual(resumed.params[name].dataSync(), straight.params[name].dataSync(), `${arch}: ${name} equals the uninterrupted run's`);
    }
    assert.equal(resumed.history[resumed.history.length - 1].step, 60);
  }
});

test("a checkpoint of another run, or none, is refused with the reason", async () => {
  await ready();
  const ckpt = join(dir, "other");
  await dictionary("relu", { width: 32, l1: 0.1 }).fit(toy.acts, { ...common, steps: 5, checkpoint: { dir: ckpt, every: 5 } });
  await assert.rejects(
    dictionary("relu", { width: 16, l1: 0.1 }).fit(toy.acts, { ...common, steps: 10, resume: ckpt }),
    /checkpoint\.safetensors: belongs to a different run \(d_sae: checkpoint 32, now 16\)/,
  );
  await assert.rejects(dictionary("relu", { width: 32 }).fit(toy.acts, { ...common, steps: 10, resume: join(dir, "none") }), /none\/checkpoint\.safetensors: no such file/);
  const junk = join(dir, "junk");
  await dictionary("relu", { width: 32, l1: 0.1 }).fit(toy.acts, { ...common, steps: 1, checkpoint: { dir: junk, every: 1 } });
  writeFileSync(join(junk, "checkpoint.safetensors"), "garbage");
  await assert.rejects(dictionary("relu", { width: 32, l1: 0.1 }).fit(toy.acts, { ...common, steps: 10, resume: junk }), /junk\/checkpoint\.safetensors:/);
  assert.ok(existsSync(junk));
});
