"""Pictures of token maps (B, H, W, C): their first principal components as colours, their norms."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from swin_tutor.plot.axes import finish_axes

__all__ = ["feature_pca_rgb", "feature_norm", "show_pca_map"]


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
    return finish_axes(ax, title)
