"""Windows: partition a token map into non-overlapping windows, the cyclic shift, and the clamp rule.

Layouts: token maps are (B, H, W, C); windows are (B * nW, wh, ww, C), ordered row-major over the
window grid with the batch outermost, so window ``b * nW + i * (W // ww) + j`` is row i, column j of
image b.
"""

from __future__ import annotations

import torch
from einops import rearrange

from swin_tutor.core.validation import check_int, check_map, pad_to_multiple, to_2tuple

__all__ = [
    "to_2tuple",
    "window_partition",
    "window_reverse",
    "cyclic_shift",
    "reverse_cyclic_shift",
    "clamp_window_and_shift",
    "pad_to_multiple",
    "shifted_window_order",
]


def window_partition(x: torch.Tensor, window_size: int | tuple[int, int], *, check: bool = True) -> torch.Tensor:
    """Cut a (B, H, W, C) map into windows: (B * nW, wh, ww, C). H, W must be multiples of the window.

    ``check=False`` skips the argument checks (a block that already checked its map passes it).
    """
    if not check:
        return rearrange(x, "b (nh wh) (nw ww) c -> (b nh nw) wh ww c", wh=window_size, ww=window_size)
    check_map(x, "window_partition")
    wh, ww = to_2tuple(window_size, "window_size")
    _, height, width, _ = x.shape
    if height % wh or width % ww:
        raise ValueError(
            f"window_partition: the window {wh}x{ww} must divide the map, got a {height}x{width} map; "
            "pad it first (pad_to_multiple)"
        )
    return rearrange(x, "b (nh wh) (nw ww) c -> (b nh nw) wh ww c", wh=wh, ww=ww)


def window_reverse(
    windows: torch.Tensor, window_size: int | tuple[int, int], height: int, width: int, *, check: bool = True
) -> torch.Tensor:
    """Inverse of :func:`window_partition`: (B * nW, wh, ww, C) -> (B, H, W, C)."""
    if not check:
        nh, nw = height // window_size, width // window_size
        return rearrange(windows, "(b nh nw) wh ww c -> b (nh wh) (nw ww) c", nh=nh, nw=nw)
    wh, ww = to_2tuple(window_size, "window_size")
    if windows.dim() != 4 or windows.shape[1:3] != (wh, ww):
        raise ValueError(f"window_reverse expects windows of shape (B*nW, {wh}, {ww}, C), got {tuple(windows.shape)}")
    if height % wh or width % ww:
        raise ValueError(f"window_reverse: the window {wh}x{ww} must divide the map {height}x{width}")
    nh, nw = height // wh, width // ww
    if windows.shape[0] % (nh * nw):
        raise ValueError(f"window_reverse: {windows.shape[0]} windows is not a multiple of the {nh}x{nw} window grid")
    return rearrange(windows, "(b nh nw) wh ww c -> b (nh wh) (nw ww) c", nh=nh, nw=nw)


def cyclic_shift(x: torch.Tensor, shift: int | tuple[int, int], *, check: bool = True) -> torch.Tensor:
    """Roll a (B, H, W, C) map up and left by ``shift`` (content at row s moves to row 0)."""
    if check:
        check_map(x, "cyclic_shift")
    sh, sw = to_2tuple(shift, "shift")
    if sh == 0 and sw == 0:
        return x
    return torch.roll(x, shifts=(-sh, -sw), dims=(1, 2))


def reverse_cyclic_shift(x: torch.Tensor, shift: int | tuple[int, int], *, check: bool = True) -> torch.Tensor:
    """Undo :func:`cyclic_shift`: roll down and right by ``shift``."""
    if check:
        check_map(x, "reverse_cyclic_shift")
    sh, sw = to_2tuple(shift, "shift")
    return cyclic_shift(x, (-sh, -sw), check=False)  # rolling up by -s is rolling down by s


def clamp_window_and_shift(resolution: tuple[int, int], window_size: int, shift_size: int) -> tuple[int, int]:
    """The official rule, evaluated for each map size a block meets.

    When the map is no larger than the window (``min(H, W) <= window``) a window already sees the
    whole map: the window shrinks to ``min(H, W)`` and there is nothing to shift.
    Returns ``(window_size, shift_size)``.
    """
    check_int(window_size, "window_size", minimum=1)
    check_int(shift_size, "shift_size")
    if not 0 <= shift_size < window_size:
        raise ValueError(f"shift_size must be in [0, window_size), got {shift_size} with window {window_size}")
    if min(resolution) <= window_size:
        return min(resolution), 0
    return window_size, shift_size


def shifted_window_order(
    height: int, width: int, window_size: int | tuple[int, int], shift: int | tuple[int, int] = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The token permutation that ``cyclic_shift`` followed by ``window_partition`` applies.

    Both steps only move tokens, so together they are one fixed permutation of the H * W positions:
    ``order[k]`` is the row-major position in the (unshifted) map of the k-th token of the windows
    (window by window, row-major inside each). Returns ``(order, inverse)``; for a (B, H, W, C) map,
    ``x.reshape(B, H * W, C)[:, order]`` equals ``window_partition(cyclic_shift(x, shift), ws)``
    flattened, and indexing with ``inverse`` undoes it. One gather instead of two copies.
    """
    wh, ww = to_2tuple(window_size, "window_size")
    sh, sw = to_2tuple(shift, "shift")
    if height % wh or width % ww:
        raise ValueError(f"the window {wh}x{ww} must divide the map, got {height}x{width}")
    rows = (torch.arange(height) + sh) % height  # rolled map row i holds original row (i + s) mod H
    cols = (torch.arange(width) + sw) % width
    source = rows[:, None] * width + cols[None, :]  # (H, W) original position of each rolled position
    order = window_partition(source[None, :, :, None], (wh, ww)).reshape(-1)
    return order, torch.argsort(order)
