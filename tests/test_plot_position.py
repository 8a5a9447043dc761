"""The drawings behind the live controls of notebooks 05-07: what they show, and clear errors."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from swin_tutor.core.position_bias import relative_position_index  # noqa: E402
from swin_tutor.plot.depth import plot_rms_by_block  # noqa: E402
from swin_tutor.plot.position import plot_log_coords, show_index_row_and_bias  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _table(wh: int, ww: int, heads: int = 2) -> torch.Tensor:
    return torch.arange((2 * wh - 1) * (2 * ww - 1) * heads, dtype=torch.float32).view(-1, heads)


@pytest.mark.parametrize(("window", "query"), [(3, 4), (7, 0), ((2, 3), 5)])
def test_index_row_and_bias_show_the_query_part_of_the_table(window, query):
    wh, ww = (window, window) if isinstance(window, int) else window
    table = _table(wh, ww)
    fig = show_index_row_and_bias(table, window, query, head=1)
    table_ax, index_ax, bias_ax = fig.axes[:3]
    # panel 1: the head's table as a (2wh-1, 2ww-1) picture
    assert np.array_equal(table_ax.images[0].get_array(), table[:, 1].view(2 * wh - 1, 2 * ww - 1).numpy())
    # panel 2: the index row, one number per key, in row-major order
    numbers = [int(t.get_text()) for t in index_ax.texts]
    assert numbers == relative_position_index((wh, ww))[query].tolist()
    # panel 3: the bias per key = table[index row], on the table's colour scale
    index_row = relative_position_index((wh, ww))[query].view(wh, ww)
    assert np.array_equal(bias_ax.images[0].get_array(), table[index_row, 1].numpy())
    assert bias_ax.images[0].get_clim() == table_ax.images[0].get_clim()
    # the block of offsets the query reads is outlined where it starts: at (row, col) of the query
    r, c = divmod(query, ww)
    outline = table_ax.patches[0]
    assert (outline.get_x(), outline.get_y(), outline.get_width(), outline.get_height()) == (c - 0.5, r - 0.5, ww, wh)
    assert len(fig.axes) == 4  # three panels and one colour bar


def test_index_row_and_bias_bad_input():
    with pytest.raises(ValueError, match=r"table must be \(25, heads\)"):
        show_index_row_and_bias(torch.zeros(49, 2), 3, 0)
    with pytest.raises(ValueError, match="head must be in 0..1"):
        show_index_row_and_bias(_table(3, 3), 3, 0, head=2)
    with pytest.raises(ValueError, match="query must be a token of the window, 0..8, got 9"):
        show_index_row_and_bias(_table(3, 3), 3, 9)


def test_log_coords_curves_and_ranges():
    fig, ax = plt.subplots()
    plot_log_coords(24, 8, ax, xmax=31.5, ymax=4)
    linear, log = (line.get_ydata() for line in ax.lines[:2])
    assert len(linear) == 47 and ax.lines[0].get_xdata()[0] == -23
    assert math.isclose(float(np.max(linear)), 23 / 7, rel_tol=1e-6)
    assert math.isclose(float(np.max(log)), math.log2(1 + 8 * 23 / 7) / 3, rel_tol=1e-6)
    assert ax.get_xlim() == (-31.5, 31.5) and ax.get_ylim() == (-4, 4)
    assert "linear ±3.29 (3.29x)" in ax.get_title() and "log ±1.59 (1.50x)" in ax.get_title()


def test_log_coords_without_pretrained_window_spans_the_trained_range():
    fig, ax = plt.subplots()
    plot_log_coords(8, 0, ax)
    assert "linear ±1.00 (1.00x), log ±1.06 (1.00x)" in ax.get_title()


def test_log_coords_forgotten_pretrained_window_is_drawn_as_the_pitfall():
    fig, ax = plt.subplots()
    plot_log_coords(16, 0, ax, trained_window_size=8)
    title = ax.get_title()
    assert "forgotten (trained at 8)" in title and "offset 7 reads 0.75, trained 1.06" in title
    meant = ax.lines[-1].get_ydata()  # the coordinates the model was trained with, at window 16
    assert math.isclose(float(np.max(meant)), math.log2(1 + 8 * 15 / 7) / 3, rel_tol=1e-6)
    fig, ax = plt.subplots()
    plot_log_coords(16, 8, ax, trained_window_size=8)  # kept: the ordinary picture
    assert "pretrained 8: linear ±2.14" in ax.get_title()


@pytest.mark.parametrize(("window", "pretrained"), [(1, 0), (8.0, 0), (8, 1), (8, -2)])
def test_log_coords_bad_input(window, pretrained):
    with pytest.raises(ValueError, match="window_size|pretrained_window_size"):
        plot_log_coords(window, pretrained)


def test_rms_by_block_lines_axes_and_reference():
    fig, ax = plt.subplots()
    plot_rms_by_block(
        {"pre": [1.0, 2.0, 4.0], "res_post": [1.5, 2.0]}, ax, max_depth=6, ylim=(0.5, 100), sqrt_reference=True
    )
    assert [line.get_label() for line in ax.lines] == ["pre", "res_post", "sqrt(1 + 2·block)"]
    assert list(ax.lines[1].get_xdata()) == [1, 2]
    assert np.allclose(ax.lines[2].get_ydata(), np.sqrt(1 + 2 * np.arange(1, 7)))
    assert ax.get_yscale() == "log" and ax.get_xlim() == (0, 7) and ax.get_ylim() == (0.5, 100)


def test_rms_by_block_legend_outside_leaves_the_axes_free():
    fig, ax = plt.subplots()
    plot_rms_by_block({"pre": [1.0, 200.0], "res_post": [1.0, 2.0]}, ax, legend_outside=True)
    fig.canvas.draw()
    legend, axes_box = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.x0 >= axes_box.x1  # right of the axes: it cannot cover a curve


def test_rms_by_block_bad_input():
    with pytest.raises(ValueError, match="curves"):
        plot_rms_by_block({})
    with pytest.raises(ValueError, match="curves"):
        plot_rms_by_block({"pre": []})
