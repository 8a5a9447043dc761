"""The install files agree with each other: the lock pins what pyproject asks for, conda installs the lock."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"requirements.lock: '{line}' is not pinned with =="
        pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_lock_pins_torch_cpu_and_nothing_forbidden():
    pins = _lock()
    assert pins["torch"] == "2.13.0", "torch must be pinned to 2.13.0 (the CPU build these machines install)"
    for forbidden in ("torchvision", "timm"):
        assert forbidden not in pins, f"{forbidden} must not be in the lock (it pulls a CUDA torch)"


def test_lock_covers_pyproject_dependencies():
    if tomllib is None:
        pytest.skip("reading pyproject.toml needs tomllib (Python 3.11+)")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += [w for w in extra if not w.startswith("swin-tutor")]
    pins = _lock()
    for requirement in wanted:
        name = re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", requirement)[0]).lower()
        assert name in pins, f"pyproject asks for {requirement!r} but requirements.lock does not pin it"


def test_environment_yml_installs_the_lock_and_the_package():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*-\s*-r requirements\.lock\s*$", text, re.M), "environment.yml must install requirements.lock"
    assert re.search(r"^\s*-\s*-e \.\s*$", text, re.M), "environment.yml must install the package with -e ."
    python = re.search(r"^\s*-\s*python=(\d+\.\d+)", text, re.M)
    assert python, "environment.yml must pin the Python version"
    lock_header = (ROOT / "requirements.lock").read_text().splitlines()[0]
    assert f"Python {python.group(1)}" in lock_header, "environment.yml and requirements.lock target different Pythons"
    assert "conda-forge" in text


def test_environment_yml_installs_the_cpu_build_of_torch():
    """conda's pip section adds PyTorch's CPU index (its 2.13.0+cpu sorts above PyPI's CUDA 2.13.0 on Linux),
    the same index tools/torch_source.py adds for make setup where the configured source gives CUDA."""
    text = (ROOT / "environment.yml").read_text()
    pip = text[text.index("- pip:") :]
    assert re.search(r"^\s*-\s*--extra-index-url https://download\.pytorch\.org/whl/cpu\s*$", pip, re.M)
    assert pip.index("--extra-index-url") < pip.index("-r requirements.lock"), "the index must come first"
    assert "https://download.pytorch.org/whl/cpu" in (ROOT / "tools" / "torch_source.py").read_text()
