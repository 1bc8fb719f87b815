import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../../src/engine/backend.js";
import { loadModel } from "../../src/models/load-model.js";
import { inductionSequences } from "../../src/models/induction-task.js";
import { ablateUnits } from "../../src/ablation/edits.js";
import type { Hooks } from "../../src/models/hook-points.js";
import type { Transformer } from "../../src/models/transformer.js";

const FOLDER = join(import.meta.dirname, "..", "..", "models", "tiny-induction");

async function accuracy(model: Transformer, tokens: number[][], scored: boolean[][], hooks: Hooks = {}): Promise<number> {
  const { logits } = await model.run(tokens, { hooks, batchSize: 100 });
  const pred = tf.tidy(() => logits!.argMax(-1).arraySync() as number[][]);
  logits!.dispose();
  let hit = 0, n = 0;
  tokens.forEach((doc, d) =>
    doc.forEach((_, t) => {
      if (!scored[d][t]) return;
      n++;
      if (pred[d][t] === doc[t + 1]) hit++;
    }),
  );
  return hit / n;
}

test("the shipped tiny transformer reaches its recorded induction accuracy on fresh sequences", async () => {
  const model = await loadModel(FOLDER);
  const rec = model.extra.featurelab as any;
  assert.equal(model.cfg.n_layers, 2);
  assert.equal(model.tokenizer?.name, "word-level");
  assert.ok(rec.training.seed === 0 && rec.training.steps > 0 && Number.isFinite(rec.training.final_batch_loss));
  const recorded = rec.evaluation.induction_accuracy as number;
  assert.ok(recorded > 0.95, `recorded accuracy ${recorded}`);
  // A seed neither training nor the recorded evaluation used.
  const { generator: _, ...taskOptions } = rec.task; // the record names the generator beside its options
  const task = inductionSequences({ n: 400, ...taskOptions, seed: 424_242 });
  const acc = await accuracy(model, task.tokens, task.scored);
  assert.ok(acc >= recorded - 0.01, `accuracy ${acc} on fresh sequences, recorded ${recorded}`);
  // Text goes through the folder's tokenizer.json, BOS first.
  const text = model.tokenizer!.decode(task.tokens[0].slice(1));
  const { documents } = await model.run(text);
  assert.deepEqual(documents![0], task.tokens[0]);
  // Without layer 1's attention the copying is gone.
  const ablated = await accuracy(model, task.tokens.slice(0, 100), task.scored.slice(0, 100), { "blocks.1.attn.hook_z": ablateUnits({ units: [0, 1, 2, 3] }) });
  assert.ok(ablated < 0.3, `accuracy with layer 1's heads ablated: ${ablated}`);
  model.dispose();
});
