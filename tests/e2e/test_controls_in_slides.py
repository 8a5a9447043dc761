"""A live control (ipywidgets) presented as a RISE slide, and moved there (`make e2e`).

The fixture notebook (fixtures/control_slides.ipynb) builds its control with
`swin_tutor.plot.live.live_control`, as the series' controls do. In JupyterLab, after Run All, the
control shows its first frame at once (no slider moved yet). JupyterLab names the RISE commands as
INSTRUCTORS.md does. "Open as Reveal Slideshow" opens the slideshow in a new tab; there the widget
manager loads (tools/rise_widgets.py's stand-in for @jupyterlab/console, installed by make setup), the
control's slide shows the slider and the figure, and dragging the slider redraws the figure through the
kernel. Nothing in either tab asks another host for anything (the notebook's RISE theme is "white", whose
fonts ship with RISE; the default theme asks Google Fonts).
Screenshots: build/e2e/control_slide_first.png, build/e2e/control_slide_moved.png.
"""

from __future__ import annotations

import time

import pytest
from lab_harness import FIXTURES, ROOT, SCREENSHOTS, STARTUP_TIMEOUT, STATE_JS, _poll, shutdown_kernels

pytestmark = pytest.mark.e2e
NOTEBOOK = FIXTURES / "control_slides.ipynb"
TIMEOUT = 120.0

RUN_ALL_JS = """() => {
  window.__e2eRunAll = 'running';
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    r => { window.__e2eRunAll = 'done:' + r; }, e => { window.__e2eRunAll = 'failed:' + e; });
  return true;
}"""

# The control in a page: its slider's readout and the source of the figure in its picture.
CONTROL_JS = """(root) => {
  const scope = root ? document.querySelector(root) : document;
  const box = scope && scope.querySelector('.widget-vbox');
  if (!box) return {slider: false, readout: null, image: null};
  const img = box.querySelector('.widget-output img');
  const readout = box.querySelector('.widget-readout');
  return {
    slider: !!box.querySelector('.widget-slider'),
    readout: readout ? (readout.value || readout.textContent).trim() : null,
    image: img && img.complete && img.naturalWidth > 0 ? img.src.slice(-80) : null,
  };
}"""

LABELS_JS = """() => {
  const c = window.jupyterapp.commands;
  const ids = ['RISE:preview', 'RISE:slideshow', 'application:toggle-presentation-mode'];
  const toolbar = [...document.querySelectorAll('.jp-NotebookPanel-toolbar [data-command="RISE:preview"]')];
  return {labels: ids.map(id => c.hasCommand(id) ? c.label(id) : null), toolbar: toolbar.length};
}"""


def _wait(page, js: str, arg, done, what: str) -> dict:
    deadline = time.monotonic() + TIMEOUT
    while True:
        state = page.evaluate(js, arg)
        if done(state):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out {what}: {state}")
        time.sleep(0.25)


def _menu_path(page, *labels: str) -> None:
    """Open the main menu along `labels` (e.g. View, Appearance) and check the last item is there."""
    page.locator(".lm-MenuBar-itemLabel", has_text=labels[0]).first.click()
    for label in labels[1:-1]:
        page.locator(".lm-Menu-itemLabel", has_text=label).first.hover()
    item = page.locator(".lm-Menu-itemLabel", has_text=labels[-1])
    item.first.wait_for(state="visible", timeout=10_000)
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")


def test_a_live_control_works_on_a_rise_slide(lab_server, browser):
    lab_path = lab_server.place(NOTEBOOK)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.browser.new_context(viewport={"width": 1280, "height": 800})
    remote, problems = [], []

    def on_request(request) -> None:
        if not request.url.startswith((lab_server.url, "data:", "blob:", "about:")):
            remote.append(request.url)

    def on_console(message) -> None:
        text = message.text
        if "Shared module" in text or "Exception opening new comm" in text or "Error displaying widget" in text:
            problems.append(text[:300])

    context.on("request", on_request)
    try:
        page = context.new_page()
        page.on("console", on_console)
        url = f"{lab_server.url}/lab/tree/{lab_path}?reset&token={lab_server.token}"
        page.goto(url, wait_until="domcontentloaded")

        def opened(s):
            return s["stage"] == "notebook" and s["ready"] and s["status"] == "idle"

        _poll(page, STATE_JS, lab_path, opened, STARTUP_TIMEOUT, "opening the notebook")
        # The names INSTRUCTORS.md uses: the toolbar button, the new tab, View > Appearance > Presentation Mode.
        labels = page.evaluate(LABELS_JS)
        assert labels["labels"] == ["Render as Reveal Slideshow", "Open as Reveal Slideshow", "Presentation Mode"]
        assert labels["toolbar"] == 1, "the notebook toolbar has no 'Render as Reveal Slideshow' button"
        instructors = (ROOT / "INSTRUCTORS.md").read_text()
        for name in labels["labels"]:
            assert name in instructors, f"INSTRUCTORS.md does not name {name!r}"
        _menu_path(page, "View", "Appearance", "Presentation Mode")

        page.evaluate(RUN_ALL_JS)

        def ran(s):
            return (s.get("runAll") or "").startswith("done") and s["status"] == "idle" and s["busy"] == 0

        _poll(page, STATE_JS, lab_path, ran, TIMEOUT, "running all cells")
        # Drawn as soon as its cell ran: a figure before any slider moved.
        first = _wait(page, CONTROL_JS, None, lambda s: s["slider"] and s["image"], "for the control's first frame")
        assert first["readout"] == "3", first

        page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0; }")
        with context.expect_page(timeout=STARTUP_TIMEOUT * 1000) as popup:
            page.evaluate("() => { window.jupyterapp.commands.execute('RISE:slideshow'); return true; }")
        show = popup.value
        show.on("console", on_console)
        assert "/rise/" in show.url, show.url
        show.wait_for_selector(".reveal .slides > section.present", timeout=TIMEOUT * 1000)
        start = show.evaluate(
            "() => [...document.querySelectorAll('.reveal .slides > section')]"
            ".findIndex(s => s.classList.contains('present'))"
        )
        assert start == 0, f"the new tab did not start at the active cell's (the title's) slide: {start}"
        show.locator(".reveal").click(position={"x": 5, "y": 5})  # keyboard focus on the slideshow
        show.keyboard.press("ArrowRight")  # the control's slide
        present = ".reveal .slides > section.present"
        on_slide = _wait(show, CONTROL_JS, present, lambda s: s["slider"] and s["image"], "for the control's slide")
        assert on_slide["readout"] == "3", on_slide
        show.wait_for_timeout(1000)  # the slide transition, for the screenshot
        show.screenshot(path=str(SCREENSHOTS / "control_slide_first.png"))

        # Drag the slider's handle to the right: the kernel redraws, the new figure replaces the old one.
        handle = show.locator(f"{present} .widget-slider .noUi-handle").first
        track = show.locator(f"{present} .widget-slider .noUi-target").first.bounding_box()
        box = handle.bounding_box()
        show.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        show.mouse.down()
        show.mouse.move(track["x"] + track["width"] * 0.85, box["y"] + box["height"] / 2, steps=8)
        show.mouse.up()
        moved = _wait(
            show,
            CONTROL_JS,
            present,
            lambda s: s["readout"] not in (None, "3") and s["image"] and s["image"] != on_slide["image"],
            "for the figure to follow the slider",
        )
        assert int(moved["readout"]) > 3, moved
        show.wait_for_timeout(500)
        show.screenshot(path=str(SCREENSHOTS / "control_slide_moved.png"))
        assert not problems, problems
        assert not remote, f"requests to other hosts: {remote}"
    finally:
        context.close()
        shutdown_kernels(lab_server, lab_path)


STEPPER_JS = """() => {
  const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .swin-stepper');
  return s ? {frame: s.dataset.frame || null} : null;
}"""


def test_steppers_work_before_any_cell_runs_once_trusted(lab_tree, lab_server, browser):
    """make lab runs `jupyter trust` over the notebooks: JupyterLab then runs the stepper's script in the
    stored output, and its buttons move the frames without a kernel having run anything. An untrusted copy
    (what a fresh clone had before) shows the stepper's first frame, but its buttons do nothing."""
    import subprocess
    import sys
    from pathlib import Path

    _, env = lab_tree
    notebook = ROOT / "notebooks" / "05_relative_position_bias.ipynb"
    trusted = lab_server.place(notebook, folder="trusted")
    untrusted = lab_server.place(notebook, folder="untrusted")
    # Signatures are of the content, not the path: the untrusted copy must differ by a byte to stay untrusted.
    copy = lab_server.work / untrusted
    copy.write_text(copy.read_text().replace('"metadata": {', '"metadata": {"untrusted-copy": true, ', 1))
    jupyter = Path(sys.executable).parent / "jupyter"
    done = subprocess.run(
        [str(jupyter), "trust", str(lab_server.work / trusted)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    context = browser.browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        frames = {}
        for path in (trusted, untrusted):
            page.goto(f"{lab_server.url}/lab/tree/{path}?reset&token={lab_server.token}", wait_until="domcontentloaded")
            _poll(page, STATE_JS, path, lambda s: s["stage"] == "notebook" and s["ready"], STARTUP_TIMEOUT, "opening")
            stepper = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .swin-stepper").first
            stepper.scroll_into_view_if_needed()
            stepper.locator("button.next").click()
            page.wait_for_timeout(500)
            frames[path] = page.evaluate(STEPPER_JS)
            if path == trusted:
                page.screenshot(path=str(SCREENSHOTS / "stepper_trusted.png"))
        assert frames[trusted] == {"frame": "1"}, frames
        assert frames[untrusted] == {"frame": None}, frames  # no script ran: why make lab trusts them
    finally:
        context.close()
        shutdown_kernels(lab_server, trusted)
        shutdown_kernels(lab_server, untrusted)
