"""The built site (build/site/, `make site`) in headless Chromium, served from 127.0.0.1 only (`make site-e2e`).

Every page is opened once; checked: it loads with no console error and no page error, every request
goes to the local server (no CDN, no fonts or analytics from elsewhere) and none fails, every <img>
decoded (naturalWidth > 0), MathJax typeset the maths (no TeX error, no raw `\\(`, `\\[`, `$$` or
`\\begin{` left in the visible text), every link into the site answers 200 and lands on an anchor
that exists. Then: a notebook page has previous/next links and Binder/Colab launch links, a
collapsed <details> answer starts closed and opens on click, the full-text search finds a word, and
every static fallback of a live control (a `.swin-stepper`, swin_tutor.plot.live.FrameStepper) changes its
frame when its next button is clicked.
Screenshots of every page land in build/site-e2e/.

Runs only when asked for (`make site-e2e`, `pytest -m site`, or this file's path): `make test` ignores
tests/e2e and `make e2e` selects `-m e2e`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from lab_harness import ROOT, make_environment, serve_folder, start_browser, stop_browser

pytestmark = pytest.mark.site
SITE = ROOT / "build" / "site"
SHOTS = ROOT / "build" / "site-e2e"
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{")
PAGE_TIMEOUT_MS = 60_000

# Everything one page tells about itself, after MathJax (if the page has maths) has finished.
PAGE_FACTS = """() => {
  const visible = (el) => !el.closest('pre, code, script, style, .MathJax_Preview, [hidden]');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const text = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement && visible(n.parentElement)) text.push(n.textContent);
  }
  return {
    text: text.join(' '),
    images: [...document.images].map((i) => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
    links: [...document.querySelectorAll('a[href]')].map((a) => a.href),
    ids: [...document.querySelectorAll('[id]')].map((e) => e.id),
    maths: document.querySelectorAll('span.math.notranslate, div.math.notranslate').length,
    typeset: document.querySelectorAll('.MathJax, .MathJax_Display, mjx-container').length,
    tex_errors: document.querySelectorAll('.MathJax .merror, .MathJax_Display .merror').length,
  };
}"""
MATHJAX_DONE = """() => new Promise((resolve) => {
  if (!window.MathJax || !MathJax.Hub || !MathJax.isReady) return resolve(false);
  MathJax.Hub.Queue(() => resolve(true));
})"""


def _asked_for(config) -> bool:
    if re.search(r"\bsite\b", config.option.markexpr or ""):
        return True
    here = Path(__file__).resolve()
    return any(Path(a.split("::")[0]).resolve() == here for a in config.args)


@pytest.fixture(scope="module", autouse=True)
def _only_when_asked(request):
    if not _asked_for(request.config):
        pytest.skip("browser test of the built site: run `make site-e2e`")


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        pytest.fail(f"{SITE} has no index.html: build the site first (make site)")
    with serve_folder(SITE) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    tmp = Path(tempfile.mkdtemp(prefix="swin-tutor-site-e2e-"))
    b = start_browser(tmp, make_environment(tmp))
    try:
        yield b.browser
    finally:
        stop_browser(b)
        SHOTS.mkdir(parents=True, exist_ok=True)
        if (tmp / "chromium.log").exists():
            shutil.copy2(tmp / "chromium.log", SHOTS / "chromium.log")
        shutil.rmtree(tmp, ignore_errors=True)


def _report(bad: dict) -> str:
    return "\n".join(f"{page}: {item}" for page, items in bad.items() for item in items)


def _open(context, url: str):
    """A page at `url` with its console errors, page errors, requests and failures recorded."""
    page = context.new_page()
    seen = {"errors": [], "requests": [], "failed": []}
    page.on(
        "console",
        lambda m: m.type == "error" and seen["errors"].append(f"console: {m.text} ({m.location.get('url')})"),
    )
    page.on("pageerror", lambda e: seen["errors"].append(f"page error: {e}"))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("requestfailed", lambda r: seen["failed"].append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and seen["failed"].append(f"{r.url} (HTTP {r.status})"))
    page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
    return page, seen


@pytest.fixture(scope="module")
def pages(server, browser):
    """Every HTML page of the site, visited once: {relative path: facts}."""
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    results = {}
    try:
        for path in sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")):
            if path.startswith("_static/"):  # the theme's template fragments, not pages
                continue
            page, seen = _open(context, server + path)
            try:
                if page.locator(".math.notranslate").count():
                    page.wait_for_function("() => window.MathJax && MathJax.isReady", timeout=PAGE_TIMEOUT_MS)
                    assert page.evaluate(MATHJAX_DONE), f"{path}: MathJax did not start"
                page.evaluate("() => Promise.all([...document.images].map((i) => i.decode().catch(() => null)))")
                page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
                facts = page.evaluate(PAGE_FACTS)
                page.screenshot(path=str(SHOTS / (path.replace("/", "_").removesuffix(".html") + ".png")))
            finally:
                page.close()
            facts.update(seen)
            results[path] = facts
    finally:
        context.close()
    return results


def test_every_page_was_visited(pages):
    names = set(pages)
    assert "intro.html" in names and "api.html" in names and "run_locally.html" in names, sorted(names)
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [n for n in notebooks if f"notebooks/{n}.html" not in names] == []


def test_no_console_errors(pages):
    bad = {p: f["errors"] for p, f in pages.items() if f["errors"]}
    assert not bad, _report(bad)


def test_no_request_leaves_the_local_server(pages, server):
    local = (server, "data:", "blob:", "about:")
    bad = {p: [u for u in f["requests"] if not u.startswith(local)] for p, f in pages.items()}
    bad = {p: urls for p, urls in bad.items() if urls}
    assert not bad, _report(bad)
    failed = {p: f["failed"] for p, f in pages.items() if f["failed"]}
    assert not failed, _report(failed)
    assert all(f["requests"] for f in pages.values())  # the recording itself works


def test_every_image_loads(pages):
    bad = {p: [i["src"][:100] for i in f["images"] if not i["ok"]] for p, f in pages.items()}
    bad = {p: srcs for p, srcs in bad.items() if srcs}
    assert not bad, _report(bad)
    assert sum(len(f["images"]) for p, f in pages.items() if p.startswith("notebooks/")) > 50


def test_maths_is_typeset(pages):
    with_maths = {p: f for p, f in pages.items() if f["maths"]}
    assert "notebooks/04_attention_masks.html" in with_maths, "the notebooks' maths was not found"
    untypeset = {p: (f["maths"], f["typeset"]) for p, f in with_maths.items() if f["typeset"] < f["maths"]}
    assert not untypeset, f"pages whose .math elements MathJax did not typeset (maths, typeset): {untypeset}"
    errors = {p: f["tex_errors"] for p, f in with_maths.items() if f["tex_errors"]}
    assert not errors, f"TeX errors: {errors}"
    raw = {p: sorted(set(RAW_TEX.findall(f["text"]))) for p, f in pages.items() if RAW_TEX.search(f["text"])}
    assert not raw, f"raw LaTeX left in the text: {raw}"


def test_internal_links_resolve(pages, server):
    targets: dict[str, set[str]] = {}
    for facts in pages.values():
        for link in facts["links"]:
            if link.startswith(server):
                url, fragment = urldefrag(link)
                targets.setdefault(url, set()).add(fragment)
    assert len(targets) > 30, sorted(targets)
    broken = []
    for url, fragments in sorted(targets.items()):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as e:
            status = e.code
        if status != 200:
            broken.append(f"{url}: HTTP {status}")
            continue
        page = url.removeprefix(server)
        page = page + "index.html" if page == "" or page.endswith("/") else page
        if page in pages:
            ids = set(pages[page]["ids"])
            broken += [f"{url}#{f}: no such anchor" for f in sorted(fragments) if f and f not in ids]
    assert not broken, "\n".join(broken)


def test_notebook_page_navigation_and_launch_links(pages):
    links = pages["notebooks/03_cyclic_shift.html"]["links"]
    assert any(link.endswith("/notebooks/02_patch_merging.html") for link in links), "no link to the previous page"
    assert any(link.endswith("/notebooks/04_attention_masks.html") for link in links), "no link to the next page"
    binder = [link for link in links if link.startswith("https://mybinder.org/")]
    colab = [link for link in links if link.startswith("https://colab.research.google.com/")]
    assert binder and all("notebooks/03_cyclic_shift.ipynb" in link for link in binder), binder
    assert colab and all("notebooks/03_cyclic_shift.ipynb" in link for link in colab), colab


def test_answers_start_collapsed_and_open_on_click(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, seen = _open(context, server + "notebooks/03_cyclic_shift.html")
        details = page.locator("details").first
        details.scroll_into_view_if_needed()
        assert details.evaluate("d => d.open") is False
        body = details.locator(":scope > :not(summary)").first
        assert not body.is_visible(), "the answer is visible before its <details> is opened"
        page.screenshot(path=str(SHOTS / "details_closed.png"))
        details.locator("summary").click()
        page.wait_for_function("d => d.open", arg=details.element_handle())
        assert body.is_visible()
        page.screenshot(path=str(SHOTS / "details_open.png"))
        assert not seen["errors"], seen["errors"]
    finally:
        context.close()


def test_search_finds_a_word(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, seen = _open(context, server + "search.html?q=cyclic")
        page.wait_for_function(
            "() => document.querySelectorAll('#search-results li, ul.search li').length > 0", timeout=PAGE_TIMEOUT_MS
        )
        found = page.eval_on_selector_all("ul.search li a", "els => els.map((a) => a.href)")
        assert any("03_cyclic_shift.html" in href for href in found), found
        page.screenshot(path=str(SHOTS / "search.png"))
        assert not seen["errors"], seen["errors"]
    finally:
        context.close()


STEPPERS_JS = """() => [...document.querySelectorAll('.swin-stepper')].map((s) => {
  const img = s.querySelector('img.frame');
  return {id: s.id, frame: s.dataset.frame, src: img && img.currentSrc, last: +s.querySelector('.pick').max,
          ok: !!img && img.complete && img.naturalWidth > 0, caption: s.querySelector('.caption').textContent};
})"""


def test_every_static_fallback_steps_when_clicked(server, browser):
    """Every FrameStepper on the site (swin_tutor.plot.live: the static version of a live control) shows its
    first frame, and its next button shows another frame (another image and caption), then prev goes back."""
    with_steppers = {
        p.relative_to(SITE).as_posix(): p.read_text().count('class="swin-stepper"')
        for p in SITE.rglob("*.html")
        if not p.relative_to(SITE).as_posix().startswith("_") and 'class="swin-stepper"' in p.read_text()
    }
    assert "notebooks/11_what_it_learned.html" in with_steppers, f"no static fallback on the site: {with_steppers}"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        for path, count in sorted(with_steppers.items()):
            page, seen = _open(context, server + path)
            try:
                steppers = page.evaluate(STEPPERS_JS)
                assert len(steppers) == count, f"{path}: {count} steppers in the HTML, {len(steppers)} in the page"
                for k, before in enumerate(steppers):
                    assert before["frame"] == "0" and before["ok"], f"{path} {before['id']}: first frame not shown"
                    assert before["last"] >= 1, f"{path} {before['id']}: a stepper with one frame"
                    root = page.locator(".swin-stepper").nth(k)
                    root.scroll_into_view_if_needed()
                    root.locator("button.next").click()
                    after = page.evaluate(STEPPERS_JS)[k]
                    assert after["frame"] == "1", f"{path} {before['id']}: next did not move (frame {after['frame']})"
                    assert after["src"] != before["src"] and after["caption"] != before["caption"], after["caption"]
                    page.wait_for_function(
                        "(i) => { const im = document.querySelectorAll('.swin-stepper img.frame')[i];"
                        " return im.complete && im.naturalWidth > 0; }",
                        arg=k,
                    )
                    page.screenshot(path=str(SHOTS / f"stepper_{before['id']}.png"))
                    root.locator("button.prev").click()
                    assert page.evaluate(STEPPERS_JS)[k]["src"] == before["src"], f"{path} {before['id']}: prev"
                assert not seen["errors"], seen["errors"]
            finally:
                page.close()
    finally:
        context.close()
