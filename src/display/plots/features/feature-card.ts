// The pieces of a feature's dashboard (sae_vis panels) as static, escaped HTML: an activation
// histogram (inline SVG), top activating examples with tokens shaded by activation and ± context,
// samples from activation quantiles, logit effects through W_U, nearest features by decoder cosine.
// Colours work on light and dark themes: text is currentColor, shading is semi-transparent.
import type { ActivationSet } from "../../../data/activation-set.js";
import { escapeHtml } from "../../core/escape.js";

export const FONT = "font-family:system-ui,sans-serif;font-size:13px;color:inherit";
export const PANEL = "border:1px solid rgba(128,128,128,.4);border-radius:6px;padding:8px 10px;margin:4px;vertical-align:top";
const MONO = "font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px";

/** One example: the row it fired on, the activation, and tokens around it (the row's own marked). */
export interface Example {
  row: number;
  activation: number;
  /** Tokens of the context window with the feature's activation on each; `focus` is the row's own. */
  context: { text: string; activation: number; focus: boolean }[];
}

/** Token text, document and position of each row. */
export interface TokenColumns {
  tokens?: ArrayLike<unknown>;
  document?: ArrayLike<unknown>;
  position?: ArrayLike<unknown>;
}

/** Where each row sits in its document, when the set has token/document/position metadata. */
export class TokenIndex {
  private readonly byKey = new Map<string, number>();
  readonly tokens: ArrayLike<unknown> | undefined;
  readonly document: ArrayLike<unknown> | undefined;
  readonly position: ArrayLike<unknown> | undefined;

  /** From a set's token (or label), document and position columns, or from such columns directly. */
  constructor(source: ActivationSet | TokenColumns, tokens?: ArrayLike<unknown>) {
    let cols: TokenColumns = source as TokenColumns;
    if ("numRows" in source) {
      const has = (c: string) => source.columns.includes(c);
      cols = {
        tokens: has("token") ? source.column("token") : has("label") ? source.column("label") : undefined,
        document: has("document") ? source.column("document") : undefined,
        position: has("position") ? source.column("position") : undefined,
      };
    }
    this.tokens = tokens ?? cols.tokens;
    this.document = cols.document;
    this.position = cols.position;
    if (this.document && this.position) {
      for (let r = 0; r < this.document.length; r++) this.byKey.set(`${this.document[r]}:${this.position[r]}`, r);
    }
  }

  /** The example at `row` with ± context tokens of the same document. */
  example(row: number, value: (row: number) => number, context: number): Example {
    const text = (r: number) => (this.tokens ? String(this.tokens[r]) : `row ${r}`);
    const ctx: Example["context"] = [];
    if (!this.tokens) {
      // No token text: the row and where it sits, rather than a context of row numbers.
      const where = this.document && this.position ? ` (document ${this.document[row]}, position ${this.position[row]})` : "";
      return { row, activation: value(row), context: [{ text: `row ${row}${where}`, activation: value(row), focus: true }] };
    }
    if (this.document && this.position && context > 0) {
      const d = this.document[row], p = Number(this.position[row]);
      for (let q = p - context; q <= p + context; q++) {
        const r = this.byKey.get(`${d}:${q}`);
        if (r !== undefined) ctx.push({ text: text(r), activation: value(r), focus: r === row });
      }
    } else {
      ctx.push({ text: text(row), activation: value(row), focus: true });
    }
    return { row, activation: value(row), context: ctx };
  }
}

/** A number to 3 significant digits, exponential when very small or large. */
export function fmt(v: number): string {
  return v === 0 ? "0" : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

/** Tokens shaded by activation (orange, alpha ∝ activation / max); the firing token underlined. */
export function examplesHtml(examples: Example[], max: number, title: string): string {
  const rows = examples
    .map((e) => {
      const toks = e.context
        .map((t) => {
          const a = max > 0 ? Math.max(0, Math.min(1, t.activation / max)) : 0;
          const shade = a > 0 ? `background:rgba(255,140,0,${(0.15 + 0.7 * a).toFixed(2)});` : "";
          const focus = t.focus ? "border-bottom:2px solid currentColor;" : "";
          // Whitespace kept visible: a token is often " the" or "\n".
          const shown = escapeHtml(t.text).replace(/\n/g, "↵");
          return `<span class="fl-tok" style="${shade}${focus}white-space:pre;border-radius:2px;padding:0 1px;margin-right:2px" title="${escapeHtml(fmt(t.activation))}">${shown}</span>`;
        })
        .join("");
      return `<tr><td class="fl-act">${escapeHtml(fmt(e.activation))}</td><td style="padding:1px 0;text-align:left">${toks}</td></tr>`;
    })
    .join("");
  // Cell styles once per table (inline styles survive every renderer; a <style> element may not).
  const body = examples.length
    ? `<table style="border-collapse:collapse;${MONO};white-space:nowrap">${rows.replace(/<td class="fl-act">/g, '<td class="fl-act" style="text-align:right;padding:1px 8px 1px 0;opacity:.8;font-family:system-ui,sans-serif">')}</table>` : `<div style="opacity:.7">none: the feature never fires here</div>`;
  return `<div class="fl-examples"><div style="font-weight:600;margin-bottom:2px">${escapeHtml(title)}</div>${body}</div>`;
}

/** A histogram of the nonzero activations as inline SVG, with the density (nonzero / total rows) above it. */
export function histogramHtml(values: ArrayLike<number>, opts: { total?: number; bins?: number; width?: number; height?: number; titles?: boolean } = {}): string {
  const bins = opts.bins ?? 30, W = opts.width ?? 280, H = opts.height ?? 80;
  let n = 0, max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > 0) (n++, (max = Math.max(max, values[i])));
  const counts = new Array(bins).fill(0);
  for (let i = 0; i < values.length; i++) if (values[i] > 0) counts[Math.min(bins - 1, Math.floor((values[i] / max) * bins))]++;
  const top = Math.max(1, ...counts);
  const bw = Math.max(0.5, W / bins - 1);
  // Without per-bar tooltips (the compact cards), all bars are one path.
  const bars = opts.titles === false
    ? `<path d="${counts.map((c, i) => (c === 0 ? "" : `M${((i * W) / bins).toFixed(1)} ${H}v${(-(H * c) / top).toFixed(1)}h${bw.toFixed(1)}V${H}z`)).join("")}" fill="rgba(255,140,0,.85)"/>`
    : counts
        .map((c, i) => {
          if (c === 0) return "";
          const h = (H * c) / top;
          const lo = (i * max) / bins, hi = ((i + 1) * max) / bins;
          return `<rect x="${((i * W) / bins).toFixed(1)}" y="${(H - h).toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="rgba(255,140,0,.85)"><title>${c} rows in ${fmt(lo)}–${fmt(hi)}</title></rect>`;
        })
        .join("");
  const total = opts.total ?? values.length;
  const density = total ? n / total : 0;
  return (
    `<div class="fl-histogram"><div><b>activation density</b> ${escapeHtml(fmt(100 * density))}% (${n} of ${total} rows)</div>` +
    `<svg width="${W}" height="${H + 16}" role="img" aria-label="histogram of nonzero activations">${bars}` +
    `<text x="0" y="${H + 13}" fill="currentColor" font-size="11">0</text><text x="${W}" y="${H + 13}" fill="currentColor" font-size="11" text-anchor="end">${escapeHtml(fmt(max))}</text></svg></div>`
  );
}

/** A two-column list: name and a bar-like value (nearest features, logits). */
export function listHtml(title: string, items: { name: string; value: number; color?: string }[]): string {
  const max = Math.max(1e-12, ...items.map((i) => Math.abs(i.value)));
  const rows = items
    .map(
      (i) =>
        `<tr><td style="padding:0 8px 0 0;white-space:pre;text-align:left">${escapeHtml(i.name)}</td>` +
        `<td style="padding:0;text-align:left"><span style="display:inline-block;height:9px;width:${((60 * Math.abs(i.value)) / max).toFixed(1)}px;background:${i.color ?? "rgba(31,119,180,.6)"};margin-right:4px"></span>${escapeHtml(fmt(i.value))}</td></tr>`,
    )
    .join("");
  return `<div class="fl-list"><div style="font-weight:600;margin-bottom:2px">${escapeHtml(title)}</div><table style="border-collapse:collapse;${MONO}">${rows}</table></div>`;
}

/** Rows of the strongest activations, strongest first (ties: lower row first). */
export function topRows(values: ArrayLike<number>, n: number): number[] {
  const rows: number[] = [];
  for (let r = 0; r < values.length; r++) if (values[r] > 0) rows.push(r);
  return rows.sort((a, b) => values[b] - values[a] || a - b).slice(0, n);
}

/** `perBand` rows from each of `bands` activation quantile bands (evenly spaced within each band). */
export function quantileRows(values: ArrayLike<number>, bands: number, perBand: number): { label: string; rows: number[] }[] {
  const rows: number[] = [];
  for (let r = 0; r < values.length; r++) if (values[r] > 0) rows.push(r);
  rows.sort((a, b) => values[a] - values[b] || a - b);
  const out: { label: string; rows: number[] }[] = [];
  for (let b = bands - 1; b >= 0; b--) {
    const lo = Math.floor((b * rows.length) / bands), hi = Math.floor(((b + 1) * rows.length) / bands);
    if (hi <= lo) continue;
    const take = Math.min(perBand, hi - lo);
    const picked = Array.from({ length: take }, (_, k) => rows[lo + Math.floor(((k + 0.5) * (hi - lo)) / take)]).reverse(); // strongest first
    out.push({ label: `quantile ${Math.round((100 * b) / bands)}–${Math.round((100 * (b + 1)) / bands)}% (activations ${fmt(values[rows[lo]])}–${fmt(values[rows[hi - 1]])})`, rows: picked });
  }
  return out;
}

/** A compact card for one feature (the geometry scatter's click target), from its nonzero activations. */
export function featureCardHtml(
  feature: number,
  fired: { rows: number[]; values: number[] },
  totalRows: number,
  index: TokenIndex,
  neighbors: { feature: number; cosine: number }[],
  opts: { examples?: number; context?: number } = {},
): string {
  // fired.rows ascends: look a row's activation up by bisection; keep the top few without sorting all.
  const value = (r: number) => {
    let lo = 0, hi = fired.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (fired.rows[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return fired.rows[lo] === r ? fired.values[lo] : 0;
  };
  const want = opts.examples ?? 5;
  const best: number[] = []; // indices into fired, strongest first
  for (let k = 0; k < fired.rows.length; k++) {
    if (best.length === want && fired.values[k] <= fired.values[best[want - 1]]) continue;
    let at = best.length;
    while (at > 0 && fired.values[best[at - 1]] < fired.values[k]) at--;
    best.splice(at, 0, k);
    if (best.length > want) best.pop();
  }
  const rows = best.map((k) => fired.rows[k]);
  const max = rows.length ? value(rows[0]) : 0;
  const examples = rows.map((r) => index.example(r, value, opts.context ?? 4));
  return (
    `<div class="featurelab-feature-card" data-feature="${feature}" style="${FONT};${PANEL};display:block">` +
    `<div style="font-weight:600;font-size:14px;margin-bottom:4px">feature ${feature}</div>` +
    histogramHtml(fired.values, { total: totalRows, width: 240, height: 50, bins: 24, titles: false }) +
    `<div style="margin-top:6px">${examplesHtml(examples, max, "top activations")}</div>` +
    `<div style="margin-top:6px">${listHtml("nearest features (decoder cosine)", neighbors.map((n) => ({ name: `feature ${n.feature}`, value: n.cosine })))}</div>` +
    `</div>`
  );
}
