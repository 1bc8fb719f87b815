// fl.compareDictionaries(model, dicts, { hook, input }): several dictionaries spliced in at one hook and
// measured as Braun et al. 2024 compare local and end-to-end SAEs — L0, alive features (fired at least
// once on the evaluation tokens), ΔCE = CE with the dictionary spliced in − clean CE, KL(clean ‖ spliced)
// and the L2 ratio ‖â‖/‖a‖ (the last three from fl.spliceEval). Every position is spliced in and counted
// by default, as e2e_sae evaluates (and as trainE2E trains); ignorePositions: [0] gives SAELens'
// convention of leaving BOS alone. Alive features are counted over the same positions. `atL0(target)` interpolates each method's sweep
// to a common L0, so methods compare at matched sparsity.
import * as aq from "arquero";
import { tf, ready } from "../../engine/backend.js";
import type { Dictionary } from "../../dictionaries/dictionary.js";
import type { HookedModel } from "../../models/hooked-model.js";
import { spliceEval } from "../../ablation/splice-eval.js";
import { viewAt } from "../../ablation/dictionary-at-hook.js";
import { optionNames, rejectUnknownOptions } from "../../io/options.js";

/** Options of `compareDictionaries`. */
export interface DictionaryComparisonOptions {
  /** The hook point every dictionary reads and is spliced into. */
  hook: string;
  /** Token ids or text to evaluate on (held-out data). */
  input: unknown;
  /** Positions left alone and not counted (default none, as e2e_sae; [0] leaves BOS alone, as SAELens and spliceEval's default). */
  ignorePositions?: readonly number[];
  batchSize?: number;
}

const COMPARISON_OPTIONS = optionNames<DictionaryComparisonOptions>({ hook: true, input: true, ignorePositions: true, batchSize: true });

/** One dictionary's row in a `DictionaryComparison`: L0, alive features, ΔCE, KL and L2 ratio. */
export interface ComparisonRow {
  /** The name it was given (the key of the record passed in). */
  name: string;
  /** Its training loss ("local", "e2e", "e2e+ds" for fl.trainE2E; the architecture for others). */
  method: string;
  /** Sparsity coefficient λ it was trained with (NaN if unknown). */
  l1: number;
  width: number;
  /** Mean active features per counted token. */
  l0: number;
  /** Features that fired at least once on the counted tokens. */
  alive: number;
  /** CE with the dictionary spliced in − clean CE (nats per token). */
  ceDelta: number;
  ceClean: number;
  ceSpliced: number;
  /** SAELens' CE score: fraction of the zero-ablation loss recovered. */
  ceScore: number;
  /** Mean KL(clean ‖ spliced) per token. */
  kl: number;
  /** Mean ‖â‖/‖a‖. */
  l2Ratio: number;
}

/** One method's metrics at a chosen L0, interpolated between the two runs around it. */
export interface MatchedRow {
  method: string;
  l0: number;
  ceDelta: number;
  alive: number;
  l2Ratio: number;
  kl: number;
  /** λ of the two runs it lies between (equal when a run sits at exactly that L0). */
  l1Low: number;
  l1High: number;
}

const METRICS = ["ceDelta", "alive", "l2Ratio", "kl"] as const;

/** What `compareDictionaries` returns: a row per dictionary, and `atL0` to compare methods at matched L0 (drawn by `fl.plot.dictionaryComparison`). */
export class DictionaryComparison {
  constructor(
    readonly hook: string,
    readonly rows: readonly ComparisonRow[],
    /** Tokens the metrics averaged over. */
    readonly tokens: number,
  ) {}

  /** Methods in order of first appearance. */
  get methods(): string[] {
    return [...new Set(this.rows.map((r) => r.method))];
  }

  /**
   * One method's rows, by increasing L0.
   * @example
   * cmp.curve("e2e");
   */
  curve(method: string): ComparisonRow[] {
    return this.rows.filter((r) => r.method === method).sort((a, b) => a.l0 - b.l0);
  }

  /**
   * The L0 range every method's sweep covers: [largest minimum, smallest maximum] (empty if lo > hi).
   * @example
   * const [lo, hi] = cmp.commonL0Range();
   */
  commonL0Range(): [number, number] {
    const ranges = this.methods.map((m) => this.curve(m)).map((c) => [c[0].l0, c[c.length - 1].l0]);
    return [Math.max(...ranges.map((r) => r[0])), Math.min(...ranges.map((r) => r[1]))];
  }

  /**
   * Each method's ΔCE, alive features, L2 ratio and KL at L0 = target, linear in log L0 between the two
   * runs whose L0s bracket it (Braun et al.'s plots have L0 on a log axis). Default target: the geometric
   * middle of the common L0 range. A method whose runs do not reach the target is an error naming its range.
   * @example
   * console.table(cmp.atL0(30));
   */
  atL0(target?: number): MatchedRow[] {
    const [lo, hi] = this.commonL0Range();
    const t = target ?? (lo > 0 && hi >= lo ? Math.sqrt(lo * hi) : NaN);
    if (!(t > 0)) throw new Error(`featurelab: atL0: the methods' L0 ranges do not overlap (common range ${lo.toFixed(2)}–${hi.toFixed(2)}); sweep λ wider or pass a target L0`);
    return this.methods.map((method) => {
      const c = this.curve(method);
      const j = c.findIndex((r) => r.l0 >= t);
      if (j < 0 || c[0].l0 > t) throw new Error(`featurelab: atL0(${t.toFixed(2)}): the ${method} runs span L0 ${c[0].l0.toFixed(2)}–${c[c.length - 1].l0.toFixed(2)}; sweep λ so they reach it`);
      const a = c[Math.max(0, c[j].l0 === t ? j : j - 1)], b = c[j];
      const w = a === b ? 0 : (Math.log(t) - Math.log(a.l0)) / (Math.log(b.l0) - Math.log(a.l0));
      const row = { method, l0: t, l1Low: a.l1, l1High: b.l1 } as MatchedRow;
      for (const k of METRICS) row[k] = a[k] + w * (b[k] - a[k]);
      return row;
    });
  }

  /**
   * The rows as an arquero table.
   * @example
   * cmp.table().print();
   */
  table(): aq.ColumnTable {
    return aq.from(this.rows as ComparisonRow[]);
  }

  /** A text table of the rows. */
  toString(): string {
    return `DictionaryComparison(${this.hook}: ${this.rows.length} dictionaries, ${this.methods.join(", ")})`;
  }
}

function methodOf(d: Dictionary): string {
  const loss = (d.cfg.training as { loss?: unknown } | undefined)?.loss;
  return typeof loss === "string" ? loss : d.cfg.architecture;
}

/** Features that fire at least once, over the counted positions of `input` at `hook`. */
async function aliveCounts(model: HookedModel, dicts: Dictionary[], opts: DictionaryComparisonOptions, ignore: readonly number[]): Promise<number[]> {
  const { cache } = await model.run(opts.input, { cache: [opts.hook], logits: false, batchSize: opts.batchSize });
  const acts = cache.get(opts.hook);
  const positions = acts.column("position") as ArrayLike<number>;
  const keep = Array.from({ length: acts.numRows }, (_, i) => i).filter((i) => !ignore.includes(positions[i]));
  const rows = acts.take(Int32Array.from(keep));
  return dicts.map((d) => {
    const fired = new Uint8Array(d.width);
    for (const b of rows.rowBatches({ size: 2048 })) {
      const any = tf.tidy(() => {
        const x = tf.tensor2d(b.vectors, [b.rows, rows.dim]);
        return tf.max(viewAt(d, x, opts.hook).features, 0).dataSync();
      });
      for (let i = 0; i < d.width; i++) if (any[i] > 0) fired[i] = 1;
    }
    return fired.reduce((s, v) => s + v, 0);
  });
}

/**
 * Several dictionaries spliced in at one hook and measured as Braun et al. 2024 compare local and end-to-end SAEs.
 * @example
 * const cmp = await fl.compareDictionaries(model, { local, e2e }, { hook: "blocks.1.hook_resid_pre", input: tokens });
 * fl.show(fl.plot.dictionaryComparison(cmp));
 */
export async function compareDictionaries(model: HookedModel, dicts: Record<string, Dictionary> | Dictionary[], opts: DictionaryComparisonOptions): Promise<DictionaryComparison> {
  rejectUnknownOptions("compareDictionaries", opts, COMPARISON_OPTIONS);
  await ready();
  if (!opts?.hook) throw new Error("featurelab: compareDictionaries needs { hook } — the hook point the dictionaries read");
  if (opts.input === undefined) throw new Error("featurelab: compareDictionaries needs { input } — token sequences to evaluate on");
  const named: [string, Dictionary][] = Array.isArray(dicts) ? dicts.map((d, i) => [`${methodOf(d)} #${i}`, d]) : Object.entries(dicts);
  if (named.length === 0) throw new Error("featurelab: compareDictionaries needs at least one dictionary");
  const ignore = opts.ignorePositions ?? [];
  const alive = await aliveCounts(model, named.map(([, d]) => d), opts, ignore);
  const rows: ComparisonRow[] = [];
  let tokens = 0;
  for (const [i, [name, d]] of named.entries()) {
    const ev = await spliceEval(model, d, { hook: opts.hook, input: opts.input, ignorePositions: ignore, batchSize: opts.batchSize });
    tokens = ev.tokens;
    const l1 = d.cfg.l1_coefficient;
    rows.push({
      name, method: methodOf(d), l1: typeof l1 === "number" ? l1 : NaN, width: d.width,
      l0: ev.l0, alive: alive[i], ceDelta: ev.ceDelta, ceClean: ev.ceClean, ceSpliced: ev.ceSpliced, ceScore: ev.ceScore, kl: ev.klSpliced, l2Ratio: ev.l2Ratio,
    });
  }
  return new DictionaryComparison(opts.hook, rows, tokens);
}
