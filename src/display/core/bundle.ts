// A Jupyter MIME bundle: one representation of a result per MIME type; the front end picks the
// richest it can render (JupyterLab and VS Code: plotly JSON; classic notebook and exported HTML:
// text/html; plain terminals: text/plain).
/** A Jupyter MIME bundle: one representation of a result per MIME type (`text/plain`, `text/html`, …). */
export type MimeBundle = Record<string, unknown>;

/** Anything `fl.show` displays through its own MIME bundle: implement `toMimeBundle` to make a class displayable. */
export interface Displayable {
  /** The representations of this value, by MIME type. */
  toMimeBundle(): MimeBundle;
}

export function isDisplayable(x: unknown): x is Displayable {
  return typeof x === "object" && x !== null && typeof (x as Displayable).toMimeBundle === "function";
}
