// The Jupyter widget protocol 2.1 as a frontend sees it, over the kernel's real sockets: widgets open
// comms on `jupyter.widget` with their ipywidgets 8 state, views display as widget-view+json, updates
// flow both ways (with echo_update), request_state and request_states answer, custom messages reach
// handlers, binary values travel as buffers — and malformed messages are refused and logged while the
// kernel lives on; re-running a cell closes the views it replaces.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { KernelClient, root, waitFor, type Msg } from "./client.js";

let kc: KernelClient;

before(async () => {
  kc = await KernelClient.start({ cwd: root });
  const r = await kc.execute('import * as fl from "featurelab";\nconst seen: unknown[] = [];');
  assert.equal(r.reply.content.status, "ok", JSON.stringify(r.reply.content));
});

after(async () => {
  await kc?.stop();
});

const of = (outputs: Msg[], type: string) => outputs.filter((m) => m.header.msg_type === type);
const opens = (outputs: Msg[]) => of(outputs, "comm_open").filter((m) => m.content.target_name === "jupyter.widget");

/** The comm messages on `commId` that request `msgId` caused. */
async function commMsgs(msgId: string, commId: string): Promise<Msg[]> {
  return of(await kc.outputs(msgId), "comm_msg").filter((m) => m.content.comm_id === commId);
}

async function value(expr: string): Promise<string> {
  const r = await kc.execute(expr);
  assert.equal(r.reply.content.status, "ok", JSON.stringify(r.reply.content));
  return r.of("execute_result")[0]?.content.data["text/plain"];
}

test("a slider opens a jupyter.widget comm with ipywidgets 8 state, its layout and style first, and displays as a widget view", async () => {
  const r = await kc.execute('const s = new fl.widgets.IntSlider({ value: 3, max: 10, description: "feature" });\ns.observe((c) => { seen.push(c.new); }, "value");\nfl.show(s);');
  assert.equal(r.reply.content.status, "ok", JSON.stringify(r.reply.content));
  const o = opens(r.outputs);
  assert.deepEqual(o.map((m) => m.content.data.state._model_name), ["LayoutModel", "SliderStyleModel", "IntSliderModel"]);
  const slider = o[2];
  assert.equal(slider.metadata.version, "2.1.0");
  const st = slider.content.data.state;
  assert.equal(st._model_module, "@jupyter-widgets/controls");
  assert.equal(st._model_module_version, "2.0.0");
  assert.equal(st._view_name, "IntSliderView");
  assert.deepEqual([st.value, st.min, st.max, st.step, st.description, st.continuous_update], [3, 0, 10, 1, "feature", true]);
  assert.equal(st.layout, `IPY_MODEL_${o[0].content.comm_id}`);
  assert.equal(st.style, `IPY_MODEL_${o[1].content.comm_id}`);
  assert.deepEqual(slider.content.data.buffer_paths, []);
  const shown = of(r.outputs, "display_data")[0].content.data;
  assert.deepEqual(shown["application/vnd.jupyter.widget-view+json"], { version_major: 2, version_minor: 0, model_id: slider.content.comm_id });
  assert.match(shown["text/plain"], /IntSlider\(value=3, description="feature"\)/);
  assert.ok(shown["text/html"], "a text/html fallback for frontends without a widget manager");
});

test("update from the frontend: echo_update back, the kernel value and observers follow; request_state answers the whole state", async () => {
  const id = opens(kc.iopubAll).find((m) => m.content.data.state._model_name === "IntSliderModel")!.content.comm_id;
  const msg = kc.send("shell", "comm_msg", { comm_id: id, data: { method: "update", state: { value: 7 }, buffer_paths: [] } });
  const back = await commMsgs(msg, id);
  assert.deepEqual(back.map((m) => m.content.data), [{ method: "echo_update", state: { value: 7 }, buffer_paths: [] }]);
  assert.equal(await value("s.value"), "7");
  assert.equal(await value("JSON.stringify(seen)"), "'[7]'");

  // The kernel sets it: an update goes out.
  const r = await kc.execute("s.value = 9;");
  const upd = of(r.outputs, "comm_msg").filter((m) => m.content.comm_id === id);
  assert.deepEqual(upd.map((m) => m.content.data), [{ method: "update", state: { value: 9 }, buffer_paths: [] }]);

  const req = kc.send("shell", "comm_msg", { comm_id: id, data: { method: "request_state" } });
  const full = (await commMsgs(req, id))[0].content.data;
  assert.equal(full.method, "update");
  assert.equal(full.state.value, 9);
  assert.equal(full.state._model_name, "IntSliderModel");
});

test("malformed frontend messages are refused and logged; the kernel and the widget keep their state", async () => {
  const id = opens(kc.iopubAll).find((m) => m.content.data.state._model_name === "IntSliderModel")!.content.comm_id;
  const bad: [string, Record<string, unknown>, Buffer[]][] = [
    ["wrong type", { method: "update", state: { value: "many" }, buffer_paths: [] }, []],
    ["float for an int", { method: "update", state: { value: 2.5 }, buffer_paths: [] }, []],
    ["unknown key", { method: "update", state: { bogus: 1 }, buffer_paths: [] }, []],
    ["identity key", { method: "update", state: { _model_name: "X" }, buffer_paths: [] }, []],
    ["no state", { method: "update" }, []],
    ["unknown method", { method: "explode" }, []],
    ["buffers without paths", { method: "update", state: {} }, [Buffer.from([1])]],
    ["a path into nothing", { method: "update", state: {}, buffer_paths: [["a", "b"]] }, [Buffer.from([1])]],
    ["not an object", "just text" as unknown as Record<string, unknown>, []],
  ];
  const before = kc.stderr.length;
  for (const [what, data, buffers] of bad) {
    const msg = kc.send("shell", "comm_msg", { comm_id: id, data }, buffers);
    const back = await commMsgs(msg, id);
    assert.deepEqual(back, [], `${what}: nothing echoed`);
  }
  // A message to a comm that is gone, and to one that never was.
  await kc.outputs(kc.send("shell", "comm_msg", { comm_id: randomUUID(), data: { method: "update", state: { value: 1 } } }));
  assert.equal(await value("s.value"), "9");
  assert.ok(await waitFor(() => (kc.stderr.slice(before).match(/refused/g) ?? []).length >= bad.length, 10_000), kc.stderr.slice(before));
  assert.match(kc.stderr.slice(before), /"value" must be int/);
  assert.match(kc.stderr.slice(before), /unknown key "bogus"/);
  assert.equal(await value("1 + 1"), "2");
});

test("kernel-side bad values throw with the key's name", async () => {
  const r = await kc.execute('new fl.widgets.IntSlider({ valu: 3 })');
  assert.equal(r.reply.content.status, "error");
  assert.match(r.reply.content.evalue, /IntSlider: unknown option "valu"/);
  const t = await kc.execute('s.set({ value: "x" })');
  assert.match(t.reply.content.evalue, /"value" must be int/);
});

test("custom messages: a button's click reaches its handler; the Output area captures displays into its state", async () => {
  const r = await kc.execute('const b = new fl.widgets.Button({ description: "go" });\nlet clicks = 0;\nb.onClick(() => { clicks++; });\nconst out = new fl.widgets.Output();\nfl.show(new fl.widgets.VBox([b, out]));');
  const o = opens(r.outputs);
  const button = o.find((m) => m.content.data.state._model_name === "ButtonModel")!.content.comm_id;
  const output = o.find((m) => m.content.data.state._model_name === "OutputModel")!.content.comm_id;
  const box = o.find((m) => m.content.data.state._model_name === "VBoxModel")!.content.data.state;
  assert.deepEqual(box.children, [`IPY_MODEL_${button}`, `IPY_MODEL_${output}`]);
  await kc.outputs(kc.send("shell", "comm_msg", { comm_id: button, data: { method: "custom", content: { event: "click" } } }));
  assert.equal(await value("clicks"), "1");

  const c = await kc.execute('await out.capture(() => fl.show({ L0: 12.5 }));');
  assert.equal(of(c.outputs, "display_data").length, 0, "captured, not shown in the cell");
  const upd = of(c.outputs, "comm_msg").find((m) => m.content.comm_id === output)!.content.data;
  assert.equal(upd.method, "update");
  assert.equal(upd.state.outputs.length, 1);
  assert.equal(upd.state.outputs[0].output_type, "display_data");
  assert.match(upd.state.outputs[0].data["text/plain"], /12\.5/);
});

test("binary values travel as buffers; jupyter.widget.control answers request_states with every widget", async () => {
  const r = await kc.execute('const fig = fl.widgets.figure(new fl.Figure({ data: [{ type: "scatter", x: [1, 2, 3], y: [3, 1, 2], customdata: [[10], [11], [12]] }] }));\nfig.onSelect((ids) => { seen.push(ids); });\nfl.show(fig);');
  assert.equal(r.reply.content.status, "ok", JSON.stringify(r.reply.content));
  const open = opens(r.outputs).find((m) => m.content.data.state._model_name === "AnyModel")!;
  assert.equal(open.content.data.state._model_module, "anywidget");
  assert.match(open.content.data.state._esm, /export default/);
  assert.deepEqual(open.content.data.buffer_paths, [["spec"]]);
  assert.equal(open.content.data.state.spec, undefined, "the buffer's key is left out of the JSON");
  const spec = JSON.parse(gunzipSync(open.buffers[0]).toString());
  assert.deepEqual(spec.data[0].y, [3, 1, 2]);

  // A selection in the page reaches the kernel's handler.
  const figId = open.content.comm_id;
  await kc.outputs(kc.send("shell", "comm_msg", { comm_id: figId, data: { method: "update", state: { selected: [10, 12] }, buffer_paths: [] } }));
  assert.equal(await value("JSON.stringify(fig.selected)"), "'[10,12]'");
  assert.match(await value("JSON.stringify(seen)"), /\[10,12\]/);

  // The page asks for plotly.js (VS Code has no other source): it comes as a buffer.
  const ask = kc.send("shell", "comm_msg", { comm_id: figId, data: { method: "custom", content: { type: "plotly" } } });
  const plotly = (await commMsgs(ask, figId))[0];
  assert.deepEqual(plotly.content.data, { method: "custom", content: { type: "plotly" } });
  assert.ok(plotly.buffers[0].length > 1e6, "plotly.js travels as one binary buffer");

  const control = randomUUID();
  await kc.outputs(kc.send("shell", "comm_open", { comm_id: control, target_name: "jupyter.widget.control", data: {} }));
  const ask2 = kc.send("shell", "comm_msg", { comm_id: control, data: { method: "request_states" } });
  const states = (await commMsgs(ask2, control))[0];
  assert.equal(states.content.data.method, "update_states");
  // As ipywidgets sends it (ManagerBase._loadFromKernel reads this shape): { model_name, model_module, model_module_version, state } per model.
  const fig = states.content.data.states[figId];
  assert.deepEqual([fig.model_name, fig.model_module, fig.state._model_name], ["AnyModel", "anywidget", "AnyModel"]);
  assert.ok(Object.values(states.content.data.states).some((s: any) => s.model_name === "IntSliderModel" && s.model_module === "@jupyter-widgets/controls" && s.model_module_version === "2.0.0"));
  const at = states.content.data.buffer_paths.findIndex((p: unknown[]) => p[0] === figId && p[1] === "state" && p[2] === "spec");
  assert.ok(at >= 0, JSON.stringify(states.content.data.buffer_paths));
  assert.deepEqual(JSON.parse(gunzipSync(states.buffers[at]).toString()).data[0].x, [1, 2, 3]);
});

test("jslink makes a LinkModel; link keeps two widgets in step through the kernel", async () => {
  const r = await kc.execute('const a = new fl.widgets.IntSlider({ value: 1 });\nconst c = new fl.widgets.IntSlider({ value: 5 });\nconst l = fl.widgets.jslink([a, "value"], [c, "value"]);\nfl.widgets.link([a, "value"], [c, "value"]);\na.value = 4;\nc.value');
  assert.equal(r.of("execute_result")[0].content.data["text/plain"], "4");
  const o = opens(r.outputs);
  const link = o.find((m) => m.content.data.state._model_name === "LinkModel")!.content.data.state;
  const [aId, cId] = o.filter((m) => m.content.data.state._model_name === "IntSliderModel").map((m) => m.content.comm_id);
  assert.deepEqual(link.source, [`IPY_MODEL_${aId}`, "value"]);
  assert.deepEqual(link.target, [`IPY_MODEL_${cId}`, "value"]);
});

test("re-running a cell closes the widgets it made and showed; one shown by another cell stays", async () => {
  const first = await kc.execute('const kept = new fl.widgets.Label({ value: "kept" });\nfl.show(new fl.widgets.HBox([new fl.widgets.Label({ value: "gone" })]));', { cellId: "cell-a" });
  const made = opens(first.outputs).map((m) => m.content.comm_id);
  const kept = opens(first.outputs).find((m) => m.content.data.state.value === "kept")!.content.comm_id;
  await kc.execute("fl.show(kept);", { cellId: "cell-b" });
  const again = await kc.execute('fl.show(new fl.widgets.Label({ value: "new" }));', { cellId: "cell-a" });
  const closed = of(again.outputs, "comm_close").map((m) => m.content.comm_id);
  const keptState = opens(first.outputs).find((m) => m.content.comm_id === kept)!.content.data.state;
  const keptParts = new Set([kept, keptState.layout.slice(10), keptState.style.slice(10)]);
  const expected = made.filter((id) => !keptParts.has(id));
  assert.deepEqual(new Set(closed), new Set(expected), "the HBox, its label and their layouts/styles close; the label shown in another cell stays with its parts");
  const info = await kc.request("shell", "comm_info_request", { target_name: "jupyter.widget" });
  assert.ok(info.content.comms[kept]);
  for (const id of closed) assert.equal(info.content.comms[id], undefined);
});

test("fit shows one live training view and updates it through widget state (a widget manager is listening: no re-display while it runs)", async () => {
  // A widget manager connects (as JupyterLab's does on opening the notebook).
  await kc.outputs(kc.send("shell", "comm_open", { comm_id: randomUUID(), target_name: "jupyter.widget.control", data: {} }));
  // A long run, interrupted once the curves have been updated three times: waits on the kernel's messages, not the clock.
  const id = kc.sendExecute(
    "const acts = fl.fromVectors(new Float32Array(2048 * 16).map((_, i) => Math.sin(i * 0.37) * ((i * 7919) % 13 > 9 ? 1 : 0)), 16);\n" +
      'const sae = await fl.dictionary("relu", { width: 32, l1: 1 }).fit(acts, { steps: 1_000_000, batchSize: 64, logEvery: 10 });',
  );
  const msgs = () => kc.iopubByParent.get(id) ?? [];
  const curvesId = () => opens(msgs()).find((m) => m.content.data.state._model_name === "AnyModel")?.content.comm_id;
  const specUpdates = () => of(msgs(), "comm_msg").filter((m) => m.content.comm_id === curvesId() && m.content.data.method === "update" && m.buffers.length > 0);
  assert.ok(await waitFor(() => specUpdates().length >= 3, 180_000), `the curves were updated ${specUpdates().length} times`);
  assert.equal(of(msgs(), "update_display_data").length, 0, "no re-display while training");
  assert.equal((await kc.request("control", "interrupt_request", {}, 30_000)).content.status, "ok");
  await kc.reply(id, 60_000);
  const outputs = await kc.outputs(id);
  const shown = of(outputs, "display_data").filter((m) => m.content.data["application/vnd.jupyter.widget-view+json"]);
  assert.equal(shown.length, 1, "the view is displayed once");
  const steps = specUpdates().map((m) => JSON.parse(gunzipSync(m.buffers[0]).toString()).data[0].x.at(-1) ?? 0);
  assert.ok(steps.every((s, i) => i === 0 || s >= steps[i - 1]) && steps.at(-1)! > steps[0], `the curves grow: last steps ${steps.join(", ")}`);
});
