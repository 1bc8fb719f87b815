// Feature activations of a dictionary on an ActivationSet: one row per input row, one column per
// feature. Held dense (rows × width Float32Array); density and L0 read straight off it.
export class Codes {
  readonly values: Float32Array;
  readonly numRows: number;
  readonly width: number;

  constructor(values: Float32Array, numRows: number, width: number) {
    if (values.length !== numRows * width) {
      throw new Error(`featurelab: Codes needs ${numRows}×${width} values, got ${values.length}`);
    }
    this.values = values;
    this.numRows = numRows;
    this.width = width;
  }

  /** Fraction of rows on which each feature is nonzero. */
  density(): Float64Array {
    const counts = new Float64Array(this.width);
    const { values, width } = this;
    for (let r = 0; r < this.numRows; r++) {
      const off = r * width;
      for (let i = 0; i < width; i++) if (values[off + i] !== 0) counts[i]++;
    }
    return counts.map((c) => c / this.numRows);
  }

  /** Mean number of nonzero features per row. */
  l0(): number {
    let n = 0;
    for (const v of this.values) if (v !== 0) n++;
    return n / this.numRows;
  }

  /** Activations of one feature over all rows. */
  feature(i: number): Float32Array {
    if (!(i >= 0 && i < this.width)) throw new RangeError(`featurelab: feature ${i} out of range 0..${this.width - 1}`);
    const out = new Float32Array(this.numRows);
    for (let r = 0; r < this.numRows; r++) out[r] = this.values[r * this.width + i];
    return out;
  }

  /** The k most frequently firing features, most frequent first (ties: lower id first). */
  mostFrequent(k: number): number[] {
    const d = this.density();
    return Array.from(d.keys())
      .sort((a, b) => d[b] - d[a] || a - b)
      .slice(0, k);
  }

  toString(): string {
    return `Codes(${this.numRows} rows × ${this.width} features, L0 ${this.l0().toFixed(2)})`;
  }
}
