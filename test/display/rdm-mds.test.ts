// The linked RDM + MDS figure: classical MDS beside the heatmap, and in chromium hovering a cell
// highlights that pair in the MDS panel while hovering a condition outlines its row.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { RDM } from "../../src/geometry/rdm.js";
import { rdmMdsPlot } from "../../src/display/plots/geometry/rdm-mds-plot.js";
import { CEILING, CHROMIUM } from "../browser.js";
import { OUT, open, writePage } from "./widget-page.js";

const skip = !existsSync(CHROMIUM);
const EVIL = "<img src=x onerror=alert(1)>";

/** Six conditions on a line at 0, 1, 2, 10, 11, 12: two clusters, squared distances. */
function lineRdm(): RDM {
  const pos = [0, 1, 2, 10, 11, 12];
  const m = pos.map((a) => pos.map((b) => (a - b) ** 2));
  return RDM.fromMatrix(m, { labels: ["a", "b", "c", "d", "e", EVIL], dissimilarityMeasure: "euclidean" });
}

test("rdmMds: heatmap + classical MDS panel; the MDS recovers the configuration (√ of squared distances)", () => {
  const fig = rdmMdsPlot(lineRdm(), { sqrt: true, groups: ["near", "near", "near", "far", "far", "far"] });
  const mds = fig.data[1] as { x: number[]; y: number[] };
  const pos = [0, 1, 2, 10, 11, 12];
  for (let i = 0; i < 6; i++)
    for (let j = 0; j < 6; j++) {
      const d = Math.hypot(mds.x[i] - mds.x[j], mds.y[i] - mds.y[j]);
      assert.ok(Math.abs(d - Math.abs(pos[i] - pos[j])) < 1e-6, `distance ${i},${j}: ${d}`);
    }
  const html = String(fig.toMimeBundle()["text/html"]);
  assert.ok(!html.includes(EVIL), "labels are escaped");
  assert.throws(() => rdmMdsPlot(lineRdm(), { groups: ["x"] }), /1 groups for 6 conditions/);
});

test("rdmMds in chromium: hover a cell → the pair lights up in the MDS panel; hover a point → its row is outlined", { skip, timeout: 300_000 }, async () => {
  const path = writePage("rdm-mds", [rdmMdsPlot(lineRdm(), { sqrt: true }).toMimeBundle()]);
  const { browser, page, dialogs, errors, requests } = await open(path, { width: 1200, height: 700 });
  try {
    const fig = page.locator(".featurelab-figure").first();
    const heat = (await fig.locator(".draglayer .xy .nsewdrag").boundingBox())!;
    const K = 6;
    await page.mouse.move(heat.x + (4 + 0.5) * (heat.width / K), heat.y + (1 + 0.5) * (heat.height / K));
    await page.waitForFunction(() => document.querySelector(".featurelab-figure")!.getAttribute("data-linked-pair") !== null, undefined, { timeout: CEILING });
    assert.equal(await fig.getAttribute("data-linked-pair"), "1,4");
    const sizes = await page.evaluate(() => (document.querySelector(".featurelab-figure") as any).data[1].marker.size as number[]);
    assert.ok(sizes[1] > sizes[0] && sizes[4] > sizes[0], `pair enlarged: ${sizes}`);
    const line = await page.evaluate(() => (document.querySelector(".featurelab-figure") as any).data[2].x.length);
    assert.equal(line, 2, "a line joins the pair");

    const pt = fig.locator(".scatterlayer .trace").first().locator(".point").nth(5);
    const box = (await pt.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => document.querySelector(".featurelab-figure")!.getAttribute("data-linked-row") !== null, undefined, { timeout: CEILING });
    assert.equal(await fig.getAttribute("data-linked-row"), "5");
    const shape = await page.evaluate(() => (document.querySelector(".featurelab-figure") as any).layout.shapes[0]);
    assert.deepEqual([shape.y0, shape.y1], [4.5, 5.5], "row 5 outlined");
    await page.screenshot({ path: join(OUT, "rdm-mds.png"), fullPage: true });
    assert.deepEqual(dialogs, []);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
  } finally {
    await browser.close();
  }
});
