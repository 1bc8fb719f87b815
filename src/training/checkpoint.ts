// Training checkpoints: one .safetensors file holding the parameters, Adam's moments and the
// dead-feature counters, with the run's position and history in its metadata. Written atomically
// (temp file + rename), so a crash mid-write leaves the previous checkpoint intact.
import { writeFileAtomic } from "../io/atomic-write.js";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tf } from "../engine/backend.js";
import { InputError } from "../io/errors.js";
import { readSafetensors, writeSafetensors } from "../io/safetensors.js";
import { toFloat32, type NdArray } from "../io/ndarray.js";
import type { TrainingRecord } from "../dictionaries/dictionary.js";

export const CHECKPOINT_FILE = "checkpoint.safetensors";

/** What must match for a checkpoint to continue a run. */
export interface RunIdentity {
  architecture: string;
  options: Record<string, unknown>;
  d_in: number;
  d_sae: number;
  batch_size: number;
  seed: number;
  steps: number;
}

export interface Checkpoint {
  run: RunIdentity;
  step: number;
  tokens: number;
  adamStep: number;
  history: TrainingRecord[];
  tensors: Record<string, tf.Tensor>;
}

export async function writeCheckpoint(dir: string, c: Checkpoint): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const arrays: Record<string, NdArray> = {};
  for (const [name, t] of Object.entries(c.tensors)) arrays[name] = { dtype: "float32", shape: t.shape, data: (await t.data()) as Float32Array };
  const meta = { run: c.run, step: c.step, tokens: c.tokens, adamStep: c.adamStep, history: c.history };
  const path = join(dir, CHECKPOINT_FILE);
  writeFileAtomic(path, writeSafetensors(arrays, { featurelab_checkpoint: JSON.stringify(meta) }));
}

export function readCheckpoint(dir: string, expected: RunIdentity): Checkpoint {
  const path = join(dir, CHECKPOINT_FILE);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new InputError(path, "no such file: nothing to resume from");
  }
  const { tensors, metadata } = readSafetensors(bytes, path);
  if (!metadata.featurelab_checkpoint) throw new InputError(path, "is not a featurelab checkpoint (no featurelab_checkpoint metadata)");
  const meta = JSON.parse(metadata.featurelab_checkpoint);
  const mismatched = (Object.keys(expected) as (keyof RunIdentity)[]).filter(
    (k) => k !== "steps" && JSON.stringify(meta.run[k]) !== JSON.stringify(expected[k]),
  );
  if (mismatched.length > 0) {
    const what = mismatched.map((k) => `${k}: checkpoint ${JSON.stringify(meta.run[k])}, now ${JSON.stringify(expected[k])}`).join("; ");
    throw new InputError(path, `belongs to a different run (${what})`);
  }
  const loaded: Record<string, tf.Tensor> = {};
  for (const [name, a] of Object.entries(tensors)) loaded[name] = tf.tensor(toFloat32(a), a.shape);
  return { run: meta.run, step: meta.step, tokens: meta.tokens, adamStep: meta.adamStep, history: meta.history, tensors: loaded };
}
