"""The training pictures of notebook 09: what they draw, and the errors they raise on bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from swin_tutor.plot.training import plot_history, plot_test_accuracy, show_confusion, show_digits  # noqa: E402
from swin_tutor.train.data import BACKGROUND, normalize  # noqa: E402
from swin_tutor.train.loop import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_show_digits_undoes_the_normalisation_and_grids_one_image():
    ink = torch.zeros(3, 1, 8, 8)
    ink[1, 0, 2, 3] = 1.0
    fig, axes = show_digits(normalize(ink), ["a", "b", "c"], ncols=2, patch_size=2, grid_on=1)
    assert len(axes) == 4 and not axes[3].axison  # 2x2 panels, the spare one switched off
    picture = axes[1].images[0].get_array()
    assert picture[2, 3] == pytest.approx(1.0, abs=1e-6) and picture[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert [ax.get_title() for ax in axes[:3]] == ["a", "b", "c"]
    # 8 px / patch 2: 5 horizontal and 5 vertical lines on the gridded image only
    assert len(axes[1].lines) == 10 and len(axes[0].lines) == 0


def test_show_digits_slots_fix_the_layout():
    fig, axes = show_digits(torch.zeros(3, 1, 8, 8), ["a", "b", "c"], ncols=4, slots=8)
    assert len(fig.axes) == 8 and [ax.axison for ax in axes].count(True) == 3
    fig, axes = show_digits(torch.zeros(0, 1, 8, 8), [], ncols=4, slots=8)
    assert len(fig.axes) == 8 and not any(ax.axison for ax in axes)
    with pytest.raises(ValueError, match="slots must be an int >= the 3 images, got 2"):
        show_digits(torch.zeros(3, 1, 8, 8), ["a", "b", "c"], slots=2)


def test_show_digits_rejects_bad_input():
    with pytest.raises(ValueError, match=r"images must be a \(N, 1, H, W\) tensor, got \(2, 3, 8, 8\)"):
        show_digits(torch.zeros(2, 3, 8, 8), ["a", "b"])
    with pytest.raises(ValueError, match="2 images, got 1 titles"):
        show_digits(torch.full((2, 1, 8, 8), BACKGROUND), ["a"])
    with pytest.raises(ValueError, match="ncols must be a positive int, got 0"):
        show_digits(torch.zeros(1, 1, 8, 8), ["a"], ncols=0)


def test_plot_history_draws_every_curve_from_a_history_or_a_dict():
    history = History(train_loss=[2.0, 1.0, 0.5], train_acc=[0.2, 0.6, 0.9], test_acc=[0.3, 0.7, 0.95])
    axes = plot_history(history)
    assert np.allclose(axes[0].lines[0].get_ydata(), [2.0, 1.0, 0.5])
    test_line = [line for line in axes[1].lines if line.get_label() == "test"][0]
    assert np.allclose(test_line.get_ydata(), [0.3, 0.7, 0.95])
    axes = plot_history({"train_loss": [1.0], "train_acc": [0.5], "test_acc": []}, label="v2")
    assert axes[0].lines[0].get_label() == "v2 train"
    assert all(line.get_label() != "v2 test" for line in axes[1].lines)
    with pytest.raises(ValueError, match="no train_loss"):
        plot_history(History())


def test_plot_test_accuracy_shares_one_axis():
    ax = plot_test_accuracy({"v1": [0.5, 0.9], "v2": [0.4, 0.95, 0.97]}, title="t")
    labels = [line.get_label() for line in ax.lines]
    assert labels[:2] == ["v1", "v2"] and ax.get_ylim() == (0.0, 1.02) and ax.get_title() == "t"
    assert np.allclose(ax.lines[1].get_xdata(), [1, 2, 3])
    with pytest.raises(ValueError, match="at least one run"):
        plot_test_accuracy({})


def test_show_confusion_has_a_colour_bar_and_writes_off_diagonal_counts():
    confusion = torch.tensor([[5, 1, 0], [0, 6, 0], [2, 0, 4]])
    ax = show_confusion(confusion, title="c")
    assert len(ax.figure.axes) == 2  # the matrix and its colour bar
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2"]
    with pytest.raises(ValueError, match=r"square \(K, K\) matrix, got shape \(2, 3\)"):
        show_confusion(torch.zeros(2, 3, dtype=torch.long))
