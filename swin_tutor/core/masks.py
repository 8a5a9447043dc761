"""The shifted-window attention mask, in the official construction and in a popular tutorial's.

After the cyclic shift, a window at the bottom or right edge holds tokens that were far apart in
the image. The mask stops them attending to each other.

Official construction: label the (H, W) canvas with 9 regions (3 slices per axis: ``0:-ws``,
``-ws:-s``, ``-s:``), cut the labels into windows, and forbid every (query, key) pair whose labels
differ by adding -100 to its logit. Shape (nW, N, N) with N = wh * ww.
"""

from __future__ import annotations

import torch

from swin_tutor.core.validation import positive_pair, to_2tuple
from swin_tutor.core.windows import window_partition

__all__ = [
    "region_labels",
    "shifted_window_mask",
    "easy_window_masks",
    "easy_shifted_window_mask",
    "blocked_pairs",
    "same_blocked_pairs",
]


def _axis_regions(length: int, window: int, shift: int) -> torch.Tensor:
    """Region of each index along one axis: 0 for [0, L-ws), 1 for [L-ws, L-s), 2 for [L-s, L)."""
    idx = torch.arange(length)
    if shift == 0:
        return torch.zeros(length, dtype=torch.long)
    return (idx >= length - window).long() + (idx >= length - shift).long()


def region_labels(
    height: int, width: int, window_size: int | tuple[int, int], shift_size: int | tuple[int, int]
) -> torch.Tensor:
    """Label each position of an (H, W) canvas with its region 0..8 (``3 * row_region + col_region``)."""
    wh, ww = positive_pair(window_size, "window_size")
    sh, sw = to_2tuple(shift_size, "shift_size")
    if height % wh or width % ww:
        raise ValueError(f"the window {wh}x{ww} must divide the (padded) map, got {height}x{width}")
    if not (0 <= sh < wh and 0 <= sw < ww):
        raise ValueError(f"shift_size must be in [0, window) per axis, got {(sh, sw)} for window {(wh, ww)}")
    rows = _axis_regions(height, wh, sh)
    cols = _axis_regions(width, ww, sw)
    return rows[:, None] * 3 + cols[None, :]  # (H, W)


def shifted_window_mask(
    height: int,
    width: int,
    window_size: int | tuple[int, int],
    shift_size: int | tuple[int, int],
    fill: float = -100.0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The official mask: (nW, N, N), ``fill`` where query and key lie in different regions, else 0."""
    wh, ww = to_2tuple(window_size, "window_size")
    labels = region_labels(height, width, (wh, ww), shift_size)
    windows = window_partition(labels[None, :, :, None], (wh, ww)).reshape(-1, wh * ww)  # (nW, N)
    different = windows[:, :, None] != windows[:, None, :]  # (nW, N query, N key)
    mask = torch.zeros(different.shape, device=device)
    return mask.masked_fill_(different.to(mask.device), fill)


def easy_window_masks(window_size: int, shift: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The tutorial's two fixed (N, N) masks, filled with -inf (a documented variant, not the official one).

    ``upper_lower`` blocks pairs where exactly one token is in the last ``shift`` rows of the window;
    ``left_right`` does the same for the last ``shift`` columns.
    """
    if window_size < 1 or not 0 < shift < window_size:
        raise ValueError(f"need window_size >= 2 and 0 < shift < window_size, got {window_size}, {shift}")
    rows, cols = torch.meshgrid(torch.arange(window_size), torch.arange(window_size), indexing="ij")
    low = (rows >= window_size - shift).flatten()  # token sits in the wrapped-around rows
    right = (cols >= window_size - shift).flatten()  # token sits in the wrapped-around columns
    inf = float("-inf")
    upper_lower = torch.zeros(window_size**2, window_size**2)
    upper_lower[low[:, None] != low[None, :]] = inf
    left_right = torch.zeros(window_size**2, window_size**2)
    left_right[right[:, None] != right[None, :]] = inf
    return upper_lower, left_right


def easy_shifted_window_mask(height: int, width: int, window_size: int, shift: int) -> torch.Tensor:
    """The tutorial's placement of its two masks over the window grid: (nW, N, N) with -inf.

    ``upper_lower`` goes on the last row of windows, ``left_right`` on the last column, both on the
    corner window.
    """
    if height % window_size or width % window_size:
        raise ValueError(f"the window {window_size} must divide the map, got {height}x{width}")
    upper_lower, left_right = easy_window_masks(window_size, shift)
    nh, nw = height // window_size, width // window_size
    mask = torch.zeros(nh, nw, window_size**2, window_size**2)
    mask[-1] += upper_lower
    mask[:, -1] += left_right
    return mask.reshape(nh * nw, window_size**2, window_size**2)


def blocked_pairs(mask: torch.Tensor) -> torch.Tensor:
    """Boolean (nW, N, N): which (query, key) pairs a mask forbids (any negative entry, -100 or -inf)."""
    return mask < 0


def same_blocked_pairs(mask_a: torch.Tensor, mask_b: torch.Tensor) -> bool:
    """True when two masks forbid exactly the same (query, key) pairs, whatever their fill values."""
    if mask_a.shape != mask_b.shape:
        return False
    return bool(torch.equal(blocked_pairs(mask_a), blocked_pairs(mask_b)))
