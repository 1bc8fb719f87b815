// Exported HTML renders Jupyter widgets offline from the widget state saved in the notebook: a
// notebook written here with hand-made ipywidgets 8 state (an IntSlider with its Layout and
// SliderStyle, a Label, both in an HBox) and an anywidget model (its _esm writes text from its state and
// from a binary buffer saved base64, the way nbclient saves it), converted with the featurelab template,
// opened in Debian's headless chromium. The renderer (widgets/offline-embed.js, bundled by
// scripts/build-widgets.mjs) also checks the state against @jupyter-widgets/schema: a state that does
// not fit it fails here as a console error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CEILING, CHROMIUM, launch } from "../browser.js";
import { jupyterEnv } from "../../scripts/export.mjs";
import { ensureWidgetBundle } from "../../scripts/build-widgets.mjs";

const root = join(import.meta.dirname, "..", "..");
const OUT = join(root, "out", "widgets");
const PYTHON = "/usr/bin/python3";
const JUPYTER = "/usr/bin/jupyter";
const missing = [JUPYTER, PYTHON, CHROMIUM].filter((p) => !existsSync(p));

const CONTROLS = { _model_module: "@jupyter-widgets/controls", _model_module_version: "2.0.0", _view_module: "@jupyter-widgets/controls", _view_module_version: "2.0.0", _view_count: null };
const BASE = { _model_module: "@jupyter-widgets/base", _model_module_version: "2.0.0", _view_module: "@jupyter-widgets/base", _view_module_version: "2.0.0", _view_count: null };
const DOM = { _dom_classes: [], tabbable: null, tooltip: null };
const ANY_VERSION = "~0.11.*";

/** A model as nbclient saves it in nb.metadata.widgets (its buffers, if any, in the same entry). */
function model(state: Record<string, unknown>, module: string, version: string, buffers?: { path: string[]; data: string; encoding: "base64" }[]) {
  return { model_name: state._model_name, model_module: module, model_module_version: version, state, ...(buffers ? { buffers } : {}) };
}

const layout = (id: string) => [id, model({ ...BASE, _model_name: "LayoutModel", _view_name: "LayoutView", width: null, height: null }, "@jupyter-widgets/base", "2.0.0")] as const;

// The anywidget's module: text from its state ("title") and from its binary "payload" (a DataView
// once the buffer is put back into the state). It has "<", "&&" and "</script>" in it, which the page
// must carry unharmed into the blob: module.
const ESM = `export default {
  render({ model, el }) {
    const view = model.get("payload");
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    let text = "";
    for (let i = 0; i < bytes.length && bytes[i] !== 0; i++) text += String.fromCharCode(bytes[i]);
    const p = document.createElement("p");
    p.className = "fl-any";
    p.dataset.note = "</script><!-- still the module -->";
    p.textContent = model.get("title") + " | " + text;
    el.appendChild(p);
  }
};
`;
const PAYLOAD = "bytes from the buffer";
const LABEL = "k < 10 & rising";
const HTML_FALLBACK = '<p class="fl-html-fallback">the slider as HTML</p>';
const NOT_SAVED_HTML = '<p class="fl-not-saved">this widget was closed; its text/html shows instead</p>';
// A 1×1 PNG: the static picture exported with the HBox's view, for readers without JavaScript.
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

function notebook() {
  const state = Object.fromEntries([
    layout("l-slider"),
    layout("l-label"),
    layout("l-box"),
    layout("l-any"),
    ["s-slider", model({ ...BASE, _model_module: "@jupyter-widgets/controls", _model_name: "SliderStyleModel", _view_name: "StyleView", description_width: "", handle_color: null }, "@jupyter-widgets/controls", "2.0.0")],
    ["s-label", model({ ...BASE, _model_module: "@jupyter-widgets/controls", _model_name: "LabelStyleModel", _view_name: "StyleView", background: null, description_width: "", font_family: null, font_size: null, font_style: null, font_variant: null, font_weight: null, text_color: null, text_decoration: null }, "@jupyter-widgets/controls", "2.0.0")],
    ["slider", model({ ...CONTROLS, ...DOM, _model_name: "IntSliderModel", _view_name: "IntSliderView", behavior: "drag-tap", continuous_update: true, description: "k", description_allow_html: false, disabled: false, layout: "IPY_MODEL_l-slider", max: 20, min: 0, orientation: "horizontal", readout: true, readout_format: "d", step: 1, style: "IPY_MODEL_s-slider", value: 7 }, "@jupyter-widgets/controls", "2.0.0")],
    ["label", model({ ...CONTROLS, ...DOM, _model_name: "LabelModel", _view_name: "LabelView", description: "", description_allow_html: false, layout: "IPY_MODEL_l-label", placeholder: "\u200b", style: "IPY_MODEL_s-label", value: LABEL }, "@jupyter-widgets/controls", "2.0.0")],
    ["box", model({ ...CONTROLS, ...DOM, _model_name: "HBoxModel", _view_name: "HBoxView", box_style: "", children: ["IPY_MODEL_slider", "IPY_MODEL_label"], layout: "IPY_MODEL_l-box" }, "@jupyter-widgets/controls", "2.0.0")],
    ["any", model(
      { ...DOM, _model_module: "anywidget", _model_module_version: ANY_VERSION, _view_module: "anywidget", _view_module_version: ANY_VERSION, _view_count: null, _model_name: "AnyModel", _view_name: "AnyView", _anywidget_id: "featurelab.test.Demo", _esm: ESM, _css: ".fl-any { color: rgb(0, 90, 160); }", layout: "IPY_MODEL_l-any", title: "anywidget says" },
      "anywidget", ANY_VERSION,
      [{ path: ["payload"], data: Buffer.from(PAYLOAD).toString("base64"), encoding: "base64" }],
    )],
  ]);
  const view = (model_id: string) => ({ "application/vnd.jupyter.widget-view+json": { model_id, version_major: 2, version_minor: 0 } });
  const display = (data: Record<string, unknown>) => ({ output_type: "display_data", metadata: {}, data });
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "featurelab", display_name: "TypeScript (featurelab)", language: "typescript" },
      widgets: { "application/vnd.jupyter.widget-state+json": { state, version_major: 2, version_minor: 0 } },
    },
    cells: [
      { cell_type: "code", id: "box", metadata: {}, execution_count: 1, source: "fl.show(box)", outputs: [display({ ...view("box"), "image/png": PNG, "text/html": HTML_FALLBACK, "text/plain": "HBox(children=(IntSlider(value=7), Label(value='k < 10 & rising')))" })] },
      { cell_type: "code", id: "any", metadata: {}, execution_count: 2, source: "fl.show(any)", outputs: [display({ ...view("any"), "text/plain": "AnyWidget()" })] },
      { cell_type: "code", id: "gone", metadata: {}, execution_count: 3, source: "fl.show(closed)", outputs: [display({ ...view("not-in-state"), "text/html": NOT_SAVED_HTML, "text/plain": "IntSlider(value=1)" })] },
    ],
  };
}

test("exported HTML renders ipywidgets 8 and anywidget views from the saved state, offline", { skip: missing.length > 0 ? `missing ${missing.join(", ")}` : false, timeout: 180_000 }, async () => {
  mkdirSync(OUT, { recursive: true });
  const ipynb = join(OUT, "widget-export.ipynb");
  const html = join(OUT, "widget-export.html");
  rmSync(html, { force: true });
  writeFileSync(ipynb, JSON.stringify(notebook(), null, 1));
  const valid = spawnSync(PYTHON, ["-c", "import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", ipynb], { encoding: "utf8" });
  assert.equal(valid.status, 0, `the notebook is valid nbformat:\n${valid.stderr}`);

  await ensureWidgetBundle();
  const conv = spawnSync(JUPYTER, ["nbconvert", "--to", "html", "--template", "featurelab", ipynb, "--output-dir", OUT], { env: jupyterEnv(), encoding: "utf8" });
  assert.equal(conv.status, 0, `nbconvert failed:\n${conv.stderr}`);

  // The page as written: the renderer inlined once, nothing loaded from elsewhere, the fallback picture
  // before the HBox's view, the text/html of the view whose model is not in the state, and not the
  // text/html of a view that can be drawn.
  const page0 = readFileSync(html, "utf8");
  assert.doesNotMatch(page0, /unpkg\.com|cdn\.jsdelivr|<script[^>]+src=/, "no script from the network");
  assert.equal(page0.split("featurelab widgets: no offline copy of the widget module").length - 1, 1, "the renderer is inlined once");
  assert.match(page0, /<img class="jupyter-widget featurelab-static"[^>]*>\s*<script type="application\/vnd\.jupyter\.widget-view\+json">\{"model_id": "box"/);
  assert.ok(page0.includes(NOT_SAVED_HTML));
  assert.ok(!page0.includes(HTML_FALLBACK));

  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(String(e)));
    // file: is the page itself, data: the fonts, blob: the anywidget module made in the page: none is the network.
    page.on("request", (r) => !/^(file|data|blob):/.test(r.url()) && requests.push(r.url()));
    await page.goto(`file://${html}`, { waitUntil: "load", timeout: CEILING });

    // ipywidgets 8: the HBox with its slider (value 7 of 0–20, description k) and the label's text.
    await page.waitForSelector(".jupyter-widgets .widget-hbox .widget-slider", { timeout: CEILING });
    await page.waitForSelector(".widget-hbox .widget-label", { timeout: CEILING });
    assert.equal((await page.locator(".widget-hbox .widget-label").last().textContent())?.trim(), LABEL);
    assert.equal((await page.locator(".widget-slider .widget-readout").textContent())?.trim(), "7");
    assert.equal((await page.locator(".widget-slider .widget-label").first().textContent())?.trim(), "k");
    assert.ok((await page.locator(".widget-slider .noUi-handle").count()) > 0, "the slider has its handle");

    // anywidget: text from its state and from the buffer, its CSS applied, its module intact.
    const any = page.locator("p.fl-any");
    await any.waitFor({ timeout: CEILING });
    assert.equal(await any.textContent(), `anywidget says | ${PAYLOAD}`);
    assert.equal(await any.getAttribute("data-note"), "</script><!-- still the module -->");
    assert.equal(await any.evaluate((el) => getComputedStyle(el).color), "rgb(0, 90, 160)");

    // The fallback picture gave way to the rendered view.
    await page.waitForFunction(() => document.querySelectorAll("img.featurelab-static").length === 0, undefined, { timeout: CEILING });

    // The view whose model is not in the state: its text/html, no widget area.
    const gone = page.locator("p.fl-not-saved");
    assert.equal(await gone.count(), 1);
    assert.ok(await gone.isVisible());
    assert.equal(await page.locator(".widget-subarea").count(), 2, "two views drawn: the HBox and the anywidget");
    assert.equal(await page.locator(".fl-html-fallback").count(), 0);

    assert.deepEqual(errors, [], "no console errors");
    assert.deepEqual(requests, [], "no network requests");
    await page.screenshot({ path: join(OUT, "widget-export.png"), fullPage: true });
  } finally {
    await browser.close();
  }
});
