"""The cost picture of notebook 01: global against window attention, drawn over the number of tokens.

Both panels use the paper's formulas (:mod:`swin_tutor.core.flops`). Plotted over tokens (not image side),
window attention is a straight line: its cost per token is constant, global attention's grows.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from swin_tutor.core.flops import global_msa_macs, window_msa_macs

__all__ = ["plot_attention_cost"]

_GLOBAL, _WINDOW = "tab:red", "tab:blue"


def plot_attention_cost(
    channels: int = 96,
    window: int = 7,
    image_sides: Sequence[int] = (224, 384, 512, 1024),
    max_tokens: int = 10_000,
    axes: Sequence[Axes] | None = None,
) -> list[Axes]:
    """Two panels of one attention layer's multiply-adds against the number of tokens hw.

    Both start at M^2 tokens (one window; a smaller map is one clamped window).
    Left (log-log): the total, global MSA ~ (hw)^2 and W-MSA ~ hw, with ViT-16 (global attention on
    16x16 patches) and Swin (windows on 4x4 patches) marked at each of ``image_sides``. Right (linear
    axes, up to ``max_tokens``): the cost per token, constant for windows. Returns the two Axes.
    """
    if not isinstance(channels, int) or not isinstance(window, int) or channels < 1 or window < 1:
        raise ValueError(f"channels and window must be positive ints, got {channels!r} and {window!r}")
    if not image_sides or any(not isinstance(s, int) or s < 16 for s in image_sides):
        raise ValueError(f"image_sides must be ints >= 16 (one 16x16 patch at least), got {image_sides!r}")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12.0, 4.6), constrained_layout=True)
    ax_total, ax_token = list(axes)[:2]
    c, m = channels, window

    tokens = np.unique(np.geomspace(window * window, max(s // 4 for s in image_sides) ** 2, 200).round()).astype(int)
    glob = np.array([global_msa_macs(int(n), 1, c) for n in tokens], dtype=float)  # depends on hw only
    win = np.array([window_msa_macs(int(n), 1, c, m) for n in tokens], dtype=float)
    ax_total.loglog(tokens, glob / 1e9, color=_GLOBAL, label="global MSA: grows like tokens$^2$")
    ax_total.loglog(tokens, win / 1e9, color=_WINDOW, label=f"window {m}x{m} (W-MSA): grows like tokens")
    for side in image_sides:
        vit, swin = (side // 16) ** 2, (side // 4) ** 2
        ax_total.plot(vit, global_msa_macs(vit, 1, c) / 1e9, "s", color=_GLOBAL, ms=7)
        ax_total.plot(swin, window_msa_macs(swin, 1, c, m) / 1e9, "o", color=_WINDOW, ms=7)
        ax_total.annotate(
            f"{side}",
            (vit, global_msa_macs(vit, 1, c) / 1e9),
            xytext=(-8, 6),
            textcoords="offset points",
            ha="right",
            color=_GLOBAL,
        )
        ax_total.annotate(
            f"{side}",
            (swin, window_msa_macs(swin, 1, c, m) / 1e9),
            xytext=(6, -14),
            textcoords="offset points",
            color=_WINDOW,
        )
    ax_total.plot([], [], "s", color=_GLOBAL, label=f"ViT-16 at an image side (px), also C = {c}")
    ax_total.plot([], [], "o", color=_WINDOW, label="Swin at the same side: 16x the tokens")
    ax_total.set_xlabel("tokens hw (log scale)")
    ax_total.set_ylabel("one attention layer, G multiply-adds")
    ax_total.set_title(f"total cost (C = {c})")
    ax_total.legend(loc="upper left", fontsize=10)
    ax_total.grid(True, which="major", alpha=0.3)

    n = np.linspace(m * m, max_tokens, 400)  # from one full window up
    per_global = 4 * c * c + 2 * n * c  # Omega(MSA) / hw
    per_window = np.full_like(n, 4 * c * c + 2 * m * m * c)  # Omega(W-MSA) / hw: no hw left
    ax_token.plot(n, per_global / 1e3, color=_GLOBAL, label="global MSA: 4C² + 2·hw·C")
    ax_token.plot(n, per_window / 1e3, color=_WINDOW, label=f"window {m}x{m}: 4C² + 2·M²·C")
    for side in image_sides:
        vit, swin = (side // 16) ** 2, (side // 4) ** 2
        if vit <= max_tokens:
            ax_token.plot(vit, (4 * c * c + 2 * vit * c) / 1e3, "s", color=_GLOBAL, ms=7)
        if swin <= max_tokens:
            ax_token.plot(swin, per_window[0] / 1e3, "o", color=_WINDOW, ms=7)
    ax_token.set_xlabel("tokens hw")
    ax_token.set_ylabel("cost per token, k multiply-adds")
    ax_token.set_title("cost per token: constant for windows")
    ax_token.set_xlim(0, max_tokens)
    ax_token.set_ylim(0, None)
    ax_token.legend(loc="upper left", fontsize=10)
    ax_token.grid(True, alpha=0.3)
    return [ax_total, ax_token]
