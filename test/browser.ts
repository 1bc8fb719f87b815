// Opens pages in Debian's headless chromium (never a downloaded browser) and reports what a reader
// would see: how many featurelab figures there are, how many plotly drew, hover labels, console errors.
// Every wait here is on an event in the page (a figure's data-drawn mark, set when plotly's newPlot
// resolves; a hover label appearing), never a fixed sleep. CEILING only ends a wait that would
// otherwise hang: it is generous because the machine may be busy.
import { chromium, type Browser, type Locator, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const CEILING = 60_000;
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: CEILING });
}

/**
 * Resolves with the number of widget views an exported page holds once each has rendered (its
 * .widget-subarea has content, as offline-embed.js attaches it); 0 at once on a page without widgets.
 */
export async function waitForWidgets(page: Page): Promise<number> {
  const views = await page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count();
  if (views === 0) return 0;
  await page.waitForFunction(
    (n) => Array.from(document.querySelectorAll(".widget-subarea")).filter((a) => a.childElementCount > 0 && a.getBoundingClientRect().height > 0).length >= n,
    views,
    { timeout: CEILING },
  );
  return views;
}

/** Resolves once every featurelab figure on the page has been drawn by plotly (newPlot resolved). */
export async function waitForFigures(page: Page): Promise<number> {
  await waitForWidgets(page);
  const figures = await page.locator(".featurelab-figure").count();
  await page.waitForFunction((n) => document.querySelectorAll(".featurelab-figure[data-drawn]").length >= n, figures, { timeout: CEILING });
  return figures;
}

/**
 * Moves the mouse onto a drawn figure's first marker or bar, else onto a heatmap's first cell, else
 * onto the middle of its first line, else the middle of the plot area, and returns the hover label's text, waiting for it;
 * "" when the figure has nothing to hover.
 */
export async function hoverFigure(page: Page, fig: Locator): Promise<string> {
  await fig.scrollIntoViewIfNeeded();
  // The first marker or bar with an area (a zero-length bar sits on the axis line, where nothing hovers).
  const markers = fig.locator(".scatterlayer .point, .barlayer .point");
  const sized = await markers.evaluateAll((els) => els.findIndex((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; }));
  const marker = markers.nth(Math.max(sized, 0));
  const heatmap = fig.locator(".heatmaplayer image").first();
  const line = fig.locator(".scatterlayer path.js-line").first();
  const area = fig.locator(".nsewdrag").first();
  const [target, where] =
    sized >= 0 ? [marker, "first marker"] : (await heatmap.count()) > 0 ? [heatmap, "heatmap"] : (await line.count()) > 0 ? [line, "first line"] : [area, "plot area"];
  if ((await target.count()) === 0) return "";
  const box = (await target.boundingBox())!;
  let [x, y] = where === "heatmap" ? [box.x + 3, box.y + 3] : [box.x + box.width / 2, box.y + box.height / 2];
  if (where === "first line") {
    // A point on the line itself, halfway along it, in page coordinates.
    [x, y] = await line.evaluate((el: any) => {
      const p = el.getPointAtLength(el.getTotalLength() / 2);
      const m = el.getScreenCTM();
      return [p.x * m.a + p.y * m.c + m.e, p.x * m.b + p.y * m.d + m.f];
    });
  }
  // Arrive from one pixel away, so the move is a real mousemove over the point even if the mouse was there.
  await page.mouse.move(x - 1, y - 1);
  await page.mouse.move(x, y);
  const label = fig.locator(".hoverlayer .hovertext").first();
  await label.waitFor({ timeout: CEILING }).catch(async (err) => {
    throw new Error(`no hover label on figure ${await fig.getAttribute("id")} (mouse on its ${where}): ${err.message}`);
  });
  return (await label.textContent()) ?? "";
}

export interface PageReport {
  figures: number;
  drawn: number;
  errors: string[];
  requests: string[];
  /** Static images (a saved figure's fallback) still in the page once the figures drew. */
  statics: number;
  /** Per figure, the hover label shown when the mouse is on its first point or bar ("" if none). */
  hovers: string[];
  /** Widget views in the page (each rendered from the saved widget state before the figures were counted). */
  widgets: number;
}

export async function inspectPage(url: string, opts: { screenshot?: string } = {}): Promise<PageReport> {
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(String(e)));
    // blob: URLs are made in the page (anywidget imports a view's module from one): not the network.
    page.on("request", (r) => !/^(file|data|blob):/.test(r.url()) && requests.push(r.url()));
    await page.goto(url, { waitUntil: "load", timeout: CEILING });
    const widgets = await page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count();
    const figures = await waitForFigures(page);
    const drawn = await page.evaluate(() =>
      Array.from(document.querySelectorAll(".featurelab-figure[data-drawn]")).filter((el) => el.querySelector(".main-svg")).length,
    );
    const statics = await page.locator(".featurelab-static").count();
    const hovers: string[] = [];
    for (const fig of await page.locator(".featurelab-figure").all()) hovers.push(await hoverFigure(page, fig));
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot, fullPage: true });
    return { figures, drawn, errors, requests, statics, hovers, widgets };
  } finally {
    await browser.close();
  }
}
