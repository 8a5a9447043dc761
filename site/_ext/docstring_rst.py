"""Let the package's plain-text docstrings pass reStructuredText with warnings as errors.

The docstrings are written for `help()`: tensor layouts such as ``(B_, N, C)`` and gradients such as
``|d out / d in|`` are reST references and substitutions there. This escapes both before autodoc
parses a docstring, and closes a bullet list that runs straight into a paragraph.
"""

from __future__ import annotations

import re

_TRAILING_UNDERSCORE = re.compile(r"(?<![`\\])\b([A-Za-z][A-Za-z0-9]*)_(?=[\s,.;:)\]]|$)")


def _outside_literals(line: str, fix) -> str:
    parts = re.split(r"(``[^`]*``)", line)  # leave ``literal`` text alone
    return "".join(p if p.startswith("``") else fix(p) for p in parts)


def _escape(line: str) -> str:
    line = _TRAILING_UNDERSCORE.sub(r"\1\\_", line)
    return re.sub(r"(?<!\\)\|", r"\\|", line)


def fix_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    out: list[str] = []
    in_list = False
    for line in lines:
        stripped = line.lstrip()
        is_item = stripped.startswith(("- ", "* "))
        indent = len(line) - len(stripped)
        if in_list and stripped and not is_item and indent == 0:
            out.append("")  # a paragraph right after a bullet list: reST wants a blank line between
            in_list = False
        if is_item:
            in_list = True
        elif not stripped:
            in_list = False
        out.append(_outside_literals(line, _escape))
    lines[:] = out


def setup(app):
    app.connect("autodoc-process-docstring", fix_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
