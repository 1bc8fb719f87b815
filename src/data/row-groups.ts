// Row selection by metadata: groups of rows with equal keys, seeded sampling and splitting.
import { Rng } from "../engine/random.js";

/** Row indices grouped by the values of key columns, groups in order of first appearance. */
export function groupRows(keyColumns: ArrayLike<unknown>[], numRows: number): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (let r = 0; r < numRows; r++) {
    const key = JSON.stringify(keyColumns.map((c) => normaliseKey(c[r])));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(r);
  }
  return groups;
}

function normaliseKey(v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v instanceof Date ? v.getTime() : v;
}

/** n rows of each group (all of a smaller group without replacement), in original row order. */
export function sampleGroups(groups: Iterable<number[]>, n: number, opts: { seed?: number; replace?: boolean } = {}): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`featurelab: sample size must be a non-negative integer, got ${n}`);
  const rng = new Rng(opts.seed ?? 0);
  const out: number[] = [];
  for (const rows of groups) {
    if (opts.replace) {
      const picked = Array.from({ length: n }, () => rows[rng.int(rows.length)]);
      out.push(...picked.sort((a, b) => a - b));
      continue;
    }
    const k = Math.min(n, rows.length);
    const pool = rows.slice();
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(pool.length - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    out.push(...pool.slice(0, k).sort((a, b) => a - b));
  }
  return Int32Array.from(out);
}

/**
 * Split rows into a first part holding `fraction` of them and the rest, at random (seeded). With
 * groups, whole groups go to one side (e.g. every row of a document), so no group straddles the split.
 */
export function splitRows(numRows: number, fraction: number, seed: number, groups?: number[][]): [Int32Array, Int32Array] {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`featurelab: split fraction must be between 0 and 1, got ${fraction}`);
  const rng = new Rng(seed);
  const units = groups ?? Array.from({ length: numRows }, (_, i) => [i]);
  const order = rng.permutation(units.length);
  const first: number[] = [];
  const second: number[] = [];
  const target = Math.round(fraction * numRows);
  for (const u of order) (first.length < target ? first : second).push(...units[u]);
  const sorted = (a: number[]) => Int32Array.from(a.sort((x, y) => x - y));
  return [sorted(first), sorted(second)];
}
