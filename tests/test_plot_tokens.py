"""swin_tutor.plot.tokens: the nine region colours of the shifted-window mask are nine different colours."""

from __future__ import annotations

import itertools

import matplotlib.colors as mcolors

from swin_tutor.plot.tokens import REGION_COLORS


def _rgb(colour: str) -> tuple[float, float, float]:
    return mcolors.to_rgb(colour)


def test_nine_region_colours_no_two_alike():
    assert len(REGION_COLORS) == 9
    for a, b in itertools.combinations(range(9), 2):
        distance = sum((x - y) ** 2 for x, y in zip(_rgb(REGION_COLORS[a]), _rgb(REGION_COLORS[b]), strict=True)) ** 0.5
        assert distance > 0.2, f"regions {a} and {b} look alike: {REGION_COLORS[a]} vs {REGION_COLORS[b]}"


def test_no_region_colour_is_grey():
    # grey means padding (and, in notebooks 03 and 04, window parity or the kind of a window)
    for label, colour in enumerate(REGION_COLORS):
        r, g, b = _rgb(colour)
        assert max(r, g, b) - min(r, g, b) > 0.15, f"region {label} is nearly grey: {colour}"
