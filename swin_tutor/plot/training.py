"""Pictures of a training run (notebook 09): digits with their patch grid, loss and accuracy curves, the
confusion matrix and the misclassified digits. Each helper draws on Axes and returns them; end the
notebook cell with ``plt.show()``.

Images are the model's input, (N, 1, H, W) normalised as :mod:`swin_tutor.train.data` does it; the helpers
undo the normalisation with :func:`swin_tutor.train.data.denormalize` before drawing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from swin_tutor.plot.axes import draw_grid, finish_axes, subplots, to_numpy
from swin_tutor.train.data import denormalize

__all__ = ["show_digits", "plot_history", "plot_test_accuracy", "show_confusion"]


def _grey(image: torch.Tensor) -> np.ndarray:
    """One normalised (1, H, W) or (H, W) image -> (H, W) ink in [0, 1]."""
    if not isinstance(image, torch.Tensor) or image.dim() not in (2, 3) or (image.dim() == 3 and image.shape[0] != 1):
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"image must be a (1, H, W) or (H, W) tensor, got {shape}")
    return to_numpy(denormalize(image.detach().float().reshape(image.shape[-2:])).clamp(0, 1))


def show_digits(
    images: torch.Tensor,
    titles: Sequence[str],
    ncols: int = 8,
    patch_size: int | None = None,
    grid_on: int = 0,
    size: float = 1.3,
    slots: int | None = None,
):
    """Normalised digits (N, 1, H, W) in a grid, one title each; with ``patch_size`` the patch grid is drawn
    (in red) on image ``grid_on``. ``slots`` (>= N) fixes the number of panels, the spare ones left empty, so
    the figure does not depend on N (a run's number of errors). Returns (figure, axes)."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 1:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a (N, 1, H, W) tensor, got {shape}")
    if len(titles) != len(images):
        raise ValueError(f"titles must name every image: {len(images)} images, got {len(titles)} titles")
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
    n = len(images)
    if slots is not None and (not isinstance(slots, int) or slots < n):
        raise ValueError(f"slots must be an int >= the {n} images, got {slots!r}")
    panels = max(n, 1) if slots is None else max(slots, 1)
    fig, axes = subplots(min(ncols, panels), -(-panels // ncols), size=size)
    h, w = images.shape[-2:]
    for i, ax in enumerate(axes):
        if i >= n:
            ax.axis("off")
            continue
        ax.imshow(_grey(images[i]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        if patch_size is not None and i == grid_on:
            draw_grid(ax, patch_size, h, w, color="red", lw=0.5, alpha=0.9)
        finish_axes(ax, titles[i], h, w)
    return fig, axes


def plot_history(history, axes: Sequence[Axes] | None = None, label: str | None = None) -> list[Axes]:
    """Two panels from a :class:`swin_tutor.train.loop.History` (or a dict with the same keys): the training
    loss per epoch, and the train and test accuracy per epoch (accuracy axis 0..1, chance 0.1 dashed)."""
    get = history.get if isinstance(history, Mapping) else lambda k, d=None: getattr(history, k, d)
    loss, train_acc, test_acc = get("train_loss") or [], get("train_acc") or [], get("test_acc") or []
    if not loss:
        raise ValueError("history has no train_loss: train at least one epoch first")
    if axes is None:
        _, axes = subplots(2, size=3.6)
    epochs = range(1, len(loss) + 1)
    prefix = f"{label} " if label else ""
    axes[0].plot(epochs, loss, marker="o", ms=3, label=f"{prefix}train")
    axes[0].set_ylabel("loss (label-smoothed cross-entropy)")
    axes[1].plot(epochs, train_acc, marker="o", ms=3, label=f"{prefix}train (augmented, drop path on)")
    if test_acc:
        axes[1].plot(range(1, len(test_acc) + 1), test_acc, marker="s", ms=3, label=f"{prefix}test")
    axes[1].axhline(0.1, color="grey", ls="--", lw=0.8, label="chance (10 classes)")
    axes[1].set_ylim(0.0, 1.02)
    axes[1].set_ylabel("accuracy")
    for ax in axes[:2]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return list(axes)


def plot_test_accuracy(
    curves: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    title: str | None = None,
    chance: float = 0.1,
    ylabel: str = "test accuracy",
    colors: Mapping[str, str] | None = None,
    legend_below: bool = False,
) -> Axes:
    """Accuracy per epoch of several runs on one shared axis (0..1), the ``chance`` level dashed
    (0.1: ten digit classes; the two-class tasks of notebook 10 pass 0.5). ``colors`` fixes a colour per run
    name (one colour per model across a notebook); ``legend_below`` puts the legend under the axes, off the curves."""
    if not curves:
        raise ValueError("curves must hold at least one run, got none")
    ax = ax or plt.gca()
    for name, values in curves.items():
        color = (colors or {}).get(name)
        ax.plot(range(1, len(values) + 1), list(values), marker="o", ms=3, label=name, color=color)
    ax.axhline(chance, color="grey", ls="--", lw=0.8, label=f"chance ({chance:g})")
    ax.set_ylim(0.0, 1.02)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if legend_below:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    else:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def show_confusion(confusion: torch.Tensor, ax: Axes | None = None, title: str | None = None) -> Axes:
    """A (K, K) confusion matrix (rows true class, columns predicted) as counts on a linear colour scale,
    with a colour bar; off-diagonal cells that are not zero have their count written in them."""
    values = to_numpy(confusion)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise ValueError(f"confusion must be a square (K, K) matrix, got shape {values.shape}")
    ax = ax or plt.gca()
    im = ax.imshow(values, cmap="Blues", interpolation="nearest", vmin=0)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="test digits")
    for (i, j), v in np.ndenumerate(values):
        if v and i != j:
            ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=8, color="crimson")
    k = values.shape[0]
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
