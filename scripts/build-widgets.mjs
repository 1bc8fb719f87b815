// Bundles widgets/offline-embed.js — what renders Jupyter widgets in an exported notebook's HTML from
// the saved widget state, offline — into one minified IIFE with its CSS inside (injected as <style>
// when the code that needs it runs), at dist/widgets/embed.js and beside the nbconvert template
// (jupyter/nbconvert/templates/featurelab/widgets-embed.js, gitignored), which inlines it into pages
// that hold widget state. Run by scripts/build.mjs (so `npm install`) and by the export when the copy is
// missing or older than its sources; `node scripts/build-widgets.mjs` rebuilds it.
//
// What goes in: @jupyter-widgets/html-manager's HTMLManager and renderWidgets with base 6, controls 5
// (ipywidgets 8 models: base/controls 2.0.0) and output 6, and anywidget. Left out: the ipywidgets 7
// packages html-manager also requires (base7, controls7: a 7.x state gets an error naming them), and
// every Font Awesome font file but the woff2 of the solid and regular faces (data URLs; the brands face
// is dropped — logos are not widget icons). Size: 1.55 MB minified (0.51 MB gzipped; plotly.js is 4.8 MB):
// Font Awesome ≈ 200 kB (its two woff2 fonts ≈ 120 kB of that), @jupyter-widgets/controls 165 kB,
// @lumino/widgets 150 kB, the @jupyterlab packages html-manager's Output widget brings (rendermime,
// outputarea, services, apputils) ≈ 250 kB, ajv (the state's schema check) 100 kB, jquery 90 kB.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ENTRY = join(root, "widgets", "offline-embed.js");
export const BUNDLE = join(root, "dist", "widgets", "embed.js");
export const TEMPLATE_COPY = join(root, "jupyter", "nbconvert", "templates", "featurelab", "widgets-embed.js");

/** ipywidgets 7 packages (and their CSS), which html-manager requires for 7.x states: not bundled. */
export const ipywidgets7 = {
  name: "featurelab-no-ipywidgets7",
  setup(build) {
    build.onResolve({ filter: /^@jupyter-widgets\/(base7|controls7)(\/|$)/ }, (args) => ({ path: args.path, namespace: "ipywidgets7" }));
    build.onLoad({ filter: /.*/, namespace: "ipywidgets7" }, (args) => ({
      contents: args.path.endsWith(".css")
        ? ""
        : `throw new Error(${JSON.stringify(`featurelab widgets: ipywidgets 7 state (${args.path.replace("7", "")} 1.x) is not rendered offline; re-run the notebook with ipywidgets 8`)});`,
      loader: "js",
    }));
  },
};

/**
 * html-manager's libembed.js starts by setting webpack's public path (where webpack would fetch fonts
 * from); there is no webpack here, so the statement would throw a ReferenceError: it is left out.
 */
const noWebpackPublicPath = {
  name: "featurelab-no-webpack-public-path",
  setup(build) {
    build.onLoad({ filter: /@jupyter-widgets[\\/]html-manager[\\/]lib[\\/]libembed\.js$/ }, (args) => {
      const js = readFileSync(args.path, "utf8");
      const out = js.replace(/__webpack_public_path__\s*=[^;]*;/, "");
      if (out === js || out.includes("__webpack_public_path__")) throw new Error(`${args.path}: the __webpack_public_path__ statement was not found where expected`);
      return { contents: out, loader: "js", resolveDir: dirname(args.path) };
    });
  },
};

/** Font Awesome's @font-face rules with only the woff2 source, and no brands face. */
const fontAwesome = {
  name: "featurelab-font-awesome-woff2",
  setup(build) {
    build.onLoad({ filter: /@fortawesome[\\/]fontawesome-free[\\/]css[\\/].*\.css$/ }, (args) => {
      const css = readFileSync(args.path, "utf8").replace(/@font-face\s*{[^}]*}/g, (face) => {
        if (/fa-brands-/.test(face)) return "";
        const woff2 = /url\(([^)]*\.woff2)\)/.exec(face);
        if (!woff2) throw new Error(`no woff2 source in ${args.path}: ${face}`);
        return face.replace(/(src:[^;}]*;?)+/g, "").replace(/}$/, `;src:url(${woff2[1]}) format("woff2")}`).replace(/;;/g, ";");
      });
      return { contents: css, loader: "css", resolveDir: dirname(args.path) };
    });
  },
};

/**
 * CSS required from JavaScript becomes a module that adds it to the page as a <style> when it runs.
 * Exported with ipywidgets7 for the live-widget test page (test/display/live/), bundled the same way.
 */
export const cssAsStyle = (esbuild) => ({
  name: "featurelab-css-as-style",
  setup(build) {
    build.onLoad({ filter: /\.css$/ }, async (args) => {
      const r = await esbuild.build({
        entryPoints: [args.path],
        bundle: true,
        minify: true,
        write: false,
        logLevel: "silent",
        loader: { ".woff2": "dataurl", ".svg": "dataurl", ".png": "dataurl", ".gif": "dataurl" },
        plugins: [fontAwesome],
      });
      const css = r.outputFiles[0].text.trim();
      return {
        contents: css
          ? `(() => { const s = document.createElement("style"); s.setAttribute("data-featurelab-widgets", ""); s.textContent = ${JSON.stringify(css)}; document.head.appendChild(s); })();`
          : "",
        loader: "js",
      };
    });
  },
});

/** Write a file beside and rename it into place, so a reader (a parallel export) never sees half of it. */
function writeAtomic(path, data) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Bundle widgets/offline-embed.js to dist/widgets/embed.js and beside the template; returns its size in bytes. */
export async function buildWidgets() {
  // esbuild is a devDependency: imported here, not at the top, so the export runs without it when the copy is there.
  const esbuild = await import("esbuild");
  const r = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: ["chrome100", "firefox100", "safari15"],
    minify: true,
    write: false,
    logLevel: "warning",
    legalComments: "eof",
    logLimit: 5,
    // @jupyterlab/ui-components imports its icons as SVG text (webpack's raw loader).
    loader: { ".svg": "text" },
    plugins: [ipywidgets7, noWebpackPublicPath, cssAsStyle(esbuild)],
  });
  // Inlined into a <script> element: no "</script" or "<!--" may appear in its text (esbuild already
  // escapes the first; both spellings below mean the same in strings, templates and regular expressions).
  const js = r.outputFiles[0].text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\x21--");
  writeAtomic(BUNDLE, js);
  writeAtomic(TEMPLATE_COPY, js);
  return Buffer.byteLength(js);
}

/** The files whose change calls for a rebuild: the entry and what it imports from widgets/, this script and the installed packages. */
function sources() {
  return [ENTRY, join(root, "widgets", "anywidget-classes.js"), fileURLToPath(import.meta.url), join(root, "node_modules", ".package-lock.json")].filter((p) => existsSync(p));
}

/**
 * Build the bundle if the template's copy is missing or older than its sources; otherwise put a copy
 * at dist/widgets/embed.js if it is missing there (a rebuild of dist/ replaces the folder).
 */
export async function ensureWidgetBundle() {
  const stale = !existsSync(TEMPLATE_COPY) || sources().some((p) => statSync(p).mtimeMs > statSync(TEMPLATE_COPY).mtimeMs);
  if (stale) return buildWidgets();
  if (!existsSync(BUNDLE)) {
    mkdirSync(dirname(BUNDLE), { recursive: true });
    copyFileSync(TEMPLATE_COPY, BUNDLE);
  }
  return statSync(TEMPLATE_COPY).size;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bytes = await buildWidgets();
  console.log(`${BUNDLE}: ${(bytes / 1e6).toFixed(2)} MB (and ${TEMPLATE_COPY})`);
}
