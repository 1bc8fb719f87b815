// A display order for an RDM's conditions: the leaves of an average-linkage (UPGMA) dendrogram, so
// conditions that are close end up next to each other. Built with the nearest-neighbour chain,
// O(K²) time; average linkage is "reducible", so the chain finds the same merges as the naive
// closest-pair search.

/** Leaf order (condition indices) of the average-linkage tree of a K×K dissimilarity matrix (row-major). */
export function averageLinkageOrder(D: Float64Array, K: number): number[] {
  if (K <= 2) return Array.from({ length: K }, (_, i) => i);
  const d = new Float64Array(D);
  // Missing dissimilarities (NaN) count as the largest finite one: unknown pairs are not merged early.
  let max = 0;
  for (const v of d) if (Number.isFinite(v) && v > max) max = v;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) d[i] = max;
  const size = new Float64Array(K).fill(1);
  const active = new Uint8Array(K).fill(1);
  // node[i]: the tree node slot i holds; leaves are 0..K-1, merge m creates node K+m.
  const node = Int32Array.from({ length: K }, (_, i) => i);
  const children: [number, number][] = [];
  const chain: number[] = [];
  for (let remaining = K; remaining > 1; ) {
    if (chain.length === 0) chain.push(active.indexOf(1));
    const a = chain[chain.length - 1];
    const prev = chain.length > 1 ? chain[chain.length - 2] : -1;
    let b = prev, best = prev >= 0 ? d[a * K + prev] : Infinity;
    for (let k = 0; k < K; k++) {
      if (k === a || !active[k]) continue;
      if (d[a * K + k] < best) {
        best = d[a * K + k];
        b = k;
      }
    }
    if (b !== prev) {
      chain.push(b);
      continue;
    }
    // a and b are each other's nearest neighbours: merge b into slot a.
    chain.length -= 2;
    const na = size[a], nb = size[b];
    for (let k = 0; k < K; k++) {
      if (!active[k] || k === a || k === b) continue;
      const v = (na * d[a * K + k] + nb * d[b * K + k]) / (na + nb);
      d[a * K + k] = v;
      d[k * K + a] = v;
    }
    size[a] = na + nb;
    active[b] = 0;
    children.push([node[a], node[b]]);
    node[a] = K + children.length - 1;
    remaining--;
  }
  // Leaves left to right; the child holding the lower-numbered condition goes first.
  const first = Int32Array.from({ length: K + children.length }, (_, n) => n);
  children.forEach(([l, r], m) => (first[K + m] = Math.min(first[l], first[r])));
  const order: number[] = [];
  const stack = [K + children.length - 1];
  while (stack.length) {
    const n = stack.pop()!;
    if (n < K) {
      order.push(n);
      continue;
    }
    let [l, r] = children[n - K];
    if (first[l] > first[r]) [l, r] = [r, l];
    stack.push(r, l);
  }
  return order;
}
