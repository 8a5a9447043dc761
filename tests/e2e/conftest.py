"""Fixtures for the end-to-end tests: one JupyterLab server and one Chromium for the session.

These tests run only when asked for (`make e2e`, `pytest -m e2e`, or a path inside tests/e2e);
`make test` also ignores this folder. The fixture notebooks here are never collected by nbval.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from lab_harness import (
    SCREENSHOTS,
    make_environment,
    start_browser,
    start_server,
    stop_browser,
    stop_server,
)

HERE = Path(__file__).resolve().parent
collect_ignore_glob = ["fixtures/*", "*.ipynb"]
TIMINGS: list[tuple[str, dict[str, float], dict[str, int]]] = []


def _asked_for(config) -> bool:
    if "e2e" in (config.option.markexpr or ""):
        return True
    return any(
        HERE in (Path(a.split("::")[0]).resolve(), *Path(a.split("::")[0]).resolve().parents) for a in config.args
    )


def pytest_collection_modifyitems(config, items) -> None:
    if _asked_for(config):
        return
    skip = pytest.mark.skip(reason="end-to-end test in a real JupyterLab: run `make e2e`")
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def lab_tree():
    base = Path(tempfile.mkdtemp(prefix="swin-tutor-e2e-"))
    try:
        yield base, make_environment(base)
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for log in ("jupyter.log", "chromium.log"):  # kept for debugging, next to the screenshots
            if (base / log).exists():
                shutil.copy2(base / log, SCREENSHOTS / log)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def lab_server(lab_tree):
    base, env = lab_tree
    server = start_server(base, env)
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def browser(lab_tree):
    base, env = lab_tree
    b = start_browser(base, env)
    try:
        yield b
    finally:
        stop_browser(b)


@pytest.fixture
def record_timing():
    def record(run) -> None:
        TIMINGS.append((run.name, run.timings, run.counts))

    return record


def pytest_terminal_summary(terminalreporter) -> None:
    if not TIMINGS:
        return
    lines = []
    for name, t, counts in TIMINGS:
        parts = [f"{k} {v:5.1f} s" for k, v in t.items()]
        extra = ", ".join(f"{v} {k}" for k, v in counts.items())
        lines.append(f"{name:32s} " + "  ".join(parts) + (f"  ({extra})" if extra else ""))
    terminalreporter.write_sep("-", "JupyterLab end-to-end timings")
    for line in lines:
        terminalreporter.write_line(line)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "timings.txt").write_text("\n".join(lines) + "\n")
