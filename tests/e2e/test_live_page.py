"""The "Swin live" page (build/site/live.html, `make site`) in headless Chromium, served from 127.0.0.1 only.

Checked: both models load with no console error and no request to another host; strokes drawn with
the mouse give a prediction; for the page's own 32x32 input, its probabilities equal PyTorch's
(swin_tutor.train.digits_model, <= 1e-3) and the attention row of a clicked token equals
swin_tutor's (the block's attention module, through swin_tutor.checkpoints.onnx.AttentionRecorder);
a test digit's input equals swin_tutor.train.data's preprocessing; the page fits a phone's width.
Page weight and load time are printed (pytest -s) and saved with screenshots in build/site-e2e/.

Runs only when asked for (`make site-e2e`, `pytest -m site`, or this file's path).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from lab_harness import ROOT, make_environment, serve_folder, start_browser, stop_browser

pytestmark = pytest.mark.site
SITE = ROOT / "build" / "site"
SHOTS = ROOT / "build" / "site-e2e"
TIMEOUT_MS = 60_000
WEIGHT = """() => performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))
  .reduce((total, e) => total + (e.encodedBodySize || 0), 0)"""


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
    if not (SITE / "live" / "live.json").exists():
        pytest.fail(f"{SITE / 'live'} has no live.json: build the site first (make site)")
    with serve_folder(SITE, "live.html") as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    tmp = Path(tempfile.mkdtemp(prefix="swin-tutor-live-e2e-"))
    b = start_browser(tmp, make_environment(tmp))
    try:
        yield b.browser
    finally:
        stop_browser(b)
        shutil.rmtree(tmp, ignore_errors=True)


def _open(browser, url: str, viewport: dict):
    """The live page, once its models ran: (page, what it logged and requested, seconds to ready)."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    seen = {"errors": [], "requests": [], "failed": []}
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(f"console: {m.text}"))
    page.on("pageerror", lambda e: seen["errors"].append(f"page error: {e}"))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("requestfailed", lambda r: seen["failed"].append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and seen["failed"].append(f"{r.url} (HTTP {r.status})"))
    start = time.monotonic()
    page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => window.swinLive && (window.swinLive.ready || window.swinLive.error)", timeout=TIMEOUT_MS
    )
    seconds = time.monotonic() - start
    assert page.evaluate("() => window.swinLive.error") is None
    return page, seen, seconds


@pytest.fixture(scope="module")
def live(server, browser):
    page, seen, seconds = _open(browser, server + "live.html", {"width": 1280, "height": 1000})
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    weight = page.evaluate(WEIGHT) / 2**20
    facts = {"load_seconds": round(seconds, 2), "page_weight_mib": round(weight, 2)}
    facts["model_load_seconds"] = round(page.evaluate("() => window.swinLive.loadSeconds"), 2)
    facts["seconds_after_start"] = page.evaluate("() => window.swinLive.timings")  # live.json, v1 and v2 sessions
    print(f"\nlive page: {weight:.1f} MiB, ready {seconds:.1f} s after the request ({facts})")
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "live_page.json").write_text(json.dumps(facts, indent=1))
    yield page, seen, server
    page.context.close()


def _models():
    import torch

    from swin_tutor.train.digits_model import load_digits_model

    torch.set_num_threads(1)
    return {f"v{v}": load_digits_model(v) for v in (1, 2)}


def _pytorch_probs(models, values: list[float]) -> dict:
    import torch

    x = torch.tensor(values, dtype=torch.float32).view(1, 1, 32, 32)
    with torch.no_grad():
        return {v: m(x).softmax(-1)[0] for v, m in models.items()}


def _draw_seven(page) -> None:
    page.click("#sl-clear")
    page.locator("#sl-draw").scroll_into_view_if_needed()
    box = page.locator("#sl-draw").bounding_box()
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    for stroke in ([(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)],):
        page.mouse.move(*at(*stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*at(*point), steps=8)
        page.mouse.up()
    page.wait_for_function("() => !!window.swinLive.probs.v2", timeout=TIMEOUT_MS)
    page.wait_for_timeout(300)  # the last run after the last move


def test_mouse_strokes_give_a_prediction_equal_to_pytorch(live):
    page, _, _ = live
    _draw_seven(page)
    runs = page.evaluate("() => window.swinLive.runs")
    state = page.evaluate("() => ({input: window.swinLive.input, probs: window.swinLive.probs})")
    assert runs > 1 and len(state["input"]) == 1024
    want = _pytorch_probs(_models(), state["input"])
    for v in ("v1", "v2"):
        got = state["probs"][v]
        assert abs(sum(got) - 1) < 1e-4
        diff = max(abs(g - float(w)) for g, w in zip(got, want[v], strict=True))
        print(f"{v}: page vs PyTorch probabilities, max |diff| = {diff:.1e}; predicts {got.index(max(got))}")
        assert diff <= 1e-3
    page.screenshot(path=str(SHOTS / "live_drawn.png"), full_page=True)


def test_test_digit_input_matches_the_training_preprocessing(live):
    import torch
    import torch.nn.functional as F

    from swin_tutor.train.data import normalize

    page, _, _ = live
    digits = json.loads((SITE / "live" / "live.json").read_text())["digits"]
    page.click("#sl-digits button[data-i='4']")
    page.wait_for_function("() => window.swinLive.input && window.swinLive.probs.v1", timeout=TIMEOUT_MS)
    page.wait_for_timeout(300)
    x8 = torch.tensor(digits[4]["pixels"], dtype=torch.float32).view(1, 1, 8, 8) / 16.0
    want = normalize(F.interpolate(x8, size=(32, 32), mode="bilinear", align_corners=False)).flatten()
    got = torch.tensor(page.evaluate("() => window.swinLive.input"))
    assert float((got - want).abs().max()) < 1e-5
    probs = page.evaluate("() => window.swinLive.probs")
    assert all(p.index(max(p)) == digits[4]["label"] for p in probs.values())


@pytest.mark.parametrize("block, head, token", [(1, 1, (0, 0)), (1, 0, (5, 6)), (3, 2, (1, 7)), (7, 15, (1, 0))])
def test_clicked_token_attention_equals_swin_tutor(live, block, head, token):
    import torch

    from swin_tutor.checkpoints.onnx import AttentionRecorder, all_blocks

    page, _, _ = live
    _draw_seven(page)
    page.evaluate(f"() => window.swinLive.select({block}, {head})")
    # click the token on the v2 picture: the page picks it from the mouse position
    canvas = page.locator("#sl-attn-v2")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    facts = json.loads((SITE / "live" / "live.json").read_text())["models"]
    h, w = facts["v2"]["blocks"][block]["tokens"]
    canvas.click(position={"x": (token[1] + 0.5) * box["width"] / w, "y": (token[0] + 0.5) * box["height"] / h})
    assert page.locator("#sl-token").inner_text().startswith(f"token (row {token[0]}, col {token[1]})")
    values = page.evaluate("() => window.swinLive.input")
    x = torch.tensor(values, dtype=torch.float32).view(1, 1, 32, 32)
    for v, model in _models().items():
        stage, index = all_blocks(model)[block]
        row = page.evaluate(f"() => window.swinLive.attentionRow('{v}', {block}, {head}, {token[0]}, {token[1]})")
        layer_block = model.layers[stage].blocks[index]
        with torch.no_grad():
            attn = AttentionRecorder(model, [(stage, index)], bias=False)(x)[1]  # (nW, heads, N, N)
        g = layer_block.geometry(h, w)
        order = g.order.tolist()
        n = g.window_size**2
        k = order.index(token[0] * g.padded_resolution[1] + token[1])
        want = attn[k // n, head, k % n]
        assert row["keys"] == order[(k // n) * n : (k // n + 1) * n]
        diff = float((torch.tensor(row["weights"]) - want).abs().max())
        print(f"{v} block {block} head {head} token {token}: page vs swin_tutor attention, max |diff| {diff:.1e}")
        assert diff <= 1e-4, (v, block, head, token, diff)
        if g.mask is not None:
            blocked = (g.mask[k // n, k % n] < 0).tolist()
            assert row["masked"] == blocked
            assert all(wt < 1e-6 for wt, m in zip(row["weights"], blocked, strict=True) if m)
    if (block, token) == (1, (0, 0)):  # a corner of a shifted block: its window mixes four pieces
        assert sum(row["masked"]) == 12
        page.screenshot(path=str(SHOTS / "live_masked_corner.png"), full_page=True)


def test_no_console_error_and_no_request_elsewhere(live):
    page, seen, server = live
    assert not seen["errors"], seen["errors"]
    assert not seen["failed"], seen["failed"]
    local = (server, "data:", "blob:", "about:")
    assert [u for u in seen["requests"] if not u.startswith(local)] == []
    assert any(u.endswith(".wasm") for u in seen["requests"]) and any(u.endswith(".onnx") for u in seen["requests"])


def test_fits_a_phone_screen(server, browser):
    page, seen, seconds = _open(browser, server + "live.html", {"width": 390, "height": 844})
    try:
        widths = page.evaluate(
            "() => { const r = document.getElementById('swin-live-app');"
            " return [r.scrollWidth, r.clientWidth, document.documentElement.scrollWidth, window.innerWidth]; }"
        )
        assert widths[0] <= widths[1] + 1 and widths[2] <= widths[3] + 1, widths
        box = page.locator("#sl-draw").bounding_box()
        page.mouse.move(box["x"] + 60, box["y"] + 60)
        page.mouse.down()
        page.mouse.move(box["x"] + 150, box["y"] + 170, steps=6)
        page.mouse.up()
        assert not seen["errors"], seen["errors"]
        print(f"\nlive page on a 390 px wide screen: ready in {seconds:.1f} s")
        page.screenshot(path=str(SHOTS / "live_phone.png"), full_page=True)
    finally:
        page.context.close()
