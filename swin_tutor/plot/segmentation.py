"""Pictures of segmentation (notebook 12): digit scenes, class maps, predictions, the feature pyramid, IoU bars.

One colour per class everywhere (:data:`CLASS_COLOURS`): background black, digit d the d-th colour of
matplotlib's ``tab10``. Images are the model's input (1, H, W) normalised as in :mod:`swin_tutor.train.data`;
class maps are (H, W) long, 0 background and 1 + d for digit d (:mod:`swin_tutor.train.scenes`).
Each helper draws on Axes and returns them; end the notebook cell with ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from swin_tutor.plot.axes import draw_grid, finish_axes, subplots, to_numpy
from swin_tutor.plot.features import feature_pca_rgb
from swin_tutor.train.data import denormalize
from swin_tutor.train.scenes import NUM_SCENE_CLASSES, SCENE_CLASS_NAMES

__all__ = [
    "CLASS_COLOURS",
    "CLASS_CMAP",
    "show_scene",
    "show_class_map",
    "class_legend",
    "show_predictions",
    "show_pyramid",
    "plot_iou",
]

CLASS_COLOURS = [(0.0, 0.0, 0.0), *[plt.get_cmap("tab10")(d)[:3] for d in range(10)]]
CLASS_CMAP = ListedColormap(CLASS_COLOURS, name="scene_classes")


def _grid(ax: Axes, grid: int | None, height: int, width: int) -> None:
    if grid:
        draw_grid(ax, grid, height, width, color="white", lw=0.5, alpha=0.5)


def show_scene(image: torch.Tensor, ax: Axes | None = None, title: str | None = None, grid: int | None = None) -> Axes:
    """A normalised (1, H, W) scene in grey; ``grid`` draws lines every ``grid`` pixels (e.g. window borders)."""
    ink = to_numpy(denormalize(image.detach().float().reshape(image.shape[-2:])).clamp(0, 1))
    ax = ax or plt.gca()
    ax.imshow(ink, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    _grid(ax, grid, *ink.shape)
    return finish_axes(ax, title)


def show_class_map(
    classes: torch.Tensor, ax: Axes | None = None, title: str | None = None, grid: int | None = None
) -> Axes:
    """An (H, W) class map (0 background, 1 + d digit d) in the class colours."""
    if classes.dim() != 2:
        raise ValueError(f"classes must be an (H, W) class map, got shape {tuple(classes.shape)}")
    values = to_numpy(classes)
    ax = ax or plt.gca()
    ax.imshow(values, cmap=CLASS_CMAP, vmin=-0.5, vmax=NUM_SCENE_CLASSES - 0.5, interpolation="nearest")
    _grid(ax, grid, *values.shape)
    return finish_axes(ax, title)


def class_legend(fig: plt.Figure, ncol: int = 11, y: float = 0.0) -> None:
    """One legend for the whole figure: a patch per class, below the panels."""
    handles = [Patch(color=c, label=name) for c, name in zip(CLASS_COLOURS, SCENE_CLASS_NAMES, strict=True)]
    fig.legend(handles=handles, loc="upper center", ncol=ncol, bbox_to_anchor=(0.5, y), fontsize=9, frameon=False)


def show_predictions(
    images: torch.Tensor,
    masks: torch.Tensor,
    predictions: torch.Tensor,
    size: float = 2.2,
    grid: int | None = None,
) -> tuple[plt.Figure, list[Axes]]:
    """Columns of scene / true classes / predicted classes / errors (white: a wrong pixel), one row per scene.
    ``images`` (N, 1, H, W), ``masks`` and ``predictions`` (N, H, W)."""
    n = len(images)
    h, w = images.shape[-2:]
    fig, axes = subplots(4, n, size=size)
    fig.set_size_inches(4 * size * w / max(h, w) + 0.4, n * size * h / max(h, w) + 0.6)
    for i in range(n):
        row = axes[4 * i : 4 * i + 4]
        show_scene(images[i], row[0], "scene" if i == 0 else None, grid)
        show_class_map(masks[i], row[1], "labels" if i == 0 else None, grid)
        show_class_map(predictions[i], row[2], "prediction" if i == 0 else None, grid)
        wrong = to_numpy((predictions[i] != masks[i]).float())
        row[3].imshow(wrong, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        finish_axes(row[3], "wrong pixels" if i == 0 else None)
    class_legend(fig, y=0.06)
    return fig, axes


def show_pyramid(
    image: torch.Tensor,
    features: Sequence[torch.Tensor],
    strides: Sequence[int],
    size: float = 2.4,
) -> tuple[plt.Figure, list[Axes]]:
    """The scene and each NCHW map (1, C_i, H_i, W_i) of a pyramid as its first 3 principal components,
    each stretched over the scene's pixels so that a token covers the pixels it sees (stride x stride)."""
    fig, axes = subplots(1 + len(features), size=size)
    h, w = image.shape[-2:]
    show_scene(image, axes[0], f"scene {h}x{w}")
    for ax, f, s in zip(axes[1:], features, strides, strict=True):
        if f.dim() != 4 or f.shape[0] != 1:
            raise ValueError(f"each feature map must be (1, C, H, W), got shape {tuple(f.shape)}")
        rgb = feature_pca_rgb(f[0].permute(1, 2, 0))  # (H_i, W_i, 3) from (C, H_i, W_i)
        hi, wi = f.shape[2:]
        ax.imshow(rgb, extent=(-0.5, wi * s - 0.5, hi * s - 0.5, -0.5), interpolation="nearest")
        finish_axes(ax, f"stride {s}: {hi}x{wi}, C={f.shape[1]}", height=h, width=w)
    return fig, axes


def plot_iou(
    ious: dict[str, Sequence[float]], ax: Axes | None = None, title: str | None = None, names=SCENE_CLASS_NAMES
) -> Axes:
    """Grouped bars: per-class IoU of one or more models (``{label: K values}``), classes on the x axis."""
    ax = ax or plt.gca()
    k = len(names)
    width = 0.8 / max(1, len(ious))
    styles = ["#4c72b0", "#dd8452", "#55a868", "#8172b3"]
    for j, (label, values) in enumerate(ious.items()):
        values = np.asarray(values, dtype=float)
        if len(values) != k:
            raise ValueError(f"ious[{label!r}] must hold {k} values (one per class), got {len(values)}")
        ax.bar(np.arange(k) + (j - (len(ious) - 1) / 2) * width, values, width, label=label, color=styles[j % 4])
    ax.set_xticks(np.arange(k), names, rotation=0, fontsize=9)
    ax.set_ylim(0, 1)
    ax.set_ylabel("IoU")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # beside: never on a bar
    if title:
        ax.set_title(title, fontsize=10)
    return ax
