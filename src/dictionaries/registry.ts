// Maps an architecture name to its implementation; one file per architecture.
import type { Architecture } from "./architecture.js";
import { relu } from "./relu.js";

const registry = new Map<string, Architecture>([["relu", relu]]);

export function architecture(name: string): Architecture {
  const arch = registry.get(name);
  if (!arch) throw new Error(`featurelab: unknown dictionary architecture '${name}'; known: ${[...registry.keys()].join(", ")}`);
  return arch;
}

export function architectures(): string[] {
  return [...registry.keys()];
}
