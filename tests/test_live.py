"""The static fallback of live controls: frames drawn per value, deterministic HTML, clear errors."""

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
    assert 'id="stepper-demo"' in first and first.count("data:image/png;base64,") == 3  # img + 2 frames
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
