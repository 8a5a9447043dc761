"""Relative position bias (v1): the index, the gather, the shared-table variant, table resizing."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from swin_tutor.core.attention import WindowAttention
from swin_tutor.core.position_bias import (
    SharedRelativePositionBias,
    gather_relative_position_bias,
    relative_coords,
    relative_position_index,
    resize_relative_position_bias_table,
    window_coords,
)
from swin_tutor.core.validation import to_2tuple

WINDOWS = [1, 2, 3, 7, 8, (2, 3), (4, 2), (7, 5)]


def loop_index(wh: int, ww: int) -> torch.Tensor:
    """The index by loops: (dy + wh - 1) * (2ww - 1) + (dx + ww - 1) with d = query - key."""
    n = wh * ww
    out = torch.empty(n, n, dtype=torch.long)
    for i in range(n):
        for j in range(n):
            dy = i // ww - j // ww
            dx = i % ww - j % ww
            out[i, j] = (dy + wh - 1) * (2 * ww - 1) + (dx + ww - 1)
    return out


def test_index_first_row_for_window_3():
    assert relative_position_index(3)[0].tolist() == [12, 11, 10, 7, 6, 5, 2, 1, 0]


@pytest.mark.parametrize("window", WINDOWS)
def test_index_matches_loops_and_spans_the_table(window):
    wh, ww = to_2tuple(window)
    index = relative_position_index(window)
    assert index.shape == (wh * ww, wh * ww)
    assert index.dtype == torch.long
    assert torch.equal(index, loop_index(wh, ww))
    table_rows = (2 * wh - 1) * (2 * ww - 1)
    assert set(index.unique().tolist()) == set(range(table_rows))  # every row used, none outside
    centre = (wh - 1) * (2 * ww - 1) + (ww - 1)  # offset (0, 0)
    assert torch.all(torch.diagonal(index) == centre)
    # (i, j) and (j, i) have opposite offsets, mirrored around the centre row
    assert torch.equal(index + index.T, torch.full_like(index, 2 * centre))


def test_coords_are_row_major_and_relative_is_query_minus_key():
    coords = window_coords((2, 3))
    assert coords.tolist() == [[0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2]]
    rel = relative_coords((2, 3))
    assert rel.shape == (2, 6, 6)
    assert rel[:, 5, 0].tolist() == [1, 2]  # query (1, 2) minus key (0, 0)
    assert rel[:, 0, 5].tolist() == [-1, -2]


@pytest.mark.parametrize("window", [3, 7, (2, 5)])
def test_gather_matches_a_loop_lookup(window):
    wh, ww = to_2tuple(window)
    heads = 3
    table = torch.randn((2 * wh - 1) * (2 * ww - 1), heads, generator=torch.Generator().manual_seed(1))
    index = relative_position_index(window)
    bias = gather_relative_position_bias(table, index)
    n = wh * ww
    assert bias.shape == (heads, n, n)
    rows, idx = table.tolist(), index.tolist()
    expected = [[[rows[idx[i][j]][h] for j in range(n)] for i in range(n)] for h in range(heads)]
    assert bias.tolist() == expected


def test_window_attention_uses_the_gathered_table():
    attn = WindowAttention(dim=12, window_size=4, num_heads=3)
    with torch.no_grad():
        attn.relative_position_bias_table.normal_()
    expected = gather_relative_position_bias(attn.relative_position_bias_table, relative_position_index(4))
    assert torch.equal(attn.position_bias(), expected)
    assert torch.equal(attn.relative_position_index, relative_position_index(4))


@pytest.mark.parametrize("window", [2, 3, 7])
def test_shared_table_equals_official_lookup_flipped(window):
    """One (2w-1, 2w-1) table indexed key - query equals the official (query - key) lookup of the
    same table flipped along both axes, when all heads share it."""
    torch.manual_seed(0)
    shared = SharedRelativePositionBias(window)
    flipped = shared.pos_embedding.detach().flip(0, 1).reshape(-1, 1)  # ((2w-1)^2, 1 head)
    official = gather_relative_position_bias(flipped, relative_position_index(window))[0]
    assert torch.equal(shared(), official)
    unflipped = gather_relative_position_bias(
        shared.pos_embedding.detach().reshape(-1, 1), relative_position_index(window)
    )[0]
    assert not torch.allclose(shared(), unflipped)  # the flip matters (the sign convention differs)


@pytest.mark.parametrize(("old", "new"), [(7, 12), (12, 7), (7, (5, 9)), ((4, 6), 8)])
def test_resize_table_is_bicubic_per_head(old, new):
    oh, ow = to_2tuple(old)
    nh, nw = to_2tuple(new)
    heads = 4
    table = torch.randn((2 * oh - 1) * (2 * ow - 1), heads, generator=torch.Generator().manual_seed(2))
    resized = resize_relative_position_bias_table(table, old, new)
    assert resized.shape == ((2 * nh - 1) * (2 * nw - 1), heads)
    for h in range(heads):
        image = table[:, h].reshape(1, 1, 2 * oh - 1, 2 * ow - 1)
        expected = F.interpolate(image, size=(2 * nh - 1, 2 * nw - 1), mode="bicubic", align_corners=False)
        assert torch.allclose(resized[:, h], expected.flatten(), atol=1e-6, rtol=0)


def test_resize_to_the_same_window_is_a_copy():
    table = torch.randn(13 * 13, 3)
    resized = resize_relative_position_bias_table(table, 7, 7)
    assert torch.equal(resized, table)
    resized.add_(1.0)
    assert not torch.equal(resized, table)  # a copy, not a view
