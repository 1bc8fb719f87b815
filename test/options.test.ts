// One option checker for the whole API: every public entry that takes an options object refuses a
// misspelt key, naming it and the option meant, before it does any work. The table below calls each
// entry; a scan of src/index.ts's types finds every entry with an options parameter, so a new one
// without a row here (and so, most likely, without a check) fails this test.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import * as fl from "../src/index.js";
import { nearestName, optionNames, rejectUnknownOptions } from "../src/io/options.js";
import { Comm } from "../src/kernel/comms.js";

const root = join(import.meta.dirname, "..");

/**
 * Every public entry of src/index.ts with an options parameter, found from the types: exported
 * functions, classes (constructors, static and instance methods), the members of exported objects
 * (fl.plot.*, fl.toy.*, fl.hooks.*), and the methods of every class or interface an entry returns,
 * transitively. Named "fn", "new Class", "Class.method" (the class that declares it), "plot.rdm".
 * An options parameter: an object type of featurelab's (not an array, function or class instance)
 * named opts/options/spec/init/info/changes, or named …Options, or whose properties are all optional.
 */
function optionEntries(): Set<string> {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const program = ts.createProgram([join(root, "src", "index.ts")], config.options);
  const checker = program.getTypeChecker();
  const src = join(root, "src");
  const inSrc = (d: ts.Node | undefined) => !!d && d.getSourceFile().fileName.startsWith(src);
  const found = new Set<string>();
  const visited = new Set<ts.Symbol>();

  const optionsLike = (param: ts.Symbol, at: ts.Node): boolean => {
    const type = checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(param, at));
    const named = /^(opts|options|spec|init|info|changes)$/.test(param.name);
    return (type.isUnion() ? type.types : [type]).some((t) => {
      if (!(t.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection))) return false;
      if (checker.isArrayType(t) || checker.isTupleType(t) || t.getCallSignatures().length > 0) return false;
      const sym = t.aliasSymbol ?? t.getSymbol();
      if (sym && sym.flags & ts.SymbolFlags.Class) return false;
      if (sym && sym.flags & ts.SymbolFlags.Interface && !inSrc(sym.declarations?.[0])) return false;
      const props = t.getProperties();
      if (props.length === 0) return false;
      return named || /Options$/.test(sym?.name ?? "") || props.every((p) => p.flags & ts.SymbolFlags.Optional);
    });
  };

  const visitCallable = (name: string, type: ts.Type, at: ts.Node) => {
    for (const sig of [...type.getCallSignatures(), ...type.getConstructSignatures()]) {
      if (sig.getParameters().some((p) => optionsLike(p, at))) found.add(name);
      visitType(sig.getReturnType());
    }
  };

  const visitMembers = (owner: string, type: ts.Type) => {
    for (const prop of type.getProperties()) {
      const decl = prop.valueDeclaration ?? prop.declarations?.[0];
      if (!decl || !inSrc(decl) || prop.name === "prototype" || prop.name.startsWith("_")) continue;
      if (ts.getCombinedModifierFlags(decl as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
      const memberType = checker.getTypeOfSymbolAtLocation(prop, decl);
      const parent = decl.parent;
      const declaring = (ts.isClassLike(parent) || ts.isInterfaceDeclaration(parent)) && parent.name ? parent.name.text : owner;
      if (memberType.getCallSignatures().length) visitCallable(`${declaring}.${prop.name}`, memberType, decl);
      else visitType(memberType);
    }
  };

  function visitType(type: ts.Type): void {
    if (type.isUnion() || type.isIntersection()) return type.types.forEach(visitType);
    const sym = type.getSymbol();
    if (!sym) return;
    if (["Promise", "AsyncGenerator", "Generator"].includes(sym.name) || checker.isArrayType(type)) {
      return checker.getTypeArguments(type as ts.TypeReference).forEach(visitType);
    }
    if (!(sym.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) || !inSrc(sym.declarations?.[0]) || visited.has(sym)) return;
    visited.add(sym);
    visitMembers(sym.name, type);
  }

  const index = checker.getSymbolAtLocation(program.getSourceFile(join(src, "index.ts"))!)!;
  for (const exported of checker.getExportsOfModule(index)) {
    const sym = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = sym.valueDeclaration;
    if (!decl) continue;
    const type = checker.getTypeOfSymbolAtLocation(sym, decl);
    if (sym.flags & ts.SymbolFlags.Class) {
      visitCallable(`new ${exported.name}`, type, decl);
      visitMembers(exported.name, type);
      visitType(checker.getDeclaredTypeOfSymbol(sym));
    } else if (type.getCallSignatures().length) {
      visitCallable(exported.name, type, decl);
    } else {
      for (const prop of type.getProperties()) {
        const d = prop.valueDeclaration;
        if (!d || !inSrc(d)) continue;
        const t = checker.getTypeOfSymbolAtLocation(prop, d);
        if (t.getCallSignatures().length) visitCallable(`${exported.name}.${prop.name}`, t, d);
      }
    }
  }
  return found;
}

/** Entries with an options parameter that check no user's keys, and why. */
const EXEMPT: Record<string, string> = {
  "Architecture.step": "the training loop's per-batch call into an architecture; its options come from fit, which checked them",
  "Architecture.referenceLoss": "the autodiff reference of Architecture.step, called by the gradient tests with fit's loss options",
  "HookedModel.batches": "batching plumbing that run, ablate and spliceEval call with options they have checked",
  "LanguageModelBase.batches": "as HookedModel.batches",
  "HookedLayersModel.batches": "as HookedModel.batches",
  "new ModelComparison": "a result that bootstrapCompare builds from the options it has checked",
  "new AttributionGraph": "a result that fl.attribute builds from the options it has checked; its argument is the graph's parts",
  "new GatedAttention": "a result that gatedAttention builds from the options it has checked, defaults filled in",
  "RsaModel.defaultFitter": "a model's fitter as a value (the fitX functions below check their options)",
  "ModelFixed.defaultFitter": "as RsaModel.defaultFitter",
  "ModelSelect.defaultFitter": "as RsaModel.defaultFitter",
  "ModelWeighted.defaultFitter": "as RsaModel.defaultFitter",
  "ModelInterpolate.defaultFitter": "as RsaModel.defaultFitter",
  "new RsaResult": "a result that evalFixed and crossval build from the options they have checked",
  "new ParameterDecomposition": "a result that fl.spd builds from the options it has checked",
  "new ApdDecomposition": "a result that fl.apd builds from the options it has checked",
  "new ComponentDecomposition": "the abstract base of ParameterDecomposition and ApdDecomposition, built only through them",
  "new ResidMlpDecomposition": "a result that fl.spd builds from the options it has checked",
};

// Small inputs for every entry: built once, each in well under a second.
const D = 8;
const tmp = mkdtempSync(join(tmpdir(), "featurelab-options-"));
const docs = [
  [0, 4, 2, 7, 3, 5],
  [0, 2, 2, 6, 1, 3],
  [0, 3, 1, 4, 4, 2],
];
const hook = "blocks.0.hook_resid_post";
const quiet = { steps: 1, batchSize: 4, progress: false } as const;
let acts: fl.ActivationSet;
let resid: fl.ActivationSet;
let sae: fl.Dictionary;
let saeResid: fl.Dictionary;
let transcoder: fl.Dictionary;
let model: fl.Transformer;
const LLAMA = { model_type: "llama", hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, vocab_size: 8, max_position_embeddings: 8 };
let llama: fl.Decoder;
let run: fl.RunResult;
let layers: fl.HookedLayersModel;
let stream: fl.ActivationStream;
let rdmA: fl.RDM;
let rdmB: fl.RDM;
let qk: fl.QkDictionary;
let trigrams: fl.SkipTrigramData;
let attention: fl.AttentionOnlyModel;
let toyModel: fl.ToySuperposition;
let circuit: fl.TranscoderCircuit;
let clt: fl.Dictionary;
let graph: fl.AttributionGraph;

before(async () => {
  await fl.ready();
  const values = Array.from({ length: 12 * 4 }, (_, i) => Math.sin(i * 1.7) + (i % 5) / 3);
  acts = fl.fromVectors(values, 4, { label: Array.from({ length: 12 }, (_, i) => `c${i % 3}`), doc: Array.from({ length: 12 }, (_, i) => i % 4) });
  sae = await fl.dictionary("relu", { width: 4 }).fit(acts, quiet);
  model = fl.Transformer.init({ d_model: D, n_layers: 1, n_heads: 2, d_vocab: 8, n_ctx: 8 }, { seed: 1 });
  run = await model.run(docs, { cache: [hook] });
  llama = fl.Decoder.init(LLAMA, { seed: 1 });
  resid = run.cache.get(hook);
  saeResid = await fl.dictionary("relu", { width: 4 }).fit(resid, quiet);
  transcoder = await fl.dictionary("transcoder", { width: 4 }).fit({ input: resid, output: resid }, quiet);
  circuit = await fl.transcoderCircuit(model, { 0: transcoder }, docs);
  clt = await fl.dictionary("clt", { width: 4, nLayers: 1 }).fit({ input: resid, output: resid }, quiet);
  graph = await fl.attribute(model, clt, docs[0]);
  layers = await fl.hooked(fl.tf.sequential({ layers: [fl.tf.layers.dense({ units: 2, inputShape: [4] })] }));
  await acts.write(join(tmp, "acts.arrow"));
  stream = await fl.open(join(tmp, "acts.arrow"));
  rdmA = fl.rdm(acts, { by: "label" });
  rdmB = fl.rdm(acts, { by: "label", distance: "correlation" });
  qk = await fl.qkDictionary(model, docs, { layer: 0, width: 4, steps: 1, batchSize: 2 });
  trigrams = fl.toy.skipTrigrams({ n: 8 });
  attention = fl.trainAttentionOnly(trigrams, { steps: 1, batchSize: 4 });
  toyModel = await fl.toySuperposition({ features: 3, hidden: 2, featureProbability: [0.5], steps: 1, batchSize: 4 });
});

after(() => rmSync(tmp, { recursive: true, force: true }));

/** entry → [a misspelt key, the option it should suggest, the entry called with small valid arguments and that key]. */
const spiral = Array.from({ length: 12 }, (_, t) => [Math.cos(0.4 * t) * 0.95 ** t, Math.sin(0.4 * t) * 0.95 ** t]);
const CALLS: Record<string, [string, string, (o: object) => unknown]> = {
  // data
  fromVectors: ["nonfinte", "nonFinite", (o) => fl.fromVectors(acts.vectors, 4, {}, o)],
  load: ["vectr", "vector", (o) => fl.load(join(tmp, "acts.arrow"), o)],
  open: ["vectro", "vector", (o) => fl.open(join(tmp, "acts.arrow"), o)],
  sql: ["table", "tables", (o) => fl.sql("select 1", o)],
  "ActivationStream.open": ["Vector", "vector", (o) => fl.ActivationStream.open(join(tmp, "acts.arrow"), o)],
  "ActivationStream.rowBatches": ["sise", "size", (o) => stream.rowBatches({ size: 4, ...o })],
  "ActivationStream.batches": ["bufferrows", "bufferRows", (o) => stream.batches(o)],
  "new ActivationSet": ["vectorname", "vectorName", (o) => new fl.ActivationSet(acts.vectors, 4, acts.meta, o)],
  "ActivationSet.sample": ["sed", "seed", (o) => acts.sample(2, o)],
  "GroupedActivationSet.sample": ["replce", "replace", (o) => acts.groupby("label").sample(1, o)],
  "ActivationSet.split": ["fracton", "fraction", (o) => acts.split({ fraction: 0.5, ...o })],
  "ActivationSet.normalize": ["scal", "scale", (o) => acts.normalize(o)],
  "ActivationSet.rowBatches": ["shufle", "shuffle", (o) => acts.rowBatches({ size: 4, ...o })],
  "ActivationSet.batches": ["sizes", "size", (o) => acts.batches(o)],
  "toy.sharkey": ["row", "rows", (o) => fl.toy.sharkey({ rows: 4, features: 4, dim: 4, ...o })],
  "toy.induction": ["lenght", "length", (o) => fl.toy.induction({ n: 2, ...o })],
  "toy.skipTrigrams": ["trigram", "trigrams", (o) => fl.toy.skipTrigrams({ n: 2, ...o })],
  // dictionaries and training
  dictionary: ["l", "l1", (o) => fl.dictionary("relu", { width: 4, ...o })],
  "new DictionarySpec": ["widht", "width", (o) => new fl.DictionarySpec("relu", { width: 4, ...o })],
  "DictionarySpec.with": ["decodr", "decoder", (o) => fl.dictionary("relu", { width: 4 }).with(o)],
  "DictionarySpec.fit": ["step", "steps", (o) => fl.dictionary("relu", { width: 4 }).fit(acts, { ...quiet, ...o })],
  "Dictionary.encode": ["batchsize", "batchSize", (o) => sae.encode(acts, o)],
  "Dictionary.metrics": ["batchsize", "batchSize", (o) => sae.metrics(acts, o)],
  "Dictionary.dashboard": ["exampels", "examples", (o) => sae.dashboard(acts, 0, o)],
  finetuneDecoder: ["step", "steps", (o) => fl.finetuneDecoder(sae, acts, { steps: 1, ...o })],
  suppression: ["bin", "bins", (o) => fl.suppression(sae, acts, o)],
  // geometry
  classicalMds: ["kk", "k", (o) => fl.classicalMds(rdmA, o)],
  metricMds: ["nInits", "nInit", (o) => fl.metricMds(rdmA, { maxIter: 1, ...o })],
  umap: ["nNeighbor", "nNeighbors", (o) => fl.umap(acts, { nNeighbors: 3, nEpochs: 1, ...o })],
  cka: ["kin", "kind", (o) => fl.cka(acts, acts, o)],
  ckaLinear: ["debiassed", "debiased", (o) => fl.ckaLinear(acts, acts, o)],
  ckaRbf: ["tua", "tau", (o) => fl.ckaRbf(acts, acts, o)],
  ckaMatrix: ["debaised", "debiased", (o) => fl.ckaMatrix([acts, acts], o)],
  decoderCosine: ["maxFeature", "maxFeatures", (o) => fl.decoderCosine(sae, o)],
  clusterFeatures: ["methd", "method", (o) => fl.clusterFeatures(sae, { k: 2, ...o })],
  featureDimensionality: ["feature", "features", (o) => fl.featureDimensionality([[1, 0], [0, 1]], o)],
  dimensionsPerFeature: ["Features", "features", (o) => fl.dimensionsPerFeature([[1, 0], [0, 1]], o)],
  toySuperposition: ["feature", "features", (o) => fl.toySuperposition({ steps: 1, ...o })],
  "new ToySuperposition": ["weight", "weights", (o) => new fl.ToySuperposition({ ...toyModel, featureProbability: [...toyModel.featureProbability], history: [...toyModel.history], ...o })],
  tmsTarget: ["identiy", "identity", (o) => fl.tmsTarget({ steps: 1, batchSize: 4, ...o })],
  "new TmsTarget": ["identiy", "identity", (o) => new fl.TmsTarget({ W: toyModel.W(0), b: toyModel.b(0), ...o })],
  spd: ["component", "components", (o) => fl.spd(toyModel, { steps: 1, batchSize: 4, ...o })],
  residMlpTarget: ["neuron", "neurons", (o) => fl.residMlpTarget({ features: 4, resid: 8, neurons: 2, steps: 1, batchSize: 4, ...o })],
  "new ResidMlpTarget": ["histroy", "history", (o) => new fl.ResidMlpTarget({ W_E: [[1, 0], [0, 1]], layers: [{ W_in: [[1, 0]], W_out: [[1], [0]] }], ...o })],
  "ResidMlpDecomposition.aliveSubcomponents": ["treshold", "threshold", async (o) => (await fl.spd(await fl.residMlpTarget({ features: 4, resid: 8, neurons: 2, steps: 1, batchSize: 4 }), { steps: 1, batchSize: 4, components: 3 })).aliveSubcomponents(o)],
  "ResidMlpDecomposition.losses": ["row", "rows", async (o) => (await fl.spd(await fl.residMlpTarget({ features: 4, resid: 8, neurons: 2, steps: 1, batchSize: 4 }), { steps: 1, batchSize: 4, components: 3 })).losses({ rows: 8, ...o })],
  apd: ["topK", "topk", (o) => fl.apd(toyModel, { steps: 1, batchSize: 8, ...o })],
  "ApdDecomposition.descriptionLength": ["treshold", "threshold", async (o) => (await fl.apd(toyModel, { steps: 1, batchSize: 8 })).descriptionLength(fl.TmsTarget.fromToy(toyModel).sample(8), o)],
  "ParameterDecomposition.descriptionLength": ["tolerence", "tolerance", async (o) => (await fl.spd(toyModel, { steps: 1, batchSize: 4 })).descriptionLength(fl.TmsTarget.fromToy(toyModel).sample(8), o)],
  rdm: ["distanse", "distance", (o) => fl.rdm(acts, { by: "label", ...o })],
  "new RDM": ["label", "labels", (o) => new fl.RDM([1, 2, 3], o)],
  "RDM.fromMatrix": ["nmae", "name", (o) => fl.RDM.fromMatrix([[0, 1], [1, 0]], o)],
  categoricalRdm: ["descriptor", "descriptors", (o) => fl.categoricalRdm(["a", "b", "a"], o)],
  "RDM.compare": ["sigmak", "sigmaK", (o) => rdmA.compare(rdmB, "cosine", o)],
  compareRdms: ["sigma", "sigmaK", (o) => fl.compareRdms(rdmA, rdmB, "cosine", o)],
  noiseCeiling: ["methd", "method", (o) => fl.noiseCeiling([rdmA, rdmB], o)],
  bootstrapCompare: ["nn", "n", (o) => fl.bootstrapCompare(rdmA, [rdmA, rdmB], { n: 2, ...o })],
  permutationTest: ["sede", "seed", (o) => fl.permutationTest(rdmA, rdmB, { n: 2, ...o })],
  covFromResiduals: ["dfo", "dof", (o) => fl.covFromResiduals([[1, 2], [2, 1], [0, 1]], o)],
  precFromResiduals: ["channel", "channels", (o) => fl.precFromResiduals([[1, 2], [2, 1], [0, 1]], o)],
  "RsaModel.fit": ["methd", "method", (o) => new fl.ModelWeighted("w", [rdmA, rdmB]).fit([rdmA, rdmB], o)],
  evalFixed: ["thetas", "theta", (o) => fl.evalFixed(new fl.ModelFixed("a", rdmA), [rdmA, rdmB], o)],
  crossval: ["fiter", "fitter", (o) => fl.crossval(new fl.ModelFixed("a", rdmA), [rdmA, rdmB], [{ trainConditions: [0, 1, 2], testConditions: [0, 1, 2] }], o)],
  fitMock: ["methd", "method", (o) => fl.fitMock(new fl.ModelFixed("a", rdmA), [rdmA], o)],
  fitSelect: ["methd", "method", (o) => fl.fitSelect(new fl.ModelSelect("s", [rdmA, rdmB]), [rdmA], o)],
  fitInterpolate: ["methd", "method", (o) => fl.fitInterpolate(new fl.ModelInterpolate("i", [rdmA, rdmB]), [rdmA], o)],
  fitRegress: ["ridgeweight", "ridgeWeight", (o) => fl.fitRegress(new fl.ModelWeighted("w", [rdmA, rdmB]), [rdmA], o)],
  fitRegressNn: ["ridgeweight", "ridgeWeight", (o) => fl.fitRegressNn(new fl.ModelWeighted("w", [rdmA, rdmB]), [rdmA], o)],
  setsKFold: ["kpattern", "kPattern", (o) => fl.setsKFold(3, o)],
  fitOptimize: ["sede", "seed", (o) => fl.fitOptimize(new fl.ModelWeighted("w", [rdmA, rdmB]), [rdmA], o)],
  fitOptimizePositive: ["sede", "seed", (o) => fl.fitOptimizePositive(new fl.ModelWeighted("w", [rdmA, rdmB]), [rdmA], o)],
  setsLeaveOneOut: ["ovr", "over", (o) => fl.setsLeaveOneOut(3, o)],
  bootstrapCrossval: ["boottype", "bootType", (o) => fl.bootstrapCrossval(new fl.ModelFixed("a", rdmA), [rdmA, rdmB], { n: 2, ...o })],
  evalDualBootstrap: ["ncv", "nCv", (o) => fl.evalDualBootstrap(new fl.ModelFixed("a", rdmA), [rdmA, rdmB], { n: 2, ...o })],
  extractVariances: ["nrdm", "nRdm", (o) => fl.extractVariances([1, 2], o)],
  shapeDistance: ["alfa", "alpha", (o) => fl.shapeDistance(acts, acts, o)],
  permutationDistance: ["scor", "score", (o) => fl.permutationDistance(acts, acts, o)],
  buresSimilarity: ["grm", "gram", (o) => fl.buresSimilarity(acts, acts, o)],
  buresDistance: ["scores", "score", (o) => fl.buresDistance(acts, acts, o)],
  shapeDistances: ["metrc", "metric", (o) => fl.shapeDistances([acts, acts], o)],
  linearSumAssignment: ["maximise", "maximize", (o) => fl.linearSumAssignment([[1, 2], [3, 4]], o)],
  cca: ["epsilion", "epsilon", (o) => fl.cca(acts, acts, o)],
  svcca: ["keeps", "keep", (o) => fl.svcca(acts, acts, o)],
  pwcca: ["epsilion", "epsilon", (o) => fl.pwcca(acts, acts, o)],
  linearPredictivity: ["fold", "folds", (o) => fl.linearPredictivity(acts, acts, o)],
  hankelDmd: ["delay", "delays", (o) => fl.hankelDmd(spiral, o)],
  similarityTransformDist: ["restart", "restarts", (o) => fl.similarityTransformDist([1, 0, 0, 1], [0, 1, -1, 0], 2, o)],
  dsa: ["rnak", "rank", (o) => fl.dsa(spiral, spiral, o)],
  "plot.eigenSpectrum": ["titel", "title", (o) => fl.plot.eigenSpectrum({ a: { re: [1], im: [0] } }, o)],
  persistence: ["maxDims", "maxDim", (o) => fl.persistence(spiral, o)],
  "plot.barcode": ["minPersistance", "minPersistence", (o) => fl.plot.barcode(fl.persistence(spiral), o)],
  "plot.persistenceDiagram": ["titel", "title", (o) => fl.plot.persistenceDiagram(fl.persistence(spiral), o)],
  // models
  "Transformer.init": ["seeds", "seed", (o) => fl.Transformer.init({ d_model: 4, n_layers: 1, n_heads: 1, d_vocab: 4, n_ctx: 4 }, o)],
  "new Transformer": ["tokeniser", "tokenizer", (o) => new fl.Transformer(model.cfg, model.params, o)],
  loadDictionary: ["pth", "path", (o) => fl.loadDictionary("owner/name", o)],
  loadModel: ["revison", "revision", (o) => fl.loadModel("owner/name", o)],
  hubCacheDir: ["cachedir", "cacheDir", (o) => fl.hubCacheDir(o)],
  hubFile: ["ofline", "offline", (o) => fl.hubFile("owner/name", "config.json", o)],
  "Decoder.init": ["sed", "seed", (o) => fl.Decoder.init(LLAMA, o)],
  "new Decoder": ["nam", "name", (o) => new fl.Decoder(llama.cfg, llama.params, o)],
  decoderForward: ["stat", "start", (o) => fl.decoderForward(llama.cfg, llama.params, fl.tf.tensor2d([[0, 1]], [1, 2], "int32"), (_n, x) => x, o)],
  transformerConfig: ["n_head", "n_heads", (o) => fl.transformerConfig({ d_model: 4, n_layers: 1, n_heads: 1, d_vocab: 4, n_ctx: 4, ...o })],
  transformerForward: ["oneHot", "oneHotEmbed", (o) => fl.transformerForward(model.cfg, model.params, fl.tf.tensor2d([[0, 1]], [1, 2], "int32"), (_n, x) => x, o)],
  "HookedModel.run": ["cahce", "cache", (o) => model.run(docs, o)],
  cacheActivations: ["shardrows", "shardRows", (o) => fl.cacheActivations(model, docs, { hooks: [hook], out: join(tmp, "cache-fn"), progress: false, ...o })],
  "HookedModel.cacheActivations": ["contextsize", "contextSize", (o) => model.cacheActivations(docs, { hooks: [hook], out: join(tmp, "cache-method"), progress: false, ...o })],
  "ActivationCache.get": ["heads", "head", (o) => run.cache.get(hook, o)],
  hooked: ["nmae", "name", (o) => fl.hooked(layers.model, o)],
  "new HookedLayersModel": ["names", "name", (o) => new fl.HookedLayersModel(layers.model, o)],
  "new WordLevelTokenizer": ["bso", "bos", (o) => new fl.WordLevelTokenizer(["a", "b"], o)],
  // ablation
  ablateFeatures: ["feature", "features", (o) => fl.ablateFeatures(sae, acts, { features: [0], ...o })],
  ablate: ["hok", "hook", (o) => fl.ablate(model, saeResid, { input: docs, hook, ...o })],
  spliceEval: ["batchsize", "batchSize", (o) => fl.spliceEval(model, saeResid, { input: docs, hook, ...o })],
  descriptionLength: ["tolerence", "tolerance", (o) => fl.descriptionLength(sae, acts, o)],
  descriptionLengthSweep: ["targt", "target", (o) => fl.descriptionLengthSweep({ sae }, acts, o)],
  "plot.descriptionLength": ["markwidth", "markWidth", (o) => fl.plot.descriptionLength(new fl.DescriptionLengthSweep([], undefined, {}), o)],
  "hooks.splice": ["keepErrors", "keepError", (o) => fl.hooks.splice(saeResid, o)],
  "hooks.ablate": ["axes", "axis", (o) => fl.hooks.ablate({ units: [0], ...o })],
  "hooks.steer": ["position", "positions", (o) => fl.hooks.steer([1, 0], o)],
  "hooks.scale": ["unit", "units", (o) => fl.hooks.scale(2, o)],
  // circuits
  trainE2E: ["widht", "width", (o) => fl.trainE2E(model, docs, { hook, width: 4, ...quiet, ...o })],
  compareDictionaries: ["ignorePosition", "ignorePositions", (o) => fl.compareDictionaries(model, { a: saeResid }, { input: docs, hook, ...o })],
  transcoderCircuit: ["edgesPerTargets", "edgesPerTarget", (o) => fl.transcoderCircuit(model, { 0: transcoder }, docs, o)],
  attribute: ["maxLogit", "maxLogits", (o) => fl.attribute(model, clt, docs[0], o)],
  "AttributionGraph.prune": ["nodeTreshold", "nodeThreshold", (o) => graph.prune(o)],
  circuitTracerJson: ["nodeTreshold", "nodeThreshold", (o) => fl.circuitTracerJson(graph, { slug: "g", scan: "clt", ...o })],
  "AttributionGraph.toCircuitTracerJson": ["supernode", "supernodes", (o) => graph.toCircuitTracerJson({ slug: "g", scan: "clt", ...o })],
  writeCircuitTracerFiles: ["edgeTreshold", "edgeThreshold", (o) => fl.writeCircuitTracerFiles(graph, join(tmp, "graphs"), { slug: "g", scan: "clt", ...o })],
  "plot.attributionGraph": ["maxNode", "maxNodes", (o) => fl.plot.attributionGraph(graph, o)],
  "new AttributionGraphWidget": ["edgeTreshold", "edgeThreshold", (o) => new fl.AttributionGraphWidget(graph, o)],
  "AttributionGraphWidget.toCircuitTracerJson": ["pinnedId", "pinnedIds", (o) => fl.plot.attributionGraph(graph).toCircuitTracerJson(o)],
  "AttributionGraph.intervene": ["freezeAtention", "freezeAttention", (o) => graph.intervene([{ layer: 0, position: 1, feature: 0, value: 0 }], o)],
  "LocalReplacementModel.run": ["freezeLayernorm", "freezeLayerNorm", (o) => graph.replacementModel.run({ mlpOut: (l) => graph.replacementModel.original.mlpOut[l], ...o })],
  "LocalReplacementModel.build": ["prependBOS", "prependBos", (o) => fl.LocalReplacementModel.build(model, clt, docs[0], o)],
  qkDictionary: ["sparsty", "sparsity", (o) => fl.qkDictionary(model, docs, { layer: 0, width: 4, steps: 1, ...o })],
  "QkDictionary.mask": ["stpes", "steps", (o) => qk.mask({ steps: 1, ...o })],
  "QkDictionary.pairs": ["example", "examples", (o) => qk.pairs(0, o)],
  loadQkDictionary: ["prependBOS", "prependBos", (o) => fl.loadQkDictionary(join(tmp, "no-such-folder"), model, docs, o)],
  trainAttentionOnly: ["head", "heads", (o) => fl.trainAttentionOnly(trigrams, { steps: 1, ...o })],
  gatedAttention: ["alpa", "alpha", (o) => fl.gatedAttention(attention, trigrams, { steps: 1, ...o })],
  trigramHeads: ["shares", "share", (o) => fl.trigramHeads(attention, trigrams, o)],
  // display
  dashboard: ["neighbours", "neighbors", (o) => fl.dashboard(sae, acts, 0, o)],
  "new FeatureDashboard": ["quantile", "quantiles", (o) => new fl.FeatureDashboard(sae, acts, 0, o)],
  "new Figure": ["layuot", "layout", (o) => new fl.Figure({ data: [], ...o })],
  clearOutput: ["wiat", "wait", (o) => fl.clearOutput(o)],
  openComm: ["buffer", "buffers", (o) => fl.openComm("page.target", {}, o)],
  input: ["pasword", "password", (o) => fl.input("Password:", o)],
  "Comm.send": ["buffer", "buffers", (o) => new Comm("id", "target", undefined as never).send({}, o)],
  "plot.geometry": ["titel", "title", (o) => fl.plot.geometry(sae, o)],
  "plot.ablation": ["tops", "top", (o) => fl.plot.ablation(fl.ablateFeatures(sae, acts, { features: [0] }), o)],
  "plot.ablationHeatmap": ["metrc", "metric", async (o) => fl.plot.ablationHeatmap(await fl.ablate(model, saeResid, { input: docs, hook, units: [0] }), o)],
  "plot.frontier": ["logx", "logX", (o) => fl.plot.frontier([{ name: "relu", l0: 1, fvu: 0.5 }], o)],
  "plot.history": ["tite", "title", (o) => fl.plot.history(sae, o)],
  "plot.embedding": ["colour", "color", (o) => fl.plot.embedding(fl.pca(acts.vectors, 4), o)],
  "plot.superposition": ["model", "models", (o) => fl.plot.superposition(toyModel, o)],
  "plot.dimensionality": ["jiter", "jitter", (o) => fl.plot.dimensionality(toyModel, o)],
  "plot.cka": ["titl", "title", (o) => fl.plot.cka(fl.ckaMatrix([acts, acts]), o)],
  "plot.rdm": ["colorScale", "colorscale", (o) => fl.plot.rdm(rdmA, o)],
  "plot.rdmMds": ["group", "groups", (o) => fl.plot.rdmMds(rdmA, o)],
  "plot.modelComparison": ["sorted", "sort", (o) => fl.plot.modelComparison(fl.bootstrapCompare(rdmA, [rdmA, rdmB], { n: 2 }), o)],
  "plot.suppression": ["metric", "metrics", (o) => fl.plot.suppression(fl.suppression(sae, acts), o)],
  "plot.dictionaryComparison": ["logy", "logY", async (o) => fl.plot.dictionaryComparison(await fl.compareDictionaries(model, { a: saeResid }, { input: docs, hook }), o)],
  "plot.e2eTraining": ["ttle", "title", (o) => fl.plot.e2eTraining({ a: saeResid }, o)],
  "plot.circuit": ["maxEdge", "maxEdges", (o) => fl.plot.circuit(circuit, o)],
  "plot.contributions": ["topp", "top", async (o) => fl.plot.contributions(await circuit.explain({ layer: 0, feature: 0 }, { document: 0, position: 1 }), o)],
  "plot.qkPairs": ["tilte", "title", (o) => fl.plot.qkPairs(qk.pairs(0), o)],
  "plot.trigramHeads": ["titles", "title", (o) => fl.plot.trigramHeads(fl.trigramHeads(attention, trigrams), o)],
};

/** Entries checked here that the type scan does not list (their parameter is a config, not named as options). */
const BEYOND_SCAN = ["transformerConfig"];

test("the table covers every public entry that takes an options object", () => {
  const found = optionEntries();
  assert.ok(found.size > 80, `the scan found only ${found.size} entries`);
  const missing = [...found].filter((e) => !(e in CALLS) && !(e in EXEMPT)).sort();
  assert.deepEqual(missing, [], `entries with an options parameter and no row in CALLS (check their options with rejectUnknownOptions, then add a row): ${missing.join(", ")}`);
  const stale = [...Object.keys(CALLS), ...Object.keys(EXEMPT)].filter((e) => !found.has(e) && !BEYOND_SCAN.includes(e)).sort();
  assert.deepEqual(stale, [], `rows for entries the scan no longer finds: ${stale.join(", ")}`);
});

test("every entry refuses a misspelt option, naming it and the option meant", async () => {
  const failures: string[] = [];
  for (const [entry, [key, meant, call]] of Object.entries(CALLS)) {
    let message: string | undefined;
    try {
      await call({ [key]: 1 });
    } catch (err) {
      message = (err as Error).message;
    }
    const want = `unknown option '${key}' — did you mean '${meant}'?`;
    if (!message?.startsWith("featurelab: ") || !message.includes(want)) failures.push(`${entry}: ${message ?? "accepted the misspelt option"}`);
  }
  assert.deepEqual(failures, []);
});

test("nested option objects are checked too", async () => {
  const spec = fl.dictionary("relu", { width: 4 });
  await assert.rejects(spec.fit(acts, { ...quiet, checkpoint: { dir: join(tmp, "ck"), evrey: 1 } as never }), /fit: checkpoint: unknown option 'evrey' — did you mean 'every'\?/);
  await assert.rejects(spec.fit(acts, { ...quiet, resample: { evry: 1 } as never }), /fit: resample: unknown option 'evry' — did you mean 'every'\?/);
  await assert.rejects(fl.ablate(model, saeResid, { input: docs, hook, logitDiff: { correct: 1, worng: 2 } as never }), /ablate: logitDiff: unknown option 'worng' — did you mean 'wrong'\?/);
});

test("a misspelt option is refused before any work or side effect", async () => {
  // Training: no checkpoint folder written, no progress drawn.
  let updates = 0;
  const progress = { update: () => void updates++ };
  const dir = join(tmp, "checkpoint");
  await assert.rejects(fl.dictionary("relu", { width: 4 }).fit(acts, { steps: 5, progress, checkpoint: { dir, every: 1 }, seeed: 1 } as never), /unknown option 'seeed' — did you mean 'seed'\?/);
  assert.equal(existsSync(dir), false);
  await assert.rejects(fl.trainE2E(model, docs, { hook, width: 4, steps: 2, progress, lamda: 1 } as never), /unknown option 'lamda'/);
  assert.equal(updates, 0);
  // Reading: the option is refused before the path is looked at.
  await assert.rejects(fl.load(join(tmp, "missing.arrow"), { vectr: "x" } as never), /unknown option 'vectr' — did you mean 'vector'\?/);
  await assert.rejects(fl.open(join(tmp, "missing.arrow"), { vectr: "x" } as never), /unknown option 'vectr' — did you mean 'vector'\?/);
  // The inputs are not even looked at: the check is the first thing each of these does.
  const none = undefined as never;
  await assert.rejects(fl.qkDictionary(none, none, { layer: 0, widht: 8 } as never), /unknown option 'widht' — did you mean 'width'\?/);
  await assert.rejects(fl.finetuneDecoder(none, none, { variants: "scale" } as never), /unknown option 'variants' — did you mean 'variant'\?/);
  assert.throws(() => fl.suppression(none, none, { bin: 4 } as never), /unknown option 'bin' — did you mean 'bins'\?/);
  await assert.rejects(fl.toySuperposition({ feature: 3 } as never), /unknown option 'feature' — did you mean 'features'\?/);
});

test("the checker: nearest name ignoring case, several keys, nothing close, not an object", () => {
  const known = ["steps", "batchSize", "lr", "seed"];
  assert.equal(nearestName("step", known), "steps");
  assert.equal(nearestName("batchsize", known), "batchSize");
  assert.equal(nearestName("BATCH_SIZE", known), "batchSize");
  assert.equal(nearestName("lambda", known), undefined);
  assert.equal(nearestName("k", known), undefined);
  assert.equal(nearestName("oneHot", ["oneHotEmbed", "listens"]), "oneHotEmbed");
  assert.throws(() => rejectUnknownOptions("fit", { step: 3 }, known), {
    message: "featurelab: fit: unknown option 'step' — did you mean 'steps'? Its options are: steps, batchSize, lr, seed.",
  });
  assert.throws(() => rejectUnknownOptions("fit", { lambda: 1 }, known), { message: "featurelab: fit: unknown option 'lambda'. Its options are: steps, batchSize, lr, seed." });
  assert.throws(() => rejectUnknownOptions("fit", { stpes: 1, lambda: 1 }, known), {
    message: "featurelab: fit: unknown options 'stpes' (did you mean 'steps'?), 'lambda'. Its options are: steps, batchSize, lr, seed.",
  });
  assert.throws(() => rejectUnknownOptions("gated", { k: 1 }, [], "it takes no options besides width and l1"), { message: "featurelab: gated: unknown option 'k'. It takes no options besides width and l1." });
  assert.throws(() => rejectUnknownOptions("fit", 3, known), /fit: the options must be an object/);
  assert.throws(() => rejectUnknownOptions("fit", [1], known), /fit: the options must be an object/);
  rejectUnknownOptions("fit", undefined, known);
  rejectUnknownOptions("fit", { steps: 1, seed: undefined }, known);
  assert.deepEqual(optionNames<{ a?: number; b: string }>({ a: true, b: true }), ["a", "b"]);
});
