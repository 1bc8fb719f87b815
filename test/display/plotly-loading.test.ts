// Where a figure gets plotly.js (widgets/plotly-figure.js): no figure carries it; a Jupyter page loads
// it once from {baseUrl}kernelspecs/featurelab/plotly.min.js, whichever figure asks first — beside
// require.js (the classic notebook), and with outputs whose scripts run before the output is attached
// (as a front end may); a page that is not Jupyter's requests nothing and keeps the static image.
// A local server on 127.0.0.1 stands in for Jupyter; test/display/classic-notebook.test.ts runs the real one.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { Figure, plotlyScript } from "../../src/display/core/plotly.js";
import { CEILING, CHROMIUM, launch, waitForFigures } from "../browser.js";

const REQUIRE_JS = "/usr/share/javascript/requirejs/require.min.js";
const skip = !existsSync(CHROMIUM) || !existsSync(REQUIRE_JS);
const figure = (title: string) => new Figure({ data: [{ type: "bar", x: ["a", "b"], y: [1, 2] }], layout: { title: { text: title } } }).toMimeBundle()["text/html"] as string;
const STATIC = `<img class="featurelab-static" alt="static" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">`;

// Each output's scripts run while its element is still detached; the element is attached a moment later.
const INSERT = `<script>
function insertOutput(html) {
  var area = document.createElement("div");
  area.className = "output";
  area.innerHTML = html;
  area.querySelectorAll("script").forEach(function (old) {
    var s = document.createElement("script");
    s.text = old.text;
    document.head.appendChild(s).remove();
  });
  setTimeout(function () { document.getElementById("outputs").appendChild(area); }, 50);
}
</script>`;

let server: Server;
let base = "";
const plotlyRequests: string[] = [];
let outputs: string[] = [];

function page(head: string): string {
  const calls = outputs.map((h) => `insertOutput(${JSON.stringify(h).replace(/</g, "\\u003c")});`).join("\n");
  return `<!doctype html><html><head><meta charset="utf-8">${head}${INSERT}</head><body data-base-url="/base/"><div id="outputs"></div><script>${calls}</script></body></html>`;
}

before(async () => {
  const plotly = plotlyScript();
  server = createServer((req, res) => {
    const url = req.url ?? "";
    if (url.endsWith("/kernelspecs/featurelab/plotly.min.js")) {
      plotlyRequests.push(url);
      if (url.startsWith("/missing/")) return void res.writeHead(404).end();
      return void res.writeHead(200, { "content-type": "application/javascript" }).end(plotly);
    }
    if (url === "/require.js") return void res.writeHead(200, { "content-type": "application/javascript" }).end(readFileSync(REQUIRE_JS));
    if (url === "/classic") return void res.writeHead(200, { "content-type": "text/html" }).end(page(`<script src="/require.js"></script>`));
    if (url === "/lab") return void res.writeHead(200, { "content-type": "text/html" }).end(page(`<script id="jupyter-config-data" type="application/json">{"baseUrl": "/lab/"}</script>`).replace(` data-base-url="/base/"`, ""));
    if (url === "/broken") return void res.writeHead(200, { "content-type": "text/html" }).end(page("").replace(`"/base/"`, `"/missing/"`));
    if (url === "/plain") return void res.writeHead(200, { "content-type": "text/html" }).end(page("").replace(` data-base-url="/base/"`, ""));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server?.close());

async function visit(path: string, until: "drawn" | "missing") {
  const browser = await launch();
  try {
    const p = await browser.newPage();
    const errors: string[] = [];
    p.on("pageerror", (e) => errors.push(String(e)));
    p.on("console", (m) => m.type() === "error" && !/404/.test(m.text()) && errors.push(m.text()));
    await p.goto(base + path, { waitUntil: "load", timeout: CEILING });
    await p.waitForFunction((n) => document.querySelectorAll(".featurelab-figure").length === n, outputs.length, { timeout: CEILING });
    if (until === "drawn") await waitForFigures(p);
    else await p.waitForFunction((n) => document.querySelectorAll(".featurelab-figure[data-plotly-missing]").length === n, outputs.length, { timeout: CEILING });
    const state = await p.evaluate(() => ({
      drawn: Array.from(document.querySelectorAll(".featurelab-figure[data-drawn]")).filter((el) => el.querySelector(".main-svg")).length,
      statics: document.querySelectorAll(".featurelab-figure .featurelab-static").length,
      notes: Array.from(document.querySelectorAll(".featurelab-plotly-missing")).map((n) => n.textContent ?? ""),
    }));
    return { ...state, errors };
  } finally {
    await browser.close();
  }
}

test("in a classic-notebook-like page (require.js, scripts run before the output is attached) the figures load plotly.js once from the server and draw", { skip, timeout: 120_000 }, async () => {
  outputs = [figure("one"), figure("two"), figure("three")];
  plotlyRequests.length = 0;
  const r = await visit("/classic", "drawn");
  assert.equal(r.drawn, 3);
  assert.deepEqual(plotlyRequests, ["/base/kernelspecs/featurelab/plotly.min.js"], "one request, from the first figure");
  assert.deepEqual(r.errors, []);
});

test("a later figure alone (the first output cleared, or run out of order) still draws; JupyterLab's page config gives the base URL", { skip, timeout: 120_000 }, async () => {
  outputs = [figure("only the second")];
  plotlyRequests.length = 0;
  const r = await visit("/lab", "drawn");
  assert.equal(r.drawn, 1);
  assert.deepEqual(plotlyRequests, ["/lab/kernelspecs/featurelab/plotly.min.js"]);
  assert.deepEqual(r.errors, []);
});

test("where plotly.js cannot be had, figures keep their static image and say why; a page not served by Jupyter requests nothing", { skip, timeout: 120_000 }, async () => {
  outputs = [figure("a").replace(/(class="featurelab-figure"[^>]*>)/, `$1${STATIC}`), figure("b")];
  plotlyRequests.length = 0;
  const broken = await visit("/broken", "missing");
  assert.deepEqual(plotlyRequests, ["/missing/kernelspecs/featurelab/plotly.min.js"]);
  assert.equal(broken.drawn, 0);
  assert.equal(broken.statics, 1, "the static image stays");
  assert.equal(broken.notes.length, 2);
  assert.match(broken.notes[0], /plotly\.js did not load from \/missing\/kernelspecs\/featurelab\/plotly\.min\.js/);
  plotlyRequests.length = 0;
  const plain = await visit("/plain", "missing");
  assert.deepEqual(plotlyRequests, [], "nothing requested outside Jupyter");
  assert.match(plain.notes[0], /not served by Jupyter/);
  assert.deepEqual([...broken.errors, ...plain.errors], []);
});
