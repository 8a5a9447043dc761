"""Pictures of the relative position bias: one query's index row and bias (notebook 05) and the
coordinates Swin V2's MLP reads, before and after the log map (notebook 06).

Both are the drawings behind live controls: each call draws one complete figure for one setting of
the control, on fixed axes where frames are compared. End the notebook cell with ``plt.show()``.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from swin_tutor.core.position_bias import linear_coords_table, log_spaced_coords_table, relative_position_index
from swin_tutor.core.validation import positive_pair
from swin_tutor.plot.axes import finish_axes, to_numpy
from swin_tutor.plot.windows import mark_box

__all__ = ["show_index_row_and_bias", "plot_log_coords"]


def show_index_row_and_bias(
    table: torch.Tensor,
    window_size: int | tuple[int, int],
    query: int,
    head: int = 0,
    size: float = 3.6,
) -> Figure:
    """One query of a window, in three panels, and return the figure:

    1. the head's table over the (2wh-1, 2ww-1) offsets (query - key: dy down, dx across), the block of
       offsets this query reads outlined in red and the offset (0, 0) in black;
    2. the query's row of ``relative_position_index``: for every key (wh, ww) the table row it reads;
    3. the bias the query adds to each key's logit, ``table[index row, head]``, on the table's colour scale.

    ``table`` is ((2wh-1)(2ww-1), heads), as a block's ``relative_position_bias_table``.
    """
    wh, ww = positive_pair(window_size, "window_size")
    rows = (2 * wh - 1) * (2 * ww - 1)
    if table.dim() != 2 or table.shape[0] != rows:
        raise ValueError(f"table must be ({rows}, heads) for window {wh}x{ww}, got {tuple(table.shape)}")
    if not 0 <= head < table.shape[1]:
        raise ValueError(f"head must be in 0..{table.shape[1] - 1}, got {head}")
    if not 0 <= query < wh * ww:
        raise ValueError(f"query must be a token of the window, 0..{wh * ww - 1}, got {query}")
    column = table[:, head].detach().float()
    index_row = relative_position_index((wh, ww))[query].view(wh, ww)  # (wh, ww): table row per key
    bias_row = column[index_row]  # (wh, ww): what the query adds to each key's logit
    r, c = divmod(query, ww)
    low, high = float(column.min()), float(column.max())
    if low == high:
        low, high = low - 1.0, high + 1.0

    fig, axes = plt.subplots(1, 3, figsize=(3 * size + 1.0, size + 0.6), layout="constrained")
    im = axes[0].imshow(to_numpy(column.view(2 * wh - 1, 2 * ww - 1)), cmap="viridis", vmin=low, vmax=high)
    mark_box(axes[0], r, c, wh, ww, "red")  # keys (r', c') read offsets (r - r' + wh - 1, c - c' + ww - 1)
    mark_box(axes[0], wh - 1, ww - 1, 1, 1, "black", lw=1.5)
    finish_axes(axes[0]).set_title(f"head {head}: table, {2 * wh - 1}x{2 * ww - 1} offsets")

    axes[1].imshow(np.zeros((wh, ww)), cmap="Greys", vmin=0, vmax=1)
    numbers = min(13.0, 80.0 / max(wh, ww))  # a 3-digit number fits its cell
    for (i, j), v in np.ndenumerate(to_numpy(index_row)):
        axes[1].text(j, i, str(v), ha="center", va="center", fontsize=numbers)
    for k in range(1, wh):
        axes[1].axhline(k - 0.5, color="0.7", lw=0.8)
    for k in range(1, ww):
        axes[1].axvline(k - 0.5, color="0.7", lw=0.8)
    mark_box(axes[1], r, c, 1, 1, "red")
    finish_axes(axes[1]).set_title("index row: table row per key")

    axes[2].imshow(to_numpy(bias_row), cmap="viridis", vmin=low, vmax=high)
    mark_box(axes[2], r, c, 1, 1, "red")
    finish_axes(axes[2]).set_title("bias per key = table[index row]")
    fig.colorbar(im, ax=list(axes), fraction=0.03, pad=0.02, label="bias added to the logit")
    title = f"window {wh}x{ww}, head {head}, query {query} (row {r}, col {c}); red: the query and, on the table,"
    fig.suptitle(title + " the offsets it reads")
    return fig


def plot_log_coords(
    window_size: int,
    pretrained_window_size: int = 0,
    ax: Axes | None = None,
    xmax: float | None = None,
    ymax: float | None = None,
    trained_window_size: int | None = None,
) -> Axes:
    """The MLP input along one axis of a square window, linear (before the log map) and log-spaced
    (after it), against the offset in tokens. Shaded: the offsets of the pretrained window; dotted:
    the ranges seen there (1 and log2(9)/3). ``xmax`` and ``ymax`` fix the axes so that pictures for
    several windows compare; the title gives both ranges and their ratio to the pretrained ones.

    ``trained_window_size``: the window the model was really pre-trained with. When it differs from
    the window and ``pretrained_window_size`` is 0 (forgotten, erratum ``E-cpb-pretrained-window``),
    the ranges look right (1.00x) while every offset has moved: the picture then adds the coordinates
    the model was trained with (grey, dashed) and its title says how far offset ``trained - 1`` moved.
    """
    if not isinstance(window_size, int) or window_size < 2:
        raise ValueError(f"window_size must be an int >= 2 (a square window), got {window_size!r}")
    if not isinstance(pretrained_window_size, int) or pretrained_window_size < 0 or pretrained_window_size == 1:
        raise ValueError(f"pretrained_window_size must be 0 (none) or an int >= 2, got {pretrained_window_size!r}")
    if trained_window_size is not None and (not isinstance(trained_window_size, int) or trained_window_size < 2):
        raise ValueError(f"trained_window_size must be None or an int >= 2, got {trained_window_size!r}")
    m = window_size
    forgotten = pretrained_window_size == 0 and trained_window_size not in (None, m)
    pre = trained_window_size if forgotten else (pretrained_window_size or window_size)
    ax = ax or plt.gca()
    offsets = np.arange(-(m - 1), m)
    linear = to_numpy(linear_coords_table(m, pretrained_window_size)[:, m - 1, 0])  # dx = 0 column: dy only
    log = to_numpy(log_spaced_coords_table(m, pretrained_window_size)[:, m - 1, 0])
    trained_log = math.log2(9) / 3  # the log-spaced range at the pretrained window
    ax.axvspan(-(pre - 1) - 0.5, pre - 1 + 0.5, color="0.9", label=f"offsets of the pretrained window {pre}")
    ax.plot(offsets, linear, ".-", color="tab:blue", label="linear: before the log map")
    ax.plot(offsets, log, ".-", color="tab:orange", label="log-spaced: after it")
    for y, color in ((1.0, "tab:blue"), (trained_log, "tab:orange")):
        label = "dotted: their ranges at the pretrained window" if color == "tab:blue" else None
        ax.axhline(y, color=color, lw=0.9, ls=":", label=label)
        ax.axhline(-y, color=color, lw=0.9, ls=":")
    if xmax is not None:
        ax.set_xlim(-xmax, xmax)
    if ymax is not None:
        ax.set_ylim(-ymax, ymax)
    lin_range, log_range = float(np.abs(linear).max()), float(np.abs(log).max())
    if forgotten:
        meant = to_numpy(log_spaced_coords_table(m, pre)[:, m - 1, 0])  # what these offsets meant in training
        ax.plot(offsets, meant, "--", color="0.35", label=f"log-spaced as trained (pretrained {pre})")
        edge = min(pre, m) - 1  # the last offset both windows have
        ax.set_title(
            f"window {m}, pretrained_window_size forgotten (trained at {pre}): log ±{log_range:.2f}"
            f" ({log_range / trained_log:.2f}x) looks right, but offset {edge} reads {log[m - 1 + edge]:.2f},"
            f" trained {meant[m - 1 + edge]:.2f}",
            fontsize=10,
        )
    else:
        ax.set_title(
            f"window {m}, pretrained {pretrained_window_size}: linear ±{lin_range:.2f} ({lin_range:.2f}x),"
            f" log ±{log_range:.2f} ({log_range / trained_log:.2f}x)"
        )
    ax.set_xlabel("offset Δy in tokens")
    ax.set_ylabel("MLP input")
    ax.legend(loc="upper left", fontsize=9 if forgotten else 10)
    return ax
