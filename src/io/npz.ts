// NumPy .npz archives: a zip of .npy members, stored (np.savez) or deflated (np.savez_compressed).
// The zip container is fflate's; each member goes through readNpy/writeNpy.
import { unzipSync, zipSync } from "fflate";
import { InputError } from "./errors.js";
import type { NdArray } from "./ndarray.js";
import { readNpy, writeNpy } from "./npy.js";

/** Deflate expands at most 1032-fold (a 258-byte match costs at least two bits). */
const DEFLATE_RATIO = 1032;

/** Reads every .npy member of an .npz archive, keyed by its name without ".npy" (as np.load does). */
export function readNpz(bytes: Uint8Array, file?: string): Record<string, NdArray> {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes, {
      // numpy only ever writes stored (0) or deflated (8) members; say so instead of fflate's code
      filter: (m) => {
        if (m.compression !== 0 && m.compression !== 8) throw new InputError(file, `.npz member ${m.name} uses zip compression method ${m.compression}; only stored and deflated members are supported`);
        if (!m.name.endsWith(".npy")) return false; // other members are not arrays (np.load returns them as bytes)
        // fflate allocates the size the zip directory declares: check it can be true first
        const most = m.compression === 0 ? m.size : m.size * DEFLATE_RATIO;
        if (!(m.size <= bytes.length && m.originalSize <= most)) {
          throw new InputError(file, `.npz member ${m.name} claims ${m.originalSize} bytes from ${m.size} ${m.compression === 0 ? "stored" : "deflated"} bytes in a ${bytes.length}-byte file; the zip directory is corrupt`);
        }
        return true;
      },
    });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(file, `not a valid .npz file (corrupt or not a zip archive: ${(e as Error).message})`);
  }
  // fromEntries defines own properties, so a member named __proto__ cannot reach the prototype
  return Object.fromEntries(
    Object.entries(members).map(([name, data]) => [name.slice(0, -".npy".length), readNpy(data, file === undefined ? name : `${file}/${name}`)]),
  );
}

/** Writes an .npz archive as np.savez (stored) or, with compress, as np.savez_compressed (deflated). */
export function writeNpz(arrays: Record<string, NdArray>, opts: { compress?: boolean } = {}): Uint8Array {
  const level = opts.compress ? 6 : 0; // fflate stores members at level 0
  const members = Object.fromEntries(Object.entries(arrays).map(([name, a]) => [`${name}.npy`, [writeNpy(a), { level }] as [Uint8Array, { level: 0 | 6 }]]));
  return zipSync(members);
}
