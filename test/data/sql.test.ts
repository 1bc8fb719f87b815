// fl.sql: DuckDB over Parquet shards where they lie and over featurelab's own objects (an ActivationSet,
// Codes, an arquero table), with the day-one queries of activation analysis — top activating contexts of
// a feature across shards, feature density per document, codes joined to token metadata — checked against
// the same answers computed in JavaScript. Vector results come back as an ActivationSet.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as aq from "arquero";
import { sql } from "../../src/data/sql.js";
import { ActivationSet, fromVectors } from "../../src/data/activation-set.js";
import { Codes } from "../../src/dictionaries/codes.js";
import { scratchDir } from "../python.js";

const dir = scratchDir("featurelab-sql-");
const D = 4, N = 300;
const value = (i: number, j: number) => ((i * 37 + j * 11) % 101) / 10;
const acts = fromVectors(Float32Array.from({ length: N * D }, (_, k) => value(Math.floor(k / D), k % D)), D, {
  document: Int32Array.from({ length: N }, (_, i) => Math.floor(i / 30)),
  position: Int32Array.from({ length: N }, (_, i) => i % 30),
  token: Array.from({ length: N }, (_, i) => `tok${i % 7}`),
});

test("top activating contexts of a feature across a folder of shards", async () => {
  const shards = join(dir, "shards");
  mkdirSync(shards);
  for (let s = 0; s < 3; s++) await acts.filter(aq.escape((d: { document: number }) => d.document % 3 === s)).write(join(shards, `part-${s}.parquet`));
  const top = (await sql("select document, position, vector[3] as act from acts order by act desc, document, position limit 5", { tables: { acts: shards } })) as aq.ColumnTable;
  const want = Array.from({ length: N }, (_, i) => ({ document: Math.floor(i / 30), position: i % 30, act: Math.fround(value(i, 2)) }))
    .sort((a, b) => b.act - a.act || a.document - b.document || a.position - b.position)
    .slice(0, 5);
  assert.deepEqual(top.objects(), want);
});

test("feature density per document from Codes, joined to the input rows' metadata", async () => {
  // feature f is active on row r when (r + f) % 5 == 0
  const width = 10;
  const dense = new Float32Array(N * width).map((_, k) => ((Math.floor(k / width) + (k % width)) % 5 === 0 ? 1 + (k % 3) : 0));
  const codes = Codes.fromDense(dense, N, width, acts);
  const density = (await sql("select document, feature, count(*) / 30 as density from codes group by all order by document, feature", { tables: { codes } })) as aq.ColumnTable;
  const rows = density.objects() as { document: number; feature: number; density: number }[];
  assert.equal(rows.length, 10 * width);
  for (const { document, feature, density: d } of rows) {
    let n = 0;
    for (let p = 0; p < 30; p++) if ((document * 30 + p + feature) % 5 === 0) n++;
    assert.equal(d, n / 30, `document ${document}, feature ${feature}`);
  }
  const byToken = (await sql("select token, count(*) as n from codes where feature = 3 group by token order by token", { tables: { codes } })) as aq.ColumnTable;
  assert.equal(typeof byToken.get("n", 0), "number", "counts come back as numbers");
  assert.equal(byToken.array("n").reduce((a: number, b: number) => a + b, 0), N / 5);
});

test("an ActivationSet and an arquero table join; a result with a vector column is an ActivationSet", async () => {
  const labels = aq.table({ token: ["tok0", "tok1", "tok2"], kind: ["a", "b", "a"] });
  const picked = await sql("select a.row, a.document, l.kind, a.vector from acts a join labels l using (token) where l.kind = 'a' order by a.row", { tables: { acts, labels } });
  assert.ok(picked instanceof ActivationSet);
  const rows = Array.from({ length: N }, (_, i) => i).filter((i) => i % 7 === 0 || i % 7 === 2);
  assert.equal(picked.numRows, rows.length);
  assert.equal(picked.dim, D);
  assert.deepEqual(Array.from(picked.column("row") as ArrayLike<number>), rows);
  rows.forEach((i, k) => assert.deepEqual(Array.from(picked.vectors.subarray(k * D, (k + 1) * D)), Array.from({ length: D }, (_, j) => Math.fround(value(i, j)))));
});

test("bad queries and tables are refused, naming what is wrong", async () => {
  await assert.rejects(sql("select * from nowhere"), /fl\.sql: .*nowhere/);
  await assert.rejects(sql("select 1", { tables: { t: join(dir, "missing.parquet") } }), /missing\.parquet: no such file or folder/);
  await assert.rejects(sql("select 1", { tables: { t: 42 as never } }), /table 't' is number/);
  await assert.rejects(sql(""), /non-empty string/);
  await assert.rejects(sql("select 1", { table: {} } as never), /table/);
});
