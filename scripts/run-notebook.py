"""Execute a notebook headless with the featurelab kernel and save the executed copy.

Usage: run-notebook.py IN.ipynb OUT.ipynb [--timeout SECONDS] [--pidfile FILE] [--sign]

Exits 1, naming the cell, when a cell raised an error or wrote to stderr (tslab reports errors on
stderr, not as Jupyter error messages). The executed notebook is written either way. The kernel's
PID goes to --pidfile so a caller can make sure it is gone. --sign signs the executed notebook for
this user (as `jupyter trust` does), so it opens trusted with its figures showing.
"""
import argparse
import os
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from nbformat.sign import NotebookNotary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    ap.add_argument("--pidfile")
    ap.add_argument("--sign", action="store_true")
    args = ap.parse_args()

    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in [os.path.join(ROOT, "jupyter"), os.environ.get("JUPYTER_PATH", "")] if p
    )
    nb = nbformat.read(args.input, as_version=4)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    workdir = os.path.dirname(os.path.abspath(args.input))
    client = NotebookClient(
        nb,
        kernel_name="featurelab",
        timeout=args.timeout,
        allow_errors=True,
        resources={"metadata": {"path": workdir}},
    )
    problems = []
    try:
        with client.setup_kernel():
            if args.pidfile:
                pid = getattr(getattr(client.km, "provisioner", None), "pid", None) or client.km.kernel.pid
                with open(args.pidfile, "w") as f:
                    f.write(str(pid))
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                try:
                    client.execute_cell(cell, index)
                except (CellExecutionError, CellTimeoutError) as err:
                    problems.append(f"cell {index}: {str(err).splitlines()[-1] if str(err) else type(err).__name__}")
                    break
                for out in cell.outputs:
                    if out.output_type == "error":
                        problems.append(f"cell {index} raised {out.ename}: {out.evalue}")
                    elif out.output_type == "stream" and out.name == "stderr":
                        problems.append(f"cell {index} wrote to stderr: {out.text.strip()[:2000]}")
                if problems:
                    break
            # nbclient records the widget state from the kernel's comm messages but writes it into
            # nb.metadata.widgets only here (its execute() does, execute_cell alone does not): the
            # exported HTML renders the widgets from it.
            client.set_widgets_metadata()
    finally:
        if args.sign and not problems:
            NotebookNotary().sign(nb)
        nbformat.write(nb, args.output)
    if problems:
        print(f"{args.input}: " + "\n".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
