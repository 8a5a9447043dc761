"""Exercises of notebook 03 (windows and the cyclic shift): window counts, window_partition, the roll, the clamp
rule, and why s = M // 2."""

from __future__ import annotations

import torch

from swin_tutor.core.windows import cyclic_shift, window_partition
from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import choice, function, register, value
from swin_tutor.lesson.images import make_test_card

SHIFTED = "Shifted windows: 81 of them, if you shift the grid"
ROLL = "`torch.roll`: shift the map instead of the windows"
CLAMP = "The clamp rule: no shift when the map fits in one window"
WRONG_WAY = "2. Rolling the wrong way"

register(
    value(
        "03.1",
        "14 x 14 map, M = 7, s = 3: windows with padding, after the roll, and holding more than one region",
        answer=(9, 4, 3),
        why="the shifted grid cuts each axis into 3 + 7 + 4 (9 windows); the roll keeps 2 x 2 = 4, and all but "
        "the top-left one mix regions.",
        mistakes=[
            Mistake(
                (9, 4, 1),
                "only the corner counted",
                "the bottom-left and top-right windows hold two regions each (region_labels shows it).",
                ROLL,
            ),
            Mistake(
                (4, 4, 3),
                "the padded grid counted like the plain one",
                "shifting the grid by 3 leaves partial windows at both ends: 3 per axis.",
                SHIFTED,
            ),
            Mistake((16, 4, 3), "one window too many per axis", "14 = 3 + 7 + 4: three pieces per axis.", SHIFTED),
        ],
        hints=[
            "Along one axis the shifted grid has boundaries at 3 and 10. How many pieces of [0, 14) is that?",
            "After the roll the map is cut like any 14 x 14 map. For the regions: "
            "window_partition(region_labels(14, 14, 7, 3)[None, :, :, None], 7) and count distinct labels.",
            "Per axis the window [7, 14) holds two row (or column) regions; [0, 7) holds one.",
        ],
        solution=(
            "Padding: boundaries at 3 and 10 cut each axis into [0, 3), [3, 10), [10, 14): 3 x 3 = 9 windows. Rolled: "
            "2 x 2 = 4 windows. Regions per axis: [0, 7) one, [7, 14) two (labels [0:-7], [-7:-3], [-3:]); windows "
            "with >1 region: 4 - 1 = 3 (distinct labels per window: [1, 2, 2, 4])."
        ),
        section=ROLL,
    )
)


def _partition_solution(x, window):
    b, h, w, c = x.shape
    wh, ww = window
    x = x.reshape(b, h // wh, wh, w // ww, ww, c)  # (B, rows of windows, wh, cols of windows, ww, C)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, wh, ww, c)


def _no_permute(x, window):
    b, h, w, c = x.shape
    wh, ww = window
    return x.reshape(b, h // wh, wh, w // ww, ww, c).reshape(-1, wh, ww, c)


def _column_major_windows(x, window):
    b, h, w, c = x.shape
    wh, ww = window
    return x.reshape(b, h // wh, wh, w // ww, ww, c).permute(0, 3, 1, 2, 4, 5).reshape(-1, wh, ww, c)


_gen = torch.Generator().manual_seed(3)
_card_ids = make_test_card((6, 10))[1][None, :, :, None]  # (1, 6, 10, 1) long: the token numbers
register(
    function(
        "03.2",
        "Write partition(x, (wh, ww)): (B, H, W, C) -> (B * nW, wh, ww, C), windows row by row",
        reference=window_partition,
        cases=[
            ("the 6x10 test card's ids, window (3, 5)", (_card_ids, (3, 5))),
            ("a random (2, 8, 8, 3) map, window (4, 4)", (torch.randn(2, 8, 8, 3, generator=_gen), (4, 4))),
            ("a random (1, 14, 21, 2) map, window (7, 7)", (torch.randn(1, 14, 21, 2, generator=_gen), (7, 7))),
            ("a random (2, 6, 4, 1) map, window (2, 4)", (torch.randn(2, 6, 4, 1, generator=_gen), (2, 4))),
        ],
        solution_answer=_partition_solution,
        why="(B, H/wh, wh, W/ww, ww, C) -> permute the two window-grid axes together -> one window per row.",
        mistakes=[
            Mistake(
                _no_permute,
                "the permute forgotten",
                "reshaping (B, H/wh, wh, W/ww, ww, C) straight to windows cuts strips of rows, not wh x ww squares.",
                "Windows on the image",
            ),
            Mistake(
                _column_major_windows,
                "windows numbered column by column",
                "window index is b * nW + i * (W / ww) + j: the window row i is the slower axis.",
                "Windows on the image",
            ),
        ],
        hints=[
            "Split H into (H / wh, wh) and W into (W / ww, ww) with reshape.",
            "The two window-grid axes must come before the two in-window axes: permute(0, 1, 3, 2, 4, 5).",
            "x.reshape(b, h // wh, wh, w // ww, ww, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, wh, ww, c)",
        ],
        solution=(
            "def partition(x, window):\n    b, h, w, c = x.shape\n    wh, ww = window\n"
            "    x = x.reshape(b, h // wh, wh, w // ww, ww, c)\n"
            "    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, wh, ww, c)\n"
            "(einops: rearrange(x, 'b (nh wh) (nw ww) c -> (b nh nw) wh ww c', wh=wh, ww=ww).)"
        ),
        section="Windows on the image",
    )
)


def _roll_solution(x, shift):
    return torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))


def _wrong_sign(x, shift):
    return torch.roll(x, shifts=(shift[0], shift[1]), dims=(1, 2))


def _axes_swapped(x, shift):
    return torch.roll(x, shifts=(-shift[1], -shift[0]), dims=(1, 2))


register(
    function(
        "03.3",
        "Write shift(x, (sh, sw)): the cyclic shift before window attention",
        reference=cyclic_shift,
        cases=[
            ("the 6x10 test card's ids, shift (1, 2)", (_card_ids, (1, 2))),
            ("a random (2, 8, 8, 3) map, shift (2, 2)", (torch.randn(2, 8, 8, 3, generator=_gen), (2, 2))),
            ("an odd random (1, 7, 9, 2) map, shift (3, 4)", (torch.randn(1, 7, 9, 2, generator=_gen), (3, 4))),
        ],
        solution_answer=_roll_solution,
        why="roll by (-sh, -sw) on the H and W axes: the content moves up and left, row sh lands on row 0.",
        mistakes=[
            Mistake(
                _wrong_sign,
                "rolled the wrong way",
                "+s moves the content down and right; the official shift "
                "is roll(x, (-s, -s)) before attention and (+s, +s) after.",
                WRONG_WAY,
            ),
            Mistake(
                _axes_swapped,
                "the two shifts swapped",
                "sh belongs to the rows (dim 1), sw to the columns (dim 2); square shifts cannot tell.",
                ROLL,
            ),
        ],
        hints=[
            "torch.roll(x, shifts=..., dims=...) on the map's H and W axes, (1, 2) for (B, H, W, C).",
            "After the shift, the token that was at row sh, column sw must be at (0, 0).",
            "torch.roll(x, shifts=(-sh, -sw), dims=(1, 2))",
        ],
        solution="def shift(x, shift):\n    return torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))",
        section=ROLL,
    )
)

register(
    value(
        "03.4",
        "SwinV2 at 256 px with M = 16: the shift size of the second block of each stage",
        answer=(8, 8, 0, 0),
        why="maps 64, 32, 16, 8: the 16 and 8 maps are no larger than the window, so they are not shifted.",
        mistakes=[
            Mistake(
                (8, 8, 8, 0),
                "< instead of <=",
                "the rule is min(H, W) <= window: a 16 x 16 map in a 16 window is one window already.",
                CLAMP,
            ),
            Mistake(
                (8, 8, 8, 8),
                "no clamp rule",
                "that is the easy tutorial's behaviour: it shifts and masks stages the window covers whole.",
                "1. Shifting a map no larger than the window",
            ),
            Mistake((4, 4, 4, 0), "the numbers for M = 8", "with M = 16 the shift is 16 // 2 = 8.", CLAMP),
        ],
        hints=[
            "256 / 4 = 64, then 32, 16, 8. The shift would be 16 // 2 = 8.",
            "clamp_window_and_shift((h, h), 16, 8) for h in (64, 32, 16, 8).",
        ],
        solution=(
            "[clamp_window_and_shift((h, h), 16, 8) for h in (64, 32, 16, 8)] = [(16, 8), (16, 8), (16, 0), (8, 0)]: "
            "shifts (8, 8, 0, 0). With M = 8: (8, 4), (8, 4), (8, 4), (8, 0), only stage 4 is unshifted."
        ),
        section=CLAMP,
    )
)

register(
    choice(
        "03.5",
        "Why s = floor(M / 2)?",
        choices={
            "a": (
                "Any 0 < s < M links neighbouring windows; M // 2 splits each shifted window evenly between them.",
                "a token's reach after two blocks spans 2M whatever s; s = M // 2 centres it, half on each side.",
            ),
            "b": (
                "Only s = M // 2 connects neighbouring windows at all.",
                "any 0 < s < M makes shifted windows straddle the old boundaries; s = 1 connects them too, lopsidedly.",
            ),
            "c": (
                "It minimises the number of windows that need a mask.",
                "for any 0 < s < M exactly the last window row and column need masks; the count does not depend on s.",
            ),
            "d": (
                "torch.roll cannot roll by more than half the map.",
                "torch.roll takes any shift (it wraps modulo the size).",
            ),
        },
        answer="a",
        why="with shift s a window's tokens reach s further on one side and M - s on the other; M // 2 balances them.",
        mistakes=[Mistake("b", "s = 1 works too", "any 0 < s < M connects neighbouring windows.", SHIFTED)],
        hints=[
            "Shifted windows start at s - M, s, s + M, ... Which of them overlap the window [0, M)?",
            "Two of them: [s - M, s) and [s, s + M). Their union is [s - M, s + M). How long is it, and where centred?",
        ],
        solution=(
            "After the window block a token's information fills its window [0, M); the shifted block spreads it over "
            "[s - M, s) and [s, s + M): M - s to the left, s to the right, 2M in all for any 0 < s < M. s = M // 2 "
            "makes the two sides equal (3 and 4 for M = 7), so every shifted window mixes its old windows about "
            "evenly: (a). s = 1 would reach 6 tokens one way and 1 the other."
        ),
        section=SHIFTED,
    )
)
