// Test helpers for widgets: bundles → one self-contained page (as an exported notebook is), opened in
// Debian's headless chromium with alerts, console errors and network requests recorded.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { CEILING, launch, hoverFigure, waitForFigures } from "../browser.js";
import type { MimeBundle } from "../../src/display/core/bundle.js";
import { plotlyPageHtml, plotlyScript } from "../../src/display/core/plotly.js";

export const OUT = join(import.meta.dirname, "..", "..", "out", "widgets");

let plotlyProbe: string | undefined;

/**
 * How many copies of plotly.js's source a text holds (an .ipynb, an HTML page): occurrences of 80
 * characters from the middle of plotly.min.js, found there once, that read the same raw, JSON-escaped or
 * in HTML.
 */
export function plotlyCopies(text: string): number {
  if (plotlyProbe === undefined) {
    const src = plotlyScript();
    const safe = /[A-Za-z0-9_$.,;:(){}[\]=+\-*!?| ]{80}/g;
    safe.lastIndex = src.length >> 1;
    for (let m = safe.exec(src); m && plotlyProbe === undefined; m = safe.exec(src)) if (src.split(m[0]).length === 2) plotlyProbe = m[0];
    if (plotlyProbe === undefined) throw new Error("no probe for plotly.js found");
  }
  return text.split(plotlyProbe).length - 1;
}

/** Write bundles' text/html as one page under out/widgets/, plotly.js inlined once in its head (as an export does); returns its path. */
export function writePage(name: string, bundles: MimeBundle[], opts: { dark?: boolean } = {}): string {
  mkdirSync(OUT, { recursive: true });
  const style = opts.dark ? "background:#1e1e1e;color:#ddd" : "background:#fff;color:#222";
  const body = bundles.map((b) => `<div class="output">${String(b["text/html"] ?? "")}</div>`).join("\n");
  const path = join(OUT, `${name}.html`);
  writeFileSync(path, `<!doctype html><html><head><meta charset="utf-8"><title>${name}</title>${plotlyPageHtml()}</head><body style="${style};margin:16px">${body}</body></html>`);
  return path;
}

export interface Opened {
  browser: Browser;
  page: Page;
  dialogs: string[];
  errors: string[];
  requests: string[];
}

export async function open(path: string, viewport = { width: 1280, height: 900 }): Promise<Opened> {
  const browser = await launch();
  const page = await browser.newPage({ viewport }).catch(async (err) => {
    await browser.close();
    throw err;
  });
  const dialogs: string[] = [], errors: string[] = [], requests: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  // blob: URLs are made in the page (anywidget imports a view's module from one): not the network.
  page.on("request", (r) => !/^(file|data|blob):/.test(r.url()) && requests.push(r.url()));
  try {
    await page.goto(`file://${path}`, { waitUntil: "load", timeout: CEILING });
    await waitForFigures(page);
  } catch (err) {
    await browser.close(); // a test that fails here must not leave chromium holding its process open
    throw err;
  }
  return { browser, page, dialogs, errors, requests };
}

/** Move the mouse onto a figure's first marker/bar or heatmap cell; returns the hover label's text. */
export function hoverFirst(page: Page, figure: number): Promise<string> {
  return hoverFigure(page, page.locator(".featurelab-figure").nth(figure));
}

/** Click a figure's k-th marker with the mouse, once plotly answers the hover there (its drag layer sits above the markers). */
export async function clickPoint(page: Page, figure: import("playwright-core").Locator, k = 0): Promise<void> {
  const pt = figure.locator(".scatterlayer .point").nth(k);
  await figure.scrollIntoViewIfNeeded();
  const box = (await pt.boundingBox())!;
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  await page.mouse.move(x - 1, y - 1);
  await page.mouse.move(x, y);
  await figure.locator(".hoverlayer .hovertext").first().waitFor({ timeout: CEILING });
  await page.mouse.click(x, y);
}
