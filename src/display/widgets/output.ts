// ipywidgets' Output widget, kernel side: an area that holds displayed values. What is displayed
// while `capture` runs (fl.show, a cell's figures) lands in it instead of the cell — also from a
// slider's callback, long after the cell ended — and its outputs are part of its state, so saved
// notebooks and exported pages show them.
import { Widget } from "./widget.js";
import type { ControlOptions } from "./controls.js";
import { withCapture } from "../core/kernel.js";
import { represent } from "../core/represent.js";
import type { MimeBundle } from "../core/bundle.js";

interface OutputRecord {
  output_type: "display_data";
  data: MimeBundle;
  metadata: Record<string, unknown>;
}

/**
 * An area of displayed values, updated from the kernel.
 * @example
 * const out = new fl.widgets.Output();
 * fl.show(out);
 * await out.capture(() => fl.show(sae.metrics(acts)));
 */
export class Output extends Widget {
  constructor(opts: ControlOptions = {}) {
    super("OutputModel", opts, "Output");
  }

  /** The outputs shown (nbformat display_data records). */
  get outputs(): readonly OutputRecord[] {
    return this.get<OutputRecord[]>("outputs");
  }

  /**
   * Show values in this area, after what is there.
   * @example
   * out.append(fl.plot.rdm(d));
   */
  append(...values: unknown[]): this {
    const added = values.map((x): OutputRecord => ({ output_type: "display_data", data: represent(x), metadata: {} }));
    return this.set({ outputs: [...this.outputs, ...added] });
  }

  /**
   * Empty the area.
   * @example
   * out.clear();
   */
  clear(): this {
    return this.set({ outputs: [] });
  }

  /**
   * Run `fn`; what it displays goes into this area (replacing what was there when `replace` is set).
   * Printed text (console.log) still goes to the cell.
   * @example
   * slider.observe(() => out.capture(() => fl.show(sae.dashboard(acts, slider.value)), { replace: true }), "value");
   */
  async capture<T>(fn: () => T | Promise<T>, opts: { replace?: boolean } = {}): Promise<T> {
    const pending: OutputRecord[] = [];
    let cleared = opts.replace ?? false;
    const result = await withCapture(
      {
        display: (data) => void pending.push({ output_type: "display_data", data, metadata: {} }),
        clear: () => {
          pending.length = 0;
          cleared = true;
        },
      },
      fn,
    );
    this.set({ outputs: [...(cleared ? [] : this.outputs), ...pending] });
    return result;
  }
}
