"""Pictures for notebooks 10 and 11 (experiments and trained models). Each helper draws on Axes and
returns them; end the notebook cell with ``plt.show()``."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from swin_tutor.lab.experiments import reach
from swin_tutor.plot.axes import draw_grid, subplots
from swin_tutor.plot.training import plot_test_accuracy

__all__ = [
    "MODEL_COLOURS",
    "plot_curves",
    "show_dots",
    "show_reach_row",
    "show_head_maps",
    "show_fields",
    "show_bias_images",
    "overlay",
    "pca_rgb",
]


# One colour per model across notebook 10 (the same name, the same colour, in every panel).
MODEL_COLOURS = {
    "shifted windows": "tab:blue",
    "no shift": "tab:red",
    "global attention": "tab:green",
    "per-head table": "tab:blue",
    "no position bias": "tab:red",
    "one shared table": "tab:purple",
    "v1 bicubic table": "tab:red",
    "v2 CPB linear": "tab:orange",
    "v2 CPB log": "tab:blue",
    "pre-norm, dot": "tab:red",
    "pre-norm, cosine": "tab:orange",
    "res-post-norm, dot": "tab:purple",
    "res-post-norm, cosine": "tab:blue",
    "v2 learned scale": "tab:blue",
    "v2 tau = 0.01": "tab:red",
    "4x4 map, clamp rule": "tab:blue",
    "4x4 map, shifted anyway": "tab:brown",
    "v1 with shift": "tab:blue",
    "v1 without shift": "tab:red",
}


def plot_curves(runs: dict, key: str = "test_acc_curve", ax: Axes | None = None, title: str | None = None) -> Axes:
    """One accuracy line per run of an experiment's JSON ``runs`` (per-epoch ``key``), chance 0.5 dashed,
    each model in its ``MODEL_COLOURS`` colour, the legend under the axes."""
    curves = {name: run[key] for name, run in runs.items()}
    ylabel = key.replace("_curve", "").replace("_", " ")
    return plot_test_accuracy(curves, ax, title, chance=0.5, ylabel=ylabel, colors=MODEL_COLOURS, legend_below=True)


def show_dots(image: torch.Tensor, window: int, ax: Axes | None = None, title: str | None = None) -> Axes:
    """A (3, H, W) dot image with the window grid (white) and the shifted grid (dashed yellow)."""
    ax = ax or plt.gca()
    h, w = image.shape[1:]
    ax.imshow(image.permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
    draw_grid(ax, window, h, w, color="white", lw=1.0)
    draw_grid(ax, window, h, w, offset=window // 2, color="yellow", lw=0.8, alpha=0.6)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def show_reach_row(fields: Sequence[torch.Tensor], titles: Sequence[str], window: int, query: tuple[int, int]):
    """Receptive fields (H, W) side by side, drawn as what they say: reached (the gradient is not zero,
    ``experiments.reach``) or not. The window grid in grey, the query outlined in red; each title ends with
    the count of tokens reached."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    fig, axes = subplots(len(fields), size=2.4)
    cmap = ListedColormap(["#1b1b3a", "#ffd166"])  # not reached, reached
    for ax, field, title in zip(axes, fields, titles, strict=True):
        reached = reach(field)
        ax.imshow(reached.numpy(), cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        h, w = field.shape
        draw_grid(ax, window, h, w, color="grey", lw=1.5, alpha=0.9)
        ax.add_patch(Rectangle((query[1] - 0.5, query[0] - 0.5), 1, 1, fill=False, ec="red", lw=2.5))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{title}\n{int(reached.sum())} of {h * w} tokens", fontsize=9)
    handles = [Patch(color="#ffd166", label="reached"), Patch(color="#1b1b3a", label="not reached"),
               Patch(fill=False, ec="red", lw=2, label="query token")]  # fmt: skip
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=9, frameon=False, bbox_to_anchor=(0.5, -0.08))
    return fig, axes


def overlay(ax: Axes, base: np.ndarray, heat: np.ndarray, alpha: float = 0.55, cmap: str = "jet") -> Axes:
    """A grey picture with a heat map (upsampled to its size by repetition) on top."""
    scale = base.shape[0] // heat.shape[0]
    ax.imshow(base, cmap="gray")
    ax.imshow(np.kron(heat, np.ones((scale, scale))), cmap=cmap, alpha=alpha, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def _outline(ax: Axes, cells: np.ndarray, color: str, lw: float) -> None:
    """Draw the outer edges of a set of (h, w) cells (True), also when the set wraps around the map."""
    h, w = cells.shape
    for r, c in zip(*np.nonzero(cells), strict=True):
        sides = (
            (-1, 0, [c - 0.5, c + 0.5], [r - 0.5] * 2),
            (1, 0, [c - 0.5, c + 0.5], [r + 0.5] * 2),
            (0, -1, [c - 0.5] * 2, [r - 0.5, r + 0.5]),
            (0, 1, [c + 0.5] * 2, [r - 0.5, r + 0.5]),
        )
        for dr, dc, x, y in sides:
            rr, cc = r + dr, c + dc
            if not (0 <= rr < h and 0 <= cc < w and cells[rr, cc]):
                ax.plot(x, y, color=color, lw=lw, solid_capstyle="butt")


def show_head_maps(result: dict, query: tuple[int, int], title: str, base: np.ndarray | None = None, size: float = 3.4):
    """A row of attention maps of one query (``explain.query_attention``), one per head, one colour scale.

    ``base`` (h, w) in [0, 1] (the digit, one value per token) is drawn in grey underneath; the query's
    window is outlined in white, masked keys carry a red cross, the query a red square; a legend names them."""
    from matplotlib.lines import Line2D

    weights, masked, window = result["weights"], result["masked"], result["window"]
    heads = weights.shape[0]
    fig, axes = subplots(heads, size=size)
    peak = float(weights.max())
    for h, ax in enumerate(axes):
        if base is not None:
            ax.imshow(base, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        shown = np.ma.masked_where(~window.numpy(), weights[h].numpy())  # only the window is coloured
        im = ax.imshow(shown, cmap="viridis", vmin=0, vmax=peak, alpha=0.85, interpolation="nearest")
        _outline(ax, window.numpy(), "white", 2.0)
        ys, xs = np.nonzero(masked.numpy())
        ax.scatter(xs, ys, marker="x", color="red", s=70, lw=2.0)
        ax.add_patch(Rectangle((query[1] - 0.5, query[0] - 0.5), 1, 1, fill=False, ec="red", lw=2.5))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"head {h}", fontsize=11)
    handles = [
        Line2D([], [], marker="s", ls="", mfc="none", mec="red", mew=2, ms=10, label="query token"),
        Line2D([], [], marker="x", ls="", color="red", mew=2, ms=9, label="masked key (weight 0)"),
        Line2D([], [], color="white", lw=2, label="query's window"),
    ]
    legend = fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=9, bbox_to_anchor=(0.45, -0.09))
    legend.get_frame().set_facecolor("#bbbbbb")
    fig.suptitle(title, fontsize=12)
    fig.colorbar(im, ax=axes, shrink=0.8, label="attention weight")
    return fig, axes


def show_fields(fields: Sequence[torch.Tensor], titles: Sequence[str], centres: Sequence[tuple[int, int, int]]):
    """Effective receptive fields (H, W) in [0, 1] side by side on one log colour scale (1e-3 .. 1); the
    pixels of each field's output token outlined in cyan (``centres``: (row, col, pixels per token))."""
    from matplotlib.colors import LogNorm

    fig, axes = subplots(len(fields), size=3.1)
    for ax, field, title, (r, c, px) in zip(axes, fields, titles, centres, strict=True):
        im = ax.imshow(field.clamp_min(1e-3).numpy(), cmap="magma", norm=LogNorm(1e-3, 1), interpolation="nearest")
        ax.add_patch(Rectangle((c * px - 0.5, r * px - 0.5), px, px, fill=False, ec="cyan", lw=2))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=axes, shrink=0.8, label="mean |gradient| / max (log)")
    return fig, axes


def show_bias_images(images: torch.Tensor, title: str, cmap: str = "coolwarm", size: float = 2.6):
    """(heads, 2w-1, 2w-1) bias images (offsets query - key, ``explain.relative_bias_image``), minus each head's
    mean, on one symmetric scale; the query itself (offset 0) outlined; the axes labelled with the offsets."""
    heads, rows, cols = images.shape
    fig, axes = subplots(heads, size=size)
    centred = images - images.mean(dim=(1, 2), keepdim=True)
    bound = float(centred.abs().max()) or 1.0
    cy, cx = rows // 2, cols // 2
    for h, ax in enumerate(axes):
        im = ax.imshow(centred[h].numpy(), cmap=cmap, vmin=-bound, vmax=bound)
        ax.add_patch(Rectangle((cx - 0.5, cy - 0.5), 1, 1, fill=False, ec="black", lw=1.5))
        ax.set_xticks([0, cx, cols - 1], [f"{-cx:+d}", "0", f"{cx:+d}"], fontsize=8)
        ax.set_yticks([0, cy, rows - 1], [f"{-cy:+d}", "0", f"{cy:+d}"], fontsize=8)
        ax.set_xlabel("dx = query - key col", fontsize=8)
        if h == 0:
            ax.set_ylabel("dy = query - key row", fontsize=8)
        ax.set_title(f"head {h}", fontsize=9)
    fig.suptitle(title + " (minus each head's mean)", fontsize=10)
    fig.colorbar(im, ax=axes, shrink=0.8, label="bias (logits)")
    return fig, axes


def pca_rgb(features: torch.Tensor) -> np.ndarray:
    """(h, w, C) features -> (h, w, 3) colours in [0, 1]: the first three principal components, each
    min-max scaled (similar features, similar colours; the colours themselves carry no meaning)."""
    h, w, c = features.shape
    flat = features.reshape(-1, c).float()
    flat = flat - flat.mean(dim=0)
    _, _, v = torch.linalg.svd(flat, full_matrices=False)
    comps = flat @ v[:3].T  # (h*w, 3)
    comps = (comps - comps.min(dim=0).values) / (comps.max(dim=0).values - comps.min(dim=0).values).clamp_min(1e-8)
    return comps.reshape(h, w, 3).detach().numpy()
