// A cell's last value → the MIME bundle of its execute_result. featurelab values show their own
// display (featurelab attaches its `represent` to the kernel bridge when it loads, so the kernel
// uses the very module instance the notebook imported); Arrow tables, arquero tables and tfjs
// tensors get a table or a shape/dtype preview without it; objects carrying Deno's display symbol
// (`[Symbol.for("Jupyter.display")]()` returning a MIME bundle, or a promise of one) show that
// bundle; everything else is util.inspect text.
import { inspect } from "node:util";
import { escapeHtml } from "../display/core/escape.js";

export type Bundle = Record<string, unknown>;
type Represent = (x: unknown) => Bundle | Promise<Bundle>;

let represent: Represent | undefined;

/** featurelab's display of values, from the kernel bridge's attach(). */
export function attachRepresenter(fn: Represent | undefined): void {
  represent = fn;
}

const MAX_ROWS = 20;
/** Deno's display protocol (Deno.jupyter.$display), which libraries written for Deno notebooks use. */
export const JUPYTER_DISPLAY = Symbol.for("Jupyter.display");

/** One table cell as short text: vectors as a preview with their length. */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+(e|$)/, "$1");
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (v instanceof Date) return v.toISOString();
  const list = ArrayBuffer.isView(v) || Array.isArray(v) ? (v as ArrayLike<unknown>) : typeof (v as { toArray?: unknown }).toArray === "function" ? (v as { toArray(): ArrayLike<unknown> }).toArray() : undefined;
  if (list && typeof list.length === "number") {
    const head = Array.from({ length: Math.min(4, list.length) }, (_, i) => cellText(list[i]));
    return `[${head.join(", ")}${list.length > 4 ? `, … ${list.length}` : ""}]`;
  }
  return inspect(v, { depth: 0, breakLength: Infinity });
}

function tableBundle(columns: string[], rows: unknown[][], total: number, what: string): Bundle {
  const caption = `${what}: ${total} row${total === 1 ? "" : "s"} × ${columns.length} column${columns.length === 1 ? "" : "s"}${total > rows.length ? ` (first ${rows.length} shown)` : ""}`;
  const texts = rows.map((r) => r.map(cellText));
  const html =
    `<table class="featurelab-table"><caption style="text-align:left">${escapeHtml(caption)}</caption>` +
    `<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead>` +
    `<tbody>${texts.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
  const widths = columns.map((c, j) => Math.min(24, Math.max(c.length, ...texts.map((r) => r[j].length))));
  const line = (cells: string[]) => cells.map((c, j) => (c.length > widths[j] ? c.slice(0, widths[j] - 1) + "…" : c.padEnd(widths[j]))).join("  ").trimEnd();
  const text = [caption, line(columns), ...texts.map(line)].join("\n");
  return { "text/plain": text, "text/html": html };
}

interface ArrowTable {
  schema: { fields: { name: string }[] };
  numRows: number;
  slice(begin: number, end: number): { toArray(): Record<string, unknown>[] };
}
function isArrowTable(x: any): x is ArrowTable {
  return typeof x === "object" && x !== null && Array.isArray(x.schema?.fields) && typeof x.numRows === "number" && typeof x.slice === "function" && typeof x.getChild === "function";
}

interface ArqueroTable {
  columnNames(): string[];
  numRows(): number;
  objects(o?: { limit?: number }): Record<string, unknown>[];
}
function isArqueroTable(x: any): x is ArqueroTable {
  return typeof x === "object" && x !== null && typeof x.columnNames === "function" && typeof x.objects === "function" && typeof x.numRows === "function";
}

interface Tensor {
  shape: number[];
  dtype: string;
  size: number;
  toString(verbose?: boolean): string;
  dataSync(): ArrayLike<unknown>;
}
function isTensor(x: any): x is Tensor {
  return typeof x === "object" && x !== null && Array.isArray(x.shape) && typeof x.dtype === "string" && typeof x.dataSync === "function" && typeof x.rank === "number";
}

function tensorBundle(t: Tensor): Bundle {
  let preview: string;
  try {
    preview = t.toString().replace(/^Tensor\s*\n?/, "").trimEnd();
  } catch (err) {
    preview = `(no preview: ${(err as Error).message})`;
  }
  const text = `Tensor ${t.dtype} [${t.shape.join(", ")}] (${t.size} values)\n${preview}`;
  return { "text/plain": text, "text/html": `<pre>${escapeHtml(text)}</pre>` };
}

function textBundle(x: unknown): Bundle {
  return { "text/plain": inspect(x, { depth: 3, maxArrayLength: 100, maxStringLength: 10_000, breakLength: 100 }) };
}

/** A bundle's values as JSON can carry them: undefined dropped, bytes as base64. */
export function mimeData(data: Bundle | undefined): Bundle {
  const out: Bundle = {};
  for (const [mime, value] of Object.entries(data ?? {})) {
    if (value === undefined) continue;
    out[mime] = value instanceof Uint8Array ? Buffer.from(value).toString("base64") : value;
  }
  return out;
}

/** Only what Jupyter accepts: MIME keys with JSON-able values, and always a text/plain. */
function clean(bundle: Bundle): Bundle {
  const out = mimeData(Object.fromEntries(Object.entries(bundle).filter(([mime]) => /^[\w.+-]+\/[\w.+-]+$/.test(mime))));
  if (!("text/plain" in out)) out["text/plain"] = "";
  return out;
}

/** The bundle a value is shown with. Primitives are always shown as inspect shows them ('text' quoted). */
export async function bundleOf(x: unknown): Promise<Bundle> {
  if (typeof x !== "object" || x === null) return textBundle(x);
  try {
    if (isArrowTable(x)) {
      const columns = x.schema.fields.map((f) => f.name);
      const rows = x.slice(0, MAX_ROWS).toArray().map((r) => columns.map((c) => r[c]));
      return tableBundle(columns, rows, x.numRows, "Arrow table");
    }
    const own = (x as Record<symbol, unknown>)[JUPYTER_DISPLAY];
    if (typeof own === "function") {
      const bundle: unknown = await own.call(x);
      if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) throw new Error("its [Symbol.for(\"Jupyter.display\")]() did not return a MIME bundle object");
      return clean(bundle as Bundle);
    }
    if (represent) return clean(await represent(x));
    if (typeof (x as { toMimeBundle?: unknown }).toMimeBundle === "function") return clean((x as { toMimeBundle(): Bundle }).toMimeBundle());
    if (isTensor(x)) return tensorBundle(x);
    if (isArqueroTable(x)) {
      const columns = x.columnNames();
      const rows = x.objects({ limit: MAX_ROWS }).map((r) => columns.map((c) => r[c]));
      return tableBundle(columns, rows, x.numRows(), "arquero table");
    }
  } catch (err) {
    const bundle = textBundle(x);
    bundle["text/plain"] += `\n(its rich display failed: ${(err as Error).message})`;
    return bundle;
  }
  return textBundle(x);
}
