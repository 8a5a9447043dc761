"""Synthetic, seeded, balanced tasks that each test one Swin mechanism (notebook 10).

Every generator returns a ``TensorDataset`` of (images (N, 3, H, W) float in {0, 1}, labels (N,) long):
a black canvas with one-pixel coloured dots, one colour per channel (red = channel 0, green = 1,
blue = 2). With ``patch_size=1`` each pixel is one token, so a dot is one token and a window of
``window`` pixels is one attention window. Classes are exactly balanced (N must be even) and the
order of the samples is shuffled; the same ``seed`` gives the same data on every machine (only
integer draws from a seeded ``torch.Generator``).
"""

from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

__all__ = ["two_window_colour_task", "relative_position_task", "task_labels"]

RED, GREEN, BLUE = 0, 1, 2


def _check(n: int, size: int, window: int, min_windows: int) -> None:
    if not isinstance(n, int) or n < 2 or n % 2:
        raise ValueError(f"n must be an even int >= 2 (balanced classes), got {n!r}")
    if window < 2 or size % window:
        raise ValueError(f"window must be >= 2 and divide size: got size={size}, window={window}")
    if size // window < min_windows:
        raise ValueError(f"the task needs >= {min_windows} windows per side: got size={size}, window={window}")


def _randint(high: int, n: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randint(0, high, (n,), generator=gen)


def _shuffled(images: torch.Tensor, labels: torch.Tensor, gen: torch.Generator) -> TensorDataset:
    order = torch.randperm(labels.shape[0], generator=gen)
    return TensorDataset(images[order].contiguous(), labels[order].contiguous())


def two_window_colour_task(
    n: int, seed: int = 0, size: int = 8, window: int = 4, colours: int = 3, near_border: int | None = None
) -> TensorDataset:
    """ "Do the two dots have the same colour?" with the dots in two neighbouring windows.

    Dot A lies in a random window, dot B in the window to its right or below it (random), each at a
    random pixel of its window. Label 1 when both have the same colour (half the samples), else 0.
    ``near_border=k`` keeps both dots within k pixels of the border the two windows share (the
    easier variant: one shifted window of size ``window`` can then hold both when k <= window // 2).
    A model whose tokens never see outside their own window cannot compare the two colours: its
    pooled features are a sum of one term per window, and "same colour" is not a sum of a term for
    A and a term for B.
    """
    _check(n, size, window, 2)
    if not 2 <= colours <= 3:
        raise ValueError(f"colours must be 2 or 3 (one per channel), got {colours}")
    gen = torch.Generator().manual_seed(seed)
    grid = size // window
    labels = torch.arange(n) % 2  # exactly balanced before the shuffle
    down = _randint(2, n, gen).bool()
    # A's window (wr, wc): leave room for the neighbour to its right (or below).
    wr = torch.where(down, _randint(grid - 1, n, gen), _randint(grid, n, gen))
    wc = torch.where(down, _randint(grid, n, gen), _randint(grid - 1, n, gen))
    br, bc = wr + down.long(), wc + (~down).long()
    ay, ax = wr * window + _randint(window, n, gen), wc * window + _randint(window, n, gen)
    by, bx = br * window + _randint(window, n, gen), bc * window + _randint(window, n, gen)
    if near_border is not None:
        if not 1 <= near_border <= window:
            raise ValueError(f"near_border must be in 1..window={window}, got {near_border}")
        a_off = window - 1 - _randint(near_border, n, gen)  # A's last k rows/columns
        b_off = _randint(near_border, n, gen)  # B's first k rows/columns
        ay = torch.where(down, wr * window + a_off, ay)
        by = torch.where(down, br * window + b_off, by)
        ax = torch.where(down, ax, wc * window + a_off)
        bx = torch.where(down, bx, bc * window + b_off)
    colour_a = _randint(colours, n, gen)
    other = (colour_a + 1 + _randint(colours - 1, n, gen)) % colours  # uniformly one of the other colours
    colour_b = torch.where(labels.bool(), colour_a, other)
    images = torch.zeros(n, 3, size, size)
    rows = torch.arange(n)
    images[rows, colour_a, ay, ax] = 1.0
    images[rows, colour_b, by, bx] = 1.0
    return _shuffled(images, labels, gen)


def relative_position_task(
    n: int, seed: int = 0, size: int = 8, window: int = 4, block: int | None = None
) -> TensorDataset:
    """ "Is the red dot left of the blue dot?" with both dots inside one window.

    Both dots lie in the same ``block`` x ``block`` cell of an aligned grid (default: one attention
    window), in different columns, rows random. Label 1 when red's column is smaller (half the
    samples). The dot pattern of a sample and its mirror image have opposite labels, so a model that
    is blind to order inside a window (no position bias, patch size 1, mirror-symmetric windows)
    gives both the same output and stays at chance.
    """
    block = block or window
    _check(n, size, block, 1)
    gen = torch.Generator().manual_seed(seed)
    grid = size // block
    labels = torch.arange(n) % 2
    cell_r, cell_c = _randint(grid, n, gen), _randint(grid, n, gen)
    # Two different columns of the cell, uniform over pairs (so the data is mirror-symmetric).
    first = _randint(block, n, gen)
    second = (first + 1 + _randint(block - 1, n, gen)) % block
    left, right = torch.minimum(first, second), torch.maximum(first, second)
    red_col = torch.where(labels.bool(), left, right)
    blue_col = torch.where(labels.bool(), right, left)
    red_row, blue_row = _randint(block, n, gen), _randint(block, n, gen)
    images = torch.zeros(n, 3, size, size)
    rows = torch.arange(n)
    images[rows, RED, cell_r * block + red_row, cell_c * block + red_col] = 1.0
    images[rows, BLUE, cell_r * block + blue_row, cell_c * block + blue_col] = 1.0
    return _shuffled(images, labels, gen)


def task_labels(images: torch.Tensor, task: str) -> torch.Tensor:
    """Recompute the label of each (N, 3, H, W) image from its pixels (the tests' independent oracle).

    ``task`` is ``"same_colour"`` or ``"red_left_of_blue"``.
    """
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be (N, 3, H, W), got {tuple(images.shape)}")
    if task == "same_colour":
        per_colour = images.sum(dim=(2, 3))  # (N, 3) dots of each colour
        return (per_colour.max(dim=1).values == 2).long()
    if task == "red_left_of_blue":
        width = images.shape[3]
        cols = torch.arange(width, dtype=images.dtype)
        red_col = (images[:, RED].sum(dim=1) * cols).sum(dim=1)
        blue_col = (images[:, BLUE].sum(dim=1) * cols).sum(dim=1)
        return (red_col < blue_col).long()
    raise ValueError(f"task must be 'same_colour' or 'red_left_of_blue', got {task!r}")
