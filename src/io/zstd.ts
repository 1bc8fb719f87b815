// Zstandard decompression for Parquet pages (codec ZSTD: DuckDB's and many writers' choice): the system's
// libzstd through the native addon where it is there (≈ 1 GB/s), else fzstd — a small, dependency-free
// pure-JavaScript decoder by fflate's author (≈ 30 MB/s on activations).
import { decompress } from "fzstd";
import { loadNative } from "../engine/native.js";

/** Decompress a zstd frame of exactly `size` bytes, into `into` (its first `size` bytes) when given. */
export function zstdDecompress(input: Uint8Array, size: number, into?: Uint8Array): Uint8Array {
  const out = into && into.length >= size ? into.subarray(0, size) : new Uint8Array(size);
  const addon = loadNative().addon;
  const n = addon && typeof addon.zstdDecompress === "function" ? addon.zstdDecompress(input, out) : -1;
  if (n >= 0) {
    if (n !== size) throw new Error(`zstd: the frame holds ${n} bytes, the page says ${size}`);
    return out;
  }
  const got = decompress(input, out);
  if (got.length !== size) throw new Error(`zstd: the frame holds ${got.length} bytes, the page says ${size}`);
  if (got.buffer !== out.buffer || got.byteOffset !== out.byteOffset) out.set(got);
  return out;
}
