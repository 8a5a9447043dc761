"""The site's sources list every notebook and module (checked here too, so `make test` fails before CI's
`make site` does when a new module is not on the API page)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("build_site", ROOT / "tools" / "build_site.py")


def test_every_module_and_notebook_is_on_the_site():
    build_site = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(build_site)  # its top level needs only the standard library
    build_site.check_sources()  # raises SystemExit, naming what is missing
