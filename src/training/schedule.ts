// Learning-rate and sparsity-coefficient schedules, as functions of the step (0-based).

export interface LrSchedule {
  lr: number;
  /** Linear warm-up from 0 over this many steps. */
  warmupSteps?: number;
  /** Decay to 0 over the last decaySteps steps: "linear" (SAELens) or "cosine". */
  decay?: "none" | "linear" | "cosine";
  decaySteps?: number;
  totalSteps: number;
  /** Decay to lr·minFactor rather than to 0 (default 0; e2e_sae decays to a tenth). */
  minFactor?: number;
}

export function learningRate(step: number, s: LrSchedule): number {
  const warm = s.warmupSteps ?? 0;
  if (warm > 0 && step < warm) return (s.lr * (step + 1)) / warm;
  const decay = s.decay ?? "none";
  if (decay === "none") return s.lr;
  const span = s.decaySteps ?? s.totalSteps - warm;
  const start = s.totalSteps - span;
  if (step < start) return s.lr;
  const t = Math.min(1, (step - start) / Math.max(1, span));
  const left = decay === "linear" ? 1 - t : 0.5 * (1 + Math.cos(Math.PI * t)); // 1 → 0 over the decay
  const floor = s.minFactor ?? 0;
  return s.lr * (floor + (1 - floor) * left);
}

/** The sparsity coefficient, warmed up linearly from 0 over warmupSteps (as SAELens). */
export function sparsityCoefficient(step: number, l1: number, warmupSteps: number): number {
  if (warmupSteps <= 0) return l1;
  return l1 * Math.min(1, (step + 1) / warmupSteps);
}
