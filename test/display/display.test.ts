import { test } from "node:test";
import assert from "node:assert/strict";
import { ready } from "../../src/engine/backend.js";
import { fromVectors } from "../../src/data/activation-set.js";
import { escapeHtml, jsonForScript } from "../../src/display/core/escape.js";
import { Figure, plotlyPageHtml } from "../../src/display/core/plotly.js";
import { plotlyCopies } from "./widget-page.js";
import { represent } from "../../src/display/core/represent.js";
import { show } from "../../src/display/core/show.js";
import { TableView } from "../../src/display/core/table.js";

const EVIL = `<img src=x onerror=alert(1)>`;

test("text from data is escaped in every HTML display", async () => {
  await ready();
  assert.equal(escapeHtml(EVIL), "&lt;img src=x onerror=alert(1)&gt;");
  const table = TableView.fromRecords([{ token: EVIL, n: 1 }]).toMimeBundle()["text/html"] as string;
  assert.ok(!table.includes("<img"), table);
  const card = represent(fromVectors(new Float32Array(4), 2, { token: [EVIL, "ok"] }))["text/html"] as string;
  assert.ok(!card.includes("<img") && card.includes("&lt;img"), card);
  const record = represent({ [EVIL]: EVIL })["text/html"] as string;
  assert.ok(!record.includes("<img"));
  const json = jsonForScript({ label: "</script><script>alert(1)</script>" });
  assert.ok(!json.includes("</script>") && JSON.parse(json).label.startsWith("</script>"));
});

test("a figure is a plotly JSON + HTML + text bundle, and no figure carries plotly.js", () => {
  const fig = () => new Figure({ data: [{ type: "bar", x: ["a"], y: [1] }], layout: { title: { text: "T" } } });
  const first = fig().toMimeBundle();
  const second = fig().toMimeBundle();
  assert.deepEqual(Object.keys(first).sort(), ["application/vnd.plotly.v1+json", "text/html", "text/plain"]);
  assert.equal((first["application/vnd.plotly.v1+json"] as any).data[0].type, "bar");
  assert.equal(first["text/plain"], "Figure: T (1 trace)");
  for (const b of [first, second]) {
    const html = b["text/html"] as string;
    assert.ok(html.length < 10_000 && plotlyCopies(html) === 0, "a figure's HTML is small: plotly.js comes from the page");
    assert.ok(html.includes("kernelspecs/featurelab/plotly.min.js"), "…which in Jupyter loads it from the server");
    assert.ok(!/^\s*\/\//m.test(html), "the inlined scripts leave their comment lines behind");
  }
  const page = plotlyPageHtml();
  assert.equal(plotlyCopies(page), 1, "a standalone page inlines plotly.js once");
  assert.ok(!/<\/script(?![>])/i.test(page.replace(/<\/script>/g, "")), "no stray </script inside the inlined source");
});

test("show() prints text outside a kernel", async () => {
  await ready();
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: unknown) => void lines.push(String(s));
  try {
    show({ l0: 3.5, fvu: 0.1234567 });
  } finally {
    console.log = log;
  }
  assert.match(lines.join("\n"), /L0\s+3\.5\s+mean active features per row/);
  assert.match(lines.join("\n"), /FVU\s+0\.1235/);
});

test("show() sends one display_data with the whole bundle through the kernel bridge", () => {
  const sent: unknown[] = [];
  (globalThis as any).__featurelab_kernel__ = { display: (content: unknown, update: boolean) => sent.push({ content, update }) };
  try {
    show([{ a: 1 }, { a: 2 }]);
  } finally {
    delete (globalThis as any).__featurelab_kernel__;
  }
  assert.equal(sent.length, 1);
  const { content, update } = sent[0] as any;
  assert.equal(update, false);
  assert.deepEqual(Object.keys(content.data).sort(), ["text/html", "text/plain"]);
});

test("dictionary metrics display as a table with a log10 density histogram beside it", () => {
  const bundle = represent({ l0: 2, fvu: 0.1, denseFraction: 0.25, density: Float64Array.from([0, 0.001, 0.5, 0.02]) });
  const html = bundle["text/html"] as string;
  assert.match(html, /dense fraction/);
  assert.match(html, /feature density.*1 dead not shown/);
  assert.equal((html.match(/<rect /g) ?? []).length, 24);
  assert.match(bundle["text/plain"] as string, /log10 density histogram from -6 to 0: .* \(1 dead\)/);
});
