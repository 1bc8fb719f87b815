// Where training progress goes. The notebook display is plugged in by the display layer
// (setProgressFactory); on its own, training draws a one-line bar on a terminal and nothing else.
import type { TrainingRecord } from "../dictionaries/dictionary.js";

/** What a progress display is given at every update of a training run. */
export interface ProgressState {
  title: string;
  step: number;
  steps: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
  last: TrainingRecord | undefined;
  history: readonly TrainingRecord[];
  done: boolean;
  note?: string;
  /** false: a run that logs no training records (caching activations), so no curves are drawn. */
  curves?: boolean;
  /** What `step` counts (default "step"; caching counts "documents"). */
  unit?: string;
}

/** A training progress display: pass one as `fit(…, { progress })` to receive every update. */
export interface ProgressSink {
  /** Called at each logged step and once with `done: true` at the end. */
  update(state: ProgressState): void;
}

export type ProgressFactory = () => ProgressSink | undefined;

const terminal: ProgressFactory = () => {
  if (!process.stderr.isTTY) return undefined;
  return {
    update(s) {
      const width = 24;
      const filled = Math.round((width * s.step) / s.steps);
      const r = s.last;
      const stats = r ? ` loss ${r.loss.toPrecision(4)} L0 ${r.l0.toFixed(1)} FVU ${r.fvu.toFixed(3)} dead ${(100 * r.deadFraction).toFixed(0)}%` : "";
      const line = `${s.title} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${s.step}/${s.steps} ${Math.round(s.tokensPerSecond)} tok/s${stats}`;
      process.stderr.write(`\r${line}\x1b[K${s.done ? "\n" : ""}`);
      if (s.done && s.note) process.stderr.write(`${s.note}\n`);
    },
  };
};

let factory: ProgressFactory = terminal;

/** Replace the default progress display (the notebook display registers itself here). */
export function setProgressFactory(f: ProgressFactory): void {
  factory = f;
}

export function terminalProgress(): ProgressSink | undefined {
  return terminal();
}

export function defaultProgress(): ProgressSink | undefined {
  return factory();
}
