"""Every notebook, run top to bottom in a real JupyterLab in headless Chromium (`make e2e`).

Checked per notebook: the python3 kernel (the venv's interpreter) starts and goes idle, 'run all'
finishes with no `[*]` prompt left and no dialog, no cell has an error output (cells tagged
`raises-exception` may), every code cell ran, every image output is an <img> that decoded
(naturalWidth > 0), widget outputs rendered (03_cyclic_shift.ipynb must show a slider).
A screenshot of each lands in build/e2e/<name>.png.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import lab_harness
import psutil
import pytest
from lab_harness import FIXTURES, ROOT, find_problems, kernel_processes, run_notebook

pytestmark = pytest.mark.e2e
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_kernel_is_the_test_interpreter(lab_server):
    specs = lab_server.api("/api/kernelspecs")
    assert specs["default"] == "python3"
    assert specs["kernelspecs"]["python3"]["spec"]["argv"][0] == sys.executable
    settings = lab_server.api("/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    assert settings["settings"]["autosave"] is False


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_lab(notebook: Path, lab_server, browser, record_timing):
    lab_path = lab_server.place(notebook)
    copied = (lab_server.work / lab_path).read_bytes()
    run = run_notebook(lab_server, browser, lab_path)
    record_timing(run)
    assert not run.problems, f"{notebook.name} in JupyterLab:\n" + "\n".join(run.problems)
    assert run.counts["code cells"] > 0
    assert (lab_server.work / lab_path).read_bytes() == copied, "JupyterLab saved the notebook"
    assert run.kernel_argv and all(a[0] == sys.executable for a in run.kernel_argv), run.kernel_argv


def test_fixture_that_passes(lab_server, browser, record_timing):
    """A figure, a slider, an expected error (tagged raises-exception), more cells: no problems."""
    run = run_notebook(lab_server, browser, lab_server.place(FIXTURES / "e2e_passes.ipynb", "fixtures"))
    record_timing(run)
    assert not run.problems, "\n".join(run.problems)
    assert run.counts["images"] == 1
    assert run.counts["sliders"] == 1
    assert run.kernel_argv and all(a[0] == sys.executable for a in run.kernel_argv), run.kernel_argv
    assert not kernel_processes(lab_server), "the notebook's kernel is still running"


def test_failing_cell_is_reported(lab_server, browser, record_timing):
    """The check must catch an error: a cell raising ValueError('deliberate'), later cells unrun."""
    run = run_notebook(lab_server, browser, lab_server.place(FIXTURES / "e2e_fails.ipynb", "fixtures"))
    record_timing(run)
    assert any("raised ValueError: deliberate" in p for p in run.problems), run.problems
    assert any("never ran" in p for p in run.problems), run.problems


def test_find_problems_on_stored_outputs():
    """The checking function alone, on the stored outputs of the failing fixture."""
    nb = json.loads((FIXTURES / "e2e_fails.ipynb").read_text())
    images = [{"complete": True, "width": 0, "height": 0}]
    rendered = {
        "images": images,
        "viewsRendered": 0,
        "widgets": 0,
        "sliders": 0,
        "widgetErrors": [],
    }
    problems = find_problems("03_cyclic_shift.ipynb", nb, rendered)
    assert any("raised ValueError: deliberate" in p for p in problems), problems
    assert any("did not render" in p for p in problems), problems
    assert any("slider" in p for p in problems), problems


def test_everything_started_is_stopped():
    """In a separate process: a server with a kernel, Chromium and the Playwright driver are
    started and stopped; afterwards none of their PIDs is running."""
    done = subprocess.run(
        [sys.executable, str(Path(lab_harness.__file__)), "--selfcheck"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    pids = json.loads(done.stdout.strip().splitlines()[-1])
    assert pids["server"] and pids["kernels"] and pids["chromium"] and pids["playwright driver"]
    alive = {k: [p for p in v if _alive(p)] for k, v in pids.items()}
    assert not any(alive.values()), f"still running after the stop: {alive}"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
