// SPD's causal-importance gates: the native addon's fused kernels (native/spd_gates.cc) against the
// JavaScript loops they replace, on every regime of the GELU and of the gradient (zeros skipped).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/engine/random.js";
import { loadNative } from "../../src/engine/native.js";
import { gateBackward, gateBackwardLoops, gateForward, gateForwardLoops } from "../../src/circuits/parameter-decomposition/spd-step.js";

test("native SPD gates equal the JavaScript loops (forward, Φ/φ kept, and backward)", (t) => {
  if (!loadNative().addon) return t.skip(`no native addon: ${loadNative().problem}`);
  const rng = new Rng(5);
  const B = 37, C = 11, H = 7, CH = C * H;
  // θ holds the gate blocks at offsets, as spd-step's layout does.
  const wIn = 3, bIn = wIn + CH, wOut = bIn + CH, bOut = wOut + CH, size = bOut + C + 2;
  const theta = Float64Array.from(rng.normals(size).map((v) => 1.5 * v));
  const a = Float64Array.from(rng.normals(B * C).map((v) => 2 * v));
  const native = { cdf: new Float64Array(B * CH), pdf: new Float64Array(B * CH) };
  const pre = gateForward(a, theta, wIn, bIn, wOut, bOut, B, C, H, native);
  const loops = { cdf: new Float64Array(B * CH), pdf: new Float64Array(B * CH) };
  const preJs = gateForwardLoops(a, theta, wIn, bIn, wOut, bOut, B, C, H, loops.cdf, loops.pdf, new Float64Array(B * C));
  const close = (x: Float64Array, y: Float64Array, what: string) => {
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i])));
    assert.ok(worst < 1e-13, `${what}: ${worst}`);
  };
  close(pre, preJs, "pre");
  close(native.cdf, loops.cdf, "Φ");
  close(native.pdf, loops.pdf, "φ");
  const dpre = Float64Array.from(rng.normals(B * C).map((v, i) => (i % 5 === 0 ? 0 : v)));
  const g = Float64Array.from(rng.normals(size)), gJs = Float64Array.from(g);
  const da = gateBackward(a, dpre, theta, g, wIn, bIn, wOut, bOut, B, C, H, native);
  const daJs = gateBackwardLoops(a, dpre, theta, gJs, wIn, bIn, wOut, bOut, B, C, H, loops, new Float64Array(B * C));
  close(da, daJs, "∂a");
  close(g, gJs, "gradients (accumulated onto what was there, the rest of θ untouched)");
});
