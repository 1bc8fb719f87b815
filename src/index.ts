// featurelab's public API: everything a notebook imports, and nothing else.
import { setProgressFactory, terminalProgress } from "./training/progress.js";
import { notebookProgress } from "./display/progress-display.js";
import { geometryPlot } from "./display/geometry-plot.js";
import { ablationPlot } from "./display/ablation-plot.js";
import { frontierPlot } from "./display/frontier-plot.js";
import { historyPlot } from "./display/history-plot.js";
import { embeddingPlot } from "./display/embedding-plot.js";
import { superpositionPlot, dimensionalityPlot } from "./display/superposition-plot.js";
import { similarityPlot } from "./display/cka-plot.js";
import { rdmPlot } from "./display/rdm-plot.js";
import { modelComparisonPlot } from "./display/rsa-plot.js";
import { sharkeyToyData } from "./data/synthetic.js";
import { ActivationStream } from "./data/stream.js";

// Training progress: an in-place display inside a notebook kernel, a bar on a terminal.
setProgressFactory(() => notebookProgress() ?? terminalProgress());

export { ready, engine, tf, type EngineInfo } from "./engine/backend.js";
export { Rng } from "./engine/random.js";
export { ActivationSet, GroupedActivationSet, fromVectors, type Metadata, type Normalization } from "./data/activation-set.js";
export { load, type LoadOptions } from "./data/load.js";
export { ActivationStream } from "./data/stream.js";
export type { NonFinitePolicy } from "./data/finite.js";
export { InputError } from "./io/errors.js";
export type { SharkeyOptions, ToyData } from "./data/synthetic.js";
export { Dictionary, type DictionaryConfig, type DictionaryWeights, type TrainingRecord } from "./dictionaries/dictionary.js";
export { Codes } from "./dictionaries/codes.js";
export { loadDictionary } from "./dictionaries/saelens-folder.js";
export { architectures } from "./dictionaries/registry.js";
export { dictionary, DictionarySpec, type DictionaryOptions } from "./training/spec.js";
export { lastFit, type FitOptions } from "./training/fit.js";
export type { ProgressSink, ProgressState } from "./training/progress.js";
export { mmcs, bestMatches, type Directions, type BestMatches } from "./metrics/mmcs.js";
export type { ReconstructionMetrics } from "./metrics/reconstruction.js";
export { pca, type Projection } from "./geometry/pca.js";
export type { Embedding } from "./geometry/embedding.js";
export type { Rows } from "./geometry/rows.js";
export { classicalMds, metricMds, type Dissimilarities, type ClassicalMds, type ClassicalMdsOptions, type MetricMds, type MetricMdsOptions } from "./geometry/mds.js";
export { umap, type UmapOptions, type UmapEmbedding } from "./geometry/umap.js";
export { cka, ckaLinear, ckaRbf, ckaMatrix, type CkaOptions, type CkaKind, type CkaMatrix } from "./geometry/cka.js";
export {
  decoderCosine,
  decoderNeighbors,
  nearestFeatures,
  clusterFeatures,
  featureSplitting,
  mmcsMatrix,
  type Features,
  type CosineMatrix,
  type FeatureNeighbors,
  type FeatureClusters,
  type ClusterOptions,
  type FeatureSplitting,
  type MmcsMatrix,
} from "./geometry/decoder-geometry.js";
export { featureDimensionality, dimensionsPerFeature, type FeatureDirections } from "./geometry/superposition.js";
export { toySuperposition, ToySuperposition, type ToySuperpositionOptions, type ToyTrainingRecord } from "./models/toy-superposition.js";
export type { EmbeddingPlotOptions } from "./display/embedding-plot.js";
export type { SuperpositionPlotOptions, DimensionalityPlotOptions } from "./display/superposition-plot.js";
export { ablateFeatures, type FeatureAblation, type FeatureAblationOptions, type FeatureAblationRow } from "./ablation/feature-ablation.js";
export { show } from "./display/show.js";
export { represent } from "./display/represent.js";
export { Figure, type FigureSpec } from "./display/plotly.js";
export { TableView } from "./display/table.js";
export type { MimeBundle, Displayable } from "./display/bundle.js";
export type { GeometryPlotOptions } from "./display/geometry-plot.js";
export type { FrontierPoint } from "./display/frontier-plot.js";
export { rdm, RDM, categoricalRdm, type DistanceMethod, type RdmOptions, type RdmInit } from "./geometry/rdm.js";
export type { PatternInput } from "./geometry/patterns.js";
export { compareRdms, RdmComparisons, COMPARE_METHODS, type CompareMethod, type CompareOptions, type RdmCollection } from "./geometry/compare-rdms.js";
export { noiseCeiling, bootstrapCompare, permutationTest, poolRdms, ModelComparison, PermutationTest, type NoiseCeiling, type BootstrapOptions } from "./geometry/rsa-inference.js";
export { covFromResiduals, precFromResiduals, type CovarianceMethod, type ResidualOptions } from "./geometry/noise-precision.js";
export type { RdmPlotOptions } from "./display/rdm-plot.js";
export type { ModelComparisonPlotOptions } from "./display/rsa-plot.js";

/** Open activations too large for memory (Arrow IPC file, Parquet file or folder) to stream them. */
export const open = ActivationStream.open;

/** Synthetic data with known ground truth. */
export const toy = {
  /** Sharkey et al. 2022: sparse nonnegative combinations of unit-norm Gaussian directions. */
  sharkey: sharkeyToyData,
};

/** Figures: each returns a Figure to pass to fl.show. */
export const plot = {
  /** Decoder rows projected to 2-D, coloured by firing density. */
  geometry: geometryPlot,
  /** Increase in reconstruction error per ablated feature. */
  ablation: ablationPlot,
  /** L0 against FVU, one line per family of dictionaries. */
  frontier: frontierPlot,
  /** Loss, L0, FVU and dead fraction during training. */
  history: historyPlot,
  /** A 2-D embedding (MDS, UMAP, PCA) coloured and labelled by metadata. */
  embedding: embeddingPlot,
  /** Toy models of superposition: feature directions (columns of W) per sparsity — the pentagon. */
  superposition: superpositionPlot,
  /** Feature dimensionality D_i against 1/(1−S), with ¾, ⅔, ½, ⅖, ⅜ marked. */
  dimensionality: dimensionalityPlot,
  /** CKA between representations (ckaMatrix) or MMCS between dictionaries (mmcsMatrix) as a heatmap. */
  cka: similarityPlot,
  /** An RDM (or several) as a labelled heatmap. */
  rdm: rdmPlot,
  /** Models' comparisons with data RDMs: bars, bootstrap intervals, noise-ceiling band. */
  modelComparison: modelComparisonPlot,
};
