// anywidget models: a widget whose frontend code travels in its own state (`_esm`, an ES module
// exporting `render({ model, el })`), the convention JupyterLab and Notebook 7 (with anywidget's
// extension), VS Code, Colab and marimo render, and the exported page's bundle renders offline.
// featurelab's views are these; their browser modules live in widgets/.
import { readFileSync } from "node:fs";
import { Widget } from "./widget.js";
import type { Attribute, ModelSchema } from "./schema.js";

/**
 * The version range of anywidget's frontend the models ask for: any. The frontend installed beside
 * JupyterLab (pip's anywidget) registers its own version, which featurelab cannot know.
 */
export const ANYWIDGET_VERSION = "*";

const BASE: Attribute[] = [
  { name: "_dom_classes", type: "array", default: [], items: { type: "string" } },
  { name: "layout", type: "reference", default: "reference to new instance", widget: "Layout" },
  { name: "tabbable", type: "bool", default: null, allow_none: true },
  { name: "tooltip", type: "string", default: null, allow_none: true },
  { name: "_esm", type: "string", default: "" },
  { name: "_css", type: "string", default: "" },
  { name: "_anywidget_id", type: "string", default: "" },
];

const modules = new Map<string, string>();

/**
 * A browser module from widgets/ (read once): `esmOf("figure-widget", "plotly-figure")` joins
 * widgets/figure-widget.js with the scripts it builds on into one ES module.
 */
export function esmOf(...names: string[]): string {
  const key = names.join("+");
  let src = modules.get(key);
  if (src === undefined) {
    src = names
      .map((n) => {
        if (!/^[a-z-]+$/.test(n)) throw new Error(`featurelab: no browser module named ${JSON.stringify(n)}`);
        return readFileSync(new URL(`../../../widgets/${n}.js`, import.meta.url), "utf8");
      })
      .reverse() // helpers first, the module with the export last
      .join("\n");
    modules.set(key, src);
  }
  return src;
}

/**
 * An anywidget model: `esm` is its frontend module, `traits` its own state keys (types as in
 * @jupyter-widgets/schema).
 * @example
 * class Counter extends fl.widgets.AnyWidget {
 *   constructor() {
 *     super({ esm: `export default { render({ model, el }) { el.textContent = model.get("count"); } }`, name: "Counter", traits: [{ name: "count", type: "int", default: 0 }] });
 *   }
 * }
 */
export class AnyWidget extends Widget {
  constructor(opts: { esm: string; css?: string; name: string; traits?: Attribute[]; init?: Record<string, unknown> }) {
    const schema: ModelSchema = {
      model: { module: "anywidget", name: "AnyModel", version: ANYWIDGET_VERSION },
      view: { module: "anywidget", name: "AnyView", version: ANYWIDGET_VERSION },
      attributes: [...BASE, ...(opts.traits ?? [])],
    };
    super(schema, { _esm: opts.esm, _css: opts.css ?? "", _anywidget_id: `featurelab.${opts.name}`, ...(opts.init ?? {}) }, opts.name);
  }
}
