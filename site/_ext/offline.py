"""Keep the site offline: no Thebe scripts (launching a live kernel is off), and fail the build when
a page would load a script, a stylesheet or a font from another host.

sphinx-thebe is always loaded by Jupyter Book 1; with `launch_buttons.thebe: false` its scripts do
nothing but name unpkg.com (and the inline config is added twice, a JavaScript error).
"""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.errors import ExtensionError

REMOTE = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"(?:https?:)?//[^\"]+\"[^>]*>", re.I)
SAFE_LINK = re.compile(r"\brel=\"(?:canonical|license|author)\"", re.I)


def _is_thebe(script) -> bool:
    name = getattr(script, "filename", None) or str(script)
    body = getattr(script, "attributes", {}).get("body", "") or ""
    return "thebe" in name or "THEBE_JS_URL" in body


def drop_thebe(app, pagename, templatename, context, doctree) -> None:
    if context.get("script_files"):
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]


def check_no_remote_assets(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    found = []
    for page in sorted(Path(app.outdir).rglob("*.html")):
        for tag in REMOTE.findall(page.read_text(errors="replace")):
            if not (tag.lower().startswith("<link") and SAFE_LINK.search(tag)):
                found.append(f"{page.relative_to(app.outdir)}: {tag[:160]}")
    if found:
        raise ExtensionError("pages load assets from other hosts:\n" + "\n".join(found[:20]))


def setup(app):
    app.connect("html-page-context", drop_thebe, priority=900)
    app.connect("build-finished", check_no_remote_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
