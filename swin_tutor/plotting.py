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
    "titles_row",
    "show_patch_ids",
    "show_gather_order",
    "show_channel_blocks",
    "show_pca_map",
    "show_region_labels",
    "draw_norm_placement",
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
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    return ax


def show_int_table(
    table, ax: Axes | None = None, title: str | None = None, cmap: str = "tab20", fontsize: float = 8
) -> Axes:
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
        ax.text(x, y, f"{v:g}", ha="center", va="center", fontsize=fontsize, color=color, path_effects=outline)
    return ax


# ---- patch merging and cyclic shift pictures (notebooks 02 and 03) ----------------------------

# Colours of the channel blocks x0, x1, x2, x3 of the 2x2 merge gather.
GATHER_COLORS = ("#8db5e0", "#f2b880", "#9fd39b", "#e79a9a")
REGION_COLORS = (
    "#a6cee3",
    "#b2df8a",
    "#fb9a99",
    "#fdbf6f",
    "#cab2d6",
    "#ffff99",
    "#8dd3c7",
    "#bebada",
    "#d9d9d9",
)  # colours of the region labels 0..8 of the shifted-window mask


def show_gather_order(ids, ax: Axes | None = None, title: str | None = None, fontsize: float = 8) -> Axes:
    """A token map's numbers (H, W), each cell coloured by the channel block x0..x3 it lands in when
    2x2 neighbours are merged (x0 = top-left, x1 = bottom-left, x2 = top-right, x3 = bottom-right).

    Negative numbers mark zero padding (drawn grey, "pad"). Thick lines outline the 2x2 groups.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    values = ids.detach().cpu().numpy() if isinstance(ids, torch.Tensor) else np.asarray(ids)
    h, w = values.shape
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    block = (rows % 2) + 2 * (cols % 2)  # 0..3 = x0..x3
    block = np.where(values < 0, 4, block)
    ax = ax or plt.gca()
    ax.imshow(
        block,
        cmap=ListedColormap([*GATHER_COLORS, "#9e9e9e"]),
        vmin=-0.5,
        vmax=4.5,
        interpolation="nearest",
    )
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, "pad" if v < 0 else f"{v:g}", ha="center", va="center", fontsize=fontsize)
    draw_grid(ax, 1, h, w, color="white", lw=0.5, alpha=1.0)
    draw_grid(ax, 2, h, w, color="black", lw=1.6, alpha=1.0)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    handles = [Patch(color=c, label=f"x{k}") for k, c in enumerate(GATHER_COLORS)]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.02),
        ncol=4,
        fontsize=8,
        frameon=False,
    )
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def show_channel_blocks(token_ids: Sequence[int], dim: int, ax: Axes | None = None, title: str | None = None) -> Axes:
    """One merged token's 4C channels as four coloured blocks, each labelled with the token it came
    from (``token_ids`` in block order x0..x3; a negative id means zero padding)."""
    ax = ax or plt.gca()
    for k, tok in enumerate(token_ids):
        colour = GATHER_COLORS[k] if tok >= 0 else "#9e9e9e"
        ax.add_patch(Rectangle((k * dim, 0), dim, 1, fc=colour, ec="black", lw=1))
        ax.text(
            (k + 0.5) * dim,
            0.5,
            f"x{k}\n" + ("pad" if tok < 0 else f"token {tok}"),
            ha="center",
            va="center",
            fontsize=8,
        )
    ax.set_xlim(0, 4 * dim)
    ax.set_ylim(0, 1)
    ax.set_xticks([k * dim for k in range(5)])
    ax.tick_params(labelsize=8)
    ax.set_yticks([])
    ax.set_xlabel("channel", fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def show_pca_map(
    features: torch.Tensor,
    ax: Axes | None = None,
    size_px: float | None = None,
    title: str | None = None,
    grid: bool = False,
) -> Axes:
    """A (1, H, W, C) / (H, W, C) token map as its first 3 principal components in RGB.

    The map is stretched over ``size_px`` pixels, so maps of different resolution line up with the
    image; ``grid`` draws the token borders.
    """
    rgb = feature_pca_rgb(features)
    h, w = rgb.shape[:2]
    size = float(size_px or max(h, w))
    ax = ax or plt.gca()
    ax.imshow(rgb, extent=(0, size * w / max(h, w), size * h / max(h, w), 0), interpolation="nearest")
    if grid:
        step = size / max(h, w)
        for k in range(1, h):
            ax.axhline(k * step, color="white", lw=0.4, alpha=0.7)
        for k in range(1, w):
            ax.axvline(k * step, color="white", lw=0.4, alpha=0.7)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
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

    values = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
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
        numbers = text.detach().cpu().numpy() if isinstance(text, torch.Tensor) else np.asarray(text)
        for (i, j), v in np.ndenumerate(numbers):
            ax.text(
                (j + 0.5) * sx - 0.5,
                (i + 0.5) * sy - 0.5,
                f"{v:g}",
                ha="center",
                va="center",
                fontsize=fontsize,
            )
    if window_size:
        draw_grid(ax, window_size * sy, ph, pw, color="black", lw=1.6, alpha=1.0)
    ax.set_xlim(-0.5, pw - 0.5)
    ax.set_ylim(ph - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def draw_norm_placement(
    ax: Axes | None = None,
    placement: str = "pre",
    branch: str = "attention\nor MLP",
    title: str | None = None,
) -> Axes:
    """Diagram of one residual sub-block: input at the bottom, output on top, skip path on the left.

    ``placement`` puts the LayerNorm where a block's ``norm_placement`` does: ``"pre"`` (Swin v1,
    ``x + f(LN(x))``), ``"post"`` (original Transformer, ``LN(x + f(x))``) or ``"res_post"``
    (Swin V2, ``x + LN(f(x))``). Without ``title`` the formula is the title. Best in a panel of
    about 3 x 3.8 inches.
    """
    from matplotlib.patches import Circle, FancyBboxPatch

    layouts = {
        "pre": (["LayerNorm", branch], [], r"pre-norm: $x + f(\mathrm{LN}(x))$"),
        "post": ([branch], ["LayerNorm"], r"post-norm: $\mathrm{LN}(x + f(x))$"),
        "res_post": ([branch, "LayerNorm"], [], r"res-post-norm: $x + \mathrm{LN}(f(x))$"),
    }
    if placement not in layouts:
        raise ValueError(f"placement must be one of {tuple(layouts)}, got {placement!r}")
    side, after, formula = layouts[placement]
    ax = ax or plt.gca()
    arrow = dict(arrowstyle="-|>", color="0.2", lw=1.2, shrinkA=0, shrinkB=0)
    bx, half_w, half_h, r = 1.3, 0.6, 0.27, 0.16  # branch column, box half sizes, radius of (+)

    def box(x: float, y: float, label: str) -> None:
        color = "#fdd9a0" if label == "LayerNorm" else "#c6dbef"
        corner = (x - half_w, y - half_h)
        style = "round,pad=0.02"
        patch = FancyBboxPatch(corner, 2 * half_w, 2 * half_h, boxstyle=style, fc=color, ec="0.3")
        ax.add_patch(patch)
        ax.text(x, y, label, ha="center", va="center", fontsize=9, linespacing=0.9)

    k = len(side)
    plus_y = k + 1
    ax.text(0, -0.1, "$x$", ha="center", va="top", fontsize=11)
    ax.annotate("", xy=(0, plus_y - r), xytext=(0, 0), arrowprops=arrow)  # the skip path
    ax.plot([0, bx], [0.35, 0.35], color="0.2", lw=1.2)  # split into the branch
    ax.annotate("", xy=(bx, 1 - half_h), xytext=(bx, 0.35), arrowprops=arrow)
    for i, label in enumerate(side, start=1):
        box(bx, i, label)
        if i < k:
            ax.annotate("", xy=(bx, i + 1 - half_h), xytext=(bx, i + half_h), arrowprops=arrow)
    ax.plot([bx, bx], [k + half_h, plus_y], color="0.2", lw=1.2)
    ax.annotate("", xy=(r, plus_y), xytext=(bx, plus_y), arrowprops=arrow)
    ax.add_patch(Circle((0, plus_y), r, fc="white", ec="0.2", lw=1.2))
    ax.text(0, plus_y, "+", ha="center", va="center", fontsize=12)
    y, start = plus_y, plus_y + r
    for label in after:
        ax.annotate("", xy=(0, y + 1 - half_h), xytext=(0, start), arrowprops=arrow)
        y += 1
        box(0, y, label)
        start = y + half_h
    top = y + 0.85
    ax.annotate("", xy=(0, top), xytext=(0, start), arrowprops=arrow)
    ax.text(0, top + 0.05, "output", ha="center", va="bottom", fontsize=10)
    ax.set_xlim(-0.75, bx + half_w + 0.2)
    ax.set_ylim(-0.5, 4.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or formula, fontsize=10)
    return ax
