// A card per feature of a circuit graph, shown beside it on hover and kept on click (as the geometry
// plot's): how often it fires, its strongest activations with ± context tokens, and its strongest
// edges in and out. Built from the circuit's own activations, embedded in the page: works without a kernel.
import type { TranscoderCircuit, CircuitEdge, FeatureRef } from "../../../circuits/transcoders/circuit.js";
import { escapeHtml } from "../../core/escape.js";
import { examplesHtml, FONT, histogramHtml, listHtml, PANEL, topRows, TokenIndex } from "../features/feature-card.js";

export const nodeName = (layer: number, feature: number) => `L${layer} F${feature}`;

function edgeList(title: string, edges: CircuitEdge[], other: (e: CircuitEdge) => string): string {
  if (edges.length === 0) return "";
  const items = edges.slice(0, 6).map((e) => ({ name: other(e), value: e.meanWhenActive, color: e.meanWhenActive >= 0 ? "rgba(31,119,180,.7)" : "rgba(214,39,40,.7)" }));
  return `<div style="margin-top:6px">${listHtml(title, items)}</div>`;
}

/** Cards keyed by node name ("L1 F17") for the given features. */
export function circuitCards(circuit: TranscoderCircuit, features: FeatureRef[], opts: { examples?: number; context?: number } = {}): Record<string, string> {
  const a = circuit.activations;
  const index = new TokenIndex({ tokens: a.tokens, document: a.document, position: a.position });
  const cards: Record<string, string> = {};
  for (const { layer, feature } of features) {
    const z = a.features.get(layer);
    const t = circuit.transcoders.find((x) => x.layer === layer);
    if (!z || !t) continue;
    const width = t.dictionary.width;
    const values = new Float32Array(a.rows);
    for (let r = 0; r < a.rows; r++) values[r] = z[r * width + feature];
    const rows = topRows(values, opts.examples ?? 5);
    const max = rows.length ? values[rows[0]] : 0;
    const examples = rows.map((r) => index.example(r, (q) => values[q], opts.context ?? 4));
    const name = nodeName(layer, feature);
    cards[name] =
      `<div class="featurelab-feature-card" data-feature="${escapeHtml(name)}" style="${FONT};${PANEL};display:block">` +
      `<div style="font-weight:600;font-size:14px;margin-bottom:4px">${escapeHtml(name)} <span style="font-weight:400;opacity:.75">(layer ${layer} MLP transcoder)</span></div>` +
      histogramHtml(values, { width: 240, height: 50, bins: 24, titles: false }) +
      `<div style="margin-top:6px">${examplesHtml(examples, max, "top activations")}</div>` +
      edgeList("strongest inputs (mean when it fires)", circuit.into({ layer, feature }), (e) => nodeName(e.sourceLayer, e.source)) +
      edgeList("strongest outputs (mean when the target fires)", circuit.from({ layer, feature }), (e) => nodeName(e.targetLayer, e.target)) +
      `</div>`;
  }
  return cards;
}
