// Snappy decompression (the block format: a varint of the uncompressed length, then literals and
// back-references), written for speed in JavaScript: literals and non-overlapping copies move with
// TypedArray.set / copyWithin (memcpy), so incompressible data — activations — decodes at memory speed.

/** Uncompressed length from the preamble, and where the elements start. */
export function snappyLength(input: Uint8Array): { length: number; start: number } {
  let length = 0;
  let shift = 0;
  for (let pos = 0; pos < input.length && pos < 5; pos++) {
    const b = input[pos];
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return { length, start: pos + 1 };
    shift += 7;
  }
  throw new Error("snappy: bad length preamble");
}

/** Decompress `input` into `output` (exactly the preamble's length); throws on malformed input. */
export function snappyDecompress(input: Uint8Array, output: Uint8Array): void {
  const { length, start } = snappyLength(input);
  if (length !== output.length) throw new Error(`snappy: block holds ${length} bytes, expected ${output.length}`);
  let pos = start;
  let out = 0;
  const end = input.length;
  while (pos < end) {
    const tag = input[pos++];
    const kind = tag & 3;
    if (kind === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        const bytes = len - 60;
        if (pos + bytes > end) throw new Error("snappy: literal length past the end");
        len = 0;
        for (let i = 0; i < bytes; i++) len += input[pos + i] * 2 ** (8 * i);
        len += 1;
        pos += bytes;
      }
      if (pos + len > end || out + len > length) throw new Error("snappy: literal past the end");
      output.set(input.subarray(pos, pos + len), out);
      pos += len;
      out += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= end) throw new Error("snappy: copy past the end");
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[pos++];
    } else if (kind === 2) {
      if (pos + 2 > end) throw new Error("snappy: copy past the end");
      len = (tag >>> 2) + 1;
      offset = input[pos] | (input[pos + 1] << 8);
      pos += 2;
    } else {
      if (pos + 4 > end) throw new Error("snappy: copy past the end");
      len = (tag >>> 2) + 1;
      offset = (input[pos] | (input[pos + 1] << 8) | (input[pos + 2] << 16)) + input[pos + 3] * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > out || out + len > length) throw new Error(`snappy: bad copy (offset ${offset}, length ${len}) at ${out}`);
    if (offset >= len) output.copyWithin(out, out - offset, out - offset + len);
    else for (let i = 0; i < len; i++) output[out + i] = output[out - offset + i]; // overlapping: a repeating run
    out += len;
  }
  if (out !== length) throw new Error(`snappy: decoded ${out} of ${length} bytes`);
}

/**
 * Snappy framing of `input` as literals only (valid snappy any reader decodes; no compression). For
 * activation vectors — random floats, which snappy cannot shrink — searching for matches costs time
 * and saves nothing.
 */
export function snappyLiterals(input: Uint8Array): Uint8Array {
  const CHUNK = 65536;
  const chunks = Math.ceil(input.length / CHUNK);
  const out = new Uint8Array(5 + input.length + chunks * 3);
  let pos = 0;
  let n = input.length;
  do {
    out[pos++] = (n & 0x7f) | (n > 0x7f ? 0x80 : 0);
    n = Math.floor(n / 128);
  } while (n > 0);
  for (let at = 0; at < input.length; at += CHUNK) {
    const len = Math.min(CHUNK, input.length - at);
    // tag 61 << 2: a literal whose length − 1 follows in two bytes
    out[pos++] = 61 << 2;
    out[pos++] = (len - 1) & 0xff;
    out[pos++] = (len - 1) >>> 8;
    out.set(input.subarray(at, at + len), pos);
    pos += len;
  }
  return out.subarray(0, pos);
}
