// The bridge to the notebook kernel. featurelab's kernel launcher puts a `display` function on
// globalThis; outside a kernel there is none and displays fall back to text.

interface KernelBridge {
  display(content: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: { display_id?: string } }, update: boolean): void;
}

const BRIDGE = "__featurelab_kernel__";

export function kernel(): KernelBridge | undefined {
  return (globalThis as Record<string, unknown>)[BRIDGE] as KernelBridge | undefined;
}

export function inKernel(): boolean {
  return kernel() !== undefined;
}

let counter = 0;
export function newDisplayId(): string {
  return `fl-${process.pid.toString(36)}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

/** Send a bundle to the notebook; with an id, later calls with update=true replace it in place. */
export function sendBundle(data: Record<string, unknown>, opts: { displayId?: string; update?: boolean } = {}): boolean {
  const k = kernel();
  if (!k) return false;
  k.display({ data, metadata: {}, transient: opts.displayId ? { display_id: opts.displayId } : {} }, opts.update ?? false);
  return true;
}
