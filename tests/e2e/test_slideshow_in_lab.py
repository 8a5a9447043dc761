"""A notebook presented as a RISE slideshow (jupyterlab-rise) from a real JupyterLab (`make e2e`).

Notebook 11 (its slide metadata comes from tools/slides.py) is opened in JupyterLab; the RISE command
is registered; running it ("RISE:slideshow", the toolbar's slideshow button) opens the reveal.js
slideshow in a new tab; there the first slide is the notebook's title (the skipped Colab and set-up
cells are not on it), and the right arrow key moves to the next slide, the first section.
Screenshots: build/e2e/slideshow_title.png, build/e2e/slideshow_next.png.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from lab_harness import ROOT, SCREENSHOTS, STARTUP_TIMEOUT, STATE_JS, _poll, shutdown_kernels

pytestmark = pytest.mark.e2e
NOTEBOOK = ROOT / "notebooks" / "11_what_it_learned.ipynb"
SLIDE_TIMEOUT_MS = 120_000

# The slide reveal.js shows now: its text and its indices (horizontal, vertical), and how many slides.
PRESENT_JS = """() => {
  const present = document.querySelector('.reveal .slides > section.present');
  const inner = present && present.querySelector(':scope > section.present');
  const shown = inner || present;
  return {
    text: shown ? shown.innerText : null,
    slides: document.querySelectorAll('.reveal .slides > section').length,
    index: [...document.querySelectorAll('.reveal .slides > section')].indexOf(present),
  };
}"""


def _slides() -> list[str]:
    """The first line of every markdown cell that starts a slide, headings' '#' removed, in order."""
    nb = json.loads(NOTEBOOK.read_text())
    starts = []
    for cell in nb["cells"]:
        if cell["metadata"].get("slideshow", {}).get("slide_type") == "slide" and cell["cell_type"] == "markdown":
            first = "".join(cell["source"]).strip().splitlines()[0]
            starts.append(re.sub(r"^#+\s*", "", first).replace("`", ""))
    return starts


def _present(page, not_index: int | None = None) -> dict:
    deadline = time.monotonic() + SLIDE_TIMEOUT_MS / 1000
    while True:
        state = page.evaluate(PRESENT_JS)
        if state["text"] and state["index"] != not_index:
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"no reveal.js slide (or it did not move): {state}")
        time.sleep(0.25)


def test_notebook_presents_as_a_rise_slideshow(lab_server, browser):
    titles = _slides()
    assert len(titles) >= 3, titles
    lab_path = lab_server.place(NOTEBOOK)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.browser.new_context(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    try:
        page = context.new_page()
        page.goto(f"{lab_server.url}/lab/tree/{lab_path}?reset&token={lab_server.token}", wait_until="domcontentloaded")

        def opened(s):
            return s["stage"] == "notebook" and s["ready"] and s["status"] == "idle"

        _poll(page, STATE_JS, lab_path, opened, STARTUP_TIMEOUT, "opening the notebook")
        assert page.evaluate("() => window.jupyterapp.commands.hasCommand('RISE:slideshow')"), (
            "jupyterlab-rise is not installed in this JupyterLab (RISE:slideshow is missing)"
        )
        # The slideshow opens in a new tab (window.open), as the toolbar button does.
        with context.expect_page(timeout=STARTUP_TIMEOUT * 1000) as popup:
            page.evaluate("() => { window.jupyterapp.commands.execute('RISE:slideshow'); return true; }")
        show = popup.value
        show.on("pageerror", lambda e: errors.append(str(e)[:300]))
        assert "/rise/" in show.url, show.url
        show.wait_for_selector(".reveal .slides > section.present", timeout=SLIDE_TIMEOUT_MS)
        first = _present(show)
        assert first["index"] == 0 and first["slides"] >= len(titles), first
        # (the "white" theme, whose fonts ship with RISE, sets headings in capitals: compare without case)
        first_text = first["text"].lower()
        assert titles[0].lower() in first_text, f"the first slide is not the title {titles[0]!r}: {first_text[:300]!r}"
        assert "Colab set-up" not in first["text"] and "setup_notebook" not in first["text"], first["text"][:300]
        show.screenshot(path=str(SCREENSHOTS / "slideshow_title.png"))
        show.locator(".reveal").click(position={"x": 5, "y": 5})  # keyboard focus on the slideshow
        show.keyboard.press("ArrowRight")
        second = _present(show, not_index=0)
        assert second["index"] == 1, second
        second_text = second["text"].lower()
        assert titles[1].lower() in second_text, f"the next slide is not {titles[1]!r}: {second_text[:300]!r}"
        show.wait_for_timeout(1500)  # the slide transition, for the screenshot
        show.screenshot(path=str(SCREENSHOTS / "slideshow_next.png"))
        assert not errors, errors
    finally:
        context.close()
        shutdown_kernels(lab_server, lab_path)
