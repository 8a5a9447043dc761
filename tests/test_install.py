"""The install (make setup, tools/torch_source.py): which PyTorch build, from where, with which pip command.

The decision is tested on recorded `pip install --dry-run --report` reports, shortened to what it reads:
this machine's (local wheels: the CPU build), PyPI's on Linux (the CUDA build and its nvidia-* packages)
and PyPI's on macOS (no local version, no nvidia-*). What pip would then download from PyTorch's index on a
real Linux laptop cannot be tested here (no network); the arguments it receives can.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _load_tool():
    spec = importlib.util.spec_from_file_location("torch_source", ROOT / "tools" / "torch_source.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


torch_source = _load_tool()


def _item(name: str, version: str, url: str, requires: list[str] | None = None) -> dict:
    metadata = {"metadata_version": "2.1", "name": name, "version": version, "requires_dist": requires or []}
    return {"download_info": {"url": url}, "is_direct": False, "requested": name == "torch", "metadata": metadata}


def _env(system: str, machine: str) -> dict:
    platform = {"Linux": "linux", "Darwin": "darwin"}[system]
    return {"platform_system": system, "sys_platform": platform, "platform_machine": machine, "python_version": "3.11"}


NVIDIA = ["nvidia-cuda-runtime-cu12", "nvidia-cudnn-cu12", "nvidia-cublas-cu12", "nvidia-nccl-cu12"]
TORCH_REQUIRES = ["filelock", "sympy>=1.13.3"] + [f'{n}==12.8.90; platform_system == "Linux"' for n in NVIDIA]
PYPI = "https://files.pythonhosted.org/packages/aa/bb"
# This machine's pip (find-links to local wheels), as recorded on it.
LOCAL_CPU = {
    "version": "1",
    "pip_version": "26.3",
    "install": [
        _item("torch", "2.13.0+cpu", "file:///opt/wheels/torch-2.13.0%2Bcpu-cp311-cp311-manylinux_2_28_x86_64.whl"),
        _item("sympy", "1.14.0", "file:///opt/pypi/files/sympy-1.14.0-py3-none-any.whl"),
        _item("filelock", "4.3.2", f"{PYPI}/filelock-4.3.2-py3-none-any.whl"),
    ],
    "environment": _env("Linux", "x86_64"),
}
# PyPI on a Linux laptop: torch 2.13.0 without a local version, its nvidia-* packages and triton.
LINUX_CUDA = {
    "version": "1",
    "pip_version": "26.3",
    "install": [
        _item("torch", "2.13.0", f"{PYPI}/torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl", TORCH_REQUIRES),
        *[_item(n, "12.8.90", f"{PYPI}/{n.replace('-', '_')}-12.8.90-py3-none-manylinux.whl") for n in NVIDIA],
        _item("triton", "3.6.0", f"{PYPI}/triton-3.6.0-cp311-cp311-manylinux_2_27_x86_64.whl"),
        _item("filelock", "4.3.2", f"{PYPI}/filelock-4.3.2-py3-none-any.whl"),
    ],
    "environment": _env("Linux", "x86_64"),
}
# PyPI on a Mac: the same version, the nvidia-* requirements' markers false, so none is installed.
MACOS = {
    "version": "1",
    "pip_version": "26.3",
    "install": [
        _item("torch", "2.13.0", f"{PYPI}/torch-2.13.0-cp311-none-macosx_11_0_arm64.whl", TORCH_REQUIRES),
        _item("filelock", "4.3.2", f"{PYPI}/filelock-4.3.2-py3-none-any.whl"),
    ],
    "environment": _env("Darwin", "arm64"),
}
# A source that names the CUDA build in its local version (PyTorch's cu126 index), nvidia-* already there.
LOCAL_CUDA = {"install": [_item("torch", "2.13.0+cu126", "file:///wheels/torch-2.13.0+cu126-cp311.whl")]}


@pytest.mark.parametrize(
    ("report", "build", "arguments"),
    [
        (LOCAL_CPU, "cpu", []),
        (LINUX_CUDA, "cuda", ["--extra-index-url", CPU_INDEX]),
        (MACOS, "cpu", []),
        (LOCAL_CUDA, "cuda", ["--extra-index-url", CPU_INDEX]),
        ({"install": []}, "none", []),
    ],
    ids=["local-cpu-wheels", "pypi-linux-cuda", "pypi-macos", "local-cu126", "nothing-to-install"],
)
def test_decision_from_a_dry_run_report(report, build, arguments):
    assert torch_source.build_of(report) == build
    assert torch_source.pip_arguments(report) == arguments
    assert torch_source.pip_arguments(report, "cpu") == arguments  # cpu is the default


def test_the_cuda_switch_adds_nothing():
    for report in (LOCAL_CPU, LINUX_CUDA, MACOS, None):
        assert torch_source.pip_arguments(report, "cuda") == []


def test_bad_input_is_named(tmp_path):
    with pytest.raises(ValueError, match="torch must be one of"):
        torch_source.pip_arguments(LOCAL_CPU, "rocm")
    with pytest.raises(ValueError, match="'install' list"):
        torch_source.build_of({"version": "1"})
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy==2.0.0\n")
    with pytest.raises(ValueError, match="torch==<version>"):
        torch_source.locked_torch(lock)


def test_locked_version_is_the_lock_pin():
    assert torch_source.locked_torch() == re.search(r"^torch==(\S+)", (ROOT / "requirements.lock").read_text(), re.M)[1]


class _FakePip:
    """Stands in for subprocess.run: records each command and writes the given report where --report asks."""

    def __init__(self, report: dict | None, returncode: int = 0) -> None:
        self.report, self.returncode, self.commands = report, returncode, []

    def __call__(self, command, **kwargs):
        self.commands.append(list(command))
        if self.report is not None and self.returncode == 0:
            Path(command[command.index("--report") + 1]).write_text(json.dumps(self.report))
        return subprocess.CompletedProcess(command, self.returncode, "", "no network" if self.returncode else "")


@pytest.mark.parametrize(
    ("report", "printed"), [(LOCAL_CPU, ""), (LINUX_CUDA, f"--extra-index-url {CPU_INDEX}"), (MACOS, "")]
)
def test_main_asks_the_configured_source_only_and_prints_the_arguments(report, printed, capsys):
    pip = _FakePip(report)
    assert torch_source.main([], run=pip) == 0
    out, err = capsys.readouterr()
    assert out == printed + "\n"
    assert "PyTorch:" in err and (("CPU build from" in err) == bool(printed))
    [command] = pip.commands
    assert command[1:6] == ["-m", "pip", "install", "--dry-run", "--ignore-installed"]
    assert command[-1] == f"torch=={torch_source.locked_torch()}"
    # The dry run asks only the configured source: no index, no find-links of its own.
    assert not [a for a in command if "index" in a or "find-links" in a or a.startswith("http")]


def test_main_with_the_cuda_switch_runs_no_dry_run(capsys):
    pip = _FakePip(LINUX_CUDA)
    assert torch_source.main(["--torch", "cuda"], run=pip) == 0
    assert pip.commands == [] and capsys.readouterr().out == "\n"


def test_main_when_pip_cannot_say_adds_nothing(capsys):
    assert torch_source.main([], run=_FakePip(None, returncode=1)) == 0
    out, err = capsys.readouterr()
    assert out == "\n" and "dry run failed" in err


def _recipe(*variables: str) -> list[str]:
    """The commands `make setup` would run in a fresh clone (make -n, everything out of date)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        [make, "-n", "-B", "-C", str(ROOT), ".venv/.installed", *variables], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_make_setup_command_lines():
    lines = _recipe()
    decide = [line for line in lines if "tools/torch_source.py" in line]
    assert decide == [".venv/bin/python tools/torch_source.py --torch cpu > .venv/.torch-source"], lines
    [install] = [line for line in lines if "-r requirements.lock" in line]
    assert install == ".venv/bin/python -m pip install $(cat .venv/.torch-source) -r requirements.lock"
    assert "--quiet" not in install, "the big install must show pip's progress"
    assert lines.index(decide[0]) < lines.index(install)


def test_make_setup_cuda_switch():
    decide = [line for line in _recipe("TORCH=cuda") if "tools/torch_source.py" in line]
    assert decide == [".venv/bin/python tools/torch_source.py --torch cuda > .venv/.torch-source"]


def test_lab_trusts_the_notebooks_and_keeps_progress_bars():
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    # -o: take the installed stamp as it is (never remake it here), print the rest of the recipe.
    done = subprocess.run(
        [make, "-n", "-C", str(ROOT), "-o", ".venv/.installed", "lab"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    trust = [line for line in lines if "jupyter trust" in line]
    assert trust and "notebooks/01_patchify.ipynb" in trust[0], lines
    assert lines.index(trust[0]) < [i for i, line in enumerate(lines) if "jupyter lab" in line][0]
    makefile = (ROOT / "Makefile").read_text()
    assert not re.search(r"^export TQDM_DISABLE", makefile, re.M), "make lab must not disable progress bars"
    assert re.search(r"^TEST_ENV :=.*TQDM_DISABLE=1", makefile, re.M), "the tests must disable them"


def _rise_tool():
    spec = importlib.util.spec_from_file_location("rise_widgets", ROOT / "tools" / "rise_widgets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rise_widgets_extension_is_written_where_jupyterlab_finds_it(tmp_path):
    """tools/rise_widgets.py writes a federated extension JupyterLab (and RISE's page) loads: package.json with
    its _build entry, and a container that offers @jupyterlab/console only where the scope lacks it."""
    rise = _rise_tool()
    target = rise.install(tmp_path)
    assert target == tmp_path / "share" / "jupyter" / "labextensions" / "swin-tutor-rise-widgets"
    package = json.loads((target / "package.json").read_text())
    assert package["jupyterlab"]["_build"] == {"load": "static/remoteEntry.js", "extension": "./extension"}
    entry = (target / "static" / "remoteEntry.js").read_text()
    assert 'window._JUPYTERLAB["swin-tutor-rise-widgets"]' in entry and "@jupyterlab/console" in entry
    assert "if (!scope || scope[KEY]) return;" in entry  # JupyterLab's own console module is never replaced
    assert rise.install(tmp_path) == target  # idempotent
    with pytest.raises(ValueError, match="prefix must be an existing folder"):
        rise.install(tmp_path / "missing")
    # make setup installs it, after the package.
    lines = _recipe()
    assert ".venv/bin/python tools/rise_widgets.py" in lines
    assert lines.index(".venv/bin/python tools/rise_widgets.py") > [i for i, x in enumerate(lines) if " -e ." in x][0]


def test_rise_widgets_stand_in_behaves_in_node_if_available(tmp_path):
    """The container's init in a scope without the console module adds a stand-in with the IConsoleTracker
    token; in a scope with one it changes nothing (run with node where installed)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    rise = _rise_tool()
    script = tmp_path / "check.js"
    script.write_text(
        "global.window = {};\n"
        + rise.REMOTE_ENTRY
        + """
const c = window._JUPYTERLAB["swin-tutor-rise-widgets"];
const rise = {"@jupyterlab/notebook": {"4.3.4": {}}};
c.init(rise);
const lab = {"@jupyterlab/console": {"4.6.6": {from: "lab"}}};
c.init(lab);
rise["@jupyterlab/console"]["4.3.4"].get().then(f => {
  const m = f();
  console.log(JSON.stringify([Object.keys(rise["@jupyterlab/console"]), m.IConsoleTracker.name,
                              Object.keys(lab["@jupyterlab/console"]), lab["@jupyterlab/console"]["4.6.6"].from]));
});
"""
    )
    done = subprocess.run([node, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [["4.3.4"], "@jupyterlab/console:IConsoleTracker", ["4.6.6"], "lab"]
