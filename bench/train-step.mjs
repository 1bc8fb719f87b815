// Times one training step as a user gets it from fit() (batching, the step, Adam, bookkeeping) for
// the ReLU SAE, and prints one JSON line per case. `npm run bench` (add -- --quick for small cases).
// Comparison against PyTorch on the same machine is added when /usr/bin/python3 has torch.
import * as fl from "featurelab";

const quick = process.argv.includes("--quick");
const cases = quick
  ? [{ d: 256, h: 512, B: 256, steps: 60 }]
  : [
      { d: 256, h: 512, B: 256, steps: 200 },
      { d: 512, h: 4096, B: 1024, steps: 12 },
    ];

const info = await fl.engine();
for (const { d, h, B, steps } of cases) {
  const rows = Math.max(B * 4, 4096);
  const data = new fl.Rng(0).normals(rows * d);
  const acts = fl.fromVectors(data, d);
  const spec = fl.dictionary("relu", { width: h, l1: 1 });
  await spec.fit(acts, { steps: 2, batchSize: B, progress: false }); // warm-up: kernels compiled, memory allocated
  const t0 = performance.now();
  await spec.fit(acts, { steps, batchSize: B, progress: false, logEvery: steps });
  const ms = (performance.now() - t0) / steps;
  const gflops = (12 * B * d * h) / (ms * 1e6);
  console.log(JSON.stringify({ case: `relu d=${d} h=${h} B=${B}`, engine: info.backend, featurelab_ms: +ms.toFixed(2), gflops: +gflops.toFixed(1) }));
}
