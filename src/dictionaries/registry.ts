// Maps an architecture name to the factory that makes it from a spec's options; one file per architecture.
import type { Architecture, ArchitectureFactory } from "./architecture.js";
import { relu } from "./relu.js";
import { jumprelu } from "./jumprelu.js";
import { gated } from "./gated.js";
import { topk } from "./topk.js";
import { batchtopk } from "./batchtopk.js";
import { matryoshka } from "./matryoshka.js";
import { transcoder, skipTranscoder } from "./transcoder.js";
import { crossLayerTranscoder } from "./cross-layer-transcoder.js";

const registry = new Map<string, ArchitectureFactory>([relu, jumprelu, gated, topk, batchtopk, matryoshka, transcoder, skipTranscoder, crossLayerTranscoder].map((f) => [f.archName, f]));

export function architecture(name: string, options: Record<string, unknown> = {}): Architecture {
  return factory(name)(options);
}

export function factory(name: string): ArchitectureFactory {
  const f = registry.get(name);
  if (!f) throw new Error(`featurelab: unknown dictionary architecture '${name}'; known: ${[...registry.keys()].join(", ")}`);
  return f;
}

/**
 * The architecture names `fl.dictionary` accepts.
 * @example
 * fl.architectures();   // ["relu", "topk", "batchtopk", …]
 */
export function architectures(): string[] {
  return [...registry.keys()];
}

/** The featurelab architecture that a SAELens cfg.json names, if any. */
export function fromSaeLensName(saeLensName: string): ArchitectureFactory | undefined {
  return [...registry.values()].find((f) => f.saeLensName === saeLensName);
}
