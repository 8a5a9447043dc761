"""Diagrams that are not pictures of a tensor: where the LayerNorm sits in a residual sub-block."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

__all__ = ["draw_norm_placement"]


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
    about 3.5 x 4.2 inches.
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
    bx, half_w, half_h, r = 1.4, 0.7, 0.3, 0.16  # branch column, box half sizes, radius of (+)

    def box(x: float, y: float, label: str) -> None:
        color = "#fdd9a0" if label == "LayerNorm" else "#c6dbef"
        corner = (x - half_w, y - half_h)
        style = "round,pad=0.02"
        patch = FancyBboxPatch(corner, 2 * half_w, 2 * half_h, boxstyle=style, fc=color, ec="0.3")
        ax.add_patch(patch)
        ax.text(x, y, label, ha="center", va="center", fontsize=11, linespacing=0.9)

    k = len(side)
    plus_y = k + 1
    ax.text(0, -0.1, "$x$", ha="center", va="top", fontsize=13)
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
    ax.text(0, plus_y, "+", ha="center", va="center", fontsize=13)
    y, start = plus_y, plus_y + r
    for label in after:
        ax.annotate("", xy=(0, y + 1 - half_h), xytext=(0, start), arrowprops=arrow)
        y += 1
        box(0, y, label)
        start = y + half_h
    top = y + 0.85
    ax.annotate("", xy=(0, top), xytext=(0, start), arrowprops=arrow)
    ax.text(0, top + 0.05, "output", ha="center", va="bottom", fontsize=12)
    ax.set_xlim(-0.75, bx + half_w + 0.2)
    ax.set_ylim(-0.5, 4.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or formula, fontsize=12)
    return ax
