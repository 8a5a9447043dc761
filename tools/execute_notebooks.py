"""Re-execute notebooks in place, top to bottom, in the environment the tests use (`make notebooks`).

Usage: python tools/execute_notebooks.py notebooks/01_patchify.ipynb [...]
Each notebook is formatted with ruff, executed with the current interpreter's kernel in its own
folder, and stripped of volatile metadata (outputs and execution counts are kept: nbval needs them).
Consecutive pieces of one stream (a cell's prints arrive in several messages) are stored as one
output, so that a re-run does not show up as a diff of how the text happened to be chunked.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conftest import configure_environment  # noqa: E402

configure_environment()

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402


def coalesce_streams(nb) -> None:
    """Merge consecutive stream outputs of the same name (stdout, stderr) in every code cell."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.outputs:
            last = merged[-1] if merged else None
            if last is not None and out.output_type == last.output_type == "stream" and out.name == last.name:
                last.text += out.text
            else:
                merged.append(out)
        cell.outputs = merged


def execute(path: Path) -> float:
    subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(path)], check=True)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    elapsed = time.perf_counter() - start
    coalesce_streams(nb)
    nbformat.write(nb, path)
    subprocess.run(
        [sys.executable, "-m", "nbstripout", "--keep-output", "--keep-count", str(path)],
        check=True,
    )
    return elapsed


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for p in paths:
        print(f"{p}: {execute(p.resolve()):.1f} s", flush=True)
