// Positioned reads of exactly the bytes asked for, for readers that take a file piece by piece.
import type { FileHandle } from "node:fs/promises";
import { InputError } from "./errors.js";

/** Bytes [start, end) of an open file of `size` bytes; the range is checked before anything is allocated. */
export async function readRange(handle: FileHandle, start: number, end: number, size: number, file: string, into?: Uint8Array): Promise<Uint8Array> {
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= size)) {
    throw new InputError(file, `is truncated or corrupt: needs bytes ${start}–${end} but has ${size} bytes`);
  }
  // `into`: a buffer to reuse (its first end − start bytes), sparing fresh memory's page faults on every read
  const out = into && into.length >= end - start ? into.subarray(0, end - start) : new Uint8Array(end - start);
  let done = 0;
  while (done < out.length) {
    const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
    if (bytesRead === 0) throw new InputError(file, `is truncated: it ended at byte ${start + done} while reading bytes ${start}–${end}`);
    done += bytesRead;
  }
  return out;
}
