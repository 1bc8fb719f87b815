// RSA models and fitters. Reference values computed once with rsatoolbox's model/model.py
// (ModelFixed, ModelSelect, ModelWeighted, ModelInterpolate .predict) and model/fitter.py
// (fit_regress, fit_regress_nn, fit_select, fit_interpolate), run from its source on the RDMs below.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RDM } from "../../src/geometry/rdm.js";
import { ModelFixed, ModelSelect, ModelWeighted, ModelInterpolate, fitRegress, fitRegressNn, fitSelect, fitInterpolate, fitMock, fitOptimize, fitOptimizePositive } from "../../src/geometry/rsa-models.js";
import { InputError } from "../../src/io/errors.js";

const nearAll = (a: ArrayLike<number>, b: readonly number[], tol: number, what = "") => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

// Python: M[k][p] = 1 + sin(1.3p + 0.7k) + 0.3k (k = 0, 1); M[2] = 2 − 0.5·M[0] + 0.1·cos(p) (anti-correlated
// with model 0); data D[s][p] = 0.6·M[0] + 0.3·M[1] + 0.2·cos(2.1p + s) + 0.1s + 1, 4 subjects, 5 conditions.
const P = 10;
const M0 = Array.from({ length: 2 }, (_, k) => Array.from({ length: P }, (_, p) => 1 + Math.sin(1.3 * p + 0.7 * k) + 0.3 * k));
const M = [...M0, Array.from({ length: P }, (_, p) => 2 - 0.5 * M0[0][p] + 0.1 * Math.cos(p))].map((v) => new RDM(v));
const data = Array.from({ length: 4 }, (_, s) => new RDM(Array.from({ length: P }, (_, p) => 0.6 * M[0].vector[p] + 0.3 * M[1].vector[p] + 0.2 * Math.cos(2.1 * p + s) + 0.1 * s + 1)));

test("predict matches rsatoolbox's model classes", () => {
  nearAll(new ModelWeighted("w", M).predict([0.5, -1, 2]), [1.7557823127623091, 0.9169839416393499, 2.016765640923088, 3.3395755839053627, 2.8848752685175905, 1.3555045791995846, 1.0942752720192805, 2.557710398945911, 3.579365815985093, 2.5643699150308903], 1e-14, "weighted");
  nearAll(new ModelInterpolate("i", M).predict(), [1.4721088436188454, 2.086427806121437, 1.3288778388391078, 0.3092714185912807, 0.5213343397248055, 1.6543939259684843, 2.0485152289990474, 1.1263096165487128, 0.2388104713551786, 0.6862061203163292], 1e-14, "interpolate");
  const fixed = new ModelFixed("f", M);
  nearAll(fixed.predict(), [1.51473922907923, 1.7483689167070307, 1.2861301027042564, 0.787808889038168, 0.9730105484077756, 1.5765313588131278, 1.7312586046586096, 1.22282009245236, 0.7923280579574409, 1.0540970021345688], 1e-14, "fixed");
  assert.deepEqual(fixed.fit(data), []);
  assert.deepEqual(fitMock(new ModelWeighted("w", M), data), [0, 0, 0]);
  nearAll(new ModelSelect("s", M).predict([2]), Array.from(M[2].vector), 0, "select");
  const r = new ModelWeighted("w", M).predictRdm([1, 0, 0]);
  assert.ok(r instanceof RDM && r.nConditions === 5 && r.name === "w");
});

test("fitRegress and fitRegressNn match rsatoolbox's fit_regress and fit_regress_nn", () => {
  const w = new ModelWeighted("w", M);
  const cases: [string, number[]][] = [
    ["reg cosine", [0.7921360786301256, 0.25669146984124197, 0.5537417468849809]],
    ["reg_r cosine", [0.7784290014203816, 0.28836751519384973, 0.5575773183412255]],
    ["regu cosine", [0.3901216318661831, 0.12641880328664276, 0.2727140446636185]],
    ["nn cosine", [0.7921360786301256, 0.25669146984124197, 0.5537417468849809]],
    ["nn_r cosine", [0.7327047497273275, 0.3780462080095909, 0.5658840997382624]],
    ["reg corr", [0.8376566535686184, 0.48334120788177976, -0.2543867282222203]],
    ["reg_r corr", [0.801956546918767, 0.49912842384059225, -0.3282324075537535]],
    ["regu corr", [0.8701551989506118, 0.5020933852952989, -0.2642561641020481]],
    ["nn corr", [0.8949699167051669, 0.4461264934889506, 0.0]],
    ["nn_r corr", [0.8586324465589504, 0.512591769067931, 0.0]],
  ];
  for (const [name, want] of cases) {
    const [kind, m] = name.split(" ") as [string, "cosine" | "corr"];
    const fitter = kind.startsWith("nn") ? fitRegressNn : fitRegress;
    const got = w.fit(data, { method: m, fitter, ridgeWeight: kind.endsWith("_r") ? (kind.startsWith("nn") ? 0.5 : 0.1) : 0, normalize: kind !== "regu" });
    nearAll(got, want, 1e-10, name);
  }
  // The default fitter of ModelWeighted is fitOptimize (rsatoolbox's), which reaches fitRegress's optimum.
  assert.equal(w.defaultFitter, fitOptimize);
  nearAll(w.fit(data, { method: "corr" }), cases[5][1], 1e-6, "default");
});

// Python: np.random.seed(0); fit_optimize / fit_optimize_positive(ModelWeighted(M), data, method) (BFGS,
// tol 1e-6, from rsatoolbox's random starts) and np.mean(compare(predict_rdm(θ), data, method)).
test("fitOptimize and fitOptimizePositive reach rsatoolbox's fit_optimize and fit_optimize_positive optima", () => {
  const w = new ModelWeighted("w", M);
  const score = (theta: number[], method: "cosine" | "corr") => data.reduce((s, d) => s + d.compare(w.predictRdm(theta), method), 0) / data.length;
  const cases: [typeof fitOptimize, "cosine" | "corr", number[], number][] = [
    [fitOptimize, "cosine", [0.7921361406702092, 0.25669132319455157, 0.5537417261149251], 0.9977707629691525],
    [fitOptimizePositive, "cosine", [0.792136040158193, 0.25669157064553905, 0.5537417551910132], 0.9977707629691528],
    [fitOptimize, "corr", [0.8376572980301692, 0.48334140321514835, -0.2543842349572936], 0.9718581120325052],
    [fitOptimizePositive, "corr", [0.8949699142870887, 0.44612649833983287, 4.5800431316924186e-11], 0.9717757618235087],
  ];
  for (const [fit, method, want, wantScore] of cases) {
    const theta = fit(w, data, { method });
    const what = `${fit.name} ${method}`;
    // scipy's BFGS stops at a gradient of 1e-6: its θ is within ~3e-6 of the optimum, its score ~1e-13.
    nearAll(theta, want, 5e-6, what);
    assert.ok(Math.abs(score(theta, method) - wantScore) < 1e-12, `${what}: score ${score(theta, method)} vs ${wantScore}`);
    assert.ok(score(theta, method) >= wantScore - 1e-15, `${what}: not below rsatoolbox's optimum`);
    // The closed forms: fit_regress (cosine, corr) and fit_regress_nn (θ ≥ 0) have the same optimum.
    nearAll(theta, (fit === fitOptimize ? fitRegress : fitRegressNn)(w, data, { method }), 1e-7, `${what} vs closed form`);
  }
  // θ ≥ 0 from the positive fitter; unnormalised θ keeps the scale; the seed only moves the starts.
  assert.ok(fitOptimizePositive(w, data, { method: "corr" }).every((t) => t >= 0));
  const raw = fitOptimize(w, data, { method: "cosine", normalize: false });
  nearAll(raw.map((t) => t / Math.hypot(...raw)), cases[0][2], 5e-6, "unnormalised");
  nearAll(fitOptimize(w, data, { method: "cosine", seed: 7 }), cases[0][2], 5e-6, "seed 7");
  assert.deepEqual(fitOptimize(w, data, { seed: 7 }), fitOptimize(w, data, { seed: 7 }));
  assert.throws(() => fitOptimize(w, data, { seed: 0.5 }), (e: unknown) => e instanceof InputError && /fitOptimize: seed must be an integer, got 0.5/.test((e as Error).message));
  assert.throws(() => fitOptimizePositive(w, data, { ridgeWeight: -1 }), /fitOptimizePositive: ridgeWeight must be ≥ 0, got -1/);
  assert.throws(() => fitOptimize(w, [new RDM([1, 2, 3])]), /data RDM 0 has 3 conditions, the model 5/);
  assert.throws(() => fitOptimize(w, data, { sed: 1 } as never), /unknown option 'sed' — did you mean 'seed'\?/);
});

test("fitSelect and fitInterpolate match rsatoolbox's fit_select and fit_interpolate", () => {
  const s = new ModelSelect("s", M);
  const want: Record<string, number> = { cosine: 1, corr: 0, spearman: 1, "tau-a": 1 };
  for (const [m, i] of Object.entries(want)) assert.deepEqual(fitSelect(s, data, { method: m as "cosine" }), [i], m);
  assert.deepEqual(s.fit(data, { method: "corr" }), [0]);
  const it = new ModelInterpolate("i", M);
  // scipy's bounded minimize_scalar stops at xatol 1e-5; ours searches to 1e-10: agreement to 1e-4.
  nearAll(fitInterpolate(it, data, { method: "cosine" }), [0.0, 0.6664405384636158, 0.33355946153638416], 1e-4, "interp cosine");
  nearAll(it.fit(data, { method: "corr" }), [0.6673419044524712, 0.3326580955475288, 0.0], 1e-4, "interp corr");
});

test("bad input is rejected with the shape named", () => {
  assert.throws(() => new ModelWeighted("w", [M[0], new RDM([1, 2, 3])]), (e: unknown) => e instanceof InputError && /RDM 1 has 3 conditions, expected 5/.test((e as Error).message));
  assert.throws(() => new ModelWeighted("w", M).predict([1, 2]), /θ has 2 weights for 3 RDMs/);
  assert.throws(() => new ModelSelect("s", M).predict([3]), /not an index into 3 RDMs/);
  assert.throws(() => fitRegress(new ModelWeighted("w", M), [new RDM([1, 2, 3])]), /data RDM 0 has 3 conditions, the model 5/);
  assert.throws(() => fitRegress(new ModelWeighted("w", M), data, { method: "spearman" }), /"cosine" or "corr"/);
  assert.throws(() => new ModelWeighted("w", M).fit(data, { ridge: 1 } as never), /ridge/);
  assert.throws(() => new ModelInterpolate("i", [M[0]]), /at least 2 RDMs/);
});
