"""The plotting basics every picture uses: panels, images, integer tables, heat maps, grid lines.

Every ``show_*`` function draws on a matplotlib Axes (the current one when none is given) and
returns it. ``to_numpy`` and ``finish_axes`` are the two steps all of them share.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

__all__ = [
    "tensor_to_numpy_image",
    "to_numpy",
    "finish_axes",
    "subplots",
    "titles_row",
    "draw_grid",
    "show_image",
    "show_int_table",
    "show_heatmap",
]


def to_numpy(values, float32: bool = False) -> np.ndarray:
    """A tensor (detached, moved to the CPU; cast to float32 when ``float32``) or an array-like as numpy."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu()
        return (values.float() if float32 else values).numpy()
    return np.asarray(values)


def finish_axes(ax: Axes, title: str | None = None, height: float | None = None, width: float | None = None) -> Axes:
    """No ticks, the title (if any) at font size 10; with ``height`` and ``width`` the view is exactly
    that picture of pixels, row 0 on top."""
    if height is not None and width is not None:
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)  # rcParams: 12 pt (setup_notebook)
    return ax


def subplots(ncols: int = 1, nrows: int = 1, size: float = 3.2, **kwargs):
    """``plt.subplots`` with a figure size of ``size`` inches per panel; returns (fig, flat list of axes)."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False, **kwargs)
    return fig, list(axes.flat)


def titles_row(axes: Sequence[Axes], titles: Sequence[str]) -> None:
    """Set one title per Axes."""
    for ax, t in zip(axes, titles, strict=False):
        ax.set_title(t)


def draw_grid(
    ax: Axes,
    cell: float,
    height: float,
    width: float,
    offset: float = 0.0,
    color: str = "white",
    lw: float = 0.6,
    alpha: float = 0.8,
) -> Axes:
    """Draw grid lines every ``cell`` pixels over a ``height`` x ``width`` picture, starting at ``offset``."""
    for y in np.arange(offset % cell, height + 1e-9, cell):
        ax.axhline(y - 0.5, color=color, lw=lw, alpha=alpha)
    for x in np.arange(offset % cell, width + 1e-9, cell):
        ax.axvline(x - 0.5, color=color, lw=lw, alpha=alpha)
    return ax


def show_image(image, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Show a (1, 3, H, W) / (3, H, W) / (H, W, 3) image in [0, 1], without ticks."""
    ax = ax or plt.gca()
    ax.imshow(tensor_to_numpy_image(image), interpolation="nearest")
    return finish_axes(ax, title)


def show_int_table(
    table, ax: Axes | None = None, title: str | None = None, cmap: str = "tab20", fontsize: float = 10
) -> Axes:
    """A small integer matrix as coloured cells with the numbers written in them."""
    values = to_numpy(table)
    ax = ax or plt.gca()
    ax.imshow(values, cmap=cmap, interpolation="nearest")
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=fontsize)
    return finish_axes(ax, title)


def show_heatmap(
    matrix,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str = "viridis",
    colorbar: bool = True,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Axes:
    """A real-valued matrix as an image (attention weights, masks, bias tables)."""
    values = to_numpy(matrix, float32=True)
    ax = ax or plt.gca()
    im = ax.imshow(values, cmap=cmap, interpolation="nearest", vmin=vmin, vmax=vmax)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return finish_axes(ax, title)


def tensor_to_numpy_image(image: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) / (3, H, W) / (H, W, 3) tensor or array -> (H, W, 3) float array for plotting."""
    array = image.detach().cpu().float().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if array.ndim == 4:
        if array.shape[0] != 1:
            raise ValueError(f"expected one image, got a batch of {array.shape[0]}")
        array = array[0]
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[2] not in (1, 3):
        array = array.transpose(1, 2, 0)
    if array.ndim != 3 and array.ndim != 2:
        raise ValueError(f"expected an image of shape (1, 3, H, W), (3, H, W) or (H, W, 3), got {array.shape}")
    return np.clip(array, 0.0, 1.0)
