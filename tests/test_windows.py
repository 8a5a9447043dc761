"""Windows: partition/reverse, the cyclic shift, the clamp rule and padding (swin_tutor.core.windows)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from swin_tutor.core.validation import pad_to_multiple, to_2tuple
from swin_tutor.core.windows import (
    clamp_window_and_shift,
    cyclic_shift,
    reverse_cyclic_shift,
    shifted_window_order,
    window_partition,
    window_reverse,
)

FAST = settings(max_examples=40, deadline=None)


@st.composite
def maps_and_windows(draw):
    """A random (B, H, W, C) map, its size a multiple of a random (maybe rectangular) window."""
    batch = draw(st.integers(1, 3))
    wh = draw(st.integers(1, 5))
    ww = draw(st.one_of(st.just(wh), st.integers(1, 5)))
    nh, nw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    channels = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, nh * wh, nw * ww, channels, generator=gen)
    window = wh if wh == ww else (wh, ww)
    return x, window, (nh, nw)


@FAST
@given(maps_and_windows())
def test_partition_then_reverse_is_identity(case):
    x, window, (nh, nw) = case
    wh, ww = to_2tuple(window)
    windows = window_partition(x, window)
    assert windows.shape == (x.shape[0] * nh * nw, wh, ww, x.shape[3])
    assert torch.equal(window_reverse(windows, window, x.shape[1], x.shape[2]), x)


@FAST
@given(maps_and_windows())
def test_partition_matches_slicing_in_documented_order(case):
    """Window ``b * nW + i * (W / ww) + j`` is rows i*wh.., columns j*ww.. of image b."""
    x, window, (nh, nw) = case
    wh, ww = to_2tuple(window)
    windows = window_partition(x, window)
    for b in range(x.shape[0]):
        for i in range(nh):
            for j in range(nw):
                expected = x[b, i * wh : (i + 1) * wh, j * ww : (j + 1) * ww]
                assert torch.equal(windows[b * nh * nw + i * nw + j], expected)


def test_window_index_order_exact():
    """A 2-image batch of 4x6 maps, windows 2x2: each window's first token identifies it."""
    ids = torch.arange(2 * 4 * 6).reshape(2, 4, 6, 1)  # value = b*24 + row*6 + col
    windows = window_partition(ids, 2)
    first = windows[:, 0, 0, 0].tolist()
    # window k = b*6 + i*3 + j starts at (b, 2i, 2j) -> b*24 + 12i + 2j
    assert first == [b * 24 + 12 * i + 2 * j for b in range(2) for i in range(2) for j in range(3)]


@FAST
@given(maps_and_windows(), st.integers(0, 20), st.integers(0, 20))
def test_cyclic_shift_then_reverse_is_identity(case, sh, sw):
    x = case[0]
    shifted = cyclic_shift(x, (sh, sw))
    assert torch.equal(reverse_cyclic_shift(shifted, (sh, sw)), x)
    assert torch.equal(cyclic_shift(reverse_cyclic_shift(x, (sh, sw)), (sh, sw)), x)


def test_cyclic_shift_moves_content_up_and_left():
    x = torch.arange(36.0).reshape(1, 6, 6, 1)
    s = 2
    shifted = cyclic_shift(x, s)
    for r in range(6):
        for c in range(6):
            assert shifted[0, r, c, 0] == x[0, (r + s) % 6, (c + s) % 6, 0]
    assert shifted[0, 0, 0, 0] == x[0, s, s, 0]
    assert not torch.equal(shifted, x)
    assert torch.equal(cyclic_shift(x, 0), x)


@pytest.mark.parametrize(
    ("resolution", "window", "shift", "expected"),
    [
        ((7, 7), 7, 3, (7, 0)),  # Swin-T stage 4 at 224: the window covers the map, no shift
        ((8, 8), 7, 3, (7, 3)),  # a map larger than the window keeps both
        ((3, 3), 6, 3, (3, 0)),  # the 96/window-6 case: window shrinks to the map
        ((56, 56), 7, 3, (7, 3)),
        ((8, 8), 8, 4, (8, 0)),  # SwinV2-T stage 4 at 256
        ((4, 9), 6, 3, (4, 0)),  # min over both axes
        ((12, 12), 7, 0, (7, 0)),
    ],
)
def test_clamp_rule(resolution, window, shift, expected):
    assert clamp_window_and_shift(resolution, window, shift) == expected


@pytest.mark.parametrize(("height", "width", "multiple"), [(50, 50, 7), (7, 7, 7), (13, 29, 2), (5, 9, (2, 4))])
def test_pad_to_multiple_zero_pads_bottom_right(height, width, multiple):
    x = torch.randn(2, height, width, 3) + 10.0  # never zero
    mh, mw = to_2tuple(multiple)
    y = pad_to_multiple(x, multiple)
    assert y.shape[1] % mh == 0 and y.shape[2] % mw == 0
    assert y.shape[1] - height < mh and y.shape[2] - width < mw
    assert torch.equal(y[:, :height, :width], x)
    assert torch.count_nonzero(y[:, height:]) == 0
    assert torch.count_nonzero(y[:, :, width:]) == 0


def test_to_2tuple_accepts_ints_and_pairs():
    assert to_2tuple(7) == (7, 7)
    assert to_2tuple((3, 5)) == (3, 5)
    assert to_2tuple([4, 2]) == (4, 2)


@FAST
@given(maps_and_windows(), st.data())
def test_shifted_window_order_is_shift_then_partition(case, data):
    """One gather with ``order`` equals cyclic_shift + window_partition; ``inverse`` undoes it."""
    x, window, _ = case
    wh, ww = to_2tuple(window)
    shift = (data.draw(st.integers(0, wh - 1)), data.draw(st.integers(0, ww - 1)))
    b, h, w, c = x.shape
    order, inverse = shifted_window_order(h, w, window, shift)
    expected = window_partition(cyclic_shift(x, shift), window).reshape(b, h * w, c)
    gathered = x.reshape(b, h * w, c)[:, order]
    assert torch.equal(gathered, expected)
    assert torch.equal(gathered[:, inverse].reshape(b, h, w, c), x)
