// The description length of a parameter decomposition's mechanisms, on a decomposition written by
// hand whose answer is known: TMS 5-2 split into one subcomponent per feature in W and in Wᵀ.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mechanismDescriptionLength, outputFvu, type MechanismSource } from "../../src/circuits/parameter-decomposition/mechanism-bits.js";
import { binaryEntropy } from "../../src/metrics/description-length.js";
import { Rng } from "../../src/engine/random.js";

const n = 5;
const W = [0, 1, 2, 3, 4].map((i) => [Math.cos((2 * Math.PI * i) / n), Math.sin((2 * Math.PI * i) / n)]); // W[:, i] as rows
const b = Array(n).fill(-0.2);

const hidden = (row: number[], mask?: number[]) => {
  const h = [0, 0];
  for (let c = 0; c < n; c++) for (let k = 0; k < 2; k++) h[k] += (mask ? mask[c] : 1) * row[c] * W[c][k];
  return h;
};

/** Output c's pre-activation is positive: then linear2's subcomponent c matters (interference included). */
const fires = (row: number[]) => {
  const h = hidden(row);
  return b.map((bc, c) => (W[c][0] * h[0] + W[c][1] * h[1] + bc > 0 ? 1 : 0));
};

/**
 * x̂ = ReLU(Σ_c m2_c e_c W_cᵀ · Σ_c m1_c W_c x_c + b): subcomponent c of linear1 is W_c e_cᵀ, of linear2
 * e_c W_cᵀ. linear1's importances are given; linear2's are exact (1 where output c is positive).
 */
function handMade(importance: (x: number[]) => number[]): MechanismSource {
  const run = (x: number[][], masks?: number[][][]) =>
    x.map((row, r) => {
      const h = hidden(row, masks?.[0][r]);
      return b.map((bc, c) => Math.max(0, (masks ? masks[1][r][c] : 1) * (W[c][0] * h[0] + W[c][1] * h[1]) + bc));
    });
  return {
    layerNames: ["linear1", "linear2"],
    components: n,
    importances: (x) => [x.map(importance), x.map(fires)],
    maskedOutput: (x, masks) => run(x, masks),
    targetOutput: (x) => run(x),
  };
}

function sample(rows: number, p: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: n }, () => (rng.uniform() < p ? rng.uniform() : 0)));
}

test("mechanism bits: a perfect decomposition costs each matrix's firing entropy, less when coded jointly", async () => {
  const x = sample(4000, 0.05, 1);
  const dl = await mechanismDescriptionLength("test", handMade((row) => row.map((v) => (v > 0 ? 1 : 0))), x);
  const pHat = [0, 1, 2, 3, 4].map((c) => x.filter((r) => r[c] > 0).length / x.length);
  const pOut = [0, 1, 2, 3, 4].map((c) => x.filter((r) => fires(r)[c] === 1).length / x.length);
  const inputBits = pHat.reduce((s, p) => s + binaryEntropy(p), 0);
  const expected = inputBits + pOut.reduce((s, p) => s + binaryEntropy(p), 0);
  assert.ok(Math.abs(dl.bitsPerInput - expected) < 1e-12, `${dl.bitsPerInput} vs ${expected}`);
  // The joint code: the entropy of the whole firing pattern, counted by pattern.
  const entropy = (key: (r: number[]) => string) => {
    const counts = new Map<string, number>();
    for (const r of x) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
    let h = 0;
    for (const k of counts.values()) h -= (k / x.length) * Math.log2(k / x.length);
    return h;
  };
  const joint = entropy((r) => r.map((v) => (v > 0 ? 1 : 0)).join("") + "|" + fires(r).join(""));
  assert.ok(Math.abs(dl.jointBits - joint) < 1e-12, `${dl.jointBits} vs ${joint}`);
  // Coding the two matrices' patterns together saves what they share: max(H₁, H₂) ≤ joint ≤ H₁ + H₂.
  const h1 = entropy((r) => r.map((v) => (v > 0 ? 1 : 0)).join("")), h2 = entropy((r) => fires(r).join(""));
  assert.ok(joint >= Math.max(h1, h2) - 1e-12 && joint < h1 + h2 - 0.5, `joint ${joint}, H₁ ${h1}, H₂ ${h2}`);
  assert.ok(dl.jointBits < dl.bitsPerInput);
  assert.equal(dl.loss, 0);
  assert.equal(dl.lossAllKept, 0);
  assert.ok(dl.meetsTarget);
  assert.ok(dl.threshold > 0.99 && dl.threshold < 1, `τ ${dl.threshold}: any τ below 1 keeps every needed subcomponent`);
  assert.ok(Math.abs(dl.l0 - [...pHat, ...pOut].reduce((s, p) => s + p, 0)) < 1e-12);
  assert.deepEqual(dl.perLayer.map((p) => p.layer), ["linear1", "linear2"]);
  assert.equal(dl.perSubcomponent().length, 10);
});

test("mechanism bits: τ is as high as the tolerance allows, so a looser tolerance costs fewer bits", async () => {
  const x = sample(3000, 0.2, 2);
  // Graded importances (g = x_c): dropping weakly active features costs a little output.
  const src = handMade((row) => row);
  const tight = await mechanismDescriptionLength("test", src, x, { tolerance: 0.001 });
  const loose = await mechanismDescriptionLength("test", src, x, { tolerance: 0.1 });
  assert.ok(tight.loss <= tight.bound && loose.loss <= loose.bound);
  assert.ok(loose.threshold > tight.threshold, `τ ${loose.threshold} vs ${tight.threshold}`);
  assert.ok(loose.bitsPerInput < tight.bitsPerInput);
  assert.ok(loose.l0 < tight.l0);
  // The chosen τ is near the edge: the next coarser step of the search fails.
  assert.ok(outputFvu(src.maskedOutput(x, src.importances(x).map((l) => l.map((r) => r.map((v) => (v > loose.threshold * 1.01 ? 1 : 0))))), src.targetOutput(x)) > loose.bound * 0.9);
  const fixed = await mechanismDescriptionLength("test", src, x, { threshold: 0.5 });
  assert.equal(fixed.threshold, 0.5);
  const target = await mechanismDescriptionLength("test", src, x, { target: 0.05 });
  assert.ok(target.loss <= 0.05 && target.meetsTarget);
});

test("mechanism bits: bad options are named", async () => {
  const src = handMade((row) => row);
  const x = sample(10, 0.5, 3);
  await assert.rejects(mechanismDescriptionLength("dec.descriptionLength", src, x, { tolerence: 0.1 } as never), /tolerence.*did you mean 'tolerance'/);
  await assert.rejects(mechanismDescriptionLength("dec.descriptionLength", src, x, { threshold: 1.5 }), /'threshold' must be a finite number in \[0, 1\], got 1.5/);
  await assert.rejects(mechanismDescriptionLength("dec.descriptionLength", src, x, { threshold: 0.5, tolerance: 0.1 }), /'threshold' fixes τ/);
  await assert.rejects(mechanismDescriptionLength("dec.descriptionLength", src, [], {}), /non-empty array of rows/);
});

test("dec.descriptionLength on an exact SPD decomposition of TMS 5-2: zero loss, each matrix's firing entropy", async () => {
  const { ParameterDecomposition } = await import("../../src/circuits/parameter-decomposition/decomposition.js");
  const { stepLayout } = await import("../../src/circuits/parameter-decomposition/spd-step.js");
  const { TmsTarget } = await import("../../src/circuits/parameter-decomposition/tms-target.js");
  // Subcomponent c of linear1 is W_c e_cᵀ (V = I, U rows = W's columns); linear2 is tied to it. One gate
  // neuron each, steep: g_c = clip(GELU(1000·(a_c + β_c))), β = 0 on linear1 (fires when x_c > 0) and
  // β = b on linear2 (fires when output c is positive).
  const tms = new TmsTarget({ W: [W.map((w) => w[0]), W.map((w) => w[1])], b, featureProbability: 0.05 });
  const layers = tms.layers().map((ly) => ({ din: ly.W[0].length, dout: ly.W.length, W: Float64Array.from(ly.W.flat()), tiedTo: ly.tiedTo }));
  const model = { layers, bias: Float64Array.from(b), C: n, H: 1 };
  const lay = stepLayout(model);
  const theta = new Float64Array(lay.size);
  for (let c = 0; c < n; c++) {
    theta[lay.V[0] + c * n + c] = 1;
    theta[lay.U[0] + c * 2] = W[c][0];
    theta[lay.U[0] + c * 2 + 1] = W[c][1];
  }
  for (const l of [0, 1]) {
    for (let c = 0; c < n; c++) {
      theta[lay.wIn[l] + c] = 1000;
      theta[lay.bIn[l] + c] = l === 0 ? 0 : 1000 * b[c];
      theta[lay.wOut[l] + c] = 1;
    }
  }
  const dec = new ParameterDecomposition({ names: ["linear1", "linear2"], model, layout: lay, theta, history: [], seconds: 0 });
  const x = tms.sample(3000, 4);
  assert.deepEqual(dec.targetOutput(x.slice(0, 20)), tms.forward(x.slice(0, 20)));
  const dl = await dec.descriptionLength(x);
  assert.ok(dl.meetsTarget && dl.loss < 1e-6 && dl.lossAllKept < 1e-20, `FVU ${dl.loss}, all kept ${dl.lossAllKept}`);
  const p1 = [0, 1, 2, 3, 4].map((c) => x.filter((r) => r[c] > 0.001).length / x.length);
  const p2 = [0, 1, 2, 3, 4].map((c) => x.filter((r) => fires(r)[c] === 1).length / x.length);
  const sum = (ps: number[]) => ps.reduce((s, p) => s + binaryEntropy(p), 0);
  // Within a few hundredths of a bit: τ near 1 also drops the rows whose g is just under it (a barely
  // positive input or output), which the tolerance allows.
  assert.ok(Math.abs(dl.perLayer[0].bits - sum(p1)) < 0.03, `linear1 ${dl.perLayer[0].bits} vs ${sum(p1)}`);
  assert.ok(Math.abs(dl.perLayer[1].bits - sum(p2)) < 0.03, `linear2 ${dl.perLayer[1].bits} vs ${sum(p2)}`);
  assert.ok(dl.jointBits < dl.bitsPerInput);
  // Ablating everything is what the search refuses: τ = 1 keeps nothing and misses the bound.
  assert.ok(!(await dec.descriptionLength(x, { threshold: 1 })).meetsTarget);
  assert.throws(() => dec.maskedOutput(x, [[[1]]]), /masks must be one \[3000, 5\] array per layer/);
  assert.throws(() => tms.sample(0), /rows must be a positive integer/);
});

test("apdDec.descriptionLength: one group of whole-network components, each active feature's component fires", async () => {
  const fl = await import("../../src/index.js");
  const target = new fl.TmsTarget({ W: [W.map((w) => w[0]), W.map((w) => w[1])], b: [-0.25, -0.239, -0.235, -0.246, -0.239] });
  const apdDec = await fl.apd(target, { steps: 3000, batchSize: 1024, seed: 0 });
  const x = target.sample(3000, 6);
  const dl = await apdDec.descriptionLength(x);
  assert.ok(dl.meetsTarget && dl.loss <= dl.bound, `FVU ${dl.loss} bound ${dl.bound}`);
  assert.deepEqual(dl.perLayer.map((p) => p.layer), ["components"]);
  // Every row with a clearly active feature fires that feature's component, so L0 is at least the inputs' L0.
  const inputL0 = x.reduce((s, r) => s + r.filter((v) => v > 0).length, 0) / x.length;
  assert.ok(dl.l0 >= 0.9 * inputL0, `L0 ${dl.l0} vs the inputs' ${inputL0}`);
  // The firing pattern costs about what the inputs' own firing pattern does (1.4 bits at p = 0.05).
  const expected = 5 * binaryEntropy(0.05);
  assert.ok(dl.jointBits > 0.6 * expected && dl.jointBits < 1.6 * expected, `joint ${dl.jointBits} vs ${expected}`);
  await assert.rejects(apdDec.descriptionLength([[1, 2]]), /rows of 5 numbers/);
});
