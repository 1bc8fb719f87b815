// Opens a page in Debian's headless chromium (never a downloaded browser) and reports what a reader
// would see: how many featurelab figures there are, how many plotly drew, and console errors.
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface PageReport {
  figures: number;
  drawn: number;
  errors: string[];
  requests: string[];
  /** Per figure, the hover label shown when the mouse is on its first point or bar ("" if none). */
  hovers: string[];
}

export async function inspectPage(url: string, opts: { screenshot?: string } = {}): Promise<PageReport> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => !r.url().startsWith("file:") && !r.url().startsWith("data:") && requests.push(r.url()));
    await page.goto(url, { waitUntil: "load", timeout: 60_000 });
    const figures = await page.locator(".featurelab-figure").count();
    await page
      .waitForFunction((n) => document.querySelectorAll(".featurelab-figure .main-svg").length >= n, figures, { timeout: 30_000 })
      .catch(() => undefined);
    const drawn = await page.evaluate(() =>
      Array.from(document.querySelectorAll(".featurelab-figure")).filter((el) => el.querySelector(".js-plotly-plot .main-svg, .main-svg")).length,
    );
    const hovers: string[] = [];
    for (const fig of await page.locator(".featurelab-figure").all()) {
      // A marker or bar where there is one; for line-only plots the middle of the first plot area.
      const marker = fig.locator(".scatterlayer .point, .barlayer .point").first();
      const target = (await marker.count()) > 0 ? marker : fig.locator(".nsewdrag").first();
      if ((await target.count()) === 0) {
        hovers.push("");
        continue;
      }
      await fig.scrollIntoViewIfNeeded();
      const box = (await target.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const label = fig.locator(".hoverlayer .hovertext");
      await label.first().waitFor({ timeout: 5_000 }).catch(() => undefined);
      hovers.push((await label.count()) > 0 ? await label.first().textContent() ?? "" : "");
    }
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot, fullPage: true });
    return { figures, drawn, errors, requests, hovers };
  } finally {
    await browser.close();
  }
}
