// Comms between code in the kernel and the page: a target registered through featurelab's bridge
// (src/display/core/kernel.ts) answers comm_open and comm_msg, comm_info lists open comms, comm_close
// ends them, an unknown target is refused with a comm_close, and the kernel can open comms too;
// the page's helper (widgets/kernel-comm.js) asks a live kernel and says when there is none.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import vm from "node:vm";
import { join } from "node:path";
import { KernelClient, root } from "./client.js";

let kc: KernelClient;
const scratch = mkdtempSync(join(root, "test", "kernel", ".scratch-comms-"));

before(async () => {
  kc = await KernelClient.start({ cwd: scratch });
  // The API featurelab code uses (src/display/core/kernel.ts, as built into dist/).
  const r = await kc.execute(
    `import { registerCommTarget, openComm } from "${join(root, "dist", "display", "core", "kernel.js")}";\n` +
      "let closedWith: unknown = null;\n" +
      'registerCommTarget("featurelab.echo", (comm, open) => {\n' +
      "  comm.send({ opened: open.data });\n" +
      '  comm.onMsg((m) => { if ((m.data as any).fail) throw new Error("handler failed"); comm.send({ echo: m.data, bytes: m.buffers.map((b) => b.length) }); });\n' +
      "  comm.onClose((m) => { closedWith = m.data; });\n" +
      "});",
  );
  assert.equal(r.reply.content.status, "ok", JSON.stringify(r.reply.content));
});

after(async () => {
  await kc?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const commMsgs = (outputs: { header: { msg_type: string }; content: any }[]) => outputs.filter((m) => m.header.msg_type === "comm_msg").map((m) => m.content);

test("comm_open → the target's handler; comm_msg round trip (with buffers); comm_info; comm_close", async () => {
  const commId = randomUUID();
  const open = kc.send("shell", "comm_open", { comm_id: commId, target_name: "featurelab.echo", data: { feature: 12 } });
  assert.deepEqual(commMsgs(await kc.outputs(open)), [{ comm_id: commId, data: { opened: { feature: 12 } } }]);

  const info = await kc.request("shell", "comm_info_request", { target_name: "featurelab.echo" });
  assert.equal(info.content.status, "ok");
  assert.deepEqual(info.content.comms, { [commId]: { target_name: "featurelab.echo" } });
  assert.deepEqual((await kc.request("shell", "comm_info_request", { target_name: "other" })).content.comms, {});

  const msg = kc.send("shell", "comm_msg", { comm_id: commId, data: { ask: "top activations" } }, [Buffer.from([1, 2, 3])]);
  assert.deepEqual(commMsgs(await kc.outputs(msg)), [{ comm_id: commId, data: { echo: { ask: "top activations" }, bytes: [3] } }]);

  const failing = kc.send("shell", "comm_msg", { comm_id: commId, data: { fail: true } });
  const out = await kc.outputs(failing);
  assert.ok(out.some((m) => m.header.msg_type === "stream" && m.content.name === "stderr" && /handler failed/.test(m.content.text)), "a handler's error goes to stderr");

  await kc.outputs(kc.send("shell", "comm_close", { comm_id: commId, data: { bye: 1 } }));
  assert.deepEqual((await kc.request("shell", "comm_info_request", {})).content.comms, {});
  const r = await kc.execute("closedWith");
  assert.match(r.of("execute_result")[0].content.data["text/plain"], /bye/);
});

test("a comm to an unknown target is closed at once", async () => {
  const commId = randomUUID();
  const out = await kc.outputs(kc.send("shell", "comm_open", { comm_id: commId, target_name: "nobody", data: {} }));
  assert.ok(out.some((m) => m.header.msg_type === "comm_close" && m.content.comm_id === commId));
});

test("the kernel opens a comm to a page target, sends on it and closes it", async () => {
  const r = await kc.execute('const c = openComm("page.target", { hello: 1 })!;\nc.send({ n: 2 });\nc.close();');
  assert.equal(r.reply.content.status, "ok", JSON.stringify(r.reply.content));
  const types = r.outputs.map((m) => m.header.msg_type).filter((t) => t.startsWith("comm_"));
  assert.deepEqual(types, ["comm_open", "comm_msg", "comm_close"]);
  const open = r.outputs.find((m) => m.header.msg_type === "comm_open")!;
  assert.equal(open.content.target_name, "page.target");
  assert.deepEqual(open.content.data, { hello: 1 });
});

test("widgets/kernel-comm.js: a page script asks the live kernel over a comm, and reports no kernel where there is none", async () => {
  const source = readFileSync(join(root, "widgets", "kernel-comm.js"), "utf8");
  const r = await kc.execute('registerCommTarget("featurelab.feature", (comm, open) => { comm.send({ feature: (open.data as any).feature, top: ["the", "cat"] }); });');
  assert.equal(r.reply.content.status, "ok");
  // The classic notebook's comm manager, speaking to the kernel through the test client.
  const commManager = {
    new_comm(target: string, data: unknown) {
      const commId = randomUUID();
      const handlers: { msg?: (m: unknown) => void } = {};
      const open = kc.send("shell", "comm_open", { comm_id: commId, target_name: target, data });
      void kc.outputs(open).then((out) => {
        for (const m of out) if (m.header.msg_type === "comm_msg" && m.content.comm_id === commId) handlers.msg?.({ content: m.content, buffers: [] });
      });
      return { on_msg: (cb: (m: unknown) => void) => (handlers.msg = cb), on_close: () => {}, close: () => kc.send("shell", "comm_close", { comm_id: commId, data: {} }) };
    },
  };
  const live = { Jupyter: { notebook: { kernel: { comm_manager: commManager, is_connected: () => true } } } };
  const ask = vm.runInNewContext(`${source}; featurelabKernelRequest`, { window: live, setTimeout, clearTimeout });
  const reply = await new Promise((resolve, reject) => {
    assert.equal(ask("featurelab.feature", { feature: 12 }, (data: unknown, error: string | null) => (error ? reject(new Error(error)) : resolve(data))), true);
  });
  assert.deepEqual(reply, { feature: 12, top: ["the", "cat"] });
  const exported = vm.runInNewContext(`${source}; featurelabKernelRequest`, { window: {}, setTimeout, clearTimeout });
  assert.equal(exported("featurelab.feature", {}, () => assert.fail("no reply without a kernel")), false, "no kernel in an exported page");
});
