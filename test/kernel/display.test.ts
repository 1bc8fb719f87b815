// Deno's display protocol and the global display(): an object carrying Symbol.for("Jupyter.display")
// shows the MIME bundle its method returns (or resolves to) as a cell's last value and through
// display(x); display(x) shows featurelab values with featurelab's display and anything else as text;
// { raw: true } sends a bundle as it is, and display ids update in place.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { KernelClient, root } from "./client.js";

let kc: KernelClient;
const scratch = mkdtempSync(join(root, "test", "kernel", ".scratch-display-"));

before(async () => {
  kc = await KernelClient.start({ cwd: scratch });
});

after(async () => {
  await kc?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test("a last value with Symbol.for(\"Jupyter.display\") shows its bundle; the method may be async; a failing one falls back to text", async () => {
  const sync = await kc.execute('const card = { [Symbol.for("Jupyter.display")]() { return { "text/plain": "a card", "text/html": "<b>a card</b>" }; } };\ncard');
  assert.deepEqual(sync.of("execute_result")[0].content.data, { "text/plain": "a card", "text/html": "<b>a card</b>" });
  const later = await kc.execute('class Temp { constructor(readonly c: number) {}\n  async [Symbol.for("Jupyter.display")]() { await null; return { "text/markdown": `**${this.c} C**` }; } }\nnew Temp(21)');
  assert.deepEqual(later.of("execute_result")[0].content.data, { "text/markdown": "**21 C**", "text/plain": "" });
  const broken = await kc.execute('({ [Symbol.for("Jupyter.display")]() { return 3; } })');
  assert.match(broken.of("execute_result")[0].content.data["text/plain"], /did not return a MIME bundle/);
});

test("display(x) shows values in order before the result: the symbol's bundle, featurelab's display, text; raw bundles and display ids", async () => {
  const r = await kc.execute(
    'import * as fl from "featurelab";\nconst acts = fl.fromVectors(new Float32Array(8), 4);\n' +
      'display(card);\ndisplay(acts);\nawait display([1, 2]);\ndisplay({ "text/plain": "raw", "application/json": { a: 1 } }, { raw: true });\n' +
      'display(card, { display_id: "d1" });\ndisplay({ "text/plain": "new" }, { raw: true, display_id: "d1", update: true });\n"done"',
    { timeoutMs: 60_000 },
  );
  assert.equal(r.reply.content.status, "ok", JSON.stringify(r.reply.content));
  const shown = r.outputs.filter((m) => ["display_data", "update_display_data", "execute_result"].includes(m.header.msg_type));
  assert.deepEqual(shown.map((m) => m.header.msg_type), ["display_data", "display_data", "display_data", "display_data", "display_data", "update_display_data", "execute_result"]);
  assert.equal(shown[0].content.data["text/html"], "<b>a card</b>");
  assert.match(shown[1].content.data["text/html"], /ActivationSet/);
  assert.equal(shown[2].content.data["text/plain"], "[ 1, 2 ]");
  assert.deepEqual(shown[3].content.data, { "text/plain": "raw", "application/json": { a: 1 } });
  assert.equal(shown[4].content.transient.display_id, "d1");
  assert.equal(shown[5].content.transient.display_id, "d1");
  assert.equal(shown[5].content.data["text/plain"], "new");
  assert.equal(shown[6].content.data["text/plain"], "'done'");
});

test("prompt, confirm and display are typed for cells: completion and inspection know them, and cells may shadow them", async () => {
  const c = await kc.request("shell", "complete_request", { code: "disp", cursor_pos: 4 });
  assert.ok(c.content.matches.includes("display"), JSON.stringify(c.content.matches));
  const wrong = await kc.execute('prompt(1, 2, 3)');
  assert.equal(wrong.reply.content.ename, "TSError");
  const shadow = await kc.execute("const confirm = (x: number) => x + 1;\nconfirm(1)");
  assert.equal(shadow.of("execute_result")[0].content.data["text/plain"], "2");
});
