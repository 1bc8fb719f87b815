// A Jupyter MIME bundle: one representation of a result per MIME type; the front end picks the
// richest it can render (JupyterLab and VS Code: plotly JSON; classic notebook and exported HTML:
// text/html; plain terminals: text/plain).
export type MimeBundle = Record<string, unknown>;

export interface Displayable {
  toMimeBundle(): MimeBundle;
}

export function isDisplayable(x: unknown): x is Displayable {
  return typeof x === "object" && x !== null && typeof (x as Displayable).toMimeBundle === "function";
}
