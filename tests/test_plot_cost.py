"""swin_tutor.plot.cost: the attention-cost picture of notebook 01 draws what the formulas say."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from swin_tutor.core.flops import global_msa_macs, window_msa_macs  # noqa: E402
from swin_tutor.plot.cost import plot_attention_cost  # noqa: E402


def test_panels_follow_the_formulas():
    ax_total, ax_token = plot_attention_cost(channels=96, window=7, image_sides=(224, 512))
    glob, win = ax_total.lines[0], ax_total.lines[1]
    n = glob.get_xdata()
    assert n[0] == 49  # from one full window
    np.testing.assert_allclose(glob.get_ydata(), [global_msa_macs(int(k), 1, 96) / 1e9 for k in n])
    np.testing.assert_allclose(win.get_ydata(), [window_msa_macs(int(k), 1, 96, 7) / 1e9 for k in n])
    # window cost is proportional to tokens: cost / tokens is one number
    per = win.get_ydata() / n
    assert np.allclose(per, per[0])
    # markers: ViT-16 at 224 has 196 tokens, Swin at 224 has 3136
    xs = {float(line.get_xdata()[0]) for line in ax_total.lines[2:] if len(line.get_xdata())}
    assert {196.0, 3136.0, 1024.0, 16384.0} <= xs
    per_window = ax_token.lines[1].get_ydata()
    assert np.allclose(per_window, (4 * 96 * 96 + 2 * 49 * 96) / 1e3)
    per_global = ax_token.lines[0]
    assert np.all(np.diff(per_global.get_ydata()) > 0)  # grows with the token count
    plt.close("all")


def test_draws_on_given_axes():
    fig, axes = plt.subplots(1, 2)
    assert plot_attention_cost(axes=axes) == list(axes)
    fig.canvas.draw()
    plt.close(fig)


@pytest.mark.parametrize("kwargs", [{"channels": 0}, {"window": 2.5}, {"image_sides": ()}, {"image_sides": (8,)}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError, match="channels|window|image_sides"):
        plot_attention_cost(**kwargs)
    plt.close("all")
