"""The pictures of notebooks 03 and 04: what a query may attend to, the sources of a rolled window,
token maps with padding. The numbers they draw are checked against the mask and the roll."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

from swin_tutor import cyclic_shift, shifted_window_mask, window_partition
from swin_tutor.plot.masks import query_mask, show_mask, show_query_keys, show_query_row, show_window_sources
from swin_tutor.plot.windows import mark_box, show_token_map


@pytest.mark.parametrize(("query", "window", "zeros", "blocked"), [((5, 5), 0, 49, 0), ((1, 1), 3, 9, 40)])
def test_query_mask_counts(query, window, zeros, blocked):
    m = query_mask(14, 14, 7, 3, *query)
    assert m.window == window
    assert int((m.row == 0).sum()) == zeros and int((m.row == -100).sum()) == blocked
    assert int(torch.isnan(m.keys).sum()) == 14 * 14 - 49  # keys of other windows are not computed


def test_query_mask_agrees_with_the_mask_and_the_roll():
    height, width, window, shift = 8, 12, 4, 2
    mask = shifted_window_mask(height, width, window, shift)
    positions = torch.arange(height * width).view(1, height, width, 1)
    slots = window_partition(cyclic_shift(positions, shift), window).reshape(-1, window * window)  # (nW, N)
    for row, col in [(0, 0), (7, 11), (3, 5), (6, 1)]:
        m = query_mask(height, width, window, shift, row, col)
        w, i = (slots == row * width + col).nonzero()[0].tolist()
        assert m.window == w and m.position == divmod(i, window)
        assert torch.equal(m.row.flatten(), mask[w, i])
        keys = m.keys.flatten()
        assert torch.equal(keys[slots[w]], mask[w, i])  # each key's entry at its place in the map
        assert int((~torch.isnan(keys)).sum()) == window * window


def test_query_mask_without_shift_is_the_plain_window():
    m = query_mask(8, 8, 4, 0, 5, 6)
    assert m.window == 3 and m.position == (1, 2)
    assert bool((m.row == 0).all())
    assert bool((m.keys[4:, 4:] == 0).all()) and int(torch.isnan(m.keys).sum()) == 48


def test_query_mask_rejects_a_query_outside_the_map():
    with pytest.raises(ValueError, match="must lie in the 14x14 map"):
        query_mask(14, 14, 7, 3, 14, 0)


def test_window_sources_boxes_are_the_corner_pieces():
    image = torch.rand(1, 3, 56, 56)
    ax = show_window_sources(image, 3, 7, 3, patch=4)  # 14 x 14 tokens, 2 x 2 windows: 3 is the corner
    outlines = sorted(
        (p.get_y() + 0.5, p.get_x() + 0.5, p.get_height(), p.get_width()) for p in ax.patches if not p.get_fill()
    )
    # rolled rows 7..10 come from rows 10..13 (16 px tall), rows 11..13 from rows 0..2 (12 px); columns alike
    assert outlines == [(0, 0, 12, 12), (0, 40, 12, 16), (40, 0, 16, 12), (40, 40, 16, 16)]
    plt.close("all")


def test_drawings_return_their_axes_and_check_shapes():
    m = query_mask(14, 14, 7, 3, 12, 12)
    fig, axes = plt.subplots(1, 4)
    assert show_query_keys(m.keys, (12, 12), 7, 3, torch.rand(1, 3, 224, 224), axes[0]) is axes[0]
    assert show_query_row(m.row, m.position, axes[1]) is axes[1]
    assert show_mask(shifted_window_mask(14, 14, 7, 3)[3], axes[2]) is axes[2]
    ids = torch.arange(12).view(3, 4)
    ids[2, 3] = -1  # padding
    assert show_token_map(ids, axes[3], colour_by=ids.clamp(min=0) // 4, window=2) is axes[3]
    assert "pad" in [t.get_text() for t in axes[3].texts]
    assert mark_box(axes[3], 0, 0, 2, 2, label="26") is axes[3]
    with pytest.raises(ValueError, match="one window's"):
        show_mask(torch.zeros(2, 3), axes[2])
    with pytest.raises(ValueError, match="colour_by must have the shape"):
        show_token_map(ids, axes[3], colour_by=torch.zeros(2, 2))
    plt.close(fig)
