// The mutations of fuzz.ts: format-blind ones (truncation, bit flips, byte runs overwritten, deleted or
// duplicated, garbage appended, any aligned integer that looks like a size made to lie) and, per format, lies
// told in the fields the format's readers trust, found by parsing it: the safetensors header, the .npy dict,
// zip records, Arrow IPC framing, Parquet thrift footers and page headers (a small compact-protocol walker),
// cfg.json. Each takes the bytes and a seeded generator and returns the mutant and what was done.
import { zipSync } from "fflate";
import type { Rng } from "../../src/engine/random.js";

export const bytes = (text: string) => new TextEncoder().encode(text);

// ---- values a lying field takes ----

/** Lies for a size, offset or count field of a file of `size` bytes. */
export function lie(rng: Rng, size: number, old = 0): number {
  const options = [0, 1, 255, 2 ** 15, 2 ** 16 - 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40, 2 ** 53, -1, -(2 ** 31), size - 1, size, size + 1, 2 * size, old + 1, old - 1, old * 2, old * 1024];
  return options[rng.int(options.length)];
}
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

// ---- format-blind mutations ----

type Op = (b: Uint8Array, rng: Rng) => [Uint8Array, string];

export const blind: Op[] = [
  (b, rng) => {
    const at = rng.int(b.length);
    return [b.slice(0, at), `truncate@${at}`];
  },
  (b, rng) => {
    const n = 1 + rng.int(24);
    return [b.slice(0, Math.max(0, b.length - n)), `cut ${n} from the end`];
  },
  (b, rng) => {
    const out = b.slice();
    const flips = 1 + rng.int(8);
    for (let k = 0; k < flips; k++) out[rng.int(out.length)] ^= 1 << rng.int(8);
    return [out, `flip ${flips} bits`];
  },
  (b, rng) => {
    const out = b.slice();
    const at = rng.int(out.length);
    const n = 1 + rng.int(32);
    const fill = pick(rng, [0, 0xff, -1]);
    for (let i = at; i < Math.min(out.length, at + n); i++) out[i] = fill < 0 ? rng.int(256) : fill;
    return [out, `overwrite ${n} bytes@${at} with ${fill < 0 ? "noise" : fill}`];
  },
  (b, rng) => {
    const at = rng.int(b.length);
    const n = 1 + rng.int(16);
    return [concat(b.subarray(0, at), b.subarray(at + n)), `delete ${n} bytes@${at}`];
  },
  (b, rng) => {
    const at = rng.int(b.length);
    const n = 1 + rng.int(64);
    return [concat(b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)), `duplicate ${n} bytes@${at}`];
  },
  (b, rng) => [concat(b, Uint8Array.from({ length: 1 + rng.int(64) }, () => rng.int(256))), "append garbage"],
  lieAligned,
];

/** Any 4- or 8-byte aligned little-endian integer whose value could be a size (1 … file size), made to lie. */
function lieAligned(b: Uint8Array, rng: Rng): [Uint8Array, string] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const slots: [number, 4 | 8][] = [];
  for (let at = 0; at + 4 <= b.length; at += 4) {
    const v = view.getInt32(at, true);
    if (v > 0 && v <= b.length) slots.push([at, 4]);
    if (at % 8 === 0 && at + 8 <= b.length) {
      const w = view.getBigInt64(at, true);
      if (w > 0n && w <= BigInt(b.length) && v !== Number(w)) slots.push([at, 8]);
    }
  }
  if (!slots.length) return blind[2](b, rng);
  const [at, width] = pick(rng, slots);
  const out = b.slice();
  const old = width === 4 ? view.getInt32(at, true) : Number(view.getBigInt64(at, true));
  const v = lie(rng, b.length, old);
  writeInt(out, at, width, v);
  return [out, `lie int${width * 8}@${at}: ${old} → ${v}`];
}

export function writeInt(b: Uint8Array, at: number, width: 2 | 4 | 8, v: number): void {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (width === 2) view.setUint16(at, v & 0xffff, true);
  else if (width === 4) view.setUint32(at, v >>> 0, true);
  else view.setBigUint64(at, BigInt.asUintN(64, BigInt(Math.trunc(v))), true);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- safetensors: the header length and the JSON header ----

export function safetensorsLie(b: Uint8Array, rng: Rng): [Uint8Array, string] {
  if (b.length < 8) return blind[2](b, rng);
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  let header: Record<string, any>;
  try {
    header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n)));
  } catch {
    return blind[2](b, rng);
  }
  const data = b.subarray(8 + n);
  if (rng.int(5) === 0) {
    const out = b.slice();
    const v = lie(rng, b.length, n);
    writeInt(out, 0, 8, v);
    return [out, `lie safetensors header length ${n} → ${v}`];
  }
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  const name = pick(rng, names);
  const t = header[name];
  const weird = () => pick(rng, [lie(rng, data.length), -1, 1.5, "8", null, [], 2 ** 53 + 2]);
  let what: string;
  switch (rng.int(9)) {
    case 0: {
      const i = rng.int(t.shape.length + 1);
      t.shape[i] = weird();
      what = `shape[${i}]`;
      break;
    }
    case 1:
      t.shape = pick(rng, [[], [2 ** 31, 2 ** 31], [2 ** 53, 2], [0, 2 ** 60], [...t.shape, 2 ** 20], t.shape.slice().reverse(), "x"]);
      what = "shape";
      break;
    case 2: {
      const i = rng.int(2);
      t.data_offsets[i] = weird();
      what = `data_offsets[${i}]`;
      break;
    }
    case 3:
      t.data_offsets = pick(rng, [[0, 2 ** 53], [2 ** 31, 2 ** 31 + 4], [t.data_offsets[1], t.data_offsets[0]], [0], null, [-4, 0]]);
      what = "data_offsets";
      break;
    case 4:
      t.dtype = pick(rng, ["F64", "F16", "I8", "U64", "BOOL", "F8_E4M3", "C64", "f32", 1, null]);
      what = "dtype";
      break;
    case 5:
      delete t[pick(rng, ["dtype", "shape", "data_offsets"])];
      what = "a key";
      break;
    case 6:
      header[pick(rng, ["__metadata__", name])] = pick(rng, [null, 1, "x", [], { format: 1 }, { dtype: "F32", shape: [2 ** 31, 2 ** 31], data_offsets: [0, 16] }]);
      what = "an entry";
      break;
    case 7:
      header[`huge${rng.int(9)}`] = { dtype: "F32", shape: [2 ** 26, 16], data_offsets: [0, 2 ** 32] };
      what = "a huge tensor";
      break;
    default: {
      const json = bytes(JSON.stringify(header));
      const nested = pick(rng, ["[".repeat(100000), `{"a":${"[".repeat(5000)}`, '"\\ud800"', "{}".repeat(3)]);
      return [framed(concat(json.subarray(0, json.length - 1), bytes(`,"z":${nested}}`)), data), "hostile JSON header"];
    }
  }
  return [framed(bytes(JSON.stringify(header)), data), `lie safetensors ${name}.${what}`];
}

function framed(json: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + json.length + data.length);
  writeInt(out, 0, 8, json.length);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

// ---- .npy: the header dict, its length, the version ----

export function npyLie(b: Uint8Array, rng: Rng): [Uint8Array, string] {
  if (b.length < 12 || b[0] !== 0x93) return blind[2](b, rng);
  const pre = b[6] === 1 ? 10 : 12;
  const hlen = pre === 10 ? b[8] | (b[9] << 8) : new DataView(b.buffer, b.byteOffset).getUint32(8, true);
  if (pre + hlen > b.length) return blind[2](b, rng);
  const text = new TextDecoder("latin1").decode(b.subarray(pre, pre + hlen));
  const data = b.subarray(pre + hlen);
  const op = rng.int(6);
  if (op === 0) {
    const out = b.slice();
    const v = lie(rng, b.length, hlen);
    writeInt(out, 8, pre === 10 ? 2 : 4, v);
    return [out, `lie npy header length ${hlen} → ${v}`];
  }
  if (op === 1) {
    const out = b.slice();
    out[6] = pick(rng, [0, 2, 3, 4, 255]);
    return [out, `npy version ${out[6]}`];
  }
  let edited = text;
  let what: string;
  if (op === 2) {
    const shape = pick(rng, ["(2147483648, 8)", "(16, 9007199254740992)", "(-1, 8)", "()", "(16,)", `(${"1, ".repeat(40)}16, 8)`, "(16, 8, 1000000)", "(4294967296, 4294967296, 0)", "(65536, 65536)", "(16.0, 8)", "[16, 8]", "(16, 8"]);
    edited = text.replace(/'shape': \([^)]*\)/, `'shape': ${shape}`);
    what = `shape=${shape}`;
  } else if (op === 3) {
    const descr = pick(rng, ["'<f4'", "'>f4'", "'<f8'", "'<f2'", "'|u1'", "'<i8'", "'|O'", "'<U4'", "'<c8'", "'V8'", "'<f3'", "'f4'", "[('a', '<f4')]", "'<M8[s]'", "None"]);
    edited = text.replace(/'descr': '[^']*'/, `'descr': ${descr}`);
    what = `descr=${descr}`;
  } else if (op === 4) {
    const order = pick(rng, ["True", "False", "1", "'x'", "None"]);
    edited = text.replace(/'fortran_order': \w+/, `'fortran_order': ${order}`);
    what = `fortran_order=${order}`;
  } else {
    edited = pick(rng, [text.replace("'descr'", "'dexcr'"), text.replace("{", "{{"), text.replace("}", ""), `{'descr': ${"(".repeat(200)}`, "{" + "'a': 1, ".repeat(5000) + "}"]);
    what = "dict";
  }
  // keep the header's length, so only the field lies (longer text runs into the data, as a lie would)
  const head = bytes(edited.length <= hlen ? edited.padEnd(hlen - 1, " ") + "\n" : edited);
  const out = concat(b.subarray(0, pre), head, data);
  writeInt(out, 8, pre === 10 ? 2 : 4, head.length);
  return [out, `lie npy ${what}`];
}

// ---- .npz: zip records (local headers, central directory, end record) and the members inside ----

const ZIP_FIELDS = {
  local: { sig: 0x04034b50, fields: { flags: [6, 2], method: [8, 2], csize: [18, 4], usize: [22, 4], nameLength: [26, 2], extraLength: [28, 2] } },
  central: { sig: 0x02014b50, fields: { flags: [8, 2], method: [10, 2], csize: [20, 4], usize: [24, 4], nameLength: [28, 2], extraLength: [30, 2], commentLength: [32, 2], localOffset: [42, 4] } },
  end: { sig: 0x06054b50, fields: { entriesHere: [8, 2], entries: [10, 2], cdSize: [12, 4], cdOffset: [16, 4], commentLength: [20, 2] } },
} as const;

export function npzLie(b: Uint8Array, rng: Rng, members: Record<string, Uint8Array>): [Uint8Array, string] {
  if (rng.int(3) === 0) {
    // a well-formed zip around a lying .npy member
    const names = Object.keys(members);
    const name = pick(rng, names);
    const [inner, what] = rng.int(2) ? npyLie(members[name], rng) : pick(rng, blind)(members[name], rng);
    const level = rng.int(2) ? 0 : 6;
    return [zipSync({ ...Object.fromEntries(names.map((n) => [n, [members[n], { level }]])), [name]: [inner, { level }] } as any), `${name}: ${what} (${level ? "deflated" : "stored"})`];
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const records: [keyof typeof ZIP_FIELDS, number][] = [];
  for (let at = 0; at + 4 <= b.length; at++) {
    const sig = view.getUint32(at, true);
    for (const [kind, r] of Object.entries(ZIP_FIELDS)) if (sig === r.sig) records.push([kind as keyof typeof ZIP_FIELDS, at]);
  }
  if (!records.length) return blind[2](b, rng);
  const [kind, at] = pick(rng, records);
  const fields = Object.entries(ZIP_FIELDS[kind].fields) as [string, readonly [number, 2 | 4]][];
  const [field, [offset, width]] = pick(rng, fields);
  if (at + offset + width > b.length) return blind[2](b, rng);
  const out = b.slice();
  const old = width === 2 ? view.getUint16(at + offset, true) : view.getUint32(at + offset, true);
  const v = field === "method" ? pick(rng, [0, 8, 12, 14, 99]) : lie(rng, b.length, old);
  writeInt(out, at + offset, width, v);
  return [out, `lie zip ${kind}.${field} ${old} → ${v}`];
}

// ---- Arrow IPC: footer length, message metadata lengths, flatbuffer integers ----

export function arrowLie(b: Uint8Array, rng: Rng): [Uint8Array, string] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const prefixes: number[] = [];
  for (let at = 0; at + 8 <= b.length; at += 4) if (view.getUint32(at, true) === 0xffffffff) prefixes.push(at + 4);
  const out = b.slice();
  if (rng.int(3) === 0 && b.length >= 10) {
    const old = view.getInt32(b.length - 10, true);
    const v = lie(rng, b.length, old);
    writeInt(out, b.length - 10, 4, v);
    return [out, `lie arrow footer length ${old} → ${v}`];
  }
  if (rng.int(2) === 0 && prefixes.length) {
    const at = pick(rng, prefixes);
    const old = view.getInt32(at, true);
    const v = lie(rng, b.length, old);
    writeInt(out, at, 4, v);
    return [out, `lie arrow message length@${at} ${old} → ${v}`];
  }
  return lieAligned(b, rng); // body lengths, buffer offsets and lengths, field node lengths, list sizes, blocks
}

// ---- dictionary folders: cfg.json ----

export function cfgLie(b: Uint8Array, rng: Rng): [Uint8Array, string] {
  let cfg: any;
  try {
    cfg = JSON.parse(new TextDecoder().decode(b));
  } catch {
    return blind[0](b, rng);
  }
  const op = rng.int(5);
  if (op === 0) {
    const v = pick(rng, [null, 1, '"cfg"', "[]", "[1, 2]", "true"]);
    return [bytes(v === null ? "null" : String(v)), `cfg.json is ${v}`];
  }
  const keys = ["d_in", "d_sae", "architecture", "k", "d_out", "featurelab", "featurelab.architecture", "featurelab.k", "num_latents", "dtype"];
  const key = pick(rng, keys);
  const [outer, inner] = key.split(".");
  const target = inner ? (cfg[outer] ??= {}) : cfg;
  const field = inner ?? outer;
  if (op === 1) {
    delete target[field];
    return [bytes(JSON.stringify(cfg)), `cfg.json without ${key}`];
  }
  const old = typeof target[field] === "number" ? target[field] : 8;
  const v = op === 2 ? pick(rng, [null, "8", -1, 0, 1.5, true, [], {}, "jumprelu", "nope", "__proto__", 1e308]) : op === 3 ? lie(rng, 1 << 20, old) : pick(rng, [old + 1, old - 1, old * 2, 12, 8, 3]);
  target[field] = v;
  return [bytes(JSON.stringify(cfg)), `cfg.json ${key} = ${JSON.stringify(v)}`];
}

/** Renames, drops or reshapes a tensor while keeping the file well-formed: only the folder's shapes disagree. */
export function weightsReshape(b: Uint8Array, rng: Rng): [Uint8Array, string] {
  const n = b.length >= 8 ? Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true)) : 0;
  let header: Record<string, any>;
  try {
    header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n)));
  } catch {
    return blind[2](b, rng);
  }
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  const name = pick(rng, names);
  const t = header[name];
  const op = rng.int(4);
  if (op === 0) delete header[name];
  else if (op === 1) header[`${name}_x`] = header[name], delete header[name];
  else if (op === 2) t.shape = t.shape.length === 2 ? [t.shape[1], t.shape[0]] : [1, t.shape[0]];
  else {
    const total = t.shape.reduce((a: number, x: number) => a * x, 1);
    t.shape = total % 2 === 0 ? [2, total / 2] : [total, 1];
  }
  return [framed(bytes(JSON.stringify(header)), b.subarray(8 + n)), `weights: ${["drop", "rename", "transpose", "reshape"][op]} ${name}`];
}
