"""Committed notebooks must be a valid regression test: nbval silently skips what these catch."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(work|tmp|root|home|Users|private|var/folders)/")
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]{6,}")


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _text(output: dict) -> str:
    parts = [output.get("text", "")]
    for mime in ("text/plain", "text/html", "text/latex"):
        parts.append(output.get("data", {}).get(mime, ""))
    parts.extend(output.get("traceback", []))
    return "\n".join("".join(p) if isinstance(p, list) else str(p) for p in parts)


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


def test_notebooks_are_numbered_in_order():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert all(re.match(r"^\d\d_[a-z0-9_]+\.ipynb$", p.name) for p in NOTEBOOKS), [p.name for p in NOTEBOOKS]
    expected = list(range(1, max(numbers) + 1))
    assert numbers == expected, f"notebooks are not numbered 01..N without gaps: {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_top_to_bottom(path: Path):
    cells = _code_cells(json.loads(path.read_text()))
    counts = [c.get("execution_count") for c in cells]
    assert None not in counts, f"{path.name}: {counts.count(None)} code cell(s) never executed (nbval would skip them)"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: execution counts {counts} are not 1..N"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stored_errors_paths_or_addresses(path: Path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(_code_cells(nb)):
        expects_error = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                assert expects_error, f"{path.name} code cell {i + 1}: stored error {out.get('ename')}"
            text = _text(out)
            assert not ABSOLUTE_PATH.search(text), f"{path.name} code cell {i + 1}: absolute path in an output"
            assert not ADDRESS.search(text), f"{path.name} code cell {i + 1}: memory address in an output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_shape_of_a_notebook(path: Path):
    nb = json.loads(path.read_text())
    markdown = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    code = "\n".join("".join(c["source"]) for c in _code_cells(nb))
    assert nb["cells"][0]["cell_type"] == "markdown" and "".join(nb["cells"][0]["source"]).startswith("# ")
    for heading in ("Common pitfalls", "Check", "Exercises"):
        assert re.search(rf"^##+ .*{heading}", markdown, re.M), f"{path.name}: no '{heading}' section"
    assert "from swin_tutor" in code or "import swin_tutor" in code, f"{path.name}: does not import swin_tutor"
    assert "setup_notebook(" in code, f"{path.name}: no setup_notebook() call (seeds, threads, plot format)"
    assert path.stat().st_size < 3_000_000, f"{path.name}: {path.stat().st_size // 1000} kB, keep it under 3 MB"
