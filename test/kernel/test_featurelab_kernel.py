"""The featurelab kernel against Jupyter's own kernel test suite (Debian's python3-jupyter-kernel-test).

Run by test/kernel/kernel.test.ts with JUPYTER_PATH pointing at the repository's jupyter/ folder:
    JUPYTER_PATH=jupyter /usr/bin/python3 -m unittest test/kernel/test_featurelab_kernel.py
With FEATURELAB_KERNEL_PIDFILE set, the kernel's PID is written there so the caller can make sure
it is gone even if this process dies.
"""
import os
import unittest

import jupyter_kernel_test


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


if __name__ == "__main__":
    unittest.main()
