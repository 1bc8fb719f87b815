// fl.show(x): display any result in the notebook (or as text outside one).
import { represent } from "./represent.js";
import { sendBundle } from "./kernel.js";

export function show(...values: unknown[]): void {
  for (const x of values) {
    const bundle = represent(x);
    if (!sendBundle(bundle)) console.log(String(bundle["text/plain"] ?? x));
  }
}
