// The usual display of a result: its figure and its table in one bundle — the figure's plotly JSON
// (JupyterLab, VS Code, the export's static image), figure and table in HTML, the table as text.
import type { MimeBundle } from "./bundle.js";
import { liveViews, type Figure } from "./plotly.js";
import { htmlTable, textTable, type Cell } from "./table.js";

export interface TableSpec {
  columns: string[];
  rows: Cell[][];
  caption: string;
  /** Rows shown (htmlTable's default when omitted). */
  maxRows?: number;
}

export function figureWithTable(figure: Figure, table: TableSpec, opts: { tableFirst?: boolean; htmlAfter?: string } = {}): MimeBundle {
  const fig = figure.staticBundle();
  const tableHtml = htmlTable(table.columns, table.rows, table.caption, table.maxRows);
  const parts: (Figure | string)[] = opts.tableFirst ? [tableHtml, figure] : [figure, tableHtml];
  if (opts.htmlAfter) parts.push(opts.htmlAfter);
  // In a kernel: a widget view of the same stack (the figure live), which widget frontends prefer.
  return {
    ...(liveViews()?.stack(parts) ?? {}),
    "application/vnd.plotly.v1+json": fig["application/vnd.plotly.v1+json"],
    "text/html": (opts.tableFirst ? tableHtml + fig["text/html"] : fig["text/html"] + tableHtml) + (opts.htmlAfter ?? ""),
    "text/plain": `${table.caption}\n${textTable(table.columns, table.rows, table.maxRows)}`,
  };
}
