"""Plot helpers the notebooks share. Every function draws on a matplotlib Axes and returns it.

End a notebook cell that plots with ``plt.show()`` so no artist (and no memory address) is printed.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from .images import tensor_to_numpy_image

__all__ = [
    "show_image",
    "draw_grid",
    "show_patch_grid",
    "show_windows",
    "show_int_table",
    "show_heatmap",
    "feature_pca_rgb",
    "feature_norm",
    "subplots",
]


def subplots(ncols: int = 1, nrows: int = 1, size: float = 3.2, **kwargs):
    """``plt.subplots`` with a figure size of ``size`` inches per panel; returns (fig, flat list of axes)."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False, **kwargs)
    return fig, list(axes.flat)


def show_image(image, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Show a (1, 3, H, W) / (3, H, W) / (H, W, 3) image in [0, 1], without ticks."""
    ax = ax or plt.gca()
    ax.imshow(tensor_to_numpy_image(image), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def draw_grid(ax: Axes, cell: float, height: float, width: float, offset: float = 0.0, color: str = "white", lw: float = 0.6, alpha: float = 0.8) -> Axes:
    """Draw grid lines every ``cell`` pixels over a ``height`` x ``width`` picture, starting at ``offset``."""
    for y in np.arange(offset % cell, height + 1e-9, cell):
        ax.axhline(y - 0.5, color=color, lw=lw, alpha=alpha)
    for x in np.arange(offset % cell, width + 1e-9, cell):
        ax.axvline(x - 0.5, color=color, lw=lw, alpha=alpha)
    return ax


def show_patch_grid(image, patch_size: int, ax: Axes | None = None, title: str | None = None, color: str = "white") -> Axes:
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
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    return ax


def show_int_table(table, ax: Axes | None = None, title: str | None = None, cmap: str = "tab20", fontsize: float = 8) -> Axes:
    """A small integer matrix as coloured cells with the numbers written in them."""
    values = table.detach().cpu().numpy() if isinstance(table, torch.Tensor) else np.asarray(table)
    ax = ax or plt.gca()
    ax.imshow(values, cmap=cmap, interpolation="nearest")
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=fontsize)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


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
    values = matrix.detach().cpu().float().numpy() if isinstance(matrix, torch.Tensor) else np.asarray(matrix)
    ax = ax or plt.gca()
    im = ax.imshow(values, cmap=cmap, interpolation="nearest", vmin=vmin, vmax=vmax)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def feature_pca_rgb(features: torch.Tensor) -> np.ndarray:
    """(H, W, C) or (1, H, W, C) features -> (H, W, 3) picture of their first 3 principal components."""
    if features.dim() == 4:
        features = features[0]
    h, w, c = features.shape
    flat = features.detach().cpu().float().reshape(-1, c)
    flat = flat - flat.mean(0)
    _, _, v = torch.linalg.svd(flat, full_matrices=False)
    comps = flat @ v[:3].T  # (H*W, 3)
    lo, hi = comps.min(0).values, comps.max(0).values
    comps = (comps - lo) / (hi - lo).clamp_min(1e-8)
    return comps.reshape(h, w, 3).numpy()


def feature_norm(features: torch.Tensor) -> np.ndarray:
    """(H, W, C) or (1, H, W, C) features -> (H, W) L2 norm of each token."""
    if features.dim() == 4:
        features = features[0]
    return features.detach().cpu().float().norm(dim=-1).numpy()


def titles_row(axes: Sequence[Axes], titles: Sequence[str]) -> None:
    """Set one title per Axes."""
    for ax, t in zip(axes, titles, strict=False):
        ax.set_title(t, fontsize=10)


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
    if ids is None:
        ids = np.arange(rows * cols).reshape(rows, cols)
    values = ids.detach().cpu().numpy() if isinstance(ids, torch.Tensor) else np.asarray(ids)
    if values.shape != (rows, cols):
        raise ValueError(f"ids must have shape {(rows, cols)} (one per patch), got {values.shape}")
    outline = [patheffects.withStroke(linewidth=1.5, foreground="white")]
    for (r, c), v in np.ndenumerate(values):
        x, y = (c + 0.5) * patch_size - 0.5, (r + 0.5) * patch_size - 0.5
        ax.text(x, y, f"{v:g}", ha="center", va="center", fontsize=fontsize, color=color,
                path_effects=outline)
    return ax
