// An attribution graph as a live widget (an anywidget model; widgets/attribution-graph.js draws it): nodes
// by position and layer, a node-threshold slider that re-prunes in the page, hover cards, pinning, named
// supernodes and an export of circuit-tracer's graph file — in JupyterLab, Notebook 7, VS Code and the
// exported page, where it renders from the saved state with no kernel. The payload (the graph pruned at
// the loosest slider setting) travels gzip'd as one binary buffer. Outside a kernel (and in the classic
// notebook) the same view draws from an HTML fallback with the payload inlined.
import { gzipSync, strToU8 } from "fflate";
import { AnyWidget, esmOf } from "./anywidget.js";
import { kernel, newDisplayId } from "../core/kernel.js";
import { jsonForScript } from "../core/escape.js";
import type { MimeBundle } from "../core/bundle.js";
import type { AttributionGraph } from "../../circuits/attribution/attribution-graph.js";
import { circuitTracerJson, type CircuitTracerGraph, type CircuitTracerJsonOptions } from "../../circuits/attribution/graph-json.js";
import { graphPayload, graphText, type AttributionGraphOptions, type GraphPayload } from "../plots/circuits/attribution-layout.js";
import { readFileSync } from "node:fs";

let fallbackScript: string | undefined;

/** graph-prune.js and attribution-graph.js as one classic script (no module syntax in them). */
function viewScript(): string {
  fallbackScript ??= ["graph-prune", "attribution-graph"]
    .map((n) => readFileSync(new URL(`../../../widgets/${n}.js`, import.meta.url), "utf8").replace(/^[ \t]*\/\/.*\n/gm, ""))
    .join("\n");
  return fallbackScript;
}

/**
 * An attribution graph's interactive view: hover a node for its card, click to pin, group pinned nodes
 * into a supernode, move the node threshold; `pinned`, `supernodes` and `nodeThreshold` follow the page.
 * @example
 * const view = fl.plot.attributionGraph(graph, { nodeThreshold: 0.8 });
 * view.onPin((ids) => console.log("pinned", ids));
 * fl.show(view);
 */
export class AttributionGraphWidget extends AnyWidget {
  readonly graph: AttributionGraph;
  readonly payload: GraphPayload;
  private readonly packed: Uint8Array;

  constructor(graph: AttributionGraph, opts: AttributionGraphOptions = {}) {
    const payload = graphPayload(graph, opts);
    const packed = gzipSync(strToU8(JSON.stringify(payload)), { level: 6, mtime: 0 });
    super({
      esm: esmOf("attribution-graph-widget", "attribution-graph", "graph-prune"),
      name: "AttributionGraph",
      traits: [
        { name: "graph", type: "bytes", default: null },
        { name: "node_threshold", type: "float", default: 0.8 },
        { name: "pinned", type: "array", default: [], items: { type: "string" } },
        { name: "supernodes", type: "array", default: [], items: { type: "array" } },
      ],
      init: { graph: packed, node_threshold: payload.nodeThreshold },
    });
    this.graph = graph;
    this.payload = payload;
    this.packed = packed;
  }

  /** The node threshold on show (the slider's value); setting it re-prunes every view. */
  get nodeThreshold(): number {
    return this.get<number>("node_threshold");
  }
  /** Set nodeThreshold (clamped to the slider's range). */
  set nodeThreshold(t: number) {
    this.set({ node_threshold: Math.min(Math.max(t, this.payload.minNodeThreshold), this.payload.maxNodeThreshold) });
  }

  /** circuit-tracer node ids of the pinned nodes, in the order they were pinned. */
  get pinned(): string[] {
    return this.get<string[]>("pinned");
  }
  /** Set pinned (every view follows). */
  set pinned(ids: string[]) {
    this.set({ pinned: ids });
  }

  /** Supernodes: a name, then the node ids it groups. */
  get supernodes(): string[][] {
    return this.get<string[][]>("supernodes");
  }
  /** Set supernodes (every view follows). */
  set supernodes(groups: string[][]) {
    this.set({ supernodes: groups });
  }

  /**
   * Call `handler` with the pinned node ids whenever the page pins or unpins a node.
   * @example
   * const circuit = fl.plot.attributionGraph(graph);
   * circuit.onPin((ids) => console.log(ids.length, "nodes pinned"));
   */
  onPin(handler: (ids: string[]) => void | Promise<void>): this {
    return this.observe<string[]>(({ new: ids }) => handler(ids), "pinned");
  }

  /**
   * circuit-tracer's graph file of the graph as shown: pruned at the current node threshold, with the pinned nodes and supernodes in its query state.
   * @example
   * const circuit = fl.plot.attributionGraph(graph);
   * fl.show(circuit);   // pin nodes, group them, move the threshold in the page; then:
   * const json = circuit.toCircuitTracerJson({ slug: "my-circuit", scan: "tiny-clt" });
   */
  toCircuitTracerJson(opts: Partial<CircuitTracerJsonOptions> = {}): CircuitTracerGraph {
    return circuitTracerJson(this.graph, {
      slug: this.payload.metadata.slug,
      scan: this.payload.metadata.scan,
      nodeThreshold: this.nodeThreshold,
      edgeThreshold: this.payload.edgeThreshold,
      pinnedIds: this.pinned,
      supernodes: this.supernodes,
      ...opts,
    });
  }

  /**
   * @internal The view drawn by an inline script, for pages without a widget manager: the payload as the
   * same gzip'd bytes (base64), so the page holds it at the widget state's size.
   */
  override fallbackHtml(): string {
    const id = newDisplayId();
    const state = { node_threshold: this.nodeThreshold, pinned: this.pinned, supernodes: this.supernodes };
    const bytes = Buffer.from(this.packed).toString("base64");
    return (
      `<div id="${id}" class="featurelab-attribution-graph-host" style="min-height:${this.payload.height + 60}px"></div>` +
      `<script>(function(){${viewScript().replace(/<\/script/gi, "<\\/script")}\n` +
      `var state=${jsonForScript(state)};state.graph=Uint8Array.from(atob("${bytes}"),function(c){return c.charCodeAt(0)});` +
      `featurelabAttributionGraph(document.getElementById(${JSON.stringify(id)}),featurelabStaticModel(state));})();</script>`
    );
  }

  /** The widget view in a kernel with comms; outside one, the HTML view and text. */
  override toMimeBundle(): MimeBundle {
    if (kernel()?.openComm !== undefined) return super.toMimeBundle();
    return { "text/html": this.fallbackHtml(), "text/plain": this.toString() };
  }

  override toString(): string {
    return graphText(this.payload);
  }
}

/**
 * An attribution graph's interactive view (also what a graph shows as a cell's last expression).
 * @example
 * fl.show(fl.plot.attributionGraph(graph, { nodeThreshold: 0.7, title: "induction" }));
 */
export function attributionGraph(graph: AttributionGraph, opts: AttributionGraphOptions = {}): AttributionGraphWidget {
  return new AttributionGraphWidget(graph, opts);
}
