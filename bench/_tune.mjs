import * as fl from "featurelab";
await fl.ready();
const toy = fl.toy.sharkey({ rows: Number(process.argv[3] ?? 4096), seed: 1 });
const cfgs = JSON.parse(process.argv[2]);
for (const [l1, lr, width, steps] of cfgs) {
const t0=performance.now();
const sae = await fl.dictionary("relu", { width, l1 }).fit(toy.acts, { steps, batchSize: 256, lr, seed: 0, progress: false });
const m = sae.metrics(toy.acts);
console.log(l1, lr, width, steps, ((performance.now()-t0)/1000).toFixed(1)+"s", JSON.stringify({l0:m.l0.toFixed(2), fvu:m.fvu.toFixed(4), dead:m.deadFraction.toFixed(3), mmcs: fl.mmcs({values: toy.features, dim: 256}, sae.weights.W_dec).toFixed(3)}));
}
