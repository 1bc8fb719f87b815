// Attribution graphs on the tiny induction transformer: how long one graph takes for a 32-token prompt,
// with how many backward passes, and how much memory its adjacency holds — all active features, and
// with maxFeatureNodes bounding the rows and columns as circuit-tracer's option does.
// The cross-layer transcoder is trained here as notebooks/attribution.ipynb trains it (about a
// minute), or loaded with --clt <folder> (a folder clt.save wrote).
//   node bench/attribution.mjs [--clt <folder>] [--repeats 3] [--max-features 256] [--json]
import * as fl from "featurelab";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const args = process.argv.slice(2);
const json = args.includes("--json");
const option = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const repeats = Number(option("--repeats", 3));
const maxFeatures = Number(option("--max-features", 256));
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

await fl.ready();
const model = await fl.loadModel(join(root, "models", "tiny-induction"));
let clt;
const cltDir = option("--clt", undefined);
if (cltDir) clt = await fl.loadDictionary(cltDir);
else {
  const train = fl.toy.induction({ n: 768, seed: 1 });
  const hooks = [0, 1].flatMap((l) => [`blocks.${l}.hook_resid_mid`, `blocks.${l}.hook_mlp_out`]);
  const { cache } = await model.run(train.tokens, { cache: hooks, logits: false, batchSize: 256 });
  const input = fl.sideBySide([0, 1].map((l) => cache.get(`blocks.${l}.hook_resid_mid`)));
  const output = fl.sideBySide([0, 1].map((l) => cache.get(`blocks.${l}.hook_mlp_out`)));
  clt = await fl.dictionary("clt", { width: 512, l1: 0.3, nLayers: 2 }).fit({ input, output }, { steps: 1000, batchSize: 1024, lr: 2e-3, seed: 0, progress: false });
}

// 32 tokens: BOS, then a span of 8 shown three times and 7 of it again.
const span = [5, 9, 12, 20, 33, 41, 7, 18];
const prompt = [0, ...span, ...span, ...span, ...span.slice(0, 7)];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(opts) {
  const seconds = [];
  let graph;
  return (async () => {
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      graph = await fl.attribute(model, clt, prompt, opts);
      seconds.push((performance.now() - t0) / 1000);
    }
    const t0 = performance.now();
    const pruned = graph.prune();
    const pruneSeconds = (performance.now() - t0) / 1000;
    return {
      seconds: median(seconds),
      backwardPasses: graph.stats.backwardPasses,
      activeFeatures: graph.stats.activeFeatures,
      featureNodes: graph.counts.features,
      nodes: graph.size,
      adjacencyMB: (graph.adjacency.byteLength / 2 ** 20),
      pruneSeconds,
      keptNodes: pruned.nodeMask.reduce((a, b) => a + b, 0),
      ...graph.scores(),
    };
  })();
}

const all = await measure({});
const bounded = await measure({ maxFeatureNodes: maxFeatures });
const rssMB = process.resourceUsage().maxRSS / 1024;
const result = { promptTokens: prompt.length, repeats, all, bounded: { maxFeatureNodes: maxFeatures, ...bounded }, peakRssMB: rssMB };
if (json) console.log(JSON.stringify(result));
else {
  const row = (name, r) =>
    `${name.padEnd(28)} ${r.seconds.toFixed(2).padStart(6)} s  ${String(r.backwardPasses).padStart(4)} backward passes  ${String(r.featureNodes).padStart(5)} of ${r.activeFeatures} features  ${r.adjacencyMB.toFixed(1).padStart(6)} MB adjacency  prune ${r.pruneSeconds.toFixed(2)} s  replacement ${r.replacement.toFixed(3)}  completeness ${r.completeness.toFixed(3)}`;
  console.log(`Attribution graph, tiny induction transformer, ${prompt.length}-token prompt (median of ${repeats})`);
  console.log(row("all active features", all));
  console.log(row(`maxFeatureNodes ${maxFeatures}`, bounded));
  console.log(`peak RSS ${rssMB.toFixed(0)} MB`);
}
