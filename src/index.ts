// featurelab's public API: everything a notebook imports, and nothing else.
import { setProgressFactory, terminalProgress } from "./training/progress.js";
import { notebookProgress } from "./display/core/progress-display.js";
import { widgetProgress } from "./display/widgets/training-view.js";
import "./display/widgets/live-views.js"; // in a kernel, figures display as live widgets
import { geometryPlot } from "./display/plots/features/geometry-plot.js";
import { ablationPlot } from "./display/plots/ablation/ablation-plot.js";
import { frontierPlot } from "./display/plots/features/frontier-plot.js";
import { descriptionLengthPlot } from "./display/plots/features/description-length-plot.js";
import { historyPlot } from "./display/plots/features/history-plot.js";
import { embeddingPlot } from "./display/plots/features/embedding-plot.js";
import { superpositionPlot, dimensionalityPlot } from "./display/plots/features/superposition-plot.js";
import { similarityPlot } from "./display/plots/geometry/cka-plot.js";
import { rdmPlot } from "./display/plots/geometry/rdm-plot.js";
import { rdmMdsPlot } from "./display/plots/geometry/rdm-mds-plot.js";
import { modelComparisonPlot } from "./display/plots/geometry/rsa-plot.js";
import { eigenSpectrumPlot } from "./display/plots/geometry/eigen-spectrum-plot.js";
import { barcodePlot, persistenceDiagramPlot } from "./display/plots/geometry/persistence-plot.js";
import { ablationHeatmap } from "./display/plots/ablation/ablation-heatmap.js";
import { suppressionPlot } from "./display/plots/features/suppression-plot.js";
import { comparisonPlot, e2eTrainingPlot } from "./display/plots/features/dictionary-comparison-plot.js";
import { circuitGraph, contributionsPlot } from "./display/plots/circuits/circuit-plot.js";
import { qkHistoryPlot, qkPairsPlot } from "./display/plots/circuits/qk-plot.js";
import { inductionSequences } from "./models/induction-task.js";
import { skipTrigrams } from "./circuits/gated-attention/skip-trigrams.js";
import { trigramHeadsPlot, gatedHistoryPlot } from "./display/plots/circuits/gated-attention-plot.js";
import { ablateUnits, splice, steer, scale } from "./ablation/edits.js";
import { sharkeyToyData } from "./data/synthetic.js";
import { ActivationStream } from "./data/stream.js";
import { Dictionary as DictionaryClass } from "./dictionaries/dictionary.js";
import { dashboard as dashboardOf } from "./display/plots/features/feature-dashboard.js";
import { AttributionGraph as AttributionGraphClass } from "./circuits/attribution/attribution-graph.js";
import { attributionGraph as attributionGraphView } from "./display/widgets/attribution-graph-widget.js";
import { circuitTracerJson as circuitTracerJsonOf } from "./circuits/attribution/graph-json.js";

// Training progress: an in-place display inside a notebook kernel, a bar on a terminal.
// In a kernel, a live widget (updated through its state) comes first.
setProgressFactory(() => widgetProgress() ?? notebookProgress() ?? terminalProgress());

export { ready, engine, tf, type EngineInfo } from "./engine/backend.js";
export { Rng } from "./engine/random.js";
export { ActivationSet, GroupedActivationSet, fromVectors, type FromVectorsOptions, type Metadata, type Normalization } from "./data/activation-set.js";
export { sideBySide } from "./data/paired.js";
export { load, type LoadOptions } from "./data/load.js";
export { sql, type SqlOptions, type SqlSource, type SparseCodes } from "./data/sql.js";
export { ActivationStream, type OpenOptions } from "./data/stream.js";
export type { NonFinitePolicy } from "./data/finite.js";
export { InputError } from "./io/errors.js";
export type { SharkeyOptions, ToyData } from "./data/synthetic.js";
export { Dictionary, type DictionaryConfig, type DictionaryWeights, type TrainingRecord } from "./dictionaries/dictionary.js";
export { Codes } from "./dictionaries/codes.js";
export { loadDictionary, type LoadDictionaryOptions } from "./dictionaries/load-dictionary.js";
export { architectures } from "./dictionaries/registry.js";
export { dictionary, DictionarySpec, type DictionaryOptions } from "./training/spec.js";
export { lastFit, type FitOptions } from "./training/fit.js";
export type { ProgressSink, ProgressState } from "./training/progress.js";
export { mmcs, bestMatches, type Directions, type BestMatches } from "./metrics/mmcs.js";
export type { ReconstructionMetrics } from "./metrics/reconstruction.js";
export { suppression, Suppression, type SuppressionOptions, type SuppressionRow, type SuppressionGrouping } from "./metrics/suppression.js";
export { finetuneDecoder, FINETUNE_VARIANTS, type FinetuneOptions, type FinetuneVariant } from "./training/finetune-decoder.js";
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
export type { EmbeddingPlotOptions } from "./display/plots/features/embedding-plot.js";
export type { SuperpositionPlotOptions, DimensionalityPlotOptions } from "./display/plots/features/superposition-plot.js";
export { ablateFeatures, type FeatureAblation, type FeatureAblationOptions, type FeatureAblationRow } from "./ablation/feature-ablation.js";
export { Transformer, transformerForward, type TransformerParams, type TransformerInfo } from "./models/transformer.js";
export { Decoder, decoderForward, type DecoderParams } from "./models/decoder.js";
export { type DecoderConfig } from "./models/decoder-config.js";
export type { LanguageModel } from "./models/language-model.js";
export { transformerConfig, type TransformerConfig } from "./models/transformer-config.js";
export { loadModel, type LoadModelOptions } from "./models/load-model.js";
export { hubFile, hubCacheDir, type HubOptions } from "./io/hf-hub.js";
export { hooked, HookedLayersModel } from "./models/layers-model.js";
export { HookedModel, type RunOptions, type RunResult } from "./models/hooked-model.js";
export { ActivationCache } from "./models/activation-cache.js";
export { cacheActivations, type CacheActivationsOptions, type CacheActivationsResult, type CacheInput } from "./models/cache-activations.js";
export type { HookFn, Hooks, HookContext } from "./models/hook-points.js";
export { tokenizer, gpt2Tokenizer, WordLevelTokenizer, type Tokenizer } from "./models/tokenizer.js";
export type { InductionOptions, InductionSequences } from "./models/induction-task.js";
export { ablate, AblationSweep, type AblateSpec, type AblationRow, type AblationUnit, type PositionSelector } from "./ablation/sweep.js";
export { spliceEval, SpliceEvaluation, type SpliceEvalOptions } from "./ablation/splice-eval.js";
export { descriptionLength, descriptionLengthSweep, DescriptionLengthSweep, type DescriptionLengthOptions, type DescriptionLengthRow } from "./ablation/description-length.js";
export { DescriptionLength, type FeatureBits, type GridChoice } from "./metrics/description-length.js";
export type { DescriptionLengthPlotOptions } from "./display/plots/features/description-length-plot.js";
export { trainE2E, type E2EOptions, type E2ETrainingRecord } from "./circuits/e2e/sae.js";
export type { E2ELossKind } from "./circuits/e2e/loss.js";
export { compareDictionaries, DictionaryComparison, type DictionaryComparisonOptions, type ComparisonRow, type MatchedRow } from "./circuits/e2e/dictionary-comparison.js";
export type { ComparisonPlotOptions } from "./display/plots/features/dictionary-comparison-plot.js";
export type { AblationMode, UnitAblationOptions, SpliceOptions, SteerOptions } from "./ablation/edits.js";
export type { MetricName } from "./ablation/logit-metrics.js";
export type { AblationPlotOptions } from "./display/plots/ablation/ablation-plot.js";
export type { AblationHeatmapOptions } from "./display/plots/ablation/ablation-heatmap.js";
export type { SuppressionPlotOptions, SuppressionMetric } from "./display/plots/features/suppression-plot.js";
export { transcoderCircuit, TranscoderCircuit, type TranscoderCircuitOptions, type CircuitEdge, type CircuitFeature, type FeatureRef, type LayerNormHandling } from "./circuits/transcoders/circuit.js";
export { FeatureContributions, type Contribution, type ContributionKind } from "./circuits/transcoders/feature-contributions.js";
export type { TranscoderAt, TranscoderInput } from "./circuits/transcoders/transcoder-set.js";
export { attribute, AttributionGraph, type AttributeOptions, type PruneOptions, type GraphNode, type AttributionStats } from "./circuits/attribution/attribution-graph.js";
export { LocalReplacementModel, type ActiveFeature, type ReplacementOptions, type Readout, type ReadoutGradients, type RunSpec } from "./circuits/attribution/replacement-model.js";
export type { PruneResult, NodeCounts } from "./circuits/attribution/influence.js";
export { circuitTracerJson, writeCircuitTracerFiles, type CircuitTracerJsonOptions, type CircuitTracerGraph, type CircuitTracerNode } from "./circuits/attribution/graph-json.js";
export { AttributionGraphWidget } from "./display/widgets/attribution-graph-widget.js";
export type { AttributionGraphOptions, GraphCardsSource } from "./display/plots/circuits/attribution-layout.js";
export type { FeatureIntervention, InterventionOptions, InterventionResult, InterventionRow } from "./circuits/attribution/intervention.js";
export type { CircuitGraphOptions } from "./display/plots/circuits/circuit-plot.js";
export { qkDictionary, QkDictionary, type QkDictionaryOptions, type QkConfig, type QkTrainingRecord } from "./circuits/qk/dictionary.js";
export { loadQkDictionary } from "./circuits/qk/folder.js";
export { QkMask, type QkMaskOptions, type QkMaskHead } from "./circuits/qk/mask.js";
export { QkPairs, type QkPair, type QkPairExample, type QkPairsOptions, type QkFeatureTokens, type TopToken } from "./circuits/qk/pairs.js";
export type { QkMetrics, QkHeadMetrics } from "./circuits/qk/evaluate.js";
export { QkScoreTerms, type QkScoreTermsValues } from "./circuits/qk/score-terms.js";
export type { SkipTrigramOptions, SkipTrigramData, SkipTrigram, PlantedTrigram } from "./circuits/gated-attention/skip-trigrams.js";
export { trainAttentionOnly, AttentionOnlyModel, type AttentionOnlyOptions, type TaskScore } from "./circuits/gated-attention/attention-only-model.js";
export { gatedAttention, GatedAttention, type GatedAttentionOptions, type GatedAttentionMetrics } from "./circuits/gated-attention/gated-attention.js";
export { trigramHeads, TrigramHeadMap, type TrigramHeadRow } from "./circuits/gated-attention/trigram-heads.js";
export { spd, type SpdOptions } from "./circuits/parameter-decomposition/spd.js";
export { ParameterDecomposition, type SpdTrainingRecord } from "./circuits/parameter-decomposition/decomposition.js";
export { tmsTarget, TmsTarget, type TmsTargetOptions } from "./circuits/parameter-decomposition/tms-target.js";
export { residMlpTarget, ResidMlpTarget, type ResidMlpTargetOptions, type ResidMlpLayer } from "./circuits/parameter-decomposition/resid-mlp-target.js";
export { ResidMlpDecomposition, type AliveOptions, type ResidLossOptions } from "./circuits/parameter-decomposition/resid-mlp-decomposition.js";
export { ComponentDecomposition, type ColumnMatch } from "./circuits/parameter-decomposition/component-decomposition.js";
export { MechanismDescriptionLength, type MechanismBitsOptions, type SubcomponentBits } from "./circuits/parameter-decomposition/mechanism-bits.js";
export type { SpdSigmoid } from "./circuits/parameter-decomposition/causal-importance.js";
export { apd, type ApdOptions } from "./circuits/parameter-decomposition/apd.js";
export { ApdDecomposition, type ApdTrainingRecord } from "./circuits/parameter-decomposition/apd-decomposition.js";
export type { ApdAttributionSource } from "./circuits/parameter-decomposition/apd-attribution.js";
export type { TrigramHeadsPlotOptions } from "./display/plots/circuits/gated-attention-plot.js";
export { show } from "./display/core/show.js";
export * as widgets from "./display/widgets/index.js";
export { clearOutput, input, registerCommTarget, unregisterCommTarget, openComm } from "./display/core/kernel.js";
export { exportNotebook as export, type ExportResult } from "./display/core/export.js";
export { represent } from "./display/core/represent.js";
export { Figure, type FigureSpec } from "./display/core/plotly.js";
export { TableView } from "./display/core/table.js";
export type { MimeBundle, Displayable } from "./display/core/bundle.js";
export type { RdmMdsOptions } from "./display/plots/geometry/rdm-mds-plot.js";
export type { GeometryPlotOptions } from "./display/plots/features/geometry-plot.js";
export { dashboard, FeatureDashboard, logitEffects, type DashboardOptions, type LogitEffect } from "./display/plots/features/feature-dashboard.js";
export type { FrontierPoint } from "./display/plots/features/frontier-plot.js";
export { rdm, RDM, categoricalRdm, type DistanceMethod, type RdmOptions, type RdmInit } from "./geometry/rdm.js";
export type { RankMethod } from "./geometry/rdm-transforms.js";
export type { PatternInput } from "./geometry/patterns.js";
export { compareRdms, RdmComparisons, COMPARE_METHODS, type CompareMethod, type CompareOptions, type RdmCollection } from "./geometry/compare-rdms.js";
export { noiseCeiling, bootstrapCompare, permutationTest, poolRdms, ModelComparison, PermutationTest, type NoiseCeiling, type BootstrapOptions } from "./geometry/rsa-inference.js";
export { covFromResiduals, precFromResiduals, type CovarianceMethod, type ResidualOptions } from "./geometry/noise-precision.js";
export type { RdmPlotOptions } from "./display/plots/geometry/rdm-plot.js";
export type { ModelComparisonPlotOptions } from "./display/plots/geometry/rsa-plot.js";
export {
  shapeDistance,
  permutationDistance,
  buresSimilarity,
  buresDistance,
  type ShapeScore,
  type ShapeDistanceOptions,
  type PermutationDistanceOptions,
  type BuresSimilarityOptions,
  type BuresDistanceOptions,
} from "./geometry/shape-metrics.js";
export { shapeDistances, type ShapeDistancesOptions } from "./geometry/shape-metrics-pairwise.js";
export { linearSumAssignment, type AssignmentOptions, type Assignment, type CostMatrix } from "./geometry/linear-assignment.js";
export { cca, svcca, pwcca, type CcaInput, type CcaOptions, type SvccaOptions, type CcaResult } from "./geometry/cca.js";
export { linearPredictivity, type LinearPredictivityOptions, type PredictivityResult } from "./geometry/predictivity.js";
export { hankelDmd, type Trajectories, type HankelDmdOptions, type HankelDmd } from "./geometry/hankel-dmd.js";
export { dsa, similarityTransformDist, type DsaScore, type DsaOptions, type SimilarityTransformOptions, type SimilarityTransformResult } from "./geometry/dsa.js";
export { persistence, type PersistenceOptions, type PersistenceResult, type PersistencePair, type PersistenceMetric } from "./geometry/persistence.js";
export type { PersistencePlotOptions } from "./display/plots/geometry/persistence-plot.js";
export type { Spectrum, EigenSpectrumOptions } from "./display/plots/geometry/eigen-spectrum-plot.js";
export {
  RsaModel,
  ModelFixed,
  ModelSelect,
  ModelWeighted,
  ModelInterpolate,
  fitMock,
  fitSelect,
  fitInterpolate,
  fitRegress,
  fitRegressNn,
  fitOptimize,
  fitOptimizePositive,
  type Fitter,
  type ModelFitOptions,
} from "./geometry/rsa-models.js";
export { RsaResult, evalFixed, crossval, setsKFold, setsLeaveOneOut, type RsaCvMethod, type EvalFixedOptions, type CrossvalSet, type CrossvalOptions, type SetsKFoldOptions, type SetsLeaveOneOutOptions } from "./geometry/rsa-crossval.js";
export { bootstrapCrossval, evalDualBootstrap, type BootstrapSample, type BootstrapCrossvalOptions, type EvalDualBootstrapOptions } from "./geometry/rsa-bootstrap-crossval.js";
export {
  studentTCdf,
  tTestsPairwise,
  tTestZero,
  tTestNoiseCeiling,
  bootstrapPairTests,
  extractVariances,
  significantPairs,
  fdrAdjust,
  bonferroniAdjust,
  type Evaluations,
  type EvaluationVariances,
  type ExtractVariancesOptions,
  type MultipleTesting,
} from "./geometry/rsa-tests.js";

/**
 * Open activations too large for memory (Arrow IPC file, Parquet file or folder) to stream them.
 * @example
 * const stream = await fl.open("resid.arrow", { vector: "resid" });
 * const sae = await fl.dictionary("relu", { width: 4096, l1: 5 }).fit(stream, { steps: 10_000 });
 */
export const open = ActivationStream.open;

/**
 * Synthetic data with known ground truth.
 * @example
 * const { acts, features } = fl.toy.sharkey({ rows: 16384, features: 512, dim: 64, seed: 0 });
 * const { tokens } = fl.toy.induction({ n: 64, seed: 0 });
 */
export const toy = {
  /**
   * Sharkey et al. 2022: sparse nonnegative combinations of unit-norm Gaussian directions.
   * @example
   * const { acts, features } = fl.toy.sharkey({ rows: 16384, features: 512, dim: 64, seed: 0 });
   */
  sharkey: sharkeyToyData,
  /**
   * In-context copying: a random span repeated to fill the context (what the shipped tiny transformer learned).
   * @example
   * const { tokens } = fl.toy.induction({ n: 64, seed: 0 });
   */
  induction: inductionSequences,
  /**
   * Skip-trigrams A … B_i → C_i planted in random tokens (Mathwin, Akar & Sharkey's gated-attention task).
   * @example
   * const data = fl.toy.skipTrigrams({ n: 2000, trigrams: 8, seed: 0 });
   */
  skipTrigrams,
};

/**
 * Hook functions that edit activations: `model.run(input, { hooks: { [name]: fl.hooks.splice(sae) } })`.
 * @example
 * const { logits } = await model.run(tokens, { hooks: { "blocks.0.hook_resid_post": fl.hooks.splice(sae) } });
 */
export const hooks = {
  /**
   * Replace the activation by a dictionary's reconstruction (optionally with features ablated, error term kept).
   * @example
   * const edit = fl.hooks.splice(sae, { features: [12, 40], keepError: true });
   * const { logits } = await model.run(tokens, { hooks: { "blocks.0.hook_resid_post": edit } });
   */
  splice,
  /**
   * Zero-, mean- or resample-ablate units: heads (hook_z/q/k/v/pattern), neurons, any axis.
   * @example
   * const edit = fl.hooks.ablate({ units: [0], mode: "mean" });
   * const { logits } = await model.run(tokens, { hooks: { "blocks.1.attn.hook_z": edit } });
   */
  ablate: ablateUnits,
  /**
   * Add scale·direction (activation steering).
   * @example
   * const edit = fl.hooks.steer(direction, { scale: 4 });
   * const { logits } = await model.run(tokens, { hooks: { "blocks.0.hook_resid_post": edit } });
   */
  steer,
  /**
   * Multiply the activation, or some of its units, by a factor.
   * @example
   * const edit = fl.hooks.scale(0, { units: [7] });
   * const { logits } = await model.run(tokens, { hooks: { "blocks.0.mlp.hook_post": edit } });
   */
  scale,
};

/**
 * Figures: each returns a Figure to pass to fl.show.
 * @example
 * fl.show(fl.plot.geometry(sae, { acts }));
 * fl.show(fl.plot.embedding(fl.umap(acts, { seed: 0 }), { acts, color: "label" }));
 */
export const plot = {
  /**
   * Decoder rows projected to 2-D, coloured by firing density.
   * @example
   * fl.show(fl.plot.geometry(sae, { acts }));
   */
  geometry: geometryPlot,
  /**
   * Per ablated unit: increase in reconstruction error (ablateFeatures) or change in CE/KL/logit difference (ablate).
   * @example
   * fl.show(fl.plot.ablation(fl.ablateFeatures(sae, acts, { features: [12, 40], mode: "zero" })));
   */
  ablation: ablationPlot,
  /**
   * An ablation sweep's effect by unit × position.
   * @example
   * const sweep = await fl.ablate(model, "blocks.1.attn.hook_z", { input: tokens, mode: "mean", metric: ["ce", "kl"] });
   * fl.show(fl.plot.ablationHeatmap(sweep, { metric: "kl" }));
   */
  ablationHeatmap: ablationHeatmap,
  /**
   * L0 against FVU, one line per family of dictionaries.
   * @example
   * const points = [a, b, c].map((d, i) => {
   *   const m = d.metrics(acts);
   *   return { name: "topk", label: `run ${i}`, l0: m.l0, fvu: m.fvu };
   * });
   * fl.show(fl.plot.frontier(points, { logX: true }));
   */
  frontier: frontierPlot,
  /**
   * Description length (bits per token) against dictionary width, one line per family, with the loss at the chosen grid below (fl.descriptionLengthSweep).
   * @example
   * const sweep = await fl.descriptionLengthSweep({ a, b, c }, acts, { target: 0.05 });
   * fl.show(fl.plot.descriptionLength(sweep, { markWidth: 32 }));
   */
  descriptionLength: descriptionLengthPlot,
  /**
   * Loss, L0, FVU and dead fraction during training.
   * @example
   * fl.show(fl.plot.history(sae));
   */
  history: historyPlot,
  /**
   * A 2-D embedding (MDS, UMAP, PCA) coloured and labelled by metadata.
   * @example
   * fl.show(fl.plot.embedding(fl.umap(acts, { seed: 0 }), { acts, color: "label" }));
   */
  embedding: embeddingPlot,
  /**
   * Toy models of superposition: feature directions (columns of W) per sparsity — the pentagon.
   * @example
   * const toy = await fl.toySuperposition({ features: 5, hidden: 2, sparsity: [0, 0.9], seed: 0 });
   * fl.show(fl.plot.superposition(toy));
   */
  superposition: superpositionPlot,
  /**
   * Feature dimensionality D_i against 1/(1−S), with ¾, ⅔, ½, ⅖, ⅜ marked.
   * @example
   * const toy = await fl.toySuperposition({ features: 200, hidden: 20, sparsity: [0.9, 0.99, 0.999], seed: 0 });
   * fl.show(fl.plot.dimensionality(toy));
   */
  dimensionality: dimensionalityPlot,
  /**
   * CKA between representations (ckaMatrix) or MMCS between dictionaries (mmcsMatrix) as a heatmap.
   * @example
   * fl.show(fl.plot.cka(fl.ckaMatrix({ embed: l0, block0: l1, block1: l2 })));
   */
  cka: similarityPlot,
  /**
   * An RDM (or several) as a labelled heatmap.
   * @example
   * fl.show(fl.plot.rdm(fl.rdm(acts, { by: "label", distance: "correlation" })));
   */
  rdm: rdmPlot,
  /**
   * An RDM's heatmap beside its classical MDS, linked: hover a cell to see the pair in the plane.
   * @example
   * fl.show(fl.plot.rdmMds(fl.rdm(acts, { by: "label" })));
   */
  rdmMds: rdmMdsPlot,
  /**
   * Models' comparisons with data RDMs: bars, bootstrap intervals, noise-ceiling band.
   * @example
   * const mc = fl.bootstrapCompare({ animacy, size }, subjectRdms, { method: "tau-a", n: 1000, seed: 0 });
   * fl.show(fl.plot.modelComparison(mc));
   */
  modelComparison: modelComparisonPlot,
  /**
   * Eigenvalues of linear dynamics (fl.hankelDmd's operators) in the complex plane, over the unit circle.
   * @example
   * fl.show(fl.plot.eigenSpectrum({ rnn1: fl.hankelDmd(states1, { delays: 4, rank: 6 }), rnn2: fl.hankelDmd(states2, { delays: 4, rank: 6 }) }));
   */
  eigenSpectrum: eigenSpectrumPlot,
  /**
   * The barcode of a persistence result (fl.persistence): one bar per class from birth to death, grouped by dimension.
   * @example
   * fl.show(fl.plot.barcode(fl.persistence(ring, { maxDim: 1 }), { minPersistence: 0.05 }));
   */
  barcode: barcodePlot,
  /**
   * The persistence diagram of a persistence result: a point (birth, death) per class, over the diagonal.
   * @example
   * fl.show(fl.plot.persistenceDiagram(fl.persistence(ring, { maxDim: 1 })));
   */
  persistenceDiagram: persistenceDiagramPlot,
  /**
   * Shrinkage γ and L2 ratio by activation strength and feature frequency, for one or several dictionaries (fl.suppression).
   * @example
   * fl.show(fl.plot.suppression({ before: fl.suppression(a, acts), after: fl.suppression(b, acts) }));
   */
  suppression: suppressionPlot,
  /**
   * ΔCE against L0 and against alive features, one line per training loss (fl.compareDictionaries; Braun et al.'s Pareto plot).
   * @example
   * const cmp = await fl.compareDictionaries(model, { local, e2e }, { hook: "blocks.1.hook_resid_pre", input: tokens });
   * fl.show(fl.plot.dictionaryComparison(cmp));
   */
  dictionaryComparison: comparisonPlot,
  /**
   * KL, local MSE, downstream MSE and L0 by step for fl.trainE2E dictionaries.
   * @example
   * fl.show(fl.plot.e2eTraining({ local, e2e }));
   */
  e2eTraining: e2eTrainingPlot,
  /**
   * A transcoder circuit's strongest feature-to-feature edges as a layered graph (fl.transcoderCircuit).
   * @example
   * const circuit = await fl.transcoderCircuit(model, { 0: tc0, 1: tc1 }, tokens, { layerNorm: "frozen" });
   * fl.show(fl.plot.circuit(circuit));
   */
  circuit: circuitGraph,
  /**
   * One feature's pre-activation at one token, split into its terms (circuit.explain).
   * @example
   * const terms = await circuit.explain({ layer: 1, feature: 12 }, { document: 0, position: 9 });
   * fl.show(fl.plot.contributions(terms, { top: 10 }));
   */
  contributions: contributionsPlot,
  /**
   * A head's strongest QK feature pairs: heatmap of scale·M_h, hover/click a cell for its examples (qk.pairs(head)).
   * @example
   * fl.show(fl.plot.qkPairs(qk.pairs(0, { n: 20 })));
   */
  qkPairs: qkPairsPlot,
  /**
   * A QK dictionary's KL terms and sparsity penalties by step (fl.qkDictionary).
   * @example
   * const qk = await fl.qkDictionary(model, tokens, { layer: 1, width: 64, steps: 2000, seed: 0 });
   * fl.show(fl.plot.qkTraining(qk));
   */
  qkTraining: qkHistoryPlot,
  /**
   * Each head's share of each skip-trigram's logit difference, original and gated heads side by side (fl.trigramHeads).
   * @example
   * fl.show(fl.plot.trigramHeads([fl.trigramHeads(toyModel, data), fl.trigramHeads(gated, data)]));
   */
  trigramHeads: trigramHeadsPlot,
  /**
   * A gated attention block's MSE and gate sparsity during training.
   * @example
   * const gated = fl.gatedAttention(toyModel, data, { heads: 8, steps: 2500, seed: 0 });
   * fl.show(fl.plot.gatedHistory(gated));
   */
  gatedHistory: gatedHistoryPlot,
  /**
   * An attribution graph, interactive: nodes by position and layer, a node-threshold slider that re-prunes in the page, hover cards (with `cards`, each feature's top activating contexts), click to pin, pinned nodes grouped into supernodes, and an export of circuit-tracer's graph file.
   * @example
   * const codes = clt.encode(acts);   // the transcoder on cached activations, all layers side by side
   * fl.show(fl.plot.attributionGraph(graph, { nodeThreshold: 0.8, cards: { codes, acts } }));
   */
  attributionGraph: attributionGraphView,
};

// dict.dashboard(acts, feature, opts): the same as fl.dashboard(dict, acts, feature, opts). Attached
// here, at the top layer, so dictionaries/ keeps importing nothing from display/.
declare module "./dictionaries/dictionary.js" {
  interface Dictionary {
    /**
     * This dictionary's feature dashboard (see fl.dashboard).
     * @example
     * fl.show(sae.dashboard(acts, 7));
     */
    dashboard(acts: import("./data/activation-set.js").ActivationSet, feature: number, opts?: import("./display/plots/features/feature-dashboard.js").DashboardOptions): import("./display/plots/features/feature-dashboard.js").FeatureDashboard;
  }
}
DictionaryClass.prototype.dashboard = function (this: DictionaryClass, acts, feature, opts) {
  return dashboardOf(this, acts, feature, opts);
};

// An attribution graph displays as its interactive view (fl.show(graph), or the graph as a cell's last
// expression), and writes circuit-tracer's file. Attached here, at the top layer, so circuits/ keeps
// importing nothing from display/.
declare module "./circuits/attribution/attribution-graph.js" {
  interface AttributionGraph {
    /**
     * The graph's interactive view with the default options (fl.plot.attributionGraph).
     * @example
     * const bundle = graph.toMimeBundle();   // what fl.show(graph) displays
     */
    toMimeBundle(): Record<string, unknown>;
    /**
     * The pruned graph as circuit-tracer's create_graph_files writes it (fl.circuitTracerJson).
     * @example
     * const json = graph.toCircuitTracerJson({ slug: "induction", scan: "tiny-clt", nodeThreshold: 0.8 });
     */
    toCircuitTracerJson(opts: import("./circuits/attribution/graph-json.js").CircuitTracerJsonOptions): import("./circuits/attribution/graph-json.js").CircuitTracerGraph;
  }
}
AttributionGraphClass.prototype.toMimeBundle = function (this: AttributionGraphClass) {
  return attributionGraphView(this).toMimeBundle();
};
AttributionGraphClass.prototype.toCircuitTracerJson = function (this: AttributionGraphClass, opts) {
  return circuitTracerJsonOf(this, opts, undefined, "AttributionGraph.toCircuitTracerJson");
};
