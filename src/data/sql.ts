// SQL over activations, with DuckDB (@duckdb/node-api) embedded as the query engine: Parquet files and
// shard folders are read by DuckDB where they lie; an ActivationSet, Codes or arquero table given as a
// table is first written to a temporary Parquet file (featurelab's writer runs at memory speed, and
// DuckDB's Node API scans no Arrow or JavaScript memory directly). A result with one list-of-float
// column comes back as an ActivationSet (that column its vectors); any other as an arquero table.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as aq from "arquero";
import { parquetWriteBuffer } from "hyparquet-writer";
import { ActivationSet } from "./activation-set.js";
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import { readParquet } from "../io/parquet.js";

type DuckDB = typeof import("@duckdb/node-api");
type Connection = Awaited<ReturnType<Awaited<ReturnType<DuckDB["DuckDBInstance"]["create"]>>["connect"]>>;

/**
 * A dictionary's codes as fl.sql reads them (the shape of `Codes`, which sits in a layer above this one):
 * CSR rows of active feature ids and activations, aligned with the input rows.
 */
export interface SparseCodes {
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
  readonly numRows: number;
  readonly acts: ActivationSet | undefined;
}

const isCodes = (x: unknown): x is SparseCodes => {
  const c = x as SparseCodes;
  return typeof x === "object" && x !== null && c.indptr instanceof Int32Array && c.indices instanceof Int32Array && c.values instanceof Float32Array && typeof c.numRows === "number";
};

/** What `fl.sql` can query under a name. */
export type SqlSource = string | ActivationSet | SparseCodes | aq.ColumnTable;

/** Options of `fl.sql`. */
export interface SqlOptions {
  /** Tables the query names: a Parquet file, a folder of shards or a glob; an ActivationSet (its metadata,
   *  a `row` index and the vectors as `vector`); Codes (one row per active feature: `row`, `feature`,
   *  `activation` and the input rows' metadata); an arquero table. */
  tables?: Record<string, SqlSource>;
}

const SQL_OPTIONS = optionNames<SqlOptions>({ tables: true });

let connection: Promise<Connection> | undefined;
let scratch: string | undefined;
let serial = 0;

async function connect(): Promise<Connection> {
  connection ??= (async () => {
    const { DuckDBInstance } = (await import("@duckdb/node-api")) as DuckDB;
    const instance = await DuckDBInstance.create(":memory:");
    return instance.connect();
  })();
  return connection;
}

function scratchFile(ext: string): string {
  if (!scratch) {
    scratch = mkdtempSync(join(tmpdir(), "featurelab-sql-"));
    const dir = scratch;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return join(scratch, `t${serial++}${ext}`);
}

const quoteIdent = (s: string) => `"${s.replaceAll('"', '""')}"`;
const quoteString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The SQL a path is read by: a folder reads every *.parquet beneath it. */
function parquetScan(path: string): string {
  let dir = false;
  try {
    dir = statSync(path).isDirectory();
  } catch {
    if (!/[*?[]/.test(path)) throw new InputError(path, "no such file or folder (fl.sql reads Parquet files, shard folders and globs)");
  }
  return `read_parquet(${quoteString(dir ? join(path, "**", "*.parquet") : path)})`;
}

/** Column data of an ActivationSet or arquero table as hyparquet-writer takes it (bigint and numbers kept apart). */
function columnSource(name: string, values: ArrayLike<unknown>) {
  return { name, data: (ArrayBuffer.isView(values) ? values : Array.from(values)) as never };
}

async function register(con: Connection, name: string, source: SqlSource): Promise<void> {
  let file: string;
  if (typeof source === "string") {
    await con.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM ${parquetScan(source)}`);
    return;
  }
  if (source instanceof ActivationSet) {
    file = scratchFile(".parquet");
    const row = Int32Array.from({ length: source.numRows }, (_, i) => i);
    await new ActivationSet(source.vectors, source.dim, source.meta.assign({ row }), { vectorName: source.vectorName }).write(file);
  } else if (isCodes(source)) {
    const n = source.indices.length;
    const row = new Int32Array(n);
    for (let r = 0; r < source.numRows; r++) row.fill(r, source.indptr[r], source.indptr[r + 1]);
    const columns = [columnSource("row", row), columnSource("feature", source.indices), columnSource("activation", source.values)];
    for (const c of source.acts?.columns ?? []) {
      const values = source.acts!.column(c) as ArrayLike<unknown>;
      const spread = new Array(n);
      for (let i = 0; i < n; i++) spread[i] = values[row[i]];
      columns.push(columnSource(c, spread));
    }
    file = scratchFile(".parquet");
    writeFileSync(file, new Uint8Array(parquetWriteBuffer({ columnData: columns })));
  } else if (source && typeof (source as aq.ColumnTable).columnNames === "function") {
    const t = source as aq.ColumnTable;
    file = scratchFile(".parquet");
    writeFileSync(file, new Uint8Array(parquetWriteBuffer({ columnData: t.columnNames().map((c) => columnSource(c, t.array(c) as ArrayLike<unknown>)) })));
  } else {
    throw new InputError(undefined, `fl.sql: table '${name}' is ${source === null ? "null" : typeof source}; give a Parquet path, an ActivationSet, Codes or an arquero table`);
  }
  await con.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM read_parquet(${quoteString(file)})`);
}

/**
 * Run a SQL query (DuckDB's dialect) over Parquet files and the tables given: an ActivationSet when the
 * result has one list-of-float column (its vectors), otherwise an arquero table.
 * @example
 * const top = await fl.sql("select document, position, vector[8] as act from acts order by act desc limit 10", { tables: { acts: "out/resid-shards" } });
 * const density = await fl.sql("select document, feature, count(*) as n from codes group by all", { tables: { codes: sae.encode(acts) } });
 */
export async function sql(query: string, opts: SqlOptions = {}): Promise<ActivationSet | aq.ColumnTable> {
  rejectUnknownOptions("sql", opts, SQL_OPTIONS);
  if (typeof query !== "string" || !query.trim()) throw new InputError(undefined, "fl.sql: the query must be a non-empty string");
  const con = await connect();
  for (const [name, source] of Object.entries(opts.tables ?? {})) await register(con, name, source);
  let reader;
  try {
    reader = await con.runAndReadAll(query);
  } catch (err) {
    throw new InputError(undefined, `fl.sql: ${(err as Error).message.split("\n")[0]}`);
  }
  const names = reader.columnNames();
  const types = reader.columnTypes().map((t) => t.toString());
  const vectorColumns = names.filter((_, i) => /^(FLOAT|DOUBLE)(\[\d*\])$/.test(types[i]));
  if (vectorColumns.length === 1 && reader.currentRowCount > 0) {
    // Vectors come back through Parquet: DuckDB writes them, featurelab's fast path reads them.
    const file = scratchFile(".parquet");
    await con.run(`COPY (${query}) TO ${quoteString(file)} (FORMAT parquet)`);
    const t = await readParquet(file, { vector: vectorColumns[0] });
    rmSync(file, { force: true });
    return new ActivationSet(t.vectors, t.dim, aq.table(plainColumns(t.metadata) as never), { vectorName: vectorColumns[0], source: "fl.sql" });
  }
  return aq.table(plainColumns(reader.getColumnsObjectJS()) as never);
}

/** Columns as arquero shows them best: 64-bit integers as numbers where every value is exact in one. */
function plainColumns(columns: Record<string, ArrayLike<unknown>>): Record<string, ArrayLike<unknown>> {
  const out: Record<string, ArrayLike<unknown>> = {};
  for (const [name, values] of Object.entries(columns)) {
    const arr = Array.from(values);
    const big = arr.length > 0 && arr.every((v) => v === null || typeof v === "bigint");
    const exact = big && arr.every((v) => v === null || (v as bigint) <= BigInt(Number.MAX_SAFE_INTEGER) && (v as bigint) >= -BigInt(Number.MAX_SAFE_INTEGER));
    out[name] = exact ? arr.map((v) => (v === null ? null : Number(v))) : values;
  }
  return out;
}
