"""Pictures of token maps cut into windows (notebooks 03 and 04): token numbers coloured by window or
region, zero padding, and boxes that mark a part of a picture (a window's crop, a piece's source)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from swin_tutor.plot.axes import draw_grid, finish_axes, to_numpy
from swin_tutor.plot.tokens import REGION_COLORS

__all__ = ["PAD_COLOR", "show_token_map", "mark_box"]

PAD_COLOR = "#9e9e9e"  # zero padding (as in the merge pictures of notebook 02)


def show_token_map(
    ids,
    ax: Axes | None = None,
    title: str | None = None,
    colour_by=None,
    window: int | None = None,
    offset: int = 0,
    grey_padding: bool = True,
    fontsize: float = 11,
    palette: Sequence[str] = REGION_COLORS,
) -> Axes:
    """(H, W) token numbers written in their cells, each cell coloured by ``colour_by`` (H, W ints,
    e.g. region labels or window numbers, taken modulo the palette; default: one colour).

    Negative ids are zero padding, written "pad" (in grey cells unless ``grey_padding=False``, which
    keeps their ``colour_by`` colour). ``window`` draws the window grid (in tokens) in black,
    displaced by ``offset`` tokens for the windows of a shifted block.
    """
    from matplotlib.colors import ListedColormap

    values = to_numpy(ids)
    if values.ndim != 2:
        raise ValueError(f"ids must be an (H, W) table of token numbers, got shape {values.shape}")
    groups = np.zeros(values.shape, dtype=int) if colour_by is None else to_numpy(colour_by).astype(int)
    if groups.shape != values.shape:
        raise ValueError(f"colour_by must have the shape of ids {values.shape}, got {groups.shape}")
    h, w = values.shape
    cells = groups % len(palette)
    if grey_padding:
        cells = np.where(values < 0, len(palette), cells)
    ax = ax or plt.gca()
    cmap = ListedColormap([*palette, PAD_COLOR])
    ax.imshow(cells, cmap=cmap, vmin=-0.5, vmax=len(palette) + 0.5, interpolation="nearest")
    for (i, j), v in np.ndenumerate(values):
        pad = v < 0
        ax.text(j, i, "pad" if pad else f"{v:g}", ha="center", va="center", fontsize=fontsize - 2 * pad)
    draw_grid(ax, 1, h, w, color="white", lw=0.6, alpha=1.0)
    if window:
        draw_grid(ax, window, h, w, offset=offset, color="black", lw=2.2, alpha=1.0)
    return finish_axes(ax, title, h, w)


def mark_box(
    ax: Axes,
    top: float,
    left: float,
    height: float,
    width: float,
    color: str = "red",
    fill: str | None = None,
    label: str | None = None,
    lw: float = 2.5,
) -> Axes:
    """Outline a box of pixels (or table cells) on a picture: rows ``top`` .. ``top + height``,
    columns ``left`` .. ``left + width``; ``fill`` shades it, ``label`` is written inside at its top left."""
    from matplotlib import patheffects

    if fill is not None:
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fc=fill, ec="none", alpha=0.6))
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False, ec=color, lw=lw))
    if label:
        outline = [patheffects.withStroke(linewidth=2.5, foreground="white")]
        ax.text(left + 1, top + 1, label, ha="left", va="top", fontsize=11, color="black", path_effects=outline)
    return ax
