// A display order for an RDM's conditions: the leaves of an average-linkage (UPGMA) dendrogram, so
// conditions that are close end up next to each other (the tree from cluster.ts's nearest-neighbour chain).
import { nearestNeighbourChain } from "./cluster.js";

/** Leaf order (condition indices) of the average-linkage tree of a K×K dissimilarity matrix (row-major). */
export function averageLinkageOrder(D: Float64Array, K: number): number[] {
  if (K <= 2) return Array.from({ length: K }, (_, i) => i);
  const d = new Float64Array(D);
  // Missing dissimilarities (NaN) count as the largest finite one: unknown pairs are not merged early.
  let max = 0;
  for (const v of d) if (Number.isFinite(v) && v > max) max = v;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) d[i] = max;
  // node[i]: the tree node slot i holds; leaves are 0..K-1, merge m creates node K+m.
  const node = Int32Array.from({ length: K }, (_, i) => i);
  const children: [number, number][] = nearestNeighbourChain(d, K).map(({ a, b }, m) => {
    const pair: [number, number] = [node[a], node[b]];
    node[a] = K + m;
    return pair;
  });
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
