/** An error about a user's input file: always names the file and says what is wrong with it. */
export class InputError extends Error {
  readonly file: string | undefined;
  constructor(file: string | undefined, problem: string) {
    super(file === undefined ? `featurelab: ${problem}` : `featurelab: ${file}: ${problem}`);
    this.name = "InputError";
    this.file = file;
  }
}
