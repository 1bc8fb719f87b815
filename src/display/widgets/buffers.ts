// Binary buffers in widget state (protocol 2: anywhere in the state). Arrays travel as raw bytes
// beside the JSON, each named by its path, as ipywidgets' _remove_buffers / put_buffers do.

export type BufferPath = (string | number)[];

const isBinary = (v: unknown): v is ArrayBufferView | ArrayBuffer => ArrayBuffer.isView(v) || v instanceof ArrayBuffer;

function bytes(v: ArrayBufferView | ArrayBuffer): Uint8Array {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * The state without its binary values (a copy; the input is untouched), the paths they were at and
 * their bytes. As in ipywidgets, a buffer in an object drops its key and one in an array leaves null.
 */
export function removeBuffers(state: Record<string, unknown>): { state: Record<string, unknown>; paths: BufferPath[]; buffers: Uint8Array[] } {
  const paths: BufferPath[] = [];
  const buffers: Uint8Array[] = [];
  const walk = (v: unknown, path: BufferPath): unknown => {
    if (Array.isArray(v)) {
      return v.map((x, i) => {
        if (!isBinary(x)) return walk(x, [...path, i]);
        paths.push([...path, i]);
        buffers.push(bytes(x));
        return null;
      });
    }
    if (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (isBinary(x)) {
          paths.push([...path, k]);
          buffers.push(bytes(x));
        } else out[k] = walk(x, [...path, k]);
      }
      return out;
    }
    return v;
  };
  return { state: walk(state, []) as Record<string, unknown>, paths, buffers };
}

/**
 * Put a message's buffers back into its state at their paths (as DataViews, as the frontend does).
 * Throws, naming the problem, when the paths are malformed or do not match the buffers.
 */
export function putBuffers(state: Record<string, unknown>, paths: unknown, buffers: readonly (Uint8Array | ArrayBufferView)[]): void {
  if (paths === undefined && buffers.length === 0) return;
  if (!Array.isArray(paths) || paths.length !== buffers.length) {
    throw new TypeError(`buffer_paths must list one path per binary buffer (${buffers.length} buffer${buffers.length === 1 ? "" : "s"}), not ${JSON.stringify(paths)?.slice(0, 80)}`);
  }
  paths.forEach((path, i) => {
    if (!Array.isArray(path) || path.length === 0 || !path.every((p) => typeof p === "string" || Number.isInteger(p))) {
      throw new TypeError(`buffer path ${i} must be a non-empty list of keys and indices, not ${JSON.stringify(path)?.slice(0, 80)}`);
    }
    let obj: any = state;
    for (const key of path.slice(0, -1)) {
      if (key === "__proto__" || typeof obj?.[key] !== "object" || obj[key] === null) throw new TypeError(`buffer path ${JSON.stringify(path)} does not lead into the state`);
      obj = obj[key];
    }
    const last = path[path.length - 1];
    if (last === "__proto__" || last === "constructor" || last === "prototype") throw new TypeError(`buffer path ${JSON.stringify(path)} is not allowed`);
    const b = buffers[i];
    obj[last] = new DataView(b.buffer, b.byteOffset, b.byteLength);
  });
}
