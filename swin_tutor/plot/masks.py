"""Pictures of the shifted-window mask (notebook 04): one window's mask, where the pieces of a rolled
window come from in the image, and which keys one query token may attend to in W-MSA and SW-MSA.

Positions are (row, col) of the unshifted (H, W) token map unless a name says "rolled".
"""

from __future__ import annotations

from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from swin_tutor.core.masks import region_labels, shifted_window_mask
from swin_tutor.core.windows import shifted_window_order
from swin_tutor.plot.axes import draw_grid, finish_axes, show_image, tensor_to_numpy_image, to_numpy
from swin_tutor.plot.tokens import REGION_COLORS
from swin_tutor.plot.windows import mark_box

__all__ = [
    "ALLOWED_COLOR",
    "BLOCKED_COLOR",
    "QueryMask",
    "query_mask",
    "show_mask",
    "show_window_sources",
    "show_query_keys",
    "show_query_row",
]

ALLOWED_COLOR, BLOCKED_COLOR = "#7fc97f", "#e8575a"  # mask 0 (may attend) and -100 (blocked)


class QueryMask(NamedTuple):
    """What one query token of an (H, W) map may attend to (see :func:`query_mask`)."""

    window: int  # index of its window after the roll (row-major over the window grid)
    position: tuple[int, int]  # (row, col) of the query inside that window
    row: torch.Tensor  # (M, M) its row of the mask, laid out as the window: 0 or -100
    keys: torch.Tensor  # (H, W) the same entries at the keys' places in the map; NaN = not in the window


def query_mask(height: int, width: int, window: int, shift: int, row: int, col: int) -> QueryMask:
    """The mask entries of the query at (row, col): W-MSA with ``shift`` 0, SW-MSA otherwise.

    The map is rolled by ``shift`` and cut into ``window`` x ``window`` windows (the window must
    divide the map); the query attends inside its window, where the official mask adds 0 to keys
    of its region and -100 to the others. Keys in other windows are not computed at all (NaN).
    """
    if not (0 <= row < height and 0 <= col < width):
        raise ValueError(f"the query (row, col) must lie in the {height}x{width} map, got {(row, col)}")
    n = window * window
    order, inverse = shifted_window_order(height, width, window, shift)  # slot -> map position, and back
    slot = int(inverse[row * width + col])
    index, inside = divmod(slot, n)
    if shift:
        entries = shifted_window_mask(height, width, window, shift)[index, inside]  # (N,)
    else:
        entries = torch.zeros(n)
    keys = torch.full((height * width,), float("nan"))
    keys[order[index * n : (index + 1) * n]] = entries
    return QueryMask(index, divmod(inside, window), entries.view(window, window), keys.view(height, width))


def show_mask(mask, ax: Axes | None = None, title: str | None = None, colorbar: bool = True) -> Axes:
    """One window's (N, N) mask (queries down, keys across) in two colours: 0, the pair may attend,
    and the blocking value (-100, or -inf in the tutorial's masks); the colour bar names both."""
    values = to_numpy(mask, float32=True)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise ValueError(f"mask must be one window's (N, N) mask, got shape {values.shape}")
    blocked = values < 0
    fill = values[blocked].min() if blocked.any() else -100.0
    ax = ax or plt.gca()
    im = ax.imshow(blocked, cmap=ListedColormap([ALLOWED_COLOR, BLOCKED_COLOR]), vmin=-0.5, vmax=1.5)
    if colorbar:
        bar = ax.figure.colorbar(im, ax=ax, ticks=[0, 1], fraction=0.046, pad=0.04)
        bar.ax.set_yticklabels(["0", f"{fill:g}"])
    finish_axes(ax, title)
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    return ax


def show_window_sources(
    image, window_index: int, window: int, shift: int, patch: int = 4, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """The unshifted image with the boxes of pixels that one window of the rolled map is made of,
    one box per region, shaded in the region colours (``window``, ``shift`` in tokens; a token is
    ``patch`` x ``patch`` pixels)."""
    ph, pw = tensor_to_numpy_image(image).shape[:2]
    h, w = ph // patch, pw // patch
    labels = region_labels(h, w, window, shift)
    wr, wc = divmod(window_index, w // window)
    rows, cols = torch.arange(wr * window, (wr + 1) * window), torch.arange(wc * window, (wc + 1) * window)
    inside = labels[rows][:, cols]  # (M, M) labels of the rolled window
    source_rows, source_cols = (rows + shift) % h, (cols + shift) % w  # where the roll took them from
    ax = show_image(image, ax, title)
    for label in inside.unique().tolist():
        r = source_rows[(inside == label).any(1)]
        c = source_cols[(inside == label).any(0)]
        top, left = int(r.min()) * patch, int(c.min()) * patch
        box_h, box_w = (int(r.max()) - int(r.min()) + 1) * patch, (int(c.max()) - int(c.min()) + 1) * patch
        mark_box(ax, top, left, box_h, box_w, color="black", fill=REGION_COLORS[label], label=str(label), lw=1.5)
    return ax


def show_query_keys(
    keys, query: tuple[int, int], window: int, shift: int, image=None, ax: Axes | None = None, title=None
) -> Axes:
    """A query's keys on the unshifted map (``query_mask(...).keys``): green where it may attend,
    red where the mask adds -100, unshaded outside its window; the window grid of the block (shifted
    by ``shift``) in black, the query as a star. Laid over ``image`` when given."""
    values = to_numpy(keys, float32=True)
    h, w = values.shape
    ax = ax or plt.gca()
    if image is not None:
        show_image(image, ax)
        ph, pw = tensor_to_numpy_image(image).shape[:2]
    else:
        ph, pw = h, w
    sy, sx = ph / h, pw / w  # pixels per token
    codes = np.where(np.isnan(values), np.nan, (values < 0).astype(float))
    shade = ListedColormap([ALLOWED_COLOR, BLOCKED_COLOR])
    extent = (-0.5, pw - 0.5, ph - 0.5, -0.5)
    ax.imshow(np.ma.masked_invalid(codes), cmap=shade, vmin=-0.5, vmax=1.5, alpha=0.6, extent=extent)
    draw_grid(ax, window * sy, ph, pw, offset=shift * sy, color="black", lw=2, alpha=1.0)
    r, c = query
    ax.plot((c + 0.5) * sx - 0.5, (r + 0.5) * sy - 0.5, marker="*", ms=16, mec="black", mfc="yellow")
    finish_axes(ax, title, ph, pw)
    handles = [Patch(color=ALLOWED_COLOR, label="0: attends"), Patch(color=BLOCKED_COLOR, label="-100: blocked")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2, frameon=False, fontsize=11)
    return ax


def show_query_row(row, position: tuple[int, int], ax: Axes | None = None, title: str | None = None) -> Axes:
    """A query's (M, M) mask row (``query_mask(...).row``) as the rolled window: each key cell
    coloured and labelled with the value added to its logit (0 or -100); the query framed."""
    values = to_numpy(row, float32=True)
    m_h, m_w = values.shape
    ax = ax or plt.gca()
    ax.imshow(values < 0, cmap=ListedColormap([ALLOWED_COLOR, BLOCKED_COLOR]), vmin=-0.5, vmax=1.5)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=10)
    draw_grid(ax, 1, m_h, m_w, color="white", lw=1, alpha=1.0)
    qr, qc = position
    mark_box(ax, qr, qc, 1, 1, color="black", lw=3)
    return finish_axes(ax, title, m_h, m_w)
