"""tools/slides.py: the slide-type rules on a small synthetic notebook, the Colab set-up cell, and every
notebook of the series carrying slide metadata (RISE in JupyterLab) with its title as the first slide."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
URL = "https://example.org/swin-tutor"


def _load_tool():
    spec = importlib.util.spec_from_file_location("slides_tool", ROOT / "tools" / "slides.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


slides = _load_tool()


def _code(source: str, outputs: list | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.from_dict(o) for o in outputs or []]
    return cell


FIGURE = {"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}, "metadata": {}}
STEPPER = {
    "output_type": "execute_result",
    "execution_count": 1,
    "data": {"text/html": '<div class="swin-stepper" id="stepper-x"></div>', "text/plain": "Static version"},
    "metadata": {},
}
TEXT = {"output_type": "stream", "name": "stdout", "text": "shape (1, 3)\n"}


def _synthetic() -> tuple[nbformat.NotebookNode, list[str]]:
    """A small notebook with one cell of every kind and the slide type each must get (Colab cell excluded)."""
    md = nbformat.v4.new_markdown_cell
    cells = [
        (md("# 99 · A title\n\nWhat this notebook answers."), "slide"),
        (
            _code("import torch\n\nfrom swin_tutor.lesson.notebook import setup_notebook\n\nsetup_notebook()", [TEXT]),
            "skip",
        ),
        (md("## 1. A section"), "slide"),
        (_code("x = torch.zeros(1, 3)\nprint('shape', tuple(x.shape))", [TEXT]), "-"),
        (md("A sentence about the result."), "-"),
        (_code("fig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()", [FIGURE]), "subslide"),
        (_code("plot_something()\nplt.show()"), "subslide"),  # not run yet: plt.show() says it draws
        (_code("def draw(v):\n    plt.plot([v])\n    plt.show()\n\n\nprint('draw(v) plots')", [TEXT]), "-"),
        (md("### A sub-section"), "subslide"),
        (_code("\n".join(f"a{i} = {i}" for i in range(16))), "fragment"),
        (_code("\n".join(f"b{i} = {i}" for i in range(15))), "-"),
        (_code("precompute_frames(draw, [1, 2], name='x', label='v')", [STEPPER]), "subslide"),
        (_code("import numpy as np\nfrom pathlib import Path"), "skip"),
        (_code("   \n"), "skip"),
        (md("## Common pitfalls\n\n**1. The first.** Text."), "slide"),
        (md("**2. The second.** Text."), "subslide"),
        (md("\n".join(f"line {i}" for i in range(13))), "subslide"),
        (md("## Exercises\n\n1. A question."), "slide"),
        (
            _code('from swin_tutor.exercises import ____, exercise\n\nanswer = ____\nexercise("99.1").check(answer)'),
            "subslide",
        ),
        (md("<details><summary>Answer</summary>\n\nForty-two.\n</details>"), "notes"),
        (_code('exercise("99.1").solution()'), "skip"),
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell for cell, _ in cells]
    return nb, [wanted for _, wanted in cells]


def test_rules_on_a_synthetic_notebook():
    nb, wanted = _synthetic()
    before = [(c.cell_type, c.source, copy.deepcopy(c.get("outputs"))) for c in nb.cells]
    slides.apply(nb, URL)
    colab, rest = nb.cells[1], nb.cells[:1] + nb.cells[2:]
    assert slides.is_colab_cell(colab) and colab.metadata["slideshow"]["slide_type"] == "skip"
    got = [c.metadata["slideshow"]["slide_type"] for c in rest]
    mismatches = [(i, rest[i].source[:40], w, g) for i, (w, g) in enumerate(zip(wanted, got, strict=True)) if w != g]
    assert not mismatches, mismatches
    # Sources and outputs of every other cell are exactly as they were, in the same order.
    assert [(c.cell_type, c.source, c.get("outputs")) for c in rest] == before


def test_colab_cell_after_the_title_and_idempotent():
    nb, _ = _synthetic()
    nb.cells[1].metadata["tags"] = ["keep-me"]
    assert slides.apply(nb, URL) > 0
    colab = nb.cells[1]
    assert colab.source == slides.colab_source(URL) and URL in colab.source
    assert colab.metadata.tags == ["remove-cell"]  # hidden on the site
    assert colab.metadata.jupyter.source_hidden is True  # collapsed in JupyterLab
    assert len(colab.source.splitlines()) <= 12, "the Colab cell must stay short"
    assert nb.cells[2].metadata.tags == ["keep-me"]  # other metadata kept
    assert nb.metadata.rise == {"theme": "white"}  # RISE's fonts from RISE itself, not Google Fonts
    once = json.dumps(nb, sort_keys=True)
    assert slides.apply(nb, URL) == 0
    assert json.dumps(nb, sort_keys=True) == once
    assert sum(slides.is_colab_cell(c) for c in nb.cells) == 1
    # A new repository URL updates the cell in place, nothing is inserted twice.
    assert slides.apply(nb, "https://example.org/other") == 1
    assert sum(slides.is_colab_cell(c) for c in nb.cells) == 1 and "example.org/other" in nb.cells[1].source


def test_colab_cell_does_nothing_where_the_package_is_installed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(slides.colab_source(URL), "colab-cell", "exec"), namespace)  # swin_tutor is importable here
    assert capsys.readouterr() == ("", "")
    assert Path.cwd() == tmp_path and list(tmp_path.iterdir()) == []


def test_colab_cell_clones_installs_and_enters_notebooks_without_the_package(tmp_path, monkeypatch):
    """Where swin_tutor is missing (Colab): git clone, pip install ./swin-tutor, cd swin-tutor/notebooks;
    after a runtime restart (package installed, clone present) only the cd. Commands recorded, not run."""
    import importlib.util
    import subprocess

    calls = []

    def fake_run(cmd, check):
        calls.append(cmd[:2] if cmd[0] == "git" else cmd[1:5])
        if cmd[0] == "git":
            (tmp_path / cmd[-1] / "notebooks").mkdir(parents=True)
        return subprocess.CompletedProcess(cmd, 0)

    real_find_spec = importlib.util.find_spec
    installed = {"swin_tutor": False}

    def find_spec(name, *args):
        return None if name == "swin_tutor" and not installed["swin_tutor"] else real_find_spec(name, *args)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    source = slides.colab_source(URL)
    exec(compile(source, "colab-cell", "exec"), {})
    assert calls == [["git", "clone"], ["-m", "pip", "install", "--quiet"]] and URL in source
    assert Path.cwd() == tmp_path / "swin-tutor" / "notebooks"
    calls.clear()
    installed["swin_tutor"] = True
    monkeypatch.chdir(tmp_path)  # a restarted runtime starts in the folder above the clone again
    exec(compile(source, "colab-cell", "exec"), {})
    assert calls == [] and Path.cwd() == tmp_path / "swin-tutor" / "notebooks"


def test_colab_cell_is_ruff_formatted(tmp_path):
    import subprocess

    path = tmp_path / "cell.py"
    path.write_text(slides.colab_source(URL) + "\n")
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run([str(ruff), "format", "--diff", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr  # else make notebooks reformats it every time


def test_an_old_colab_cell_is_shortened_and_hidden():
    nb, _ = _synthetic()
    old = nbformat.v4.new_code_cell(slides.COLAB_MARKER + ": the long cell of before\nimport os\n" + "x = 1\n" * 20)
    old.metadata["tags"] = ["remove-cell"]
    old.execution_count = 2
    nb.cells.insert(1, old)
    assert slides.apply(nb, URL) > 0
    colab = nb.cells[1]
    assert colab.source == slides.colab_source(URL) and colab.execution_count == 2 and colab.outputs == []
    assert colab.metadata.tags == ["remove-cell"] and colab.metadata.jupyter.source_hidden is True
    assert slides.apply(nb, URL) == 0


def test_nbval_markers_become_tags():
    skip = _code("# NBVAL_SKIP\nwidgets.interactive(show, digit=widgets.IntSlider(0, 0, 9))", [TEXT])
    ignore = _code("x = 1\n  # NBVAL_IGNORE_OUTPUT  \nprint(x)", [TEXT])
    ignore.metadata["tags"] = ["keep-me"]
    tagged = _code("print(2)")
    tagged.metadata["tags"] = ["nbval-skip"]
    mention = _code('print("# NBVAL_SKIP is a comment marker")\n# see NBVAL_SKIP in nbval\'s docs')
    plain = nbformat.v4.new_markdown_cell("# NBVAL_SKIP")  # a heading in markdown: not a marker
    nb, _ = _synthetic()
    nb.cells[2:2] = [skip, ignore, tagged, mention, plain]
    outputs = [copy.deepcopy(c.get("outputs")) for c in nb.cells]
    slides.apply(nb, URL)
    assert skip.source == "widgets.interactive(show, digit=widgets.IntSlider(0, 0, 9))"
    assert skip.metadata.tags == ["nbval-skip"]
    assert ignore.source == "x = 1\nprint(x)" and ignore.metadata.tags == ["keep-me", "nbval-ignore-output"]
    assert tagged.metadata.tags == ["nbval-skip"] and tagged.source == "print(2)"
    assert "NBVAL_SKIP" in mention.source and "tags" not in mention.metadata
    assert plain.source == "# NBVAL_SKIP"
    assert [c.get("outputs") for c in nb.cells if not slides.is_colab_cell(c)] == outputs
    assert slides.apply(nb, URL) == 0


def test_every_notebook_transformed_on_a_copy(tmp_path):
    """tools/slides.py over copies of the series: no stored output changes, no nbval comment marker is left,
    a second run changes nothing (what `make slides` will do to notebooks/)."""
    for path in NOTEBOOKS:
        copy_path = tmp_path / path.name
        copy_path.write_bytes(path.read_bytes())
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "slides.py"), *sorted(str(p) for p in tmp_path.glob("*.ipynb"))],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    for path in NOTEBOOKS:
        before, after = nbformat.read(path, as_version=4), nbformat.read(tmp_path / path.name, as_version=4)
        assert [c.get("outputs") for c in after.cells] == [c.get("outputs") for c in before.cells], path.name
        assert [c.get("execution_count") for c in after.cells] == [c.get("execution_count") for c in before.cells]
        assert not [c for c in after.cells if slides._MARKER_LINE.search(c.source) and c.cell_type == "code"]
        colab = after.cells[1]
        assert slides.is_colab_cell(colab) and colab.metadata.jupyter.source_hidden is True
        assert "remove-cell" in colab.metadata.tags
        assert after.metadata.rise.theme == "white", path.name
        assert slides.apply(after, slides.repository_url()) == 0, path.name


def test_bad_input_is_named():
    nb = nbformat.v4.new_notebook()
    nb.cells = [_code("print(1)")]
    with pytest.raises(ValueError, match="title"):
        slides.apply(nb, URL)
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), _code(slides.colab_source(URL)), _code(slides.colab_source(URL))]
    with pytest.raises(ValueError, match="2 Colab set-up cells"):
        slides.apply(nb, URL)


def test_repository_url_comes_from_the_site_config(tmp_path):
    assert slides.repository_url().startswith("https://github.com/")
    bad = tmp_path / "_config.yml"
    bad.write_text("repository:\n  url: not-a-url\n")
    with pytest.raises(ValueError, match="repository.url"):
        slides.repository_url(bad)


def test_lock_pins_jupyterlab_rise():
    lock = (ROOT / "requirements.lock").read_text()
    assert re.search(r"^jupyterlab[-_]rise==\d", lock, re.M), "requirements.lock must pin jupyterlab-rise (RISE)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_is_a_slideshow(path: Path):
    """Every cell has a slide type, the rules' own, the title is the first slide, the Colab cell follows it.
    (A notebook fails here until `make slides` has been run on it, and it has been re-executed.)"""
    nb = nbformat.read(path, as_version=4)
    missing = [i for i, c in enumerate(nb.cells) if c.metadata.get("slideshow", {}).get("slide_type") is None]
    assert not missing, f"{path.name}: cells {missing} have no slide type: run tools/slides.py {path.name}"
    types = [c.metadata.slideshow.slide_type for c in nb.cells]
    assert set(types) <= set(slides.SLIDE_TYPES), set(types)
    shown = [(c, t) for c, t in zip(nb.cells, types, strict=True) if t != "skip"]
    assert shown[0][1] == "slide" and shown[0][0].source.startswith("# "), "the first slide must be the title"
    assert slides.is_colab_cell(nb.cells[1]), f"{path.name}: no Colab set-up cell after the title"
    stale = [i for i, c in enumerate(nb.cells) if c.metadata.slideshow.slide_type != slides.slide_type(c)]
    assert not stale, f"{path.name}: cells {stale} do not follow the rules: re-run tools/slides.py"


def _student_tool():
    spec = importlib.util.spec_from_file_location("student_copies", ROOT / "tools" / "student_copies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_student_copies_drop_the_answers_and_find_the_images(tmp_path):
    """make student-copies: copies in notebooks/student/ (inside JupyterLab's root) without the <details>
    answers, reading the repository's images/ from there; every other cell and all outputs as they were."""
    tool = _student_tool()
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (tmp_path / "images").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 99 · Title\n\n![photo](../images/chelsea.png)"),
        _code('image = read_image("../images/chelsea.png")', [TEXT]),
        nbformat.v4.new_markdown_cell("1. Why?\n\n<details><summary>Answer</summary>\n\nBecause.\n</details>\n"),
        nbformat.v4.new_markdown_cell("<details><summary>Answer</summary>\n\nOnly an answer.\n</details>"),
    ]
    nbformat.write(nb, notebooks / "99_x.ipynb")
    [copy_path] = tool.make_copies(notebooks / "student", [notebooks / "99_x.ipynb"])
    copied = nbformat.read(copy_path, as_version=4)
    assert copy_path == notebooks / "student" / "99_x.ipynb"
    assert len(copied.cells) == 3 and "<details" not in "".join(c.source for c in copied.cells)
    assert copied.cells[0].source.endswith("(../../images/chelsea.png)")
    assert copied.cells[1].source == 'image = read_image("../../images/chelsea.png")'
    assert copied.cells[1].outputs == nb.cells[1].outputs
    assert (copy_path.parent / "../../images").resolve() == (tmp_path / "images").resolve()
    with pytest.raises(ValueError, match="existing .ipynb"):
        tool.make_copies(notebooks / "student", [notebooks / "missing.ipynb"])


def test_student_copies_of_the_series_and_the_git_ignore(tmp_path):
    tool = _student_tool()
    out = tmp_path / "notebooks" / "student"
    written = tool.make_copies(out, NOTEBOOKS)
    assert len(written) == len(NOTEBOOKS)
    for path in written:
        text = "".join(c.source for c in nbformat.read(path, as_version=4).cells)
        assert "<details" not in text.lower(), path.name
    assert "notebooks/student/" in (ROOT / ".gitignore").read_text().splitlines()
