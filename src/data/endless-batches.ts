// Fixed-size training batches, epoch after epoch, each epoch in a new seeded order — from an
// in-memory set (a fresh permutation of its rows) or a stream (shuffled chunks + a mixing buffer).
import type { Rng } from "../engine/random.js";
import { ActivationSet } from "./activation-set.js";
import type { ActivationStream } from "./stream.js";

/** `skipRows` fast-forwards past rows a resumed run has already seen, drawing the same orders. */
export async function* endlessBatches(source: ActivationSet | ActivationStream, size: number, rng: Rng, skipRows = 0): AsyncGenerator<Float32Array> {
  const dim = source.dim;
  const batch = new Float32Array(size * dim);
  if (source instanceof ActivationSet) {
    const n = source.numRows;
    let order = rng.permutation(n);
    for (let skipped = n; skipped <= skipRows; skipped += n) order = rng.permutation(n);
    let cursor = skipRows % n;
    for (;;) {
      for (let r = 0; r < size; r++) {
        if (cursor === order.length) {
          order = rng.permutation(source.numRows);
          cursor = 0;
        }
        batch.set(source.row(order[cursor++]), r * dim);
      }
      yield batch;
    }
  }
  let filled = 0;
  let toSkip = skipRows;
  for (let epoch = 0; ; epoch++) {
    let any = false;
    for await (const b of source.rowBatches({ size, shuffle: true, seed: rng.uint32() })) {
      any = true;
      let taken = Math.min(toSkip, b.rows);
      toSkip -= taken;
      while (taken < b.rows) {
        const n = Math.min(size - filled, b.rows - taken);
        batch.set(b.vectors.subarray(taken * dim, (taken + n) * dim), filled * dim);
        filled += n;
        taken += n;
        if (filled === size) {
          yield batch;
          filled = 0;
        }
      }
    }
    if (!any) throw new Error(`featurelab: ${source.source} holds no rows to train on`);
  }
}
