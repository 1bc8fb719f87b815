"""The featurelab kernel against Jupyter's own kernel test suite (Debian's python3-jupyter-kernel-test).

Run by test/kernel/kernel.test.ts with JUPYTER_PATH pointing at the repository's jupyter/ folder:
    JUPYTER_PATH=jupyter /usr/bin/python3 -m unittest test/kernel/test_featurelab_kernel.py
With FEATURELAB_KERNEL_PIDFILE set, the kernel's PID is written there so the caller can make sure
it is gone even if this process dies.
"""
import os
import unittest

import jupyter_kernel_test

TIMEOUT = 60  # seconds: only ends a wait that would otherwise hang


class FeaturelabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "featurelab"
    language_name = "typescript"
    file_extension = ".ts"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pidfile = os.environ.get("FEATURELAB_KERNEL_PIDFILE")
        if pidfile:
            provisioner = getattr(cls.km, "provisioner", None)
            pid = getattr(provisioner, "pid", None) or cls.km.kernel.pid
            with open(pidfile, "w") as f:
                f.write(str(pid))

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("oops")'
    code_page_something = "Math.max?"
    code_generate_error = 'throw new Error("expected")'

    completion_samples = [
        {"text": "Math.ma", "matches": {"max"}},
        {"text": "const someLongName = 1;\nsomeLong", "matches": {"someLongName"}},
    ]
    complete_code_samples = ["1", "const x = 1;", "function f() { return 1; }", "await Promise.resolve(1)", "for (const i of [1, 2]) {\n  console.log(i);\n}"]
    incomplete_code_samples = ["function f() {", "const a = [1, 2,", "if (x) {\n  y();", "foo(", "/* a comment", "`template ${1}", "x +"]
    invalid_code_samples = ["const = ;", "1 +* 2", "let x = 1)", "'unterminated"]

    code_display_data = [
        {"code": 'import * as tslab from "tslab";\ntslab.display.html("<b>bold</b>")', "mime": "text/html"},
        {"code": '(globalThis as any).__featurelab_kernel__.display({ data: { "text/plain": "x", "text/markdown": "**x**" } }, false)', "mime": "text/markdown"},
    ]
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"hello"', "result": "'hello'"},
        {"code": "[1, 2, 3].map((x) => x * 2)", "result": "[ 2, 4, 6 ]"},
    ]
    code_history_pattern = "6*7"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "Math.max"
    code_clear_output = "console.clear()"

    # Beyond the suite: what the suite of this Debian version does not ask yet.

    def run_cell(self, code, answers=()):
        """Execute code with stdin allowed, answering input requests with `answers`; returns (reply, iopub messages, prompts)."""
        self.flush_channels()
        msg_id = self.kc.execute(code, allow_stdin=True)
        prompts = []
        for answer in answers:
            request = self.kc.get_stdin_msg(timeout=TIMEOUT)
            self.assertEqual(request["msg_type"], "input_request")
            prompts.append(request["content"])
            self.kc.input(answer)
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        outputs = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            outputs.append(msg)
        return reply, outputs, prompts

    def test_featurelab_stdin(self):
        reply, outputs, prompts = self.run_cell('const who = prompt("name?");\nconst sure = confirm("sure?");\nconsole.log(`hi ${who} ${sure}`)', ["Ada", "y"])
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual([p["prompt"] for p in prompts], ["name? ", "sure? [y/N] "])
        self.assertEqual([p["password"] for p in prompts], [False, False])
        text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")
        self.assertEqual(text, "hi Ada true\n")

    def test_featurelab_password(self):
        reply, outputs, prompts = self.run_cell('import * as fl from "featurelab";\nconst secret = await fl.input("token?", { password: true });\nsecret.length', ["s3cret"])
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual(prompts[0], {"prompt": "token?", "password": True})
        results = [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(results, ["6"])

    def test_featurelab_deno_display(self):
        code = 'const card = { [Symbol.for("Jupyter.display")]() { return { "text/html": "<b>card</b>", "text/plain": "card" }; } };\ncard'
        reply, outputs, _ = self.run_cell(code)
        self.assertEqual(reply["content"]["status"], "ok")
        bundles = [m["content"]["data"] for m in outputs if m["msg_type"] in ("execute_result", "display_data")]
        self.assertEqual(bundles[-1].get("text/html"), "<b>card</b>")

    def test_featurelab_global_display(self):
        reply, outputs, _ = self.run_cell('await display({ a: 1 });\nawait display({ "text/markdown": "**m**" }, { raw: true });')
        self.assertEqual(reply["content"]["status"], "ok")
        shown = [m["content"]["data"] for m in outputs if m["msg_type"] == "display_data"]
        self.assertEqual(shown[0]["text/plain"], "{ a: 1 }")
        self.assertEqual(shown[1]["text/markdown"], "**m**")

    def test_featurelab_debugger_advertised(self):
        self.flush_channels()
        msg_id = self.kc.kernel_info()
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertTrue(reply["content"]["debugger"])


if __name__ == "__main__":
    unittest.main()
