"""Activation size through a stack of blocks (notebook 07's experiment and its live control)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

__all__ = ["plot_rms_by_block"]


def plot_rms_by_block(
    curves: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    title: str | None = None,
    max_depth: int | None = None,
    ylim: tuple[float, float] | None = None,
    sqrt_reference: bool = False,
    legend_outside: bool = False,
) -> Axes:
    """One line per curve: the RMS of the main path after block 1, 2, ... (log scale).

    ``max_depth`` and ``ylim`` fix the axes so that pictures of several settings compare. With
    ``sqrt_reference`` a dashed line shows sqrt(1 + 2 * block): the RMS of a unit-size input plus two
    independent unit-size vectors per block (attention and MLP), what res-post-norm adds at LayerNorm 1.
    ``legend_outside`` puts the legend to the right of the axes, where no curve can run under it.
    """
    if not curves or any(len(c) == 0 for c in curves.values()):
        raise ValueError("curves must map each label to a non-empty list of RMS values, one per block")
    ax = ax or plt.gca()
    longest = max(len(c) for c in curves.values())
    for label, rms in curves.items():
        ax.plot(np.arange(1, len(rms) + 1), rms, ".-", label=label)
    if sqrt_reference:
        blocks = np.arange(1, (max_depth or longest) + 1)
        ax.plot(blocks, np.sqrt(1 + 2 * blocks), "--", color="0.5", lw=1, label="sqrt(1 + 2·block)")
    ax.set_yscale("log")
    if max_depth is not None:
        ax.set_xlim(0, max_depth + 1)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("block")
    ax.set_ylabel("RMS of x after the block")
    if title:
        ax.set_title(title)
    if legend_outside:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=10, borderaxespad=0.0)
    else:
        ax.legend(loc="upper left", fontsize=10)
    return ax
