// The ipywidgets 8 model schema (@jupyter-widgets/schema: every core model's attributes, types and
// defaults, as the Python side generates it). Kernel-side widgets take their state from it, so a
// featurelab IntSlider sends what ipywidgets' IntSlider sends, and a frontend's update is checked
// against it: a wrong type or an unknown key is refused with its name.
import { createRequire } from "node:module";

/** One attribute of a widget model, as @jupyter-widgets/schema lists it. */
export interface Attribute {
  name: string;
  type: string | string[];
  default: unknown;
  allow_none?: boolean;
  enum?: string[];
  items?: { type: string; widget?: string };
  widget?: string;
  union_attributes?: { type: string; enum?: string[] }[];
}

/** A model's names and attributes. */
export interface ModelSchema {
  model: { module: string; name: string; version: string };
  view: { module: string; name: string | null; version: string };
  attributes: Attribute[];
}

let models: Map<string, ModelSchema> | undefined;

/**
 * The schema of a core model (`IntSliderModel`, `LayoutModel`, …).
 * @example
 * const attrs = fl.widgets.modelSchema("IntSliderModel").attributes.map((a) => a.name);
 */
export function modelSchema(name: string): ModelSchema {
  models ??= new Map(
    (createRequire(import.meta.url)("@jupyter-widgets/schema/jupyterwidgetmodels.latest.json") as ModelSchema[]).map((m) => [m.model.name, m]),
  );
  const m = models.get(name);
  if (!m) throw new Error(`featurelab: no ipywidgets 8 model named ${JSON.stringify(name)}`);
  return m;
}

/** The state keys a frontend never changes: which model and view the state belongs to. */
export const IDENTITY_KEYS = ["_model_module", "_model_module_version", "_model_name", "_view_module", "_view_module_version", "_view_name"];

const isReference = (v: unknown) => typeof v === "string" && v.startsWith("IPY_MODEL_");

function typeOk(type: string, v: unknown, attr: Attribute): boolean {
  switch (type) {
    case "string":
    case "Datetime":
    case "Date":
    case "Time":
      return typeof v === "string" && (!attr.enum || attr.enum.includes(v));
    case "bool":
      return typeof v === "boolean";
    case "int":
      return Number.isInteger(v);
    case "float":
      return typeof v === "number" && !Number.isNaN(v);
    case "reference":
      return isReference(v);
    case "bytes":
      return ArrayBuffer.isView(v) || v instanceof ArrayBuffer;
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
    case "array":
      return Array.isArray(v) && (!attr.items || v.every((x) => x === null || typeOk(attr.items!.type, x, { name: attr.name, type: attr.items!.type, default: undefined })));
    default:
      return true;
  }
}

/**
 * Whether `v` is a valid value of the attribute; an Error naming the key and what it should be if not.
 * `dates` are ISO strings and `bytes` binary buffers on the wire.
 */
export function checkValue(attr: Attribute, v: unknown): Error | undefined {
  if (v === null && attr.allow_none) return undefined;
  const ok = Array.isArray(attr.type)
    ? (attr.union_attributes ?? attr.type.map((t): { type: string; enum?: string[] } => ({ type: t }))).some((u) => typeOk(u.type, v, { ...attr, type: u.type, enum: u.enum }))
    : typeOk(attr.type, v, attr);
  if (ok) return undefined;
  const want = Array.isArray(attr.type) ? attr.type.join(" or ") : attr.enum ? `one of ${attr.enum.map((e) => JSON.stringify(e)).join(", ")}` : attr.type;
  return new TypeError(`"${attr.name}" must be ${want}${attr.allow_none ? " or null" : ""}, not ${JSON.stringify(v)?.slice(0, 80) ?? String(v)}`);
}
