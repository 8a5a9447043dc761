"""Exercises of notebook 02 (patch merging): the gather order by hand, a merge function, padding in odd maps."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from swin_tutor.core.patches import merge_gather
from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import function, register, value
from swin_tutor.lesson.images import make_test_card

GATHER = "The official gather order $x_0, x_1, x_2, x_3$"
UNFOLD = "1. Unfold's channel order is not the official order"
ODD = "3. Odd maps: zero padding at the bottom and right"

register(
    value(
        "02.1",
        "The official channel order of the first merged token (C = 3)",
        answer=[0, 16, 32, 4, 20, 36, 1, 17, 33, 5, 21, 37],
        why="x0 = (0, 0), x1 = (1, 0), x2 = (0, 1), x3 = (1, 1), each with its 3 channels: row before column.",
        mistakes=[
            Mistake(
                [0, 1, 4, 5, 16, 17, 20, 21, 32, 33, 36, 37],
                "the unfold (channel-major) order",
                "unfold lists channel 0's four pixels first; the official merge lists each pixel's channels.",
                UNFOLD,
            ),
            Mistake(
                [0, 16, 32, 1, 17, 33, 4, 20, 36, 5, 21, 37],
                "x1 and x2 swapped",
                "x1 is x[:, 1::2, 0::2], the token BELOW (value 4), not the one to the right (value 1).",
                GATHER,
            ),
        ],
        hints=[
            "The entry of channel c at (row, col) is 16c + 4 row + col. Which (row, col) are x0, x1, x2, x3?",
            "x0 = x[:, 0::2, 0::2], x1 = x[:, 1::2, 0::2], x2 = x[:, 0::2, 1::2], x3 = x[:, 1::2, 1::2].",
            "x0 gives [0, 16, 32]; x1 is (row 1, col 0) = 4: [4, 20, 36]. Continue with x2 and x3.",
        ],
        solution=(
            "The first merged token gathers (0, 0), (1, 0), (0, 1), (1, 1) in that order, each as 3 channels: "
            "[0, 16, 32] + [4, 20, 36] + [1, 17, 33] + [5, 21, 37]. Check: merge_gather(x)[0, 0, 0].tolist() with "
            "x[0, r, c, ch] = 16 ch + 4 r + c."
        ),
        section=GATHER,
    )
)


def _swapped(x):
    x = F.pad(x, (0, 0, 0, x.shape[2] % 2, 0, x.shape[1] % 2))
    return torch.cat([x[:, 0::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 0::2], x[:, 1::2, 1::2]], dim=-1)


def _unfold_order(x):
    x = F.pad(x, (0, 0, 0, x.shape[2] % 2, 0, x.shape[1] % 2))
    b, h, w, c = x.shape
    x = x.reshape(b, h // 2, 2, w // 2, 2, c)  # (B, rows, p1, cols, p2, C)
    return x.permute(0, 1, 3, 5, 2, 4).reshape(b, h // 2, w // 2, 4 * c)


def _merge_solution(x):
    b, h, w, c = x.shape
    x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))  # odd maps: one zero column / row at the right / bottom
    x0, x1, x2, x3 = x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]
    return torch.cat([x0, x1, x2, x3], dim=-1)


_gen = torch.Generator().manual_seed(2)
_ids = (
    16 * torch.arange(3)[None, None, :] + 4 * torch.arange(4)[:, None, None] + torch.arange(4)[None, :, None]
).float()
register(
    function(
        "02.2",
        "Write merge(x): (B, H, W, C) -> (B, ceil(H/2), ceil(W/2), 4C) in the official order",
        reference=merge_gather,
        cases=[
            ("the 4x4x3 map holding 16c + 4 row + col", (_ids[None],)),
            ("the 6x10 test card's token ids", (make_test_card((6, 10))[1][None, :, :, None].float(),)),
            ("a random (2, 6, 10, 5) map", (torch.randn(2, 6, 10, 5, generator=_gen),)),
            ("an odd random (1, 7, 9, 4) map", (torch.randn(1, 7, 9, 4, generator=_gen),)),
        ],
        solution_answer=_merge_solution,
        why="x0, x1, x2, x3 = (0, 0), (1, 0), (0, 1), (1, 1) of each 2x2 concatenated on channels; odd maps padded.",
        mistakes=[
            Mistake(
                _swapped,
                "x1 and x2 swapped",
                "the official order takes the token below before the one to the right: x1 = x[:, 1::2, 0::2].",
                GATHER,
            ),
            Mistake(
                _unfold_order,
                "the unfold (channel-major) order",
                "that is nn.Unfold's layout, not the one official weights expect.",
                UNFOLD,
            ),
        ],
        hints=[
            "Slice with steps of 2: x[:, 0::2, 0::2] is the top-left token of every 2x2 group.",
            "Order: (row 0, col 0), (row 1, col 0), (row 0, col 1), (row 1, col 1); torch.cat on the last axis.",
            "Odd maps: F.pad(x, (0, 0, 0, w % 2, 0, h % 2)) first (pads C by 0, W at the right, H at the bottom).",
        ],
        solution=(
            "def merge(x):\n    b, h, w, c = x.shape\n    x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))\n"
            "    x0, x1, x2, x3 = x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]\n"
            "    return torch.cat([x0, x1, x2, x3], dim=-1)"
        ),
        section=GATHER,
    )
)


def _diagnose_padded(count):
    if count in (13, 12):
        return "the last row of merged tokens saw padding, and so did the last column."
    return None


register(
    value(
        "02.3",
        "A 200 x 200 image: how many tokens of the 13 x 13 map have seen zero padding?",
        answer=25,
        why="the 25 x 25 map is padded to 26 x 26: merged tokens of the last row or column (13 + 13 - 1) saw zeros.",
        mistakes=[
            Mistake(26, "the corner counted twice", "the corner token is in the last row and the last column.", ODD),
            Mistake(0, "no padding expected", "25 is odd: the merge pads one zero row and column.", ODD),
            Mistake(49, "padded on all four sides", "the official merge pads only at the bottom and right.", ODD),
        ],
        diagnose=_diagnose_padded,
        hints=[
            "200 / 4 = 50 (no padding), 50 -> 25 (no padding). Which merge meets an odd map?",
            "25 x 25 is padded at the bottom and right to 26 x 26, then merged to 13 x 13.",
            "The merged tokens whose 2x2 group includes row 25 or column 25: the last row and the last column.",
        ],
        solution=(
            "Maps 50 -> 25 -> 13 -> 7. Merging 25 x 25 pads one zero row (bottom) and column (right), so every merged "
            "token of the last row (13) and of the last column (13) mixes in zeros, the corner once: 13 + 13 - 1 = 25. "
            "Window attention pads too, to multiples of the window 7: 50 to 56, 25 to 28, 13 to 14 (notebook 03, "
            "'When the window does not divide the map')."
        ),
        section=ODD,
    )
)
