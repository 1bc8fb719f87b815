// What the training loop (fit.ts) asks of the engine that holds the weights: one optimiser step at a
// time, the numbers to log, a last good copy for the NaN guard, checkpoint state, the final weights.
// Two implementations: tfjs-trainer.ts (any architecture, any tfjs backend) and native-trainer.ts
// (fused C++ steps for the architectures that have one, on the native engine).
import type { tf } from "../engine/backend.js";
import type { Rng } from "../engine/random.js";
import type { Architecture, HostTensor } from "../dictionaries/architecture.js";
import type { TrainingRecord } from "../dictionaries/dictionary.js";
import type { Checkpoint } from "./checkpoint.js";

/** A step's loss terms, L0 and FVU of its batch, and the dead fraction after it (what fit logs). */
export type StepNumbers = Pick<TrainingRecord, "loss" | "mse" | "sparsity" | "l0" | "fvu" | "deadFraction">;

export interface StepInput {
  /** [batchSize, rowDim] row-major: inputs, or [input | target] for transcoders. */
  rows: Float32Array;
  lr: number;
  l1: number;
  /** 0-based index of this step in the run. */
  step: number;
  /** Read back the step's loss terms (a sync; only on logging steps). */
  record: boolean;
}

export interface TrainerSetup {
  arch: Architecture;
  width: number;
  dIn: number;
  rowDim: number;
  batchSize: number;
  init: Record<string, HostTensor>;
  betas?: [number, number];
  clipGradNorm?: number;
  /** Rows without firing after which a feature counts as dead. */
  deadWindow: number;
  resample?: { every: number };
  resampleRng: Rng;
  resume?: Checkpoint;
}

export interface Trainer {
  /** Which implementation runs the steps, for the run's record. */
  readonly kind: "tfjs" | "native";
  step(input: StepInput): StepNumbers | undefined;
  /** Remember the current weights as the last good ones. */
  keep(): void;
  /** Go back to the last good weights. */
  rollback(): void;
  /** Weights, Adam state and dead-feature counters as tensors for a checkpoint; release() frees copies. */
  checkpointState(): { adamStep: number; tensors: Record<string, tf.Tensor>; release(): void };
  /** The trained weights as tensors owned by the caller; the trainer is spent afterwards. */
  finish(): Record<string, tf.Tensor>;
  dispose(): void;
}
