"""Let tensor layouts such as (B_, N, C) in the package's docstrings pass reStructuredText with -W.

In reST a word ending in ``_`` is a link reference, so ``(B_, N, C)`` is an error. The docstrings now
spell their other reST-sensitive text as literals (``|d out / d in|``) and separate lists from
paragraphs at the source; only the windows' batch name ``B_`` (swin_tutor.attention and
swin_tutor.attention_ops) is still escaped here, outside ``literal`` text. Once those docstrings write
it as a literal too, delete this extension and its line in site/_config.yml.
"""

from __future__ import annotations

import re

_TRAILING_UNDERSCORE = re.compile(r"(?<![`\\])\b([A-Za-z][A-Za-z0-9]*)_(?=[\s,.;:)\]]|$)")


def _escape(line: str) -> str:
    parts = re.split(r"(``[^`]*``)", line)  # leave ``literal`` text alone
    return "".join(p if p.startswith("``") else _TRAILING_UNDERSCORE.sub(r"\1\\_", p) for p in parts)


def fix_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    lines[:] = [_escape(line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", fix_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
