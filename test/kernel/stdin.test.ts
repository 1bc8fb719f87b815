// Input from the user over the stdin channel: prompt() and confirm() block the cell until the
// input_reply comes (synchronously, as in a browser or Deno), fl.input() awaits it, the password flag
// reaches the frontend, an interrupt ends the wait, and a frontend that does not allow stdin gets a
// clear error instead of a hang.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { KernelClient, resultText, root, stdoutText, waitFor, type Msg } from "./client.js";

let kc: KernelClient;
// Under the repository, so cells import featurelab by name.
const scratch = mkdtempSync(join(root, "test", "kernel", ".scratch-stdin-"));

before(async () => {
  kc = await KernelClient.start({ cwd: scratch });
});

after(async () => {
  await kc?.stop();
  rmSync(scratch, { recursive: true, force: true });
});


/** Run a cell with stdin allowed, answering its input requests with `answers` in turn. */
async function withAnswers(code: string, answers: string[]) {
  const asked: Msg[] = [];
  kc.answerInput = (m) => {
    asked.push(m);
    return answers.shift();
  };
  try {
    const r = await kc.execute(code, { allow_stdin: true });
    return { ...r, asked };
  } finally {
    kc.answerInput = undefined;
  }
}

test("prompt() asks with input_request on stdin, parented to the execute request, and returns the answer synchronously", async () => {
  const r = await withAnswers('console.log("before");\nconst who = prompt("Name?");\n`hello ${who}`', ["Ada"]);
  assert.equal(r.reply.content.status, "ok", JSON.stringify(r.reply.content));
  assert.equal(r.asked.length, 1);
  assert.equal(r.asked[0].header.msg_type, "input_request");
  assert.equal(r.asked[0].parent_header.msg_id, r.id);
  assert.equal(r.asked[0].content.prompt, "Name? ");
  assert.equal(r.asked[0].content.password, false);
  assert.equal(resultText(r), "'hello Ada'");
  assert.equal(stdoutText(r), "before\n", "output written before the question goes out before it");
  assert.equal(resultText(await kc.execute("who")), "'Ada'", "the answer is kept like any variable");
});

test("prompt() with a default: shown in brackets, returned for an empty answer; confirm() is true for y/Y only", async () => {
  const d = await withAnswers('[prompt("Steps?", "100"), prompt("Steps?", "100")]', ["", "7"]);
  assert.equal(d.asked[0].content.prompt, "Steps? [100] ");
  assert.equal(resultText(d), "[ '100', '7' ]");
  const c = await withAnswers('[confirm("Delete?"), confirm(), confirm()]', ["y", "Y", "yes"]);
  assert.equal(c.asked[0].content.prompt, "Delete? [y/N] ");
  assert.equal(c.asked[1].content.prompt, "Confirm [y/N] ");
  assert.equal(resultText(c), "[ true, true, false ]");
});

test("prompt() works after an await and inside functions; fl.input() awaits the answer and asks for passwords hidden", async () => {
  const a = await withAnswers('await Promise.resolve();\nfunction ask() { return prompt("Again?"); }\nask() + "!"', ["yes"]);
  assert.equal(resultText(a), "'yes!'");
  const p = await withAnswers('import * as fl from "featurelab";\nconst secret = await fl.input("Token:", { password: true });\nsecret.length', ["s3cret"]);
  assert.equal(p.reply.content.status, "ok", JSON.stringify(p.reply.content));
  assert.equal(p.asked[0].content.prompt, "Token:");
  assert.equal(p.asked[0].content.password, true);
  assert.equal(resultText(p), "6");
});

test("while a cell waits for input, timers wait too with prompt() but run with fl.input(); the kernel still answers on control", async () => {
  kc.answerInput = undefined;
  const id = kc.sendExecute('import * as fl from "featurelab";\nlet ticks = 0;\nconst timer = setInterval(() => ticks++, 5);\nconst got = await fl.input("Go?");\nclearInterval(timer);\n[got, ticks > 0]', { allow_stdin: true });
  assert.ok(await waitFor(() => kc.inputRequests.some((m) => m.parent_header.msg_id === id), 30_000));
  const info = await kc.request("control", "kernel_info_request", {}, 10_000);
  assert.equal(info.content.status, "ok");
  // Ticks happen while fl.input waits: wait for a few of them through the kernel's stdout-free state.
  await new Promise((r) => setImmediate(r));
  const request = kc.inputRequests.find((m) => m.parent_header.msg_id === id)!;
  kc.replyInput(request, "go");
  const reply = await kc.reply(id);
  assert.equal(reply.content.status, "ok", JSON.stringify(reply.content));
  const outputs = await kc.outputs(id);
  assert.equal(outputs.find((m) => m.header.msg_type === "execute_result")?.content.data["text/plain"], "[ 'go', true ]");
});

test("an interrupt ends the wait: the cell fails as interrupted, its variables survive, and a late reply is ignored", async () => {
  await kc.execute("let kept = 42;");
  for (const code of ['prompt("Never answered")', 'await Promise.resolve();\nprompt("Never answered")', 'import * as fl from "featurelab";\nawait fl.input("Never answered")']) {
    const before = kc.inputRequests.length;
    const id = kc.sendExecute(code, { allow_stdin: true });
    assert.ok(await waitFor(() => kc.inputRequests.length > before, 30_000), `the input request arrives: ${code}\n${kc.stderr}`);
    await kc.request("control", "interrupt_request", {}, 10_000);
    const reply = await kc.reply(id, 30_000);
    assert.equal(reply.content.status, "error", code);
    assert.match(`${reply.content.ename}: ${reply.content.evalue}`, /interrupt/i, code);
    kc.replyInput(kc.inputRequests.at(-1)!, "too late");
  }
  const after = await kc.execute("kept");
  assert.equal(resultText(after), "42");
});

test("a frontend that does not allow stdin gets StdinNotImplementedError naming allow_stdin, not a hang", async () => {
  const before = kc.inputRequests.length;
  for (const code of ['prompt("x")', "confirm()", 'import * as fl from "featurelab";\nawait fl.input("x")']) {
    const r = await kc.execute(code, { allow_stdin: false, timeoutMs: 30_000 });
    assert.equal(r.reply.content.status, "error", code);
    assert.equal(r.reply.content.ename, "StdinNotImplementedError", code);
    assert.match(r.reply.content.evalue, /allow_stdin/, code);
  }
  assert.equal(kc.inputRequests.length, before, "no input_request was sent");
  const caught = await kc.execute('let caught = "";\ntry { prompt("x") } catch (e) { caught = (e as Error).name }\ncaught');
  assert.equal(resultText(caught), "'StdinNotImplementedError'");
});
