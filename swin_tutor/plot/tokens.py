"""Pictures of how an image becomes tokens and windows: patch grids, token ids, windows, the 2x2
merge gather (notebook 02) and the regions of a shifted map (notebooks 03 and 04)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from swin_tutor.plot.axes import draw_grid, finish_axes, show_image, tensor_to_numpy_image, to_numpy

__all__ = [
    "GATHER_COLORS",
    "REGION_COLORS",
    "show_patch_grid",
    "show_windows",
    "show_patch_ids",
    "show_gather_order",
    "show_channel_blocks",
    "show_region_labels",
]

# Colours of the channel blocks x0, x1, x2, x3 of the 2x2 merge gather.
GATHER_COLORS = ("#8db5e0", "#f2b880", "#9fd39b", "#e79a9a")
REGION_COLORS = (
    "#80b1d3",  # 0 blue
    "#b3de69",  # 1 green
    "#fb8072",  # 2 salmon
    "#fdb462",  # 3 orange
    "#bc80bd",  # 4 purple
    "#ffed6f",  # 5 yellow
    "#2ec4a6",  # 6 teal
    "#f781bf",  # 7 pink
    "#a6805e",  # 8 brown
)  # colours of the region labels 0..8 of the shifted-window mask: nine hues, no two alike, none grey
_PAD_COLOR = "#9e9e9e"  # zero padding


def show_patch_grid(
    image, patch_size: int, ax: Axes | None = None, title: str | None = None, color: str = "white"
) -> Axes:
    """The image with its ``patch_size`` x ``patch_size`` patch boundaries drawn on it."""
    ax = show_image(image, ax, title)
    h, w = tensor_to_numpy_image(image).shape[:2]
    return draw_grid(ax, patch_size, h, w, color=color, lw=0.4)


def show_windows(
    image,
    window_px: int,
    shift_px: int = 0,
    ax: Axes | None = None,
    title: str | None = None,
    color: str = "yellow",
    lw: float = 1.5,
) -> Axes:
    """The image with window boundaries every ``window_px`` pixels; with ``shift_px`` the windows
    are displaced by that much (the windows of a shifted block, drawn on the unshifted image)."""
    ax = show_image(image, ax, title)
    h, w = tensor_to_numpy_image(image).shape[:2]
    for y in range(-window_px, h + window_px, window_px):
        for x in range(-window_px, w + window_px, window_px):
            ax.add_patch(
                Rectangle((x + shift_px - 0.5, y + shift_px - 0.5), window_px, window_px, fill=False, ec=color, lw=lw)
            )
    return finish_axes(ax, height=h, width=w)


def show_patch_ids(
    image,
    patch_size: int,
    ids=None,
    ax: Axes | None = None,
    title: str | None = None,
    fontsize: float = 7,
    color: str = "black",
) -> Axes:
    """The image with its patch grid and, in each patch, the number of the token it becomes.

    ``ids`` (rows, cols) defaults to the row-major order of the token sequence, ``r * cols + c``
    (what ``make_test_card`` returns). Numbers are drawn with a white outline so they stay readable.
    """
    from matplotlib import patheffects

    ax = show_patch_grid(image, patch_size, ax, title, color="white")
    h, w = tensor_to_numpy_image(image).shape[:2]
    rows, cols = h // patch_size, w // patch_size
    values = np.arange(rows * cols).reshape(rows, cols) if ids is None else to_numpy(ids)
    if values.shape != (rows, cols):
        raise ValueError(f"ids must have shape {(rows, cols)} (one per patch), got {values.shape}")
    outline = [patheffects.withStroke(linewidth=1.5, foreground="white")]
    for (r, c), v in np.ndenumerate(values):
        x, y = (c + 0.5) * patch_size - 0.5, (r + 0.5) * patch_size - 0.5
        ax.text(x, y, f"{v:g}", ha="center", va="center", fontsize=fontsize, color=color, path_effects=outline)
    return ax


def show_gather_order(ids, ax: Axes | None = None, title: str | None = None, fontsize: float = 8) -> Axes:
    """A token map's numbers (H, W), each cell coloured by the channel block x0..x3 it lands in when
    2x2 neighbours are merged (x0 = top-left, x1 = bottom-left, x2 = top-right, x3 = bottom-right).

    Negative numbers mark zero padding (drawn grey, "pad"). Thick lines outline the 2x2 groups.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    values = to_numpy(ids)
    h, w = values.shape
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    block = (rows % 2) + 2 * (cols % 2)  # 0..3 = x0..x3
    block = np.where(values < 0, 4, block)
    ax = ax or plt.gca()
    ax.imshow(block, cmap=ListedColormap([*GATHER_COLORS, _PAD_COLOR]), vmin=-0.5, vmax=4.5, interpolation="nearest")
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, "pad" if v < 0 else f"{v:g}", ha="center", va="center", fontsize=fontsize)
    draw_grid(ax, 1, h, w, color="white", lw=0.5, alpha=1.0)
    draw_grid(ax, 2, h, w, color="black", lw=1.6, alpha=1.0)
    handles = [Patch(color=c, label=f"x{k}") for k, c in enumerate(GATHER_COLORS)]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=4, fontsize=8, frameon=False)
    return finish_axes(ax, title, h, w)


def show_channel_blocks(token_ids: Sequence[int], dim: int, ax: Axes | None = None, title: str | None = None) -> Axes:
    """One merged token's 4C channels as four coloured blocks, each labelled with the token it came
    from (``token_ids`` in block order x0..x3; a negative id means zero padding)."""
    ax = ax or plt.gca()
    for k, tok in enumerate(token_ids):
        colour = GATHER_COLORS[k] if tok >= 0 else _PAD_COLOR
        ax.add_patch(Rectangle((k * dim, 0), dim, 1, fc=colour, ec="black", lw=1))
        label = f"x{k}\n" + ("pad" if tok < 0 else f"token {tok}")
        ax.text((k + 0.5) * dim, 0.5, label, ha="center", va="center", fontsize=8)
    ax.set_xlim(0, 4 * dim)
    ax.set_ylim(0, 1)
    finish_axes(ax, title)
    ax.set_xticks([k * dim for k in range(5)])  # channel offsets of the four blocks
    ax.tick_params(labelsize=8)
    ax.set_xlabel("channel", fontsize=9)
    return ax


def show_region_labels(
    labels,
    ax: Axes | None = None,
    window_size: int | None = None,
    image=None,
    text=None,
    alpha: float = 0.4,
    title: str | None = None,
    fontsize: float = 8,
) -> Axes:
    """The 9 regions of a shifted map (``region_labels``, (H, W) tokens, values 0..8) as colours.

    With ``image`` the colours are laid over it (each token covering its patch of pixels);
    ``text`` (H, W) writes a number in each cell (e.g. token ids); ``window_size`` draws the
    window grid (in tokens).
    """
    from matplotlib.colors import ListedColormap

    values = to_numpy(labels)
    h, w = values.shape
    ax = ax or plt.gca()
    if image is not None:
        ax = show_image(image, ax)
        ph, pw = tensor_to_numpy_image(image).shape[:2]
    else:
        ph, pw, alpha = h, w, 1.0
    sy, sx = ph / h, pw / w  # pixels per token
    ax.imshow(
        values,
        cmap=ListedColormap(list(REGION_COLORS)),
        vmin=-0.5,
        vmax=8.5,
        alpha=alpha,
        extent=(-0.5, pw - 0.5, ph - 0.5, -0.5),
        interpolation="nearest",
    )
    if text is not None:
        for (i, j), v in np.ndenumerate(to_numpy(text)):
            ax.text((j + 0.5) * sx - 0.5, (i + 0.5) * sy - 0.5, f"{v:g}", ha="center", va="center", fontsize=fontsize)
    if window_size:
        draw_grid(ax, window_size * sy, ph, pw, color="black", lw=1.6, alpha=1.0)
    return finish_axes(ax, title, ph, pw)
