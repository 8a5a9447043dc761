"""Pictures for notebooks 10 and 11 (experiments and trained models). Each helper draws on Axes and
returns them; end the notebook cell with ``plt.show()``."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from swin_tutor.plot.axes import draw_grid, subplots
from swin_tutor.plot.training import plot_test_accuracy

__all__ = ["plot_curves", "show_dots", "show_reach_row", "show_head_maps", "show_bias_images", "overlay", "pca_rgb"]


def plot_curves(runs: dict, key: str = "test_acc_curve", ax: Axes | None = None, title: str | None = None) -> Axes:
    """One accuracy line per run of an experiment's JSON ``runs`` (per-epoch ``key``), chance 0.5 dashed."""
    curves = {name: run[key] for name, run in runs.items()}
    return plot_test_accuracy(curves, ax, title, chance=0.5, ylabel=key.replace("_curve", "").replace("_", " "))


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
    """Receptive fields (H, W) side by side on one colour scale, window grid drawn, query marked."""
    fig, axes = subplots(len(fields), size=2.4)
    peak = max(float(f.max()) for f in fields)
    for ax, field, title in zip(axes, fields, titles, strict=True):
        im = ax.imshow((field / peak).numpy(), cmap="magma", vmin=0, vmax=1)
        h, w = field.shape
        draw_grid(ax, window, h, w, color="white", lw=1.0)
        ax.add_patch(Rectangle((query[1] - 0.5, query[0] - 0.5), 1, 1, fill=False, ec="cyan", lw=2))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=axes, shrink=0.8, label="|gradient| / max")
    return fig, axes


def overlay(ax: Axes, base: np.ndarray, heat: np.ndarray, alpha: float = 0.55, cmap: str = "jet") -> Axes:
    """A grey picture with a heat map (upsampled to its size by repetition) on top."""
    scale = base.shape[0] // heat.shape[0]
    ax.imshow(base, cmap="gray")
    ax.imshow(np.kron(heat, np.ones((scale, scale))), cmap=cmap, alpha=alpha, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def show_head_maps(result: dict, query: tuple[int, int], title: str, base: np.ndarray | None = None):
    """A row of attention maps of one query (``explain.query_attention``), one per head, one scale;
    the masked keys hatched, the query's window outlined."""
    weights, masked, window = result["weights"], result["masked"], result["window"]
    heads = weights.shape[0]
    fig, axes = subplots(heads, size=2.2)
    peak = float(weights.max())
    for h, ax in enumerate(axes):
        im = ax.imshow(weights[h].numpy(), cmap="viridis", vmin=0, vmax=peak)
        ys, xs = np.nonzero(masked.numpy())
        ax.scatter(xs, ys, marker="x", color="red", s=12, lw=0.8)
        ys, xs = np.nonzero(window.numpy())
        ax.scatter(xs, ys, marker="s", facecolors="none", edgecolors="white", s=10, lw=0.3)
        ax.add_patch(Rectangle((query[1] - 0.5, query[0] - 0.5), 1, 1, fill=False, ec="red", lw=1.5))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"head {h}", fontsize=9)
    fig.suptitle(title + "  (x: masked key, square: same window)", fontsize=10)
    fig.colorbar(im, ax=axes, shrink=0.8, label="attention weight")
    return fig, axes


def show_bias_images(images: torch.Tensor, title: str, cmap: str = "coolwarm"):
    """(heads, 2w-1, 2w-1) bias images (key - query offsets), centre marked, one symmetric scale."""
    heads = images.shape[0]
    fig, axes = subplots(heads, size=1.9)
    centred = images - images.mean(dim=(1, 2), keepdim=True)
    bound = float(centred.abs().max()) or 1.0
    for h, ax in enumerate(axes):
        im = ax.imshow(centred[h].numpy(), cmap=cmap, vmin=-bound, vmax=bound)
        c = images.shape[1] // 2
        ax.add_patch(Rectangle((c - 0.5, c - 0.5), 1, 1, fill=False, ec="black", lw=1))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"head {h}", fontsize=8)
    fig.suptitle(title + " (minus each head's mean)", fontsize=10)
    fig.colorbar(im, ax=axes, shrink=0.8)
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
