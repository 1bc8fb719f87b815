// A cross-layer transcoder's weights as per-layer float64 blocks, the form attribution works in:
// W_enc^l [d, n], b_enc^l, θ^l, W_dec^{l→l'} [n, d] for l' ≥ l (only l' = l for per-layer
// transcoders), b_dec^l'. The dictionary holds them side by side (dictionaries/cross-layer-transcoder.ts).
import type { Dictionary } from "../../dictionaries/dictionary.js";
import { cltLayout } from "../../dictionaries/cross-layer-transcoder.js";
import { InputError } from "../../io/errors.js";

export interface CltBlocks {
  nLayers: number;
  /** Features per layer. */
  n: number;
  /** Residual width (each layer's input and output). */
  d: number;
  crossLayer: boolean;
  /** W_enc^l, row-major [d, n]. */
  encoders: Float64Array[];
  bEnc: Float64Array[];
  /** ReLU(θ^l): a feature fires when its pre-activation is strictly above. */
  thresholds: Float64Array[];
  /** decoders[l][l' − l]: W_dec^{l→l'}, row-major [n, d]. */
  decoders: Float64Array[][];
  bDec: Float64Array[];
}

/** The blocks of a "clt" dictionary (an error naming what it is, for any other). */
export function cltBlocks(clt: Dictionary): CltBlocks {
  if (clt.arch.name !== "clt") {
    throw new InputError(undefined, `attribution needs a cross-layer transcoder (fl.dictionary("clt", …)); this dictionary is '${clt.arch.name}'`);
  }
  const L = clt.arch.options.nLayers as number;
  const crossLayer = clt.arch.options.crossLayer !== false;
  const W_enc = clt.params.W_enc, W_dec = clt.params.W_dec;
  const [dInTotal, width] = W_enc.shape as [number, number];
  const dOutTotal = W_dec.shape[1] as number;
  const k = cltLayout(L, crossLayer, dInTotal, width, dOutTotal);
  if (k.dIn !== k.dOut) throw new InputError(undefined, `attribution: the transcoder reads ${k.dIn} and writes ${k.dOut} dimensions per layer; both must be the residual width`);
  const { n, dIn: d } = k;
  const enc = W_enc.dataSync(), dec = W_dec.dataSync();
  const bEnc = clt.params.b_enc.dataSync(), bDec = clt.params.b_dec.dataSync(), theta = clt.params.threshold.dataSync();
  const out: CltBlocks = { nLayers: L, n, d, crossLayer, encoders: [], bEnc: [], thresholds: [], decoders: [], bDec: [] };
  for (let l = 0; l < L; l++) {
    const e = new Float64Array(d * n);
    for (let r = 0; r < d; r++) for (let i = 0; i < n; i++) e[r * n + i] = enc[(l * d + r) * width + l * n + i];
    out.encoders.push(e);
    out.bEnc.push(Float64Array.from(bEnc.subarray(l * n, (l + 1) * n)));
    out.thresholds.push(Float64Array.from(theta.subarray(l * n, (l + 1) * n), (t) => Math.max(0, t)));
    out.bDec.push(Float64Array.from(bDec.subarray(l * d, (l + 1) * d)));
    const rows: Float64Array[] = [];
    for (let m = l; m < (crossLayer ? L : l + 1); m++) {
      const w = new Float64Array(n * d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) w[i * d + j] = dec[(l * n + i) * dOutTotal + m * d + j];
      rows.push(w);
    }
    out.decoders.push(rows);
  }
  return out;
}
