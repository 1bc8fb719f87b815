// DMD eigenvalues of one or more systems in the complex plane, with the unit circle: inside it a mode
// decays, on it it persists, outside it grows; the angle is the mode's frequency per step. The view
// beside a DSA score — two systems DSA calls close have spectra that nearly coincide.
import type { HankelDmd } from "../../../geometry/hankel-dmd.js";
import { escapeHtml } from "../../core/escape.js";
import { Figure, PALETTE } from "../../core/plotly.js";
import { InputError } from "../../../io/errors.js";
import { optionNames, rejectUnknownOptions } from "../../../io/options.js";

/** Eigenvalues as real and imaginary parts of equal length. */
export interface Spectrum {
  re: ArrayLike<number>;
  im: ArrayLike<number>;
}

/** Options of `fl.plot.eigenSpectrum`. */
export interface EigenSpectrumOptions {
  title?: string;
}

const EIGEN_SPECTRUM_OPTIONS = optionNames<EigenSpectrumOptions>({ title: true });

/**
 * The eigenvalues of several systems (a spectrum or a fitted `hankelDmd` each) in the complex plane,
 * one colour per system, over the unit circle.
 * @example
 * fl.show(fl.plot.eigenSpectrum({ rnn: fl.hankelDmd(h1, { delays: 5, rank: 8 }), rotated: fl.hankelDmd(h2, { delays: 5, rank: 8 }) }));
 */
export function eigenSpectrumPlot(systems: Record<string, Spectrum | HankelDmd>, opts: EigenSpectrumOptions = {}): Figure {
  rejectUnknownOptions("plot.eigenSpectrum", opts, EIGEN_SPECTRUM_OPTIONS);
  const names = Object.keys(systems ?? {});
  if (names.length === 0) throw new InputError(undefined, "plot.eigenSpectrum: give at least one system, { name: { re, im } }");
  const circle = Array.from({ length: 181 }, (_, i) => (2 * Math.PI * i) / 180);
  let extent = 1;
  const traces = names.map((name, s) => {
    const sys = systems[name];
    const e: Spectrum = sys && "eigenvalues" in sys ? sys.eigenvalues : sys;
    if (!e || e.re?.length === undefined || e.im?.length !== e.re.length) {
      throw new InputError(undefined, `plot.eigenSpectrum: system "${name}" needs re and im of equal length, got ${e?.re?.length} and ${e?.im?.length}`);
    }
    const re = Array.from(e.re, Number), im = Array.from(e.im, Number);
    for (let i = 0; i < re.length; i++) extent = Math.max(extent, Math.abs(re[i]), Math.abs(im[i]));
    return {
      type: "scatter",
      mode: "markers",
      name: escapeHtml(name),
      x: re,
      y: im,
      customdata: re.map((r, i) => [Math.hypot(r, im[i]), Math.atan2(im[i], r)]),
      marker: { size: 9, color: PALETTE[s % PALETTE.length], opacity: 0.85, line: { width: 0.5, color: "#333" } },
      hovertemplate: `<b>${escapeHtml(name)}</b><br>λ = %{x:.4f} %{y:+.4f}i<br>|λ| %{customdata[0]:.4f}, angle %{customdata[1]:.4f} rad<extra></extra>`,
    };
  });
  const r = 1.1 * extent;
  return new Figure({
    data: [
      {
        type: "scatter",
        mode: "lines",
        name: "unit circle",
        x: circle.map(Math.cos),
        y: circle.map(Math.sin),
        line: { color: "#888", width: 1, dash: "dot" },
        hoverinfo: "skip",
      },
      ...traces,
    ],
    layout: {
      title: { text: opts.title ?? `DMD eigenvalues of ${names.length} system${names.length === 1 ? "" : "s"}` },
      xaxis: { title: { text: "Re λ" }, range: [-r, r], zeroline: true },
      yaxis: { title: { text: "Im λ" }, range: [-r, r], zeroline: true, scaleanchor: "x" },
      height: 520,
    },
  });
}
