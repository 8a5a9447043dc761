"""Build the offline site (make site): every notebook from its stored outputs, into build/site/.

The book is assembled in build/site-src/ from site/ (Jupyter Book 1 config, toc, pages), README.md
(the landing page), notebooks/NN_*.ipynb and images/CREDITS.md, in the repository's own layout so
that the README's and the notebooks' relative links resolve. MathJax 2.7 (from the
jupyter-server-mathjax wheel in the docs lock) is copied into the site's _static/mathjax, so no page
needs a CDN.
Nothing is executed; every Sphinx warning is an error. Run with the docs packages on PYTHONPATH
(make site does that).
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
SRC = ROOT / "build" / "site-src"
OUT = ROOT / "build" / "site"
DOCTREES = ROOT / "build" / "site-doctrees"
OPTIONAL_PAGES = [ROOT / "INSTRUCTORS.md", ROOT / "CONTRIBUTING.md", ROOT / "ERRATA.md"]
# A markdown link to a notebook: [text](notebooks/NN_name.ipynb)
NOTEBOOK_LINK = re.compile(r"\[([^\]]+)\]\((notebooks/[0-9][0-9]_[\w-]+\.ipynb)\)")


def check_sources() -> None:
    """Fail early, and by name, when a notebook is missing from the toc or a module from the API page."""
    toc = (SITE / "_toc.yml").read_text()
    listed = re.findall(r"file:\s*notebooks/(\S+)", toc)
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if listed != notebooks:
        sys.exit(f"site/_toc.yml lists the notebooks {listed}, expected every notebook in order: {notebooks}")
    api = (SITE / "api.md").read_text()
    documented = set(re.findall(r"automodule:: (swin_tutor[\w.]*)", api))
    package = ROOT / "swin_tutor"
    modules = {
        "swin_tutor." + ".".join(p.relative_to(package).with_suffix("").parts)
        for p in package.glob("*/*.py")
        if p.stem not in ("__init__", "__main__") and p.parent.name != "exercises"
    }
    modules |= {"swin_tutor.exercises"}
    if modules - documented:
        sys.exit(f"site/api.md does not document {sorted(modules - documented)}")


def unlink_missing_notebooks(page: Path) -> str:
    """The text of ``page`` with each link to a notebook that does not exist (yet) replaced by its text, so
    that the README can list a notebook while it is being written (a dead link would fail the build)."""

    def keep(match: re.Match) -> str:
        return match.group(0) if (ROOT / match.group(2)).exists() else match.group(1)

    return NOTEBOOK_LINK.sub(keep, page.read_text())


def assemble() -> None:
    shutil.rmtree(SRC, ignore_errors=True)
    shutil.copytree(SITE, SRC)
    (SRC / "README.md").write_text(unlink_missing_notebooks(ROOT / "README.md"))
    (SRC / "notebooks").mkdir()
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        shutil.copy2(nb, SRC / "notebooks" / nb.name)
    (SRC / "images").mkdir()
    shutil.copy2(ROOT / "images" / "CREDITS.md", SRC / "images" / "CREDITS.md")
    # Top-level pages the README may link to once they exist: staged and appended to the toc's
    # last part (Reference), so that the README's links to them resolve.
    for page in OPTIONAL_PAGES:
        if page.exists():
            shutil.copy2(page, SRC / page.name)
            with (SRC / "_toc.yml").open("a") as toc:
                toc.write(f"      - file: {page.stem}\n")


def copy_mathjax() -> None:
    """MathJax 2.7 into _static/mathjax of the built site (mathjax_path in site/_config.yml points there).

    Copied after Sphinx ran, not through html_static_path: Jupyter Book adds every .js file under
    _static to every page's scripts.
    """
    import jupyter_server_mathjax

    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(static, OUT / "_static" / "mathjax")


def build() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    shutil.rmtree(DOCTREES, ignore_errors=True)
    # conf.py from _config.yml and _toc.yml, exactly as `jupyter-book build` would configure Sphinx;
    # then Sphinx, both in this process (one import of Sphinx and its extensions, a few seconds less).
    from jupyter_book.cli.main import main as jupyter_book
    from sphinx.cmd.build import build_main

    jupyter_book(["config", "sphinx", str(SRC)], standalone_mode=False)
    sys.path.insert(0, str(SRC / "_ext"))  # local_extensions (site/_ext), as `jupyter-book build` does
    status = build_main(["-W", "--keep-going", "-q", "-b", "html", "-d", str(DOCTREES), str(SRC), str(OUT)])
    if status:
        sys.exit(f"sphinx-build failed (status {status}): see the messages above")
    copy_mathjax()
    (OUT / ".nojekyll").touch()  # GitHub Pages: serve _static/ and _sources/ as they are
    # Browsers may ask for /favicon.ico before they read the page's icon link: serve the same icon there too
    shutil.copyfile(SITE / "_static" / "favicon.png", OUT / "favicon.ico")


def build_live() -> None:
    """The Swin live page's files (models, geometry, ONNX Runtime Web) into live/ (tools/export_live.py)."""
    sys.path.insert(0, str(ROOT / "tools"))
    from export_live import main as export_live

    export_live(OUT / "live")


def main() -> None:
    start = time.monotonic()
    check_sources()
    assemble()
    build()
    build_live()
    pages = len(list(OUT.rglob("*.html")))
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file()) / 2**20
    print(f"site: {pages} pages, {size:.1f} MiB in {OUT.relative_to(ROOT)} ({time.monotonic() - start:.0f} s)")


if __name__ == "__main__":
    main()
