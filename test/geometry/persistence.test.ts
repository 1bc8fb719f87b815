import { test } from "node:test";
import assert from "node:assert/strict";
import { persistence, type PersistencePair } from "../../src/geometry/persistence.js";
import { RDM } from "../../src/geometry/rdm.js";
import { barcodePlot, persistenceDiagramPlot } from "../../src/display/plots/geometry/persistence-plot.js";

// Diagrams agree when they have the same number of pairs per dimension and, sorted, each value within tol.
function assertDiagrams(got: PersistencePair[][], want: PersistencePair[][], tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: number of dimensions`);
  got.forEach((g, d) => {
    const w = want[d];
    assert.equal(g.length, w.length, `${what}: H${d} has ${g.length} pairs, expected ${w.length}`);
    const sort = (x: PersistencePair[]) => [...x].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const gs = sort(g), ws = sort(w);
    gs.forEach((p, i) => {
      for (let k = 0; k < 2; k++) {
        const a = p[k], b = ws[i][k];
        if (a === Infinity || b === Infinity) assert.equal(a, b, `${what}: H${d} pair ${i}`);
        else assert.ok(Math.abs(a - b) <= tol, `${what}: H${d} pair ${i}: ${a} vs ${b}`);
      }
    });
  });
}

function euclidean(points: number[][]): number[][] {
  return points.map((p) => points.map((q) => Math.sqrt(p.reduce((s, v, c) => s + (v - q[c]) ** 2, 0))));
}

// Deterministic clouds (the same generators wrote the inputs of the gudhi script below).
function scatter(n: number, d: number, a: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, c) => Math.sin(a * (i + 1) * (c + 1.5) + 0.37 * c) + 0.5 * Math.cos(1.9 * i + a * c)));
}
function noisySphere(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const z = 1 - (2 * (i + 0.5)) / n, r = Math.sqrt(1 - z * z), t = 2.399963229728653 * i;
    const s = 1 + 0.08 * Math.sin(5.3 * i);
    return [s * r * Math.cos(t), s * r * Math.sin(t), s * z];
  });
}
function grid(k: number): number[][] {
  const out: number[][] = [];
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) for (let c = 0; c < k; c++) out.push([a, b, c]);
  return out;
}
const polygon = (n: number) => Array.from({ length: n }, (_, k) => [Math.cos((2 * Math.PI * k) / n), Math.sin((2 * Math.PI * k) / n)]);
const SQRT2 = Math.SQRT2, SQRT3 = Math.sqrt(3), PHI = (1 + Math.sqrt(5)) / 2;

test("four corners of a unit square: three H0 deaths at 1, one H1 class [1, √2)", () => {
  const r = persistence([[0, 0], [1, 0], [1, 1], [0, 1]], { maxDim: 2 });
  assertDiagrams(r.diagrams, [[[0, 1], [0, 1], [0, 1], [0, Infinity]], [[1, SQRT2]], []], 1e-12, "square");
  assert.equal(r.nPoints, 4);
  assert.equal(r.maxDim, 2);
  assert.equal(r.threshold, SQRT2); // the enclosing radius
});

test("a regular hexagon: H1 [1, √3), then an H2 class [√3, 2) (its Rips complex is an octahedron there)", () => {
  const r = persistence(polygon(6), { maxDim: 2 });
  assertDiagrams(r.diagrams, [[[0, 1], [0, 1], [0, 1], [0, 1], [0, 1], [0, Infinity]], [[1, SQRT3]], [[SQRT3, 2]]], 1e-12, "hexagon");
});

test("points on a circle: one long H1 bar, from the side to the chord over four sides", () => {
  const side = 2 * Math.sin(Math.PI / 12);
  const r = persistence(polygon(12), { maxDim: 1 });
  assert.equal(r.diagrams[0].length, 12);
  assertDiagrams([r.diagrams[1]], [[[side, SQRT3]]], 1e-12, "12-gon H1");
  // A noisy circle of 200 points in 3-D: one bar far longer than the rest.
  const pts = Array.from({ length: 200 }, (_, i) => {
    const t = (2 * Math.PI * i) / 200;
    return [Math.cos(t) + 0.1 * Math.sin(7.1 * i), Math.sin(t) + 0.1 * Math.cos(3.3 * i), 0.1 * Math.sin(11.7 * i)];
  });
  const h1 = persistence(pts).diagrams[1].map(([b, d]) => d - b).sort((a, b) => b - a);
  assert.ok(h1[0] > 1.3 && h1[1] < 0.15, `longest H1 bars ${h1.slice(0, 2)}`);
});

test("the vertices of an octahedron and of an icosahedron: one H2 class each", () => {
  const oct = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];
  assertDiagrams(persistence(oct, { maxDim: 2 }).diagrams, [[...Array(5).fill([0, SQRT2]), [0, Infinity]], [], [[SQRT2, 2]]], 1e-12, "octahedron");
  const ico: number[][] = [];
  for (const a of [-1, 1]) for (const b of [-PHI, PHI]) ico.push([0, a, b], [a, b, 0], [b, 0, a]);
  assertDiagrams(persistence(ico, { maxDim: 2 }).diagrams, [[...Array(11).fill([0, 2]), [0, Infinity]], [], [[2, 2 * PHI]]], 1e-12, "icosahedron");
});

test("a distance matrix or an RDM of the distances gives the diagrams of the points", () => {
  const pts = noisySphere(36);
  const D = euclidean(pts);
  const fromPoints = persistence(pts, { maxDim: 2 });
  assertDiagrams(persistence(D, { distances: true, maxDim: 2 }).diagrams, fromPoints.diagrams, 1e-12, "matrix");
  assertDiagrams(persistence(RDM.fromMatrix(D), { maxDim: 2 }).diagrams, fromPoints.diagrams, 1e-12, "RDM");
  // Other metrics are the same as their distance matrices.
  const grid2 = scatter(20, 3, 0.83);
  const l1 = grid2.map((p) => grid2.map((q) => p.reduce((s, v, c) => s + Math.abs(v - q[c]), 0)));
  assertDiagrams(persistence(grid2, { metric: "manhattan", maxDim: 2 }).diagrams, persistence(l1, { distances: true, maxDim: 2 }).diagrams, 1e-12, "manhattan");
});

test("a threshold below the enclosing radius leaves essential classes in every dimension", () => {
  // The square at 1: connected, the loop never fills.
  const r = persistence([[0, 0], [1, 0], [1, 1], [0, 1]], { threshold: 1 });
  assertDiagrams(r.diagrams, [[[0, 1], [0, 1], [0, 1], [0, Infinity]], [[1, Infinity]]], 0, "square at 1");
  // Two far clusters under a small threshold: two H0 classes never merge.
  const two = persistence([[0, 0], [0.1, 0], [5, 0], [5.1, 0]], { threshold: 1, maxDim: 0 });
  assertDiagrams(two.diagrams, [[[0, 0.1], [0, 0.1], [0, Infinity], [0, Infinity]]], 1e-12, "two clusters");
});

// gudhi 3.7.1 (Debian python3-gudhi): RipsComplex(points, max_edge_length = threshold)
// .create_simplex_tree(max_dimension = maxDim + 1), persistence_intervals_in_dimension(0…maxDim), sorted.
// Thresholds: the enclosing radius of each cloud (2.475908602872452, 1.9089727474238398,
// 1.7320508075688772, 1.9853872632940057), 1.2 for scatter60x4-thr. Inputs as generated below.
const GUDHI: Record<string, PersistencePair[][]> = {
  "scatter40x3": [
    [[0.0, 0.09006760944795748], [0.0, 0.19680988669998137], [0.0, 0.27063347603330523], [0.0, 0.31903044349190596], [0.0, 0.35688688615363007], [0.0, 0.37521610310224435], [0.0, 0.39241666587402635], [0.0, 0.4104195039437512], [0.0, 0.4131397370914135], [0.0, 0.43678764518225893], [0.0, 0.4571153981035964], [0.0, 0.5125796606256398], [0.0, 0.5143382499611437], [0.0, 0.5454724820460986], [0.0, 0.5651750462219303], [0.0, 0.5687502455569883], [0.0, 0.5745199878391236], [0.0, 0.5778883056631767], [0.0, 0.5785479296008552], [0.0, 0.5957891480071842], [0.0, 0.6206847975210054], [0.0, 0.6207228439002431], [0.0, 0.6736203429606324], [0.0, 0.6802399560270445], [0.0, 0.6874925116615233], [0.0, 0.6892674979043907], [0.0, 0.7062167903198602], [0.0, 0.7070045456528268], [0.0, 0.7146508676432137], [0.0, 0.7437416748475575], [0.0, 0.7538800900806961], [0.0, 0.7783498747475923], [0.0, 0.8748200704933282], [0.0, 0.8835092034277259], [0.0, 0.8905720000849279], [0.0, 0.9213144170103992], [0.0, 0.9335675990822513], [0.0, 0.962949401968362], [0.0, 1.0631593823907508], [0.0, Infinity]],
    [[0.6298654888028357, 0.6366767109657936], [0.8543397445958542, 0.950830457538789], [0.8588859895300718, 0.8974188340533201], [0.8894698707317775, 0.8970441706290805], [0.9016859856357619, 1.1609042534957903], [0.9298658740227398, 0.9414674329771562], [0.978595173809511, 1.0840095583005098], [0.985383589372915, 1.2243338846280587], [1.0373707781239458, 1.0628334850661143], [1.0374127347046689, 1.089770181254596], [1.0416160514471504, 1.1751503700555257], [1.1045625156283543, 1.2744841812421281], [1.1653156250729595, 1.223156115329316], [1.2119260136489955, 1.2778343214718242], [1.3749164811231147, 1.4119744079705896], [1.3783297959716836, 1.3786599037613456]],
    [[1.4047969305841654, 1.5420729362825834]],
  ],
  "sphere36": [
    [[0.0, 0.5107796890631469], [0.0, 0.5109480569332385], [0.0, 0.5129979479382097], [0.0, 0.5146099842411238], [0.0, 0.5256860227663266], [0.0, 0.5304046040146585], [0.0, 0.5325290308410048], [0.0, 0.5327744973626327], [0.0, 0.5360382688955155], [0.0, 0.5364307783503038], [0.0, 0.5395915921753587], [0.0, 0.5404366858965043], [0.0, 0.5488176263833124], [0.0, 0.5508108340512112], [0.0, 0.5542890604526343], [0.0, 0.5558851095920739], [0.0, 0.5606030597875232], [0.0, 0.5607870960350197], [0.0, 0.5631803560127281], [0.0, 0.5641282383286714], [0.0, 0.5647233182294181], [0.0, 0.5648987674545155], [0.0, 0.5660354912945865], [0.0, 0.5667475697495724], [0.0, 0.5683683805789237], [0.0, 0.5696793800480426], [0.0, 0.5741701153216776], [0.0, 0.5809321119486308], [0.0, 0.5844894179525298], [0.0, 0.5884429443327277], [0.0, 0.5898862655732406], [0.0, 0.592928551501832], [0.0, 0.5934629527934554], [0.0, 0.5961328598143378], [0.0, 0.5973137707161569], [0.0, Infinity]],
    [[0.5711907275640261, 0.7519979377370819], [0.5737523162805818, 0.7538594839465803], [0.579917128812642, 0.8226333451704207], [0.5811016370105394, 0.8528273256363006], [0.5875005037978563, 0.7226961551901964], [0.5926672468387468, 0.7290642849682102], [0.6000279145343789, 0.7000851828580468], [0.6011723819497631, 0.8393712981605412], [0.603833618655802, 0.7886167676330333], [0.6056154283596239, 0.7974753211579013], [0.6056755446470377, 0.7017785440480501], [0.6069045154185382, 0.8405429323448494], [0.608299119577393, 0.7846854918256758], [0.6112708008510795, 0.7823888790825408], [0.6164570161058144, 0.7422630885500378], [0.6176952169254714, 0.7474353168047194], [0.6322273011174698, 0.8134543180091215], [0.6324138235646496, 0.8080195355579648], [0.6356251772908055, 0.7273290681599995], [0.6383884673446342, 0.8216988346734825], [0.6399772709198522, 0.7354227697357516], [0.6412358594600802, 0.8092581903120851], [0.642398774306534, 0.6674091460005537], [0.6450331847543189, 0.6707969694570854], [0.6511056604884109, 0.7804124257363811], [0.6517783064913987, 0.7876421236567722]],
    [[0.8562060059418714, 1.6588217225930173]],
  ],
  "scatter60x4-thr": [
    [[0.0, 0.19348275200887521], [0.0, 0.2313947128428746], [0.0, 0.32557836663604056], [0.0, 0.44461674989324496], [0.0, 0.48254837200992645], [0.0, 0.48475892957140043], [0.0, 0.5128955035416155], [0.0, 0.5193600372360716], [0.0, 0.5238245088523082], [0.0, 0.5304465431027142], [0.0, 0.5396554101908333], [0.0, 0.5416984889466632], [0.0, 0.5429050105027671], [0.0, 0.5711005499340118], [0.0, 0.5747917962829954], [0.0, 0.5924897031732789], [0.0, 0.6061714346232441], [0.0, 0.6503310011143562], [0.0, 0.6738766042424473], [0.0, 0.677670401958366], [0.0, 0.7064425593076326], [0.0, 0.7127469879159936], [0.0, 0.7334788966511974], [0.0, 0.7421536703572211], [0.0, 0.7682913351604252], [0.0, 0.7738991533680418], [0.0, 0.7988757245427448], [0.0, 0.8009331822711638], [0.0, 0.804333047448402], [0.0, 0.8114386688265803], [0.0, 0.8299269173781062], [0.0, 0.831108688400774], [0.0, 0.8328945136826565], [0.0, 0.8346665739561444], [0.0, 0.8517965240970021], [0.0, 0.8518627178018252], [0.0, 0.8520793771764341], [0.0, 0.8676944151170887], [0.0, 0.8755120664131201], [0.0, 0.8775465802217589], [0.0, 0.8808088414879627], [0.0, 0.8845889518611583], [0.0, 0.8904542337238043], [0.0, 0.8915851817681579], [0.0, 0.8981324977036673], [0.0, 0.92398022812717], [0.0, 0.9416314208966189], [0.0, 0.9623845691629618], [0.0, 0.973769657144848], [0.0, 0.9924558895883], [0.0, 1.009117803150999], [0.0, 1.0271891357622118], [0.0, 1.0463726381555036], [0.0, 1.056455172448902], [0.0, 1.0653374105845534], [0.0, 1.1075437097294043], [0.0, 1.1494402304368352], [0.0, Infinity], [0.0, Infinity], [0.0, Infinity]],
    [[0.8454958225559995, 0.9492987716558547], [0.9542220453164234, 1.0445998332061497], [0.9823331881861124, 1.0445998332061497], [1.0259157625437623, Infinity], [1.040604921648175, Infinity], [1.0588804378565873, 1.0692836441870133], [1.076565943828063, Infinity], [1.114902607137824, Infinity], [1.1486805342206219, Infinity], [1.1568827634458378, Infinity], [1.1573816888560573, Infinity], [1.1829022410510464, Infinity]],
    [],
  ],
  "grid27": [
    [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, Infinity]],
    [[1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951], [1.0, 1.4142135623730951]],
    [],
  ],
  "scatter25x2": [
    [[0.0, 0.10065109572113078], [0.0, 0.2435280209145705], [0.0, 0.24957757951335285], [0.0, 0.2681627027582274], [0.0, 0.28250328541895586], [0.0, 0.29575844937932805], [0.0, 0.3550121306255752], [0.0, 0.38040792444904653], [0.0, 0.39999824161678577], [0.0, 0.40805806889328206], [0.0, 0.4226183187950095], [0.0, 0.42389791611266536], [0.0, 0.4373378385444532], [0.0, 0.44438659799353375], [0.0, 0.470254312506073], [0.0, 0.504750671411852], [0.0, 0.5058493587632608], [0.0, 0.5115116324875904], [0.0, 0.522565361931663], [0.0, 0.5347216025709488], [0.0, 0.5593107308802454], [0.0, 0.5813846955754951], [0.0, 0.7259064387705078], [0.0, 0.7741086418315197], [0.0, Infinity]],
    [[0.6127271323292592, 0.6480604877015264], [0.7345358684543022, 0.945108092982484], [0.7489214609840104, 0.8838502880742847], [0.8107837397208998, 0.8712483620816882], [1.0752513109141748, 1.111421344211329]],
    [],
  ],};

test("full H0–H2 diagrams agree with gudhi's on clouds of 25–60 points", () => {
  const cases: [string, number[][], number | undefined][] = [
    ["scatter40x3", scatter(40, 3, 0.61), undefined],
    ["sphere36", noisySphere(36), undefined],
    ["scatter60x4-thr", scatter(60, 4, 1.13), 1.2],
    ["grid27", grid(3), undefined], // many equal distances: the tie order matters
    ["scatter25x2", scatter(25, 2, 2.71), undefined],
  ];
  for (const [name, pts, threshold] of cases) {
    assertDiagrams(persistence(pts, { maxDim: 2, threshold }).diagrams, GUDHI[name], 1e-12, name);
  }
  // The noisy sphere has exactly one H2 class.
  assert.equal(GUDHI.sphere36[2].length, 1);
});

test("bad input: clear errors naming the shape", () => {
  assert.throws(() => persistence([[0, 1, 2], [1, 0, 1]], { distances: true }), /must be square; row 0 has 3 values, expected 2 \(shape \[2, 3\]\)/);
  assert.throws(() => persistence([[0, 1], [2, 0]], { distances: true }), /not symmetric at \(0, 1\)/);
  assert.throws(() => persistence([[0, -1], [-1, 0]], { distances: true }), /distance \(0, 1\) is -1/);
  assert.throws(() => persistence([[0, 0], [1]]), /row 1 has length 1, row 0 has 2/);
  assert.throws(() => persistence([[0, 0], [1, 1]], { maxDim: -1 }), /maxDim must be a whole number/);
  assert.throws(() => persistence([[0, 0], [1, 1]], { threshold: NaN }), /threshold must be a number/);
  assert.throws(() => persistence([[0, 0], [1, 1]], { metric: "cityblock" as never }), /unknown metric "cityblock"/);
  assert.throws(() => persistence([[0, 1], [1, 0]], { distances: true, metric: "euclidean" }), /metric applies to a point cloud/);
  assert.throws(() => persistence([[0, 0], [1, 1]], { maxdim: 2 } as never), /maxdim/);
  assert.throws(() => persistence(new RDM([1, NaN, 2])), /RDM's dissimilarity \(0, 2\) is NaN/);
});

test("barcode and persistence diagram figures", () => {
  const r = persistence(polygon(6), { maxDim: 2 });
  const bar = barcodePlot(r);
  const bars = bar.data.filter((t) => t.type === "bar");
  assert.deepEqual(bars.map((t) => t.name), ["H0 (6)", "H1 (1)", "H2 (1)"]);
  // Bars start at birth; the essential H0 bar (the longest, first) runs to the ∞ line, past every finite value.
  const [h0base, h0len] = [bars[0].base as number[], bars[0].x as number[]];
  assert.equal(h0base[0], 0);
  assert.ok(h0base[0] + h0len[0] > 2);
  const [h1base, h1len] = [bars[1].base as number[], bars[1].x as number[]];
  assert.ok(Math.abs(h1base[0] - 1) < 1e-12 && Math.abs(h1base[0] + h1len[0] - Math.sqrt(3)) < 1e-12, "H1 [1, √3)");
  const dgm = persistenceDiagramPlot(r, { minPersistence: 0.3 }); // drops the H2 class (persistence 2 − √3)
  const pts = dgm.data.filter((t) => t.mode === "markers");
  assert.deepEqual(pts.map((t) => (t.x as number[]).length), [6, 1, 0]);
  assert.throws(() => barcodePlot(r, { colour: "red" } as never), /colour/);
  assert.throws(() => persistenceDiagramPlot({} as never), /expected a persistence result/);
});
