/** An error about a user's input file: always names the file and says what is wrong with it. */
export class InputError extends Error {
  readonly file: string | undefined;
  constructor(file: string | undefined, problem: string) {
    super(file === undefined ? `featurelab: ${problem}` : `featurelab: ${file}: ${problem}`);
    this.name = "InputError";
    this.file = file;
  }
}

/**
 * Refuses option names `known` does not list: "featurelab: {what}: unknown option 'x'; {knownText}",
 * knownText defaulting to "its options are a, b, c". A misspelt option is an error, never ignored.
 */
export function rejectUnknownOptions(what: string, opts: object, known: readonly string[], knownText = `its options are ${known.join(", ")}`): void {
  const unknown = Object.keys(opts).filter((k) => !known.includes(k));
  if (unknown.length) throw new Error(`featurelab: ${what}: unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")}; ${knownText}`);
}
