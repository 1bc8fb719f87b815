// Parquet for activation tables: metadata columns plus one vector column stored as LIST<FLOAT>
// (what pyarrow writes for list<float32> and fixed_size_list<float32>). Reading is in parquet-read.ts,
// writing in parquet-write.ts; this module gathers them and lists folders of shards.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "./errors.js";

export { concatColumn, openParquetGroups, parquetInfo, readParquet, readParquetBatches } from "./parquet-read.js";
export type { ParquetGroups, ParquetInfo, ParquetTable, ReadParquetOptions } from "./parquet-read.js";
export { writeParquet } from "./parquet-write.js";
export type { ParquetWriteTable, WriteParquetOptions } from "./parquet-write.js";

const natural = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** The *.parquet files of a folder (full paths), in natural order: part-2 before part-10. */
export async function listParquetShards(folder: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new InputError(folder, "no such folder");
    if (code === "ENOTDIR") throw new InputError(folder, "is a file, expected a folder of .parquet shards");
    throw new InputError(folder, `cannot list (${code ?? (err as Error).message})`);
  }
  const names = entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && e.name.toLowerCase().endsWith(".parquet") && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort((a, b) => natural.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0) {
    const others = entries.length ? ` (it has ${entries.length} other entr${entries.length === 1 ? "y" : "ies"})` : " (it is empty)";
    throw new InputError(folder, `contains no .parquet files${others}`);
  }
  return names.map((n) => join(folder, n));
}
