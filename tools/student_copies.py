"""Copies of the notebooks for students, without the concept answers (`make student-copies`).

Usage: .venv/bin/python tools/student_copies.py OUT_FOLDER notebooks/01_patchify.ipynb [...]

Each copy is the notebook with every ``<details>...</details>`` block (a concept answer) removed from its
markdown cells, and its relative paths to the repository's images adjusted to the copy's folder (a copy
in notebooks/student/ reads ``../../images/...`` where the original reads ``../images/...``). Stored
outputs stay: a student who cannot run a cell still sees its picture. The exercise solutions live in the
package (``.solution()``), not in the notebooks, so a copy cannot hide them: for graded work, set
questions of your own. Existing copies are overwritten.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DETAILS = re.compile(r"<details\b.*?</details>\n?", re.S | re.I)


def strip_answers(nb: nbformat.NotebookNode) -> int:
    """Remove every ``<details>`` block from the markdown cells, in place; drop cells left empty.
    Returns how many blocks were removed."""
    removed, kept = 0, []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source, n = DETAILS.subn("", cell.source)
            removed += n
            if n and not cell.source.strip():
                continue
        kept.append(cell)
    nb.cells = kept
    return removed


def move_image_paths(nb: nbformat.NotebookNode, source_dir: Path, target_dir: Path) -> None:
    """Rewrite ``../images/`` (relative to ``source_dir``) to the same folder seen from ``target_dir``."""
    images = (source_dir / ".." / "images").resolve()
    relative = Path(os.path.relpath(images, target_dir.resolve())).as_posix() + "/"
    if relative == "../images/":
        return
    for cell in nb.cells:
        cell.source = re.sub(r"(?<![\w./])\.\./images/", relative, cell.source)


def make_copies(out: Path, paths: list[Path]) -> list[Path]:
    """Write a student copy of each notebook in ``paths`` into ``out`` (created when missing)."""
    if not paths:
        raise ValueError("paths must name at least one notebook, got none")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            raise ValueError(f"paths must be existing .ipynb files, got {str(path)!r}")
        nb = nbformat.read(path, as_version=4)
        removed = strip_answers(nb)
        move_image_paths(nb, path.parent, out)
        target = out / path.name
        nbformat.write(nb, target)
        written.append(target)
        print(f"{target}: {removed} answer block(s) removed")
    return written


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(__doc__.split("\n\n")[1])
    make_copies(Path(argv[0]), [Path(p) for p in argv[1:]])


if __name__ == "__main__":
    main(sys.argv[1:])
