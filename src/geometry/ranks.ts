// Ranks and pair counts for the rank-based RDM comparisons. An RDM of 2,000 conditions has ~2M
// dissimilarities, so everything here is O(n log n) or better: large vectors are ranked by a radix
// sort on the bits of their float64 values (no comparator calls), vectors with a few distinct
// values (categorical models) without sorting, small ones (bootstrap samples) by a native sort;
// Kendall's tau uses Knight's (1966) algorithm, discordant pairs counted by a Fenwick tree.

export interface RankInfo {
  /** Average ranks, 1-based, ties sharing the mean of their positions (scipy's rankdata "average"). */
  average: Float64Array;
  /** Dense ranks 0..unique-1 (equal values share one). */
  dense: Int32Array;
  unique: number;
  /** Pairs tied in this vector: Σ t(t−1)/2 over groups of t equal values. */
  tiedPairs: number;
  /**
   * Entries in ascending order, and where each group of equal values starts in it (length unique+1).
   * With NaN present, these index the non-NaN entries only (their positions among them).
   */
  order: Int32Array;
  starts: Int32Array;
}

/**
 * Indices that sort `values` ascending (no NaN), with the sorted keys: `hi` (the top 32 bits) and
 * `mid` (the next 16) of an order-preserving mapping of the float64 bits. An LSD radix sort in
 * three 16-bit passes on those 48 bits; entries whose 48 bits agree (ties, mostly) are then put in
 * order by value. Values differ wherever (hi, mid) differ.
 */
export function sortOrder(values: Float64Array): { order: Int32Array; hi: Uint32Array; mid: Uint16Array } {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  let hi = new Uint32Array(n), mid = new Uint16Array(n), idx = new Int32Array(n);
  // The three digit histograms are counted while the keys are built (one read of the input).
  const c0 = new Int32Array(65536), c1 = new Int32Array(65536), c2 = new Int32Array(65536);
  for (let i = 0; i < n; i++) {
    const h = bits[2 * i + 1], l = bits[2 * i];
    let kh: number, km: number;
    if (h === 0x80000000 && l === 0) {
      kh = 0x80000000; // −0 sorts (and ties) with +0
      km = 0;
    } else if (h & 0x80000000) {
      kh = ~h >>> 0; // negative: flip every bit
      km = ~l >>> 16;
    } else {
      kh = (h | 0x80000000) >>> 0; // positive: set the sign bit
      km = l >>> 16;
    }
    hi[i] = kh;
    mid[i] = km;
    idx[i] = i;
    c0[km]++;
    c1[kh & 0xffff]++;
    c2[kh >>> 16]++;
  }
  let hi2 = new Uint32Array(n), mid2 = new Uint16Array(n), idx2 = new Int32Array(n);
  // Pass 0 sorts by mid; passes 1 and 2 by the low and high halves of hi (written out: V8 keeps
  // these loops tight only without a per-element callback).
  for (let pass = 0; pass < 3; pass++) {
    const count = pass === 0 ? c0 : pass === 1 ? c1 : c2;
    if (n === 0 || count.includes(n)) continue; // every key has the same digit
    let s = 0;
    for (let d = 0; d < 65536; d++) {
      const c = count[d];
      count[d] = s;
      s += c;
    }
    if (pass === 0) {
      for (let i = 0; i < n; i++) {
        const p = count[mid[i]]++;
        hi2[p] = hi[i];
        mid2[p] = mid[i];
        idx2[p] = idx[i];
      }
    } else {
      const shift = pass === 1 ? 0 : 16;
      for (let i = 0; i < n; i++) {
        const h = hi[i];
        const p = count[(h >>> shift) & 0xffff]++;
        hi2[p] = h;
        mid2[p] = mid[i];
        idx2[p] = idx[i];
      }
    }
    [hi, hi2] = [hi2, hi];
    [mid, mid2] = [mid2, mid];
    [idx, idx2] = [idx2, idx];
  }
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && hi[end] === hi[start] && mid[end] === mid[start]) end++;
    if (end - start > 1) sortRunByValue(values, idx, start, end);
    start = end;
  }
  return { order: idx, hi, mid };
}

/** Sort idx[start..end) by value: insertion sort (no moves for ties) when short, a comparison sort when long. */
function sortRunByValue(values: Float64Array, idx: Int32Array, start: number, end: number): void {
  let sorted = true;
  for (let k = start + 1; k < end && sorted; k++) sorted = values[idx[k - 1]] <= values[idx[k]];
  if (sorted) return;
  if (end - start <= 32) {
    for (let i = start + 1; i < end; i++) {
      const id = idx[i], v = values[id];
      let j = i - 1;
      while (j >= start && values[idx[j]] > v) {
        idx[j + 1] = idx[j];
        j--;
      }
      idx[j + 1] = id;
    }
    return;
  }
  idx.set(Array.from(idx.subarray(start, end)).sort((a, b) => values[a] - values[b] || a - b), start);
}

/** Average and dense ranks; NaN entries get rank NaN (dense −1) and the rest are ranked among themselves. */
export function rankInfo(values: Float64Array): RankInfo {
  let nan = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== values[i]) nan++;
  if (nan === 0) return rankFinite(values);
  const at = new Int32Array(values.length - nan);
  for (let i = 0, q = 0; i < values.length; i++) if (values[i] === values[i]) at[q++] = i;
  const r = rankFinite(Float64Array.from(at, (i) => values[i]));
  const average = new Float64Array(values.length).fill(NaN), dense = new Int32Array(values.length).fill(-1);
  at.forEach((i, q) => {
    average[i] = r.average[q];
    dense[i] = r.dense[q];
  });
  return { ...r, average, dense };
}

/** Below this many entries a comparison sort beats the radix sort's 65,536-bucket passes. */
const SMALL = 4096;

function rankFinite(values: Float64Array): RankInfo {
  if (values.length < SMALL) return rankSmall(values);
  return rankFewDistinct(values, 64) ?? rankLarge(values);
}

/**
 * Vectors with few distinct values (categorical model RDMs): one pass assigning each entry its
 * value's slot, no sort of the entries. Gives up (null) at the (max+1)-th distinct value.
 */
function rankFewDistinct(values: Float64Array, max: number): RankInfo | null {
  const n = values.length;
  const distinct: number[] = [];
  const slot = new Uint8Array(n);
  let last = -1;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (last >= 0 && distinct[last] === v) {
      slot[i] = last;
      continue;
    }
    last = distinct.indexOf(v); // === : −0 and +0 share a slot
    if (last < 0) {
      if (distinct.length === max) return null;
      last = distinct.push(v) - 1;
    }
    slot[i] = last;
  }
  const unique = distinct.length;
  const byValue = distinct.map((_, k) => k).sort((a, b) => distinct[a] - distinct[b]);
  const rankOfSlot = new Int32Array(unique);
  byValue.forEach((k, r) => (rankOfSlot[k] = r));
  const dense = new Int32Array(n);
  const count = new Int32Array(unique);
  for (let i = 0; i < n; i++) count[(dense[i] = rankOfSlot[slot[i]])]++;
  return fromDenseRanks(dense, count);
}

/** Average ranks, tie counts and a stable sorting order from each entry's dense rank and each rank's count. */
function fromDenseRanks(dense: Int32Array, count: Int32Array): RankInfo {
  const n = dense.length, unique = count.length;
  const starts = new Int32Array(unique + 1);
  let tiedPairs = 0;
  for (let d = 0; d < unique; d++) {
    starts[d + 1] = starts[d] + count[d];
    tiedPairs += (count[d] * (count[d] - 1)) / 2;
  }
  const average = new Float64Array(n);
  const order = new Int32Array(n);
  const next = starts.slice(0, unique);
  const mid = Float64Array.from({ length: unique }, (_, d) => starts[d] + (count[d] + 1) / 2);
  for (let i = 0; i < n; i++) {
    const d = dense[i];
    average[i] = mid[d];
    order[next[d]++] = i;
  }
  return { average, dense, unique, tiedPairs, order, starts };
}

/** Small vectors: a native sort of the values, then each value's place found by binary search. */
function rankSmall(values: Float64Array): RankInfo {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  const distinct: number[] = [];
  for (let k = 0; k < n; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) distinct.push(sorted[k]);
  const unique = distinct.length;
  const dense = new Int32Array(n);
  const count = new Int32Array(unique);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    let lo = 0, hi = unique - 1;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (distinct[m] < v) lo = m + 1;
      else hi = m;
    }
    dense[i] = lo;
    count[lo]++;
  }
  return fromDenseRanks(dense, count);
}

/** Large vectors: the radix sort, then one pass over the sorted keys. */
function rankLarge(values: Float64Array): RankInfo {
  const n = values.length;
  const { order, hi, mid } = sortOrder(values);
  // tie[k] = 1 when the k-th smallest equals the one before it: keys first (sequential reads),
  // the values only when the keys agree (ties, mostly).
  const tie = new Uint8Array(n);
  for (let k = 1; k < n; k++) tie[k] = hi[k] === hi[k - 1] && mid[k] === mid[k - 1] && values[order[k]] === values[order[k - 1]] ? 1 : 0;
  const average = new Float64Array(n);
  const dense = new Int32Array(n);
  const starts = new Int32Array(n + 1);
  let unique = 0, tiedPairs = 0;
  for (let s = 0; s < n; ) {
    let e = s + 1;
    while (e < n && tie[e]) e++;
    const r = (s + e + 1) / 2; // mean of the 1-based positions s+1..e
    for (let k = s; k < e; k++) {
      average[order[k]] = r;
      dense[order[k]] = unique;
    }
    const t = e - s;
    tiedPairs += (t * (t - 1)) / 2;
    starts[unique++] = s;
    s = e;
  }
  starts[unique] = n;
  return { average, dense, unique, tiedPairs, order, starts: starts.slice(0, unique + 1) };
}

export interface PairCounts {
  /** n(n−1)/2 */
  total: number;
  /** Pairs tied in x, in y, and in both. */
  xTies: number;
  yTies: number;
  jointTies: number;
  discordant: number;
  /** Concordant − discordant pairs; pairs tied in x or y count as neither. */
  concordantMinusDiscordant: number;
}

/**
 * Pair counts for Kendall's tau from the ranks of two vectors of the same length (Knight 1966).
 * Walk x's groups of equal values in ascending order; before adding a group to a Fenwick tree over
 * y's dense ranks, count the earlier entries with a larger y (discordant). Pairs within a group are
 * tied in x and never counted; pairs tied in both are counted per group.
 */
export function pairCounts(x: RankInfo, y: RankInfo): PairCounts {
  const n = x.dense.length;
  const tree = new Int32Array(y.unique + 1);
  const seen = new Int32Array(y.unique); // y counts within the current x group, for joint ties
  const ys = new Int32Array(n);
  for (let k = 0; k < n; k++) ys[k] = y.dense[x.order[k]];
  let discordant = 0, jointTies = 0;
  for (let g = 0; g < x.unique; g++) {
    const s = x.starts[g], e = x.starts[g + 1];
    for (let k = s; k < e; k++) {
      let atMost = 0;
      for (let i = ys[k] + 1; i > 0; i -= i & -i) atMost += tree[i];
      discordant += s - atMost;
    }
    for (let k = s; k < e; k++) for (let i = ys[k] + 1; i <= y.unique; i += i & -i) tree[i]++;
    if (e - s > 1) {
      for (let k = s; k < e; k++) jointTies += seen[ys[k]]++;
      for (let k = s; k < e; k++) seen[ys[k]] = 0;
    }
  }
  const total = (n * (n - 1)) / 2;
  const concordantMinusDiscordant = total - x.tiedPairs - y.tiedPairs + jointTies - 2 * discordant;
  return { total, xTies: x.tiedPairs, yTies: y.tiedPairs, jointTies, discordant, concordantMinusDiscordant };
}
