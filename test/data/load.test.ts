import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Field, FixedSizeList, Float64, makeData, makeVector, Table, tableFromArrays, tableToIPC } from "apache-arrow";
import { fromVectors } from "../../src/data/activation-set.js";
import { load } from "../../src/data/load.js";

const dir = mkdtempSync(join(tmpdir(), "featurelab-load-"));

test("write then load an Arrow IPC file gives the same vectors and metadata", async () => {
  const acts = fromVectors(Float32Array.from({ length: 30 }, (_, i) => i / 7), 3, { doc: Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]), tok: "abcdefghij".split("") });
  const file = join(dir, "a.arrow");
  acts.write(file);
  const back = await load(file, { vector: "vector" });
  assert.equal(back.numRows, 10);
  assert.equal(back.dim, 3);
  assert.deepEqual([...back.vectors], [...acts.vectors]);
  assert.deepEqual(Array.from(back.column("tok")), "abcdefghij".split(""));
  assert.deepEqual(Array.from(back.column("doc")), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  const auto = await load(file); // the only vector column is found by itself
  assert.equal(auto.vectorName, "vector");
});

test("an Arrow IPC stream and a float64 vector column load too", async () => {
  const listType = new FixedSizeList(2, new Field("item", new Float64(), false));
  const child = makeData({ type: new Float64(), length: 6, data: new Float64Array([1, 2, 3, 4, 5, 6]) });
  const vec = makeVector(makeData({ type: listType, length: 3, nullCount: 0, child }));
  const table = tableFromArrays({ id: Int32Array.from([1, 2, 3]) }).assign(new Table({ resid: vec }));
  const file = join(dir, "s.arrows");
  writeFileSync(file, tableToIPC(table, "stream"));
  const acts = await load(file, { vector: "resid" });
  assert.deepEqual([...acts.vectors], [1, 2, 3, 4, 5, 6]);
  assert.ok(acts.vectors instanceof Float32Array);
});

test("bad input names the file and what is wrong", async () => {
  await assert.rejects(load(join(dir, "missing.arrow")), /missing\.arrow: no such file/);
  const empty = join(dir, "empty.arrow");
  writeFileSync(empty, "");
  await assert.rejects(load(empty), /empty\.arrow: is empty/);
  const junk = join(dir, "junk.arrow");
  writeFileSync(junk, "this is not arrow at all, just text");
  await assert.rejects(load(junk), /junk\.arrow: is not a valid Arrow IPC file or stream/);
  const good = join(dir, "good.arrow");
  fromVectors(new Float32Array(64), 4).write(good);
  const truncated = join(dir, "truncated.arrow");
  writeFileSync(truncated, readFileSync(good).subarray(0, 100));
  await assert.rejects(load(truncated), /truncated\.arrow: starts like an Arrow IPC file but does not end with its footer magic 'ARROW1' \(cut short/);
  await assert.rejects(load(good, { vector: "resid" }), /good\.arrow: no column 'resid'; columns: row: Int32, vector: FixedSizeList\[4\]<Float32>/);
  await assert.rejects(load(good, { vector: "row" }), /column 'row' is Int32, expected FixedSizeList<Float32>/);
  const folder = join(dir, "folder.arrow");
  mkdirSync(folder);
  await assert.rejects(load(folder), /folder\.arrow: contains no \.parquet files/);
  await assert.rejects(load(join(dir, "x.xyz")), /x\.xyz: no such file/);
  const txt = join(dir, "x.xyz");
  writeFileSync(txt, "1,2,3");
  await assert.rejects(load(txt), /x\.xyz: unsupported file type '\.xyz'/);
});

test("a List<Float> column loads when every row has the same length, and a ragged one is refused", async () => {
  const { List, Float32: F32, Field: Fld, makeData: md, makeVector: mv, Table: T } = await import("apache-arrow");
  const listOf = (lengths: number[]) => {
    const offsets = Int32Array.from([0, ...lengths.map((_, i) => lengths.slice(0, i + 1).reduce((a, b) => a + b, 0))]);
    const total = offsets[offsets.length - 1];
    const child = md({ type: new F32(), length: total, data: Float32Array.from({ length: total }, (_, i) => i) });
    return new T({ emb: mv(md({ type: new List(new Fld("item", new F32(), false)), length: lengths.length, nullCount: 0, valueOffsets: offsets, child })) });
  };
  const even = join(dir, "list.arrow");
  writeFileSync(even, tableToIPC(listOf([3, 3, 3]), "file"));
  const acts = await load(even);
  assert.equal(acts.dim, 3);
  assert.deepEqual([...acts.row(2)], [6, 7, 8]);
  const ragged = join(dir, "ragged.arrow");
  writeFileSync(ragged, tableToIPC(listOf([3, 3, 2, 3]), "file"));
  await assert.rejects(load(ragged), /ragged\.arrow: column 'emb' is ragged: row 0 has 3 values, row 2 has 2/);
});

test("a float16 vector column converts exactly", async () => {
  const { Float16, FixedSizeList: FSL, Field: Fld, makeData: md, makeVector: mv, Table: T } = await import("apache-arrow");
  const bits = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001]); // 1, −2, 65504, 2^-24
  const child = md({ type: new Float16(), length: 4, data: bits });
  const t = new T({ v: mv(md({ type: new FSL(2, new Fld("item", new Float16(), false)), length: 2, nullCount: 0, child })) });
  const file = join(dir, "half.arrow");
  writeFileSync(file, tableToIPC(t, "file"));
  assert.deepEqual([...(await load(file)).vectors], [1, -2, 65504, 2 ** -24]);
});
