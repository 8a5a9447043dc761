"""Live controls (ipywidgets) in the RISE slideshow: install a tiny JupyterLab extension that fixes its cause.

Usage: .venv/bin/python tools/rise_widgets.py [--prefix PREFIX]   (make setup runs it; idempotent)

The cause. jupyterlab-rise 0.43 presents a notebook in its own page (/rise/...), a small JupyterLab
application built with JupyterLab 4.3 that loads the installed extensions. The widget manager
(jupyterlab_widgets 3.0, @jupyter-widgets/jupyterlab-manager) asks that page's module-federation scope
for ``@jupyterlab/console`` (for an optional token, ``IConsoleTracker``: widgets in consoles). The RISE
page has no console, so the shared module is missing, the widget manager fails to load ("Shared module
@jupyterlab/console doesn't exist in shared scope default"), no comm can open and every control shows
as its text form, ``VBox(children=(IntSlider(...``.

The fix. A prebuilt federated extension of a few lines, ``swin-tutor-rise-widgets``, written into
``PREFIX/share/jupyter/labextensions/`` (PREFIX: the running Python's, i.e. .venv). When a page starts
its extensions it offers ``@jupyterlab/console`` to the shared scope, but only where the page has none
(the RISE page): there it is a stand-in exporting the ``IConsoleTracker`` token, which nothing provides,
so the widget manager gets ``null`` for it, as in a JupyterLab without consoles. In JupyterLab itself the
real module is already in the scope and the extension does nothing. It contributes no plugin.
Remove it with ``rm -r PREFIX/share/jupyter/labextensions/swin-tutor-rise-widgets``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NAME = "swin-tutor-rise-widgets"
VERSION = "0.1.0"
ENTRY = "static/remoteEntry.js"

# A module-federation container (the interface JupyterLab's loader calls: init(shareScope), get(module))
# written by hand: no build step, no Node. The stand-in's version is the RISE page's own core version
# (what its other @jupyterlab modules report), so the widget manager's request (^4.6) is answered with the
# same "unsatisfied version" warning as theirs, not an error.
REMOTE_ENTRY = """/* swin-tutor-rise-widgets: offers @jupyterlab/console to a page whose shared scope lacks it (the RISE
   slideshow page of jupyterlab-rise), so that the ipywidgets manager loads there. Written by
   tools/rise_widgets.py; see that file for why. */
(function () {
  var KEY = "@jupyterlab/console";
  function standIn() {
    // The optional token the widget manager asks for; nothing provides it, so it resolves to null.
    var token = { name: KEY + ":IConsoleTracker", description: "stand-in: no consoles on this page" };
    return { __esModule: true, IConsoleTracker: token };
  }
  function coreVersion(scope) {
    var notebook = scope["@jupyterlab/notebook"];
    var versions = notebook ? Object.keys(notebook) : [];
    return versions.length ? versions[0] : "4.0.0";
  }
  var container = {
    init: function (scope) {
      if (!scope || scope[KEY]) return; // JupyterLab itself: the real module is there
      scope[KEY] = {};
      scope[KEY][coreVersion(scope)] = {
        get: function () { return Promise.resolve(standIn); },
        from: "__NAME__",
        eager: false,
        loaded: 1
      };
    },
    get: function (module) {
      return Promise.resolve(function () { return { __esModule: true, default: [] }; });
    }
  };
  window._JUPYTERLAB = window._JUPYTERLAB || {};
  window._JUPYTERLAB["__NAME__"] = container;
})();
""".replace("__NAME__", NAME)


def package_json() -> dict:
    """The extension's package.json: its name, and where JupyterLab loads it from."""
    return {
        "name": NAME,
        "version": VERSION,
        "description": "Lets the ipywidgets manager load in jupyterlab-rise's slideshow page (swin-tutor).",
        "license": "MIT",
        "jupyterlab": {"_build": {"load": ENTRY, "extension": "./extension"}},
    }


def install(prefix: Path) -> Path:
    """Write the extension into ``prefix/share/jupyter/labextensions/``; returns its folder."""
    if not isinstance(prefix, Path) or not prefix.is_dir():
        raise ValueError(f"prefix must be an existing folder (a Python environment), got {prefix!r}")
    target = prefix / "share" / "jupyter" / "labextensions" / NAME
    (target / "static").mkdir(parents=True, exist_ok=True)
    (target / "package.json").write_text(json.dumps(package_json(), indent=2) + "\n")
    (target / ENTRY).write_text(REMOTE_ENTRY)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix", type=Path, default=Path(sys.prefix), help="environment (default: %(default)s)")
    args = parser.parse_args(argv)
    print(f"{install(args.prefix)}: ipywidgets in the RISE slideshow")
    return 0


if __name__ == "__main__":
    sys.exit(main())
