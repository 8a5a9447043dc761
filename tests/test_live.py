"""The static fallback of live controls: frames drawn per value, deterministic HTML, clear errors."""

import base64

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from swin_tutor.plot.live import FrameStepper, precompute_frames  # noqa: E402


def _draw(value: int):
    figure, axes = plt.subplots(figsize=(2, 2))
    axes.plot([0, 1], [0, value])
    return figure


def test_one_frame_per_value_and_figures_closed():
    before = len(plt.get_fignums())
    stepper = precompute_frames(_draw, [1, 2, 3], name="demo", label="slope")
    assert len(stepper) == 3
    assert all(frame.startswith(b"\x89PNG") for frame in stepper.frames)
    assert stepper.frames[0] != stepper.frames[2]  # the drawing depends on the value
    assert len(plt.get_fignums()) == before


def test_draw_may_use_pyplot_without_returning():
    stepper = precompute_frames(lambda v: plt.plot([0, v]), [1, 2], name="implicit", label="v")
    assert len(stepper) == 2


def test_html_is_deterministic_and_self_contained():
    first = precompute_frames(_draw, [1, 2], name="demo", label="slope")._repr_html_()
    second = precompute_frames(_draw, [1, 2], name="demo", label="slope")._repr_html_()
    assert first == second
    assert 'id="stepper-demo"' in first and first.count("data:image/png;base64,") == 2  # each frame once
    assert "http" not in first  # nothing fetched from anywhere
    assert repr(FrameStepper("demo", "slope", [1, 2], [b"a", b"b"])).endswith("slope = 1, 2")


@pytest.mark.parametrize("name", ["Demo", "1x", "a b", "", None])
def test_bad_name(name):
    with pytest.raises(ValueError, match="name"):
        FrameStepper(name, "v", [1], [b"x"])


def test_mismatched_or_empty():
    with pytest.raises(ValueError, match="values and frames"):
        FrameStepper("a", "v", [1, 2], [b"x"])
    with pytest.raises(ValueError, match="values"):
        precompute_frames(_draw, [], name="a", label="v")
    with pytest.raises(ValueError, match="drew no figure"):
        precompute_frames(lambda v: None, [1], name="a", label="v")


def test_each_frame_once_and_the_first_shown_without_script():
    stepper = precompute_frames(_draw, [1, 2, 3], name="demo", label="slope")
    page = stepper._repr_html_()
    sources = [f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}" for png in stepper.frames]
    assert [page.count(s) for s in sources] == [1, 1, 1]  # a reader without a kernel sees 3 frames, not 4
    image = page[page.index("<img") : page.index(">", page.index("<img"))]
    assert sources[0] in image  # what shows before (or without) the script runs


def test_values_from_a_generator():
    stepper = precompute_frames(_draw, (v for v in (1, 2, 3)), name="gen", label="slope")
    assert len(stepper) == 3 and stepper.values == [1, 2, 3]
    assert len(precompute_frames(_draw, range(1, 3), name="rng", label="slope")) == 2


def test_figures_closed_when_draw_raises():
    before = set(plt.get_fignums())

    def broken(value):
        plt.subplots(figsize=(2, 2))
        if value == 2:
            raise RuntimeError("boom")
        return plt.gcf()

    with pytest.raises(RuntimeError, match="boom"):
        precompute_frames(broken, [1, 2, 3], name="broken", label="v")
    assert set(plt.get_fignums()) == before


# live_control: the ipywidgets box, drawn at once and on every slider move


def _controls():
    import ipywidgets as widgets

    return {
        "slope": widgets.IntSlider(value=2, min=0, max=5, description="slope"),
        "kind": widgets.SelectionSlider(options=("line", "dots"), value="line", description="kind"),
    }


def _draw_live(slope: int, kind: str):
    figure, axes = plt.subplots(figsize=(2, 2))
    axes.plot([0, 1], [0, slope], "-" if kind == "line" else "o")
    return figure


def _picture(box) -> dict:
    (output,) = box.children[-1].outputs
    return output


def test_live_control_draws_the_first_frame_at_creation():
    from swin_tutor.plot.live import live_control

    before = set(plt.get_fignums())
    controls = _controls()
    box = live_control(_draw_live, controls)
    assert list(box.children[:-1]) == list(controls.values())  # the sliders above the picture
    shown = _picture(box)
    assert shown["output_type"] == "display_data"
    assert base64.b64decode(shown["data"]["image/png"]).startswith(b"\x89PNG")
    assert shown["data"]["text/plain"] == "<Figure: slope = 2, kind = line>"
    assert set(plt.get_fignums()) == before  # no figure left open, so nothing lands in the cell's output
    assert repr(box).startswith("VBox(children=(IntSlider(value=2") and "base64" not in repr(box)
    assert repr(box).endswith("Picture()))") and len(repr(box)) < 300


def test_live_control_redraws_when_a_slider_moves():
    from swin_tutor.plot.live import live_control

    before = set(plt.get_fignums())
    calls = []

    def draw(slope, kind):
        calls.append((slope, kind))
        return _draw_live(slope, kind)

    controls = _controls()
    box = live_control(draw, controls)
    first = _picture(box)["data"]["image/png"]
    controls["slope"].value = 5
    controls["kind"].value = "dots"
    assert calls == [(2, "line"), (5, "line"), (5, "dots")]
    assert _picture(box)["data"]["text/plain"] == "<Figure: slope = 5, kind = dots>"
    assert _picture(box)["data"]["image/png"] != first
    assert set(plt.get_fignums()) == before


def test_live_control_draw_may_use_pyplot_without_returning():
    import ipywidgets as widgets

    from swin_tutor.plot.live import live_control

    box = live_control(lambda v: plt.plot([0, v]), {"v": widgets.IntSlider(value=1)})
    assert _picture(box)["data"]["text/plain"] == "<Figure: v = 1>"


def test_live_control_draw_that_raises_closes_its_figure_and_says_so():
    from swin_tutor.plot.live import live_control

    before = set(plt.get_fignums())

    def broken(slope, kind):
        plt.subplots(figsize=(2, 2))  # opened, then the drawing fails
        if slope == 4:
            raise RuntimeError("boom")
        return plt.gcf()

    controls = _controls()
    box = live_control(broken, controls)
    with pytest.raises(RuntimeError, match="boom"):
        controls["slope"].value = 4
    assert set(plt.get_fignums()) == before
    shown = _picture(box)  # a slider move's error is shown where the picture was, not only in the kernel log
    assert shown["output_type"] == "stream" and shown["name"] == "stderr"
    assert "RuntimeError: boom" in shown["text"] and "'slope': 4" in shown["text"]
    controls["slope"].value = 1  # the next move draws again
    assert _picture(box)["data"]["text/plain"] == "<Figure: slope = 1, kind = line>"
    with pytest.raises(RuntimeError, match="boom"):  # at creation the cell itself fails
        live_control(broken, {**_controls(), "slope": controls["slope"].__class__(value=4)})
    assert set(plt.get_fignums()) == before


def test_live_control_bad_controls():
    from swin_tutor.plot.live import live_control

    for controls in ({}, {"slope": 3}, [("slope", 3)]):
        with pytest.raises(ValueError, match="controls"):
            live_control(_draw_live, controls)


def test_live_control_draw_that_draws_nothing():
    import ipywidgets as widgets

    from swin_tutor.plot.live import live_control

    with pytest.raises(ValueError, match="drew no figure"):
        live_control(lambda v: None, {"v": widgets.IntSlider(value=1)})
