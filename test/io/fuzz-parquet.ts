// Parquet mutations for fuzz.ts: a small thrift compact-protocol walker finds every integer, length and
// list size of the footer (FileMetaData) and of each column chunk's page headers, and one of them is made to
// lie; a footer lie keeps the footer length true, so the lie itself is what the reader meets.
import type { Rng } from "../../src/engine/random.js";
import { blind, concat, lie, pick, writeInt } from "./fuzz-lies.js";

// ---- Parquet: a thrift compact walker finds every integer, length and list size of the footer and page headers ----

interface Slot {
  start: number;
  end: number;
  value: number;
  kind: "int" | "length" | "list";
  /** field ids from the root struct, e.g. "4.1.3.9": row_groups → columns → meta_data → data_page_offset */
  path: string;
}

/** Walks one thrift compact struct at `at`; returns its end and records its integer slots. */
function walkStruct(b: Uint8Array, at: number, path: string, slots: Slot[], depth = 0): number {
  if (depth > 16) throw new Error("too deep");
  let id = 0;
  for (;;) {
    if (at >= b.length) throw new Error("eof");
    const byte = b[at++];
    const type = byte & 0x0f;
    if (type === 0) return at;
    const delta = byte >> 4;
    if (delta) id += delta;
    else {
      const [v, next] = varint(b, at);
      id = unzigzag(v);
      at = next;
    }
    at = walkValue(b, at, type, `${path}${path ? "." : ""}${id}`, slots, depth);
  }
}

function walkValue(b: Uint8Array, at: number, type: number, path: string, slots: Slot[], depth: number): number {
  switch (type) {
    case 1:
    case 2:
      return at;
    case 3:
      return at + 1;
    case 4:
    case 5:
    case 6: {
      const [v, next] = varint(b, at);
      slots.push({ start: at, end: next, value: unzigzag(v), kind: "int", path });
      return next;
    }
    case 7:
      return at + 8;
    case 8: {
      const [n, next] = varint(b, at);
      slots.push({ start: at, end: next, value: n, kind: "length", path });
      return next + n;
    }
    case 9:
    case 10: {
      const head = b[at];
      let n = head >> 4;
      let next = at + 1;
      if (n === 15) [n, next] = varint(b, next);
      slots.push({ start: at, end: next, value: n, kind: "list", path });
      for (let i = 0; i < n; i++) next = walkValue(b, next, head & 0x0f, path, slots, depth + 1);
      return next;
    }
    case 12:
      return walkStruct(b, at, path, slots, depth + 1);
    default:
      throw new Error(`thrift type ${type}`);
  }
}

function varint(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  for (let shift = 1; at < b.length; shift *= 128) {
    const byte = b[at++];
    v += (byte & 0x7f) * shift;
    if (!(byte & 0x80)) return [v, at];
  }
  throw new Error("eof");
}
const unzigzag = (v: number) => (v % 2 ? -(v + 1) / 2 : v / 2);

function encodeVarint(v: bigint): number[] {
  const out: number[] = [];
  for (v = BigInt.asUintN(64, v); v >= 0x80n; v >>= 7n) out.push(Number(v & 0x7fn) | 0x80);
  out.push(Number(v));
  return out;
}

export function parquetLie(b: Uint8Array, rng: Rng): [Uint8Array, string] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 12) return blind[2](b, rng);
  const footerLength = view.getUint32(b.length - 8, true);
  const footerStart = b.length - 8 - footerLength;
  if (rng.int(6) === 0 || footerStart < 4) {
    const out = b.slice();
    const v = lie(rng, b.length, footerLength);
    writeInt(out, b.length - 8, 4, v);
    return [out, `lie parquet footer length ${footerLength} → ${v}`];
  }
  const footer: Slot[] = [];
  try {
    walkStruct(b, footerStart, "", footer);
  } catch {
    return blind[2](b, rng);
  }
  // page headers: from each column chunk's first page offset, page after page through the chunk
  const pages: Slot[] = [];
  const starts = footer.filter((s) => s.path === "4.1.3.9" || s.path === "4.1.3.11").map((s) => s.value);
  for (const start of starts) {
    let at = start;
    for (let p = 0; p < 64 && at > 0 && at < footerStart; p++) {
      const slots: Slot[] = [];
      try {
        const end = walkStruct(b, at, "page", slots);
        const size = slots.find((s) => s.path === "page.3")?.value ?? 0;
        pages.push(...slots);
        at = end + size;
      } catch {
        break;
      }
      if (!slots.some((s) => s.path === "page.1" && s.value === 0)) break; // after a data page the chunk's dictionary offset is done
    }
  }
  const inPages = pages.length > 0 && rng.int(2) === 0;
  const slot = pick(rng, inPages ? pages : footer);
  const v = slot.kind === "int" ? lie(rng, b.length, slot.value) : Math.abs(lie(rng, b.length, slot.value));
  const encoded =
    slot.kind === "int" ? encodeVarint(BigInt(v) * 2n ^ (BigInt(v) < 0n ? -1n : 0n))
    : slot.kind === "length" ? encodeVarint(BigInt(v))
    : [0xf0 | (b[slot.start] & 0x0f), ...encodeVarint(BigInt(v))];
  let out = concat(b.subarray(0, slot.start), Uint8Array.from(encoded), b.subarray(slot.end));
  if (!inPages) writeInt(out, out.length - 8, 4, footerLength + out.length - b.length); // the footer length stays true
  return [out, `lie parquet ${slot.path} (${slot.kind}) ${slot.value} → ${v}`];
}
