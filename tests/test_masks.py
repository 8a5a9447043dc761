"""The shifted-window attention mask: the official construction, the tutorial variant, and
their agreement."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from swin_tutor.core.masks import (
    blocked_pairs,
    easy_shifted_window_mask,
    easy_window_masks,
    region_labels,
    same_blocked_pairs,
    shifted_window_mask,
)
from swin_tutor.core.windows import cyclic_shift, window_partition

FAST = settings(max_examples=40, deadline=None)


def brute_force_blocked(height: int, width: int, ws: int, shift: int) -> torch.Tensor:
    """Independent definition: after rolling the map up-left by ``shift``, a pair of tokens in one
    window is blocked when exactly one of them wrapped around the bottom edge, or exactly one
    wrapped around the right edge (they were far apart in the image)."""
    nh, nw = height // ws, width // ws
    wraps = [
        [(i * ws + a + shift >= height, j * ws + b + shift >= width) for a in range(ws) for b in range(ws)]
        for i in range(nh)
        for j in range(nw)
    ]  # (nW, N, 2): did the token at (i*ws + a, j*ws + b) of the shifted canvas wrap around?
    wraps = torch.tensor(wraps)
    return (wraps[:, :, None, :] != wraps[:, None, :, :]).any(dim=-1)


@st.composite
def mask_cases(draw):
    """(H, W, ws, shift): ws >= 2, shift ws // 2, H and W multiples of ws, >= 2 windows per axis."""
    ws = draw(st.integers(2, 7))
    nh, nw = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    return nh * ws, nw * ws, ws, ws // 2


@FAST
@given(mask_cases())
def test_official_and_easy_masks_block_the_same_pairs(case):
    height, width, ws, shift = case
    official = shifted_window_mask(height, width, ws, shift)
    easy = easy_shifted_window_mask(height, width, ws, shift)
    assert official.shape == easy.shape == ((height // ws) * (width // ws), ws * ws, ws * ws)
    assert same_blocked_pairs(official, easy)


@FAST
@given(mask_cases())
def test_official_mask_matches_brute_force_definition(case):
    height, width, ws, shift = case
    official = shifted_window_mask(height, width, ws, shift)
    assert torch.equal(blocked_pairs(official), brute_force_blocked(height, width, ws, shift))


@FAST
@given(mask_cases())
def test_masks_are_symmetric_with_zero_diagonal(case):
    height, width, ws, shift = case
    for mask in (
        shifted_window_mask(height, width, ws, shift),
        easy_shifted_window_mask(height, width, ws, shift),
    ):
        assert torch.equal(mask, mask.transpose(1, 2))
        assert torch.all(torch.diagonal(mask, dim1=1, dim2=2) == 0)
    official = shifted_window_mask(height, width, ws, shift)
    assert set(official.unique().tolist()) <= {0.0, -100.0}
    easy = easy_shifted_window_mask(height, width, ws, shift)
    assert bool(torch.all((easy == 0) | torch.isneginf(easy)))


@FAST
@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 4), st.data())
def test_region_labels_are_in_0_to_8(ws, nh, nw, data):
    shift = data.draw(st.integers(0, ws - 1))
    labels = region_labels(nh * ws, nw * ws, ws, shift)
    assert labels.shape == (nh * ws, nw * ws)
    assert labels.min() >= 0 and labels.max() <= 8
    if shift == 0:
        assert torch.count_nonzero(labels) == 0


def slice_labels(height: int, width: int, ws: int, shift: int) -> torch.Tensor:
    """The official construction written with slices: (0:-ws), (-ws:-s), (-s:) per axis."""
    img = torch.zeros(height, width, dtype=torch.long)
    cuts = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
    for r, rows in enumerate(cuts):
        for c, cols in enumerate(cuts):
            img[rows, cols] = 3 * r + c
    return img


@pytest.mark.parametrize(
    ("height", "width", "ws", "shift"),
    [(56, 56, 7, 3), (12, 8, 4, 2), (8, 8, 4, 1), (64, 64, 8, 4)],
)
def test_region_labels_match_slice_construction(height, width, ws, shift):
    assert torch.equal(region_labels(height, width, ws, shift), slice_labels(height, width, ws, shift))


def test_mask_counts_at_56_window_7():
    """56x56 with window 7 is an 8x8 grid of 64 windows: 49 need no mask, 7 bottom-row windows,
    7 right-column windows and the corner window do (8 + 8 - 1 = 15 masked)."""
    mask = shifted_window_mask(56, 56, 7, 3)
    assert mask.shape == (64, 49, 49)
    masked_windows = blocked_pairs(mask).flatten(1).any(dim=1)
    assert int(masked_windows.sum()) == 15
    assert int((~masked_windows).sum()) == 49
    grid = masked_windows.reshape(8, 8)
    assert bool(grid[-1].all()) and bool(grid[:, -1].all())
    assert not bool(grid[:-1, :-1].any())  # the 7x7 interior windows are unmasked

    labels = window_partition(region_labels(56, 56, 7, 3)[None, :, :, None], 7).reshape(64, 49)
    distinct = [len(set(w.tolist())) for w in labels]
    assert distinct[63] == 4  # the corner window holds 4 sub-regions
    assert all(distinct[7 * 8 + j] == 2 for j in range(7))  # bottom row, corner excluded
    assert all(distinct[i * 8 + 7] == 2 for i in range(7))  # right column, corner excluded
    assert sum(d == 1 for d in distinct) == 49


def test_easy_masks_placement_at_56():
    upper_lower, left_right = easy_window_masks(7, 3)
    easy = easy_shifted_window_mask(56, 56, 7, 3).reshape(8, 8, 49, 49)
    assert all(torch.equal(easy[7, j], upper_lower) for j in range(7))
    assert all(torch.equal(easy[i, 7], left_right) for i in range(7))
    assert torch.equal(easy[7, 7], upper_lower + left_right)
    assert torch.count_nonzero(easy[:7, :7]) == 0
    # upper_lower blocks (top 4 rows) x (bottom 3 rows) of the window in both directions
    assert int(blocked_pairs(upper_lower).sum()) == 2 * (4 * 7) * (3 * 7)


def test_mask_blocks_tokens_that_wrapped_in_the_shifted_image():
    """End to end on ids: shift an id map, cut windows, and check the mask blocks exactly the pairs
    whose original positions are not neighbours within ws - 1 (no wrap) along both axes."""
    height = width = 12
    ws, shift = 4, 2
    ids = torch.arange(height * width).reshape(1, height, width, 1)
    windows = window_partition(cyclic_shift(ids, shift), ws).reshape(-1, ws * ws)
    rows, cols = windows // width, windows % width
    near = ((rows[:, :, None] - rows[:, None, :]).abs() < ws) & ((cols[:, :, None] - cols[:, None, :]).abs() < ws)
    assert torch.equal(blocked_pairs(shifted_window_mask(height, width, ws, shift)), ~near)


def test_fill_value_and_pair_comparison_can_fail():
    mask = shifted_window_mask(14, 14, 7, 3, fill=float("-inf"))
    assert torch.isneginf(mask).any()
    assert same_blocked_pairs(mask, shifted_window_mask(14, 14, 7, 3))
    other = shifted_window_mask(14, 14, 7, 2)  # a different shift blocks different pairs
    assert not same_blocked_pairs(mask, other)
    assert not same_blocked_pairs(mask, shifted_window_mask(21, 14, 7, 3))  # different shape
    assert torch.count_nonzero(shifted_window_mask(14, 14, 7, 0)) == 0  # no shift, nothing blocked
