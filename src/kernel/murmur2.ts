// MurmurHash2 (32-bit, Austin Appleby) of a string's UTF-8 bytes: how Jupyter debuggers name a
// cell's source file (ipykernel and JupyterLab hash the cell's code with it, under the seed the
// kernel gives in debugInfo), so the kernel and the frontend find the same path for the same cell.
export const HASH_SEED = 3339675911;

export function murmur2(text: string, seed: number = HASH_SEED): number {
  const data = new TextEncoder().encode(text);
  const m = 0x5bd1e995;
  let len = data.length;
  let h = (seed ^ len) >>> 0;
  let i = 0;
  while (len >= 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
    i += 4;
    len -= 4;
  }
  switch (len) {
    case 3:
      h ^= data[i + 2] << 16;
    // falls through
    case 2:
      h ^= data[i + 1] << 8;
    // falls through
    case 1:
      h ^= data[i];
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h >>> 0;
}
