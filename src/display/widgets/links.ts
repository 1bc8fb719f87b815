// Keeping two widgets' values in step: `link` through the kernel (every change crosses the comm
// and back), `jslink` in the page (ipywidgets' LinkModel: the frontend copies the value itself, so
// it works in an exported page with no kernel).
import { Widget } from "./widget.js";

/** A widget and the state key to keep in step. */
export type Endpoint = readonly [Widget, string];

/** A kernel-side link; `unlink()` stops it. */
export interface Link {
  /** Stop keeping the two in step. */
  unlink(): void;
}

/**
 * Keep `target`'s key equal to `source`'s, both ways, through the kernel (ipywidgets' `link`).
 * @example
 * const other = new fl.widgets.IntSlider();
 * fl.widgets.link([slider, "value"], [other, "value"]);
 */
export function link(source: Endpoint, target: Endpoint, opts: { transform?: [(v: any) => unknown, (v: any) => unknown] } = {}): Link {
  const [forward, back] = opts.transform ?? [(v: unknown) => v, (v: unknown) => v];
  let busy = false;
  const sync = (from: Endpoint, to: Endpoint, f: (v: unknown) => unknown) => () => {
    if (busy) return;
    busy = true;
    try {
      to[0].set({ [to[1]]: f(from[0].get(from[1])) });
    } finally {
      busy = false;
    }
  };
  const a = sync(source, target, forward);
  const b = sync(target, source, back);
  a();
  source[0].observe(a, source[1]);
  target[0].observe(b, target[1]);
  return {
    unlink() {
      source[0].off(`change:${source[1]}`, a);
      target[0].off(`change:${target[1]}`, b);
    },
  };
}

/**
 * Keep `target`'s key equal to `source`'s in the page, with no round trip to the kernel (ipywidgets'
 * `jslink`); returns the link widget (close it to unlink).
 * @example
 * const other = new fl.widgets.IntSlider();
 * fl.widgets.jslink([slider, "value"], [other, "value"]);
 */
export function jslink(source: Endpoint, target: Endpoint): Widget {
  for (const [w, key] of [source, target]) w.get(key); // names a missing key now, not in the page
  return new Widget("LinkModel", { source: [source[0], source[1]], target: [target[0], target[1]] }, "jslink");
}

/**
 * Copy `source`'s key to `target`'s in the page, one way (ipywidgets' `jsdlink`).
 * @example
 * fl.widgets.jsdlink([slider, "value"], [label, "value"]);
 */
export function jsdlink(source: Endpoint, target: Endpoint): Widget {
  for (const [w, key] of [source, target]) w.get(key);
  return new Widget("DirectionalLinkModel", { source: [source[0], source[1]], target: [target[0], target[1]] }, "jsdlink");
}
