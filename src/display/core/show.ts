// fl.show(x): display any result in the notebook (or as text outside one).
import { represent } from "./represent.js";
import { sendBundle } from "./kernel.js";

/**
 * Display values in the notebook, each as its richest representation (figures, tables, dictionaries, sets); outside a notebook, print their text.
 * @example
 * fl.show(acts, sae.metrics(acts));
 */
export function show(...values: unknown[]): void {
  for (const x of values) {
    const bundle = represent(x);
    if (!sendBundle(bundle)) console.log(String(bundle["text/plain"] ?? x));
  }
}
