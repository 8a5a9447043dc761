"""Give every cell of a notebook its RISE slide type, put the Colab set-up cell after the title, and move
test markers out of the learner's code into cell tags.

Usage: python tools/slides.py notebooks/09_train_tiny_swin.ipynb [...]   (then re-execute the notebook:
the Colab cell shifts the execution counts; `tools/execute_notebooks.py`).

Safe to re-run: the slide types follow from the cells' content alone, and the Colab cell is inserted
once and then only kept up to date: short, collapsed in JupyterLab (``metadata.jupyter.source_hidden``)
and hidden on the site (tag ``remove-cell``). nbval's comment markers (a line ``# NBVAL_SKIP``,
``# NBVAL_IGNORE_OUTPUT``, ``# NBVAL_CHECK_OUTPUT``, ``# NBVAL_RAISES_EXCEPTION``) become the tags nbval
reads instead (``nbval-skip``, ...), the comment line removed. The notebook's RISE theme is set to
``white`` (``metadata.rise.theme``): RISE's default theme, ``simple``, loads its fonts from Google Fonts,
``white``'s ship with RISE. Outputs are never touched; no other source changes; of other metadata only
``slideshow`` (and those tags) is set.

The rules, first match wins (one idea per slide; jupyterlab-rise reads ``metadata.slideshow.slide_type``):

- the Colab set-up cell; an empty cell: skip
- markdown opening with a ``#`` or ``##`` heading: slide
- markdown opening with a ``###`` (or deeper) heading: subslide
- markdown that is only a ``<details>`` block (an answer): notes
- markdown opening with a numbered bold item (``**2. ...**``, e.g. one pitfall): subslide
- markdown of more than 12 lines without a heading: subslide
- other markdown: ``-`` (continues the slide)
- code with ``setup_notebook(``, or nothing but imports: skip
- code that calls ``.solution(``: skip
- code whose stored output is a figure, a widget or a frame stepper, or that calls ``plt.show()`` (outside a
  function it defines): subslide
- an exercise starter cell (``exercise(...).check(``): subslide
- code of more than 15 lines: fragment
- other code: ``-`` (continues the slide)

So the first slide is the title; figures and live controls sit on their own sub-slide (down arrow in
RISE's grid) with their code; long code appears on a click; set-up cells are hidden (run the notebook
once before presenting: hidden cells still run with "Run All").
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "site" / "_config.yml"
COLAB_MARKER = "# Colab set-up"
LONG_CODE = 15  # lines
LONG_MARKDOWN = 12  # lines
FIGURE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "application/vnd.jupyter.widget-view+json")
SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")
RISE_THEME = "white"  # its fonts ship with jupyterlab-rise; the default ("simple") asks Google Fonts
# nbval's comment markers and the cell tags that mean the same (nbval reads both).
NBVAL_MARKERS = {
    "NBVAL_SKIP": "nbval-skip",
    "NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
    "NBVAL_CHECK_OUTPUT": "nbval-check-output",
    "NBVAL_RAISES_EXCEPTION": "nbval-raises-exception",
}
_MARKER_LINE = re.compile(r"^[ \t]*#\s*(" + "|".join(NBVAL_MARKERS) + r")[ \t]*(?:\n|$)", re.M)

COLAB_TEMPLATE = """{marker}: where swin_tutor is missing, clone the repository, install it, use its notebooks/.
import importlib.util, os, subprocess, sys  # noqa: E401, I001

REPOSITORY = "{url}"
if importlib.util.find_spec("swin_tutor") is None or os.path.isdir("swin-tutor/notebooks"):
    if not os.path.isdir("swin-tutor"):
        subprocess.run(["git", "clone", "--depth", "1", REPOSITORY, "swin-tutor"], check=True)
    if importlib.util.find_spec("swin_tutor") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "./swin-tutor"], check=True)
        importlib.invalidate_caches()
    os.chdir("swin-tutor/notebooks")"""


def repository_url(config: Path = CONFIG) -> str:
    """The repository the site's launch buttons point to (``repository.url`` in site/_config.yml)."""
    url = (yaml.safe_load(config.read_text()).get("repository") or {}).get("url")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise ValueError(f"{config}: repository.url must be an https URL, got {url!r}")
    return url


def colab_source(url: str) -> str:
    """The source of the Colab set-up cell for the repository at ``url``."""
    return COLAB_TEMPLATE.format(marker=COLAB_MARKER, url=url)


def is_colab_cell(cell: dict) -> bool:
    return cell["cell_type"] == "code" and cell["source"].startswith(COLAB_MARKER)


def markers_to_tags(cell: dict) -> bool:
    """Move nbval comment markers of a code cell into its tags, in place. Returns whether it changed."""
    if cell["cell_type"] != "code":
        return False
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    found = [m.group(1) for m in _MARKER_LINE.finditer(source)]
    if not found:
        return False
    cell["source"] = _MARKER_LINE.sub("", source).strip("\n")
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    tags.extend(NBVAL_MARKERS[m] for m in found if NBVAL_MARKERS[m] not in tags)
    return True


def _hide_colab_cell(cell: dict) -> bool:
    """Tag the Colab cell ``remove-cell`` (the site) and collapse its source (JupyterLab). Returns whether
    it changed."""
    metadata = cell.setdefault("metadata", nbformat.NotebookNode())
    tags = metadata.setdefault("tags", [])
    changed = "remove-cell" not in tags
    if changed:
        tags.append("remove-cell")
    if metadata.get("jupyter", {}).get("source_hidden") is not True:
        metadata.setdefault("jupyter", nbformat.NotebookNode())["source_hidden"] = True
        changed = True
    return changed


def _only_imports(source: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics and the like: not an imports-only cell
        return False
    return bool(tree.body) and all(isinstance(node, ast.Import | ast.ImportFrom) for node in tree.body)


def _shows_a_figure(cell: dict) -> bool:
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if any(mime in data for mime in FIGURE_MIMES):
            return True
        html = data.get("text/html", "")
        if "swin-stepper" in ("".join(html) if isinstance(html, list) else html):
            return True
    return False


def slide_type(cell: dict) -> str:
    """The slide type the rules (module docstring) give ``cell`` (a notebook cell as a dict)."""
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    text = source.strip()
    if not text or is_colab_cell({**cell, "source": source}):
        return "skip"
    lines = len(text.splitlines())
    if cell["cell_type"] == "markdown":
        heading = re.match(r"(#+)\s", text)
        if heading:
            return "slide" if len(heading.group(1)) <= 2 else "subslide"
        if re.fullmatch(r"<details\b.*</details>", text, re.S | re.I):
            return "notes"
        if re.match(r"\*\*\d+\.", text):  # one item of a numbered list (e.g. the pitfalls): one sub-slide each
            return "subslide"
        return "subslide" if lines > LONG_MARKDOWN else "-"
    if cell["cell_type"] != "code":
        return "skip"  # raw cells are not presented
    if "setup_notebook(" in source or _only_imports(source) or ".solution(" in source:
        return "skip"
    draws = "plt.show()" in source and not re.search(r"^def ", source, re.M)  # not a cell defining a plot function
    if draws or _shows_a_figure(cell) or re.search(r"\bexercise\(.*\)\.check\(", source):
        return "subslide"
    return "fragment" if lines > LONG_CODE else "-"


def apply(nb: nbformat.NotebookNode, url: str) -> int:
    """Insert or update the Colab cell (after the title) and set every cell's slide type, in place.
    Returns how many cells changed."""
    changed = sum(markers_to_tags(cell) for cell in nb.cells)
    rise = nb.metadata.setdefault("rise", nbformat.NotebookNode())
    if rise.get("theme") != RISE_THEME:
        rise["theme"] = RISE_THEME
        changed += 1
    source = colab_source(url)
    colab = [cell for cell in nb.cells if is_colab_cell(cell)]
    if len(colab) > 1:
        raise ValueError(f"the notebook has {len(colab)} Colab set-up cells, expected at most one")
    if colab:
        updated = colab[0].source != source
        if updated:
            colab[0].source = source
        changed += bool(_hide_colab_cell(colab[0]) or updated)
    else:
        if not nb.cells or nb.cells[0].cell_type != "markdown" or not nb.cells[0].source.startswith("# "):
            raise ValueError("the notebook must open with its title (a markdown cell starting with '# ')")
        cell = nbformat.v4.new_code_cell(source)
        _hide_colab_cell(cell)  # not shown on the site (myst-nb), collapsed in JupyterLab
        nb.cells.insert(1, cell)
        changed += 1
    for cell in nb.cells:
        wanted = slide_type(cell)
        if cell.metadata.get("slideshow", {}).get("slide_type") != wanted:
            cell.metadata.setdefault("slideshow", {})["slide_type"] = wanted
            changed += 1
    return changed


def main(paths: list[str]) -> None:
    if not paths:
        sys.exit(__doc__.split("\n\n")[1])
    url = repository_url()
    for name in paths:
        path = Path(name)
        nb = nbformat.read(path, as_version=4)
        changed = apply(nb, url)
        if changed:
            nbformat.write(nb, path)
        print(f"{path}: {changed} cell(s) changed, {len(nb.cells)} cells")


if __name__ == "__main__":
    main(sys.argv[1:])
