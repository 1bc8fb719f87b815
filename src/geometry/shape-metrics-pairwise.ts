// Shape distances between every pair of many networks (netrep's pairwise_distances), as an RDM whose
// conditions are the networks — so fl.show draws it and classicalMds embeds the networks in a "shape
// space". Each network is centred (and, for α < 1, rotated into its covariance eigenbasis) once.
import { InputError } from "../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";
import type { Rows } from "./rows.js";
import { RDM } from "./rdm.js";
import { upperTriangle } from "./pattern-distances.js";
import { prepareRows, linearAligned, permutationAligned, scoreAligned, shapeSettings, type ShapeDistanceOptions } from "./shape-metrics.js";

/** Options of `shapeDistances`. */
export interface ShapeDistancesOptions extends ShapeDistanceOptions {
  /** "linear" (default; netrep's LinearMetric, with alpha) or "permutation" (netrep's PermutationMetric). */
  metric?: "linear" | "permutation";
  /** A name for the RDM. */
  name?: string;
}

const SHAPE_DISTANCES_OPTIONS = optionNames<ShapeDistancesOptions>({ metric: true, alpha: true, score: true, center_columns: true, zero_pad: true, name: true });

/**
 * The shape distance between every pair of networks' representations of the same stimuli, as an RDM of
 * networks (labels = the names, or "0", "1", … for an array). Options as `shapeDistance`, plus
 * `metric: "permutation"` for netrep's PermutationMetric (alpha does not apply).
 * @example
 * const D = fl.shapeDistances({ net1: layer0, net2: layer1, net3: layer3 }, { alpha: 0.5 });
 * fl.show(D);
 * const shapeSpace = fl.classicalMds(D);
 */
export function shapeDistances(reps: Record<string, Rows> | Rows[], opts: ShapeDistancesOptions = {}): RDM {
  rejectUnknownOptions("shapeDistances", opts, SHAPE_DISTANCES_OPTIONS);
  const metric = opts.metric ?? "linear";
  if (metric !== "linear" && metric !== "permutation") throw new InputError(undefined, `shapeDistances: metric must be "linear" or "permutation", got ${JSON.stringify(metric)}`);
  if (metric === "permutation" && opts.alpha !== undefined) throw new InputError(undefined, "shapeDistances: alpha applies to the linear metric; the permutation metric takes none");
  const s = shapeSettings(opts, "shapeDistances");
  const entries: [string, Rows][] = Array.isArray(reps) ? reps.map((r, i) => [String(i), r]) : Object.entries(reps);
  if (entries.length < 2) throw new InputError(undefined, `shapeDistances: needs at least 2 networks, got ${entries.length}`);
  const prepared = entries.map(([name, r]) => prepareRows(r, `shapeDistances: network '${name}'`, s.center_columns));
  const first = prepared[0];
  prepared.forEach((p, i) => {
    if (p.n !== first.n) throw new InputError(undefined, `shapeDistances: network '${entries[i][0]}' is ${p.shape} and '${entries[0][0]}' is ${first.shape}; all need the same rows (stimuli) in the same order`);
    if (!s.zero_pad && p.p !== first.p) throw new InputError(undefined, `shapeDistances: network '${entries[i][0]}' is ${p.shape} and '${entries[0][0]}' is ${first.shape}; with zero_pad false all need the same number of columns`);
  });
  const vector = upperTriangle(prepared.length, (i, j) => {
    const al = metric === "linear" ? linearAligned(prepared[i], prepared[j], s.alpha) : permutationAligned(prepared[i], prepared[j]);
    return scoreAligned(al, s.score, `shapeDistances: '${entries[i][0]}' vs '${entries[j][0]}'`);
  });
  const measure = metric === "linear" ? `${s.score} shape distance (alpha ${s.alpha})` : `${s.score} permutation distance`;
  return new RDM(vector, {
    labels: entries.map(([name]) => name),
    dissimilarityMeasure: measure,
    name: opts.name,
    descriptors: { metric, ...(metric === "linear" ? { alpha: s.alpha } : {}), score: s.score, center_columns: s.center_columns, zero_pad: s.zero_pad, stimuli: first.n },
  });
}
