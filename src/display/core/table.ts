// Tables as HTML and text: records (one object per row) or a single record (name → value).
import type { MimeBundle } from "./bundle.js";
import { escapeHtml } from "./escape.js";

export type Cell = string | number | boolean | null | undefined | bigint;

/** Numbers to 4 significant digits (integers whole), everything else as text. */
export function formatCell(v: Cell): string {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    if (!Number.isFinite(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
  }
  return v === null || v === undefined ? "" : String(v);
}

const STYLE =
  "border-collapse:collapse;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;color:inherit;margin:4px 0";
const TH = "text-align:right;padding:3px 10px;border-bottom:1px solid rgba(128,128,128,.6);font-weight:600";
const TD = "text-align:right;padding:3px 10px;border-bottom:1px solid rgba(128,128,128,.2)";

/** Numeric columns align right, text columns left (judged by the first non-empty value). */
function numericColumns(columns: string[], rows: Cell[][]): boolean[] {
  return columns.map((_, j) => {
    const v = rows.find((r) => r[j] !== null && r[j] !== undefined && r[j] !== "")?.[j];
    return typeof v === "number" || typeof v === "bigint";
  });
}

export function htmlTable(columns: string[], rows: Cell[][], caption?: string, maxRows = 50): string {
  const shown = rows.slice(0, maxRows);
  const numeric = numericColumns(columns, shown);
  const head = columns.map((c, j) => `<th style="${TH}${numeric[j] ? "" : ";text-align:left"}">${escapeHtml(c)}</th>`).join("");
  const body = shown
    .map((r) => `<tr>${r.map((v) => `<td style="${TD}${typeof v === "number" ? "" : ";text-align:left"}">${escapeHtml(formatCell(v))}</td>`).join("")}</tr>`)
    .join("");
  const more = rows.length > shown.length ? `<div style="font-size:11px;opacity:.7">… ${rows.length - shown.length} more rows</div>` : "";
  const cap = caption ? `<caption style="text-align:left;font-weight:600;padding:2px 0">${escapeHtml(caption)}</caption>` : "";
  return `<table class="featurelab-table" style="${STYLE}">${cap}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${more}`;
}

export function textTable(columns: string[], rows: Cell[][], maxRows = 50): string {
  const cells = [columns, ...rows.slice(0, maxRows).map((r) => r.map(formatCell))];
  const numeric = numericColumns(columns, rows.slice(0, maxRows));
  const widths = columns.map((_, j) => Math.max(...cells.map((r) => (r[j] ?? "").length)));
  const pad = (c: string, j: number) => (numeric[j] ? c.padStart(widths[j]) : c.padEnd(widths[j]));
  return cells.map((r) => r.map((c, j) => pad(c ?? "", j)).join("  ").trimEnd()).join("\n");
}

/** A table for display: columns and rows of cells. */
export class TableView {
  constructor(
    readonly columns: string[],
    readonly rows: Cell[][],
    readonly caption?: string,
  ) {}

  /**
   * A table of records (one object per row), columns in order of first appearance.
   * @example
   * fl.show(fl.TableView.fromRecords([{ l1: 1, l0: 40.2 }, { l1: 5, l0: 12.8 }], "sweep"));
   */
  static fromRecords(records: Record<string, Cell>[], caption?: string): TableView {
    const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
    return new TableView(columns, records.map((r) => columns.map((c) => r[c])), caption);
  }

  /** The table as HTML and text. */
  toMimeBundle(): MimeBundle {
    return {
      "text/html": htmlTable(this.columns, this.rows, this.caption),
      "text/plain": (this.caption ? this.caption + "\n" : "") + textTable(this.columns, this.rows),
    };
  }
}
