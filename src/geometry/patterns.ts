// The input of an RDM as observations: N rows × C channels, each row tagged with its condition
// (and, for crossnobis, its cross-validation fold). Accepts an ActivationSet grouped by a metadata
// column, or a pattern matrix (number[][], a flat typed array with its shape, a 2-D tensor).
import { tf } from "../engine/backend.js";
import { ActivationSet } from "../data/activation-set.js";
import { InputError } from "../io/errors.js";
import { assertFinite } from "../data/finite.js";

/** What `rdm` takes: an ActivationSet (grouped by a metadata column), a conditions × channels matrix, a flat array with its shape, or a 2-D tensor. */
export type PatternInput = ActivationSet | number[][] | Float32Array | Float64Array | tf.Tensor;

export interface PatternOptions {
  /** Condition of each row: a metadata column (ActivationSet) or one value per row. Default: each row is a condition. */
  by?: string | ArrayLike<unknown>;
  /** Cross-validation fold of each row (crossnobis): a metadata column or one value per row. */
  folds?: string | ArrayLike<unknown>;
  /** Shape of a flat typed array: rows (conditions or observations) × channels. */
  conditions?: number;
  channels?: number;
  /** Names of the rows when each row is a condition (matrix input without `by`). */
  labels?: readonly string[];
  /** Condition order: "sorted" (rsatoolbox's np.unique order, the default) or "appearance". */
  order?: "sorted" | "appearance";
}

export interface Observations {
  /** N × C, row-major. */
  data: Float32Array | Float64Array;
  rows: number;
  channels: number;
  /** Condition index (0..K-1) of each row, and the conditions' labels. */
  condition: Int32Array;
  labels: string[];
  /** Fold index of each row and the folds' labels, when folds were given. */
  fold?: Int32Array;
  foldLabels?: string[];
  /** What the input was, for messages ("ActivationSet column 'stimulus'", "pattern matrix"). */
  describe: string;
}

const fail = (problem: string): never => {
  throw new InputError(undefined, `rdm: ${problem}`);
};

export function observations(input: PatternInput, opts: PatternOptions = {}): Observations {
  const { data, rows, channels, what } = matrixOf(input, opts);
  assertFinite(data, channels, input instanceof ActivationSet ? input.source : undefined, `rdm: ${what}`);
  let condition: Int32Array, labels: string[], describe: string;
  if (opts.by !== undefined) {
    const values = columnOf(input, opts.by, rows, "by");
    ({ index: condition, labels } = groupValues(values, byName(opts.by, "by"), opts.order ?? "sorted"));
    describe = typeof opts.by === "string" ? `column '${opts.by}'` : "the `by` values";
  } else {
    if (opts.labels && opts.labels.length !== rows) fail(`${opts.labels.length} labels for ${rows} rows of ${what}`);
    labels = opts.labels ? opts.labels.map(String) : Array.from({ length: rows }, (_, i) => String(i));
    if (new Set(labels).size !== labels.length) fail(`labels must be unique; ${firstDuplicate(labels)} appears more than once`);
    condition = Int32Array.from({ length: rows }, (_, i) => i);
    describe = what;
  }
  if (labels.length < 2) {
    fail(`an RDM needs at least 2 conditions; ${describe} has ${labels.length}${labels.length ? ` ('${labels[0]}')` : ""}`);
  }
  const out: Observations = { data, rows, channels, condition, labels, describe };
  if (opts.folds !== undefined) {
    const values = columnOf(input, opts.folds, rows, "folds");
    const g = groupValues(values, byName(opts.folds, "folds"), "sorted");
    out.fold = g.index;
    out.foldLabels = g.labels;
  }
  return out;
}

function byName(v: string | ArrayLike<unknown>, what: string): string {
  return typeof v === "string" ? `column '${v}'` : `\`${what}\``;
}

function matrixOf(input: PatternInput, opts: PatternOptions): { data: Float32Array | Float64Array; rows: number; channels: number; what: string } {
  if (input instanceof ActivationSet) {
    return { data: input.vectors, rows: input.numRows, channels: input.dim, what: `ActivationSet${input.source ? ` (${input.source})` : ""}` };
  }
  if (input instanceof tf.Tensor) {
    if (input.rank !== 2) fail(`a pattern tensor must be 2-D [conditions, channels], got shape [${input.shape.join(", ")}]`);
    const [rows, channels] = input.shape as [number, number];
    return { data: Float64Array.from(input.dataSync() as Float32Array), rows, channels, what: `tensor [${rows}, ${channels}]` };
  }
  if (input instanceof Float32Array || input instanceof Float64Array) {
    const { conditions: rows, channels } = opts;
    if (rows === undefined || channels === undefined) fail("a flat typed array needs its shape: { conditions, channels }");
    if (rows! * channels! !== input.length) fail(`${input.length} values are not ${rows} conditions × ${channels} channels`);
    return { data: input, rows: rows!, channels: channels!, what: `pattern matrix [${rows}, ${channels}]` };
  }
  if (Array.isArray(input)) {
    const rows = input.length;
    if (rows === 0) fail("the pattern matrix is empty");
    const channels = input[0]?.length;
    if (!channels) fail("the pattern matrix's rows must be non-empty arrays of numbers");
    const data = new Float64Array(rows * channels);
    input.forEach((row, i) => {
      if (!row || row.length !== channels) fail(`pattern matrix row ${i} has ${row?.length ?? 0} values, row 0 has ${channels}`);
      for (let c = 0; c < channels; c++) data[i * channels + c] = row[c];
    });
    return { data, rows, channels, what: `pattern matrix [${rows}, ${channels}]` };
  }
  return fail("input must be an ActivationSet, a number[][] pattern matrix, a Float32Array/Float64Array with { conditions, channels }, or a 2-D tensor");
}

function columnOf(input: PatternInput, spec: string | ArrayLike<unknown>, rows: number, what: string): ArrayLike<unknown> {
  if (typeof spec === "string") {
    if (!(input instanceof ActivationSet)) fail(`\`${what}: "${spec}"\` names a metadata column, which only an ActivationSet has; pass one value per row instead`);
    return (input as ActivationSet).column(spec); // names the missing column and lists the others
  }
  if (spec.length !== rows) fail(`\`${what}\` has ${spec.length} values for ${rows} rows`);
  return spec;
}

/** Distinct values → indices, in rsatoolbox's order (sorted; numbers numerically) or first appearance. */
export function groupValues(values: ArrayLike<unknown>, name: string, order: "sorted" | "appearance"): { index: Int32Array; labels: string[] } {
  const first = new Map<string, unknown>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) fail(`${name} has a missing value at row ${i}`);
    const key = String(v);
    if (!first.has(key)) first.set(key, v);
  }
  let labels = [...first.keys()];
  if (order === "sorted") {
    const numeric = [...first.values()].every((v) => typeof v === "number" || typeof v === "bigint");
    labels = numeric
      ? labels.sort((a, b) => Number(first.get(a)) - Number(first.get(b)))
      : labels.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  const at = new Map(labels.map((l, i) => [l, i]));
  const index = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) index[i] = at.get(String(values[i]))!;
  return { index, labels };
}

/** Mean pattern of each of K groups (rows with index g), K × C, float64; also the group sizes. */
export function groupMeans(data: ArrayLike<number>, channels: number, index: Int32Array, K: number): { means: Float64Array; counts: Int32Array } {
  const means = new Float64Array(K * channels);
  const counts = new Int32Array(K);
  for (let r = 0; r < index.length; r++) {
    const g = index[r];
    counts[g]++;
    const o = g * channels, s = r * channels;
    for (let c = 0; c < channels; c++) means[o + c] += data[s + c];
  }
  for (let g = 0; g < K; g++) for (let c = 0; c < channels; c++) means[g * channels + c] /= counts[g];
  return { means, counts };
}

export function firstDuplicate(labels: readonly string[]): string {
  const seen = new Set<string>();
  for (const l of labels) {
    if (seen.has(l)) return `'${l}'`;
    seen.add(l);
  }
  return "";
}
