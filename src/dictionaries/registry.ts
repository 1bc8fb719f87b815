// Maps an architecture name to the factory that makes it from a spec's options; one file per architecture.
import type { Architecture, ArchitectureFactory } from "./architecture.js";
import { relu } from "./relu.js";

const registry = new Map<string, ArchitectureFactory>([relu].map((f) => [f.archName, f]));

export function architecture(name: string, options: Record<string, unknown> = {}): Architecture {
  return factory(name)(options);
}

export function factory(name: string): ArchitectureFactory {
  const f = registry.get(name);
  if (!f) throw new Error(`featurelab: unknown dictionary architecture '${name}'; known: ${[...registry.keys()].join(", ")}`);
  return f;
}

export function architectures(): string[] {
  return [...registry.keys()];
}

/** The featurelab architecture that a SAELens cfg.json names, if any. */
export function fromSaeLensName(saeLensName: string): ArchitectureFactory | undefined {
  return [...registry.values()].find((f) => f.saeLensName === saeLensName);
}
