// Options objects: every public entry that takes one refuses a key it does not read, naming the key
// and the option most likely meant, before it does any work. A misspelt option is never ignored.

/**
 * The option names of an options type, checked both ways by the compiler: a name the type lacks is an
 * excess property, a name of the type left out is a missing one.
 * `const FIT_OPTIONS = optionNames<FitOptions>({ steps: true, batchSize: true, … })`.
 */
export function optionNames<T extends object>(names: { readonly [K in keyof T]-?: true }): readonly Extract<keyof T, string>[] {
  return Object.freeze(Object.keys(names)) as readonly Extract<keyof T, string>[];
}

/**
 * Refuses keys of `opts` that `known` does not list:
 * "featurelab: fit: unknown option 'step' — did you mean 'steps'? Its options are: steps, batchSize, …."
 * The nearest name (edit distance, ignoring case) is suggested when it is close; `knownText` replaces
 * the list of options where a sentence says it better. `opts` undefined or null passes (no options);
 * anything else that is not a plain object is refused.
 */
export function rejectUnknownOptions(entry: string, opts: unknown, known: readonly string[], knownText?: string): void {
  if (opts === undefined || opts === null) return;
  if (typeof opts !== "object" || Array.isArray(opts)) {
    throw new Error(`featurelab: ${entry}: the options must be an object { … }, got ${Array.isArray(opts) ? "an array" : typeof opts}`);
  }
  const unknown = Object.keys(opts).filter((k) => !known.includes(k));
  if (unknown.length === 0) return;
  const list = knownText ?? (known.length ? `its options are: ${known.join(", ")}` : "it takes no options");
  const tail = `${list[0].toUpperCase()}${list.slice(1)}.`;
  if (unknown.length === 1) {
    const near = nearestName(unknown[0], known);
    throw new Error(`featurelab: ${entry}: unknown option '${unknown[0]}'${near ? ` — did you mean '${near}'? ` : ". "}${tail}`);
  }
  const named = unknown.map((k) => {
    const near = nearestName(k, known);
    return near ? `'${k}' (did you mean '${near}'?)` : `'${k}'`;
  });
  throw new Error(`featurelab: ${entry}: unknown options ${named.join(", ")}. ${tail}`);
}

/**
 * The name in `known` closest to `name` (ignoring case), if it is close enough to be a slip: a few
 * edits away (more for longer names), or else a name that begins with it or that it begins with
 * ('oneHot' → 'oneHotEmbed').
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const a = name.toLowerCase();
  const allowed = a.length <= 3 ? 1 : a.length <= 6 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const k of known) {
    const d = editDistance(a, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best ?? known.find((k) => Math.min(a.length, k.length) >= 4 && (k.toLowerCase().startsWith(a) || a.startsWith(k.toLowerCase())));
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1, cols = b.length + 1;
  const d = new Uint16Array(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j] + 1, d[i * cols + j - 1] + 1, d[(i - 1) * cols + j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2] + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1];
}
