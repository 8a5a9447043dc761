"""Exercises of notebook 10 (what each mechanism buys): the reach of a token through shifted windows, the reach
left by shifting a one-window map (E-shift-small-map), and why no shift cannot solve "same colour?"."""

from __future__ import annotations

from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import choice, register, value

SHIFT = "1. Shifted windows: information has to cross a window border"
ERRATA = "5. Tutorial errata with consequences"

register(
    value(
        "10.1",
        "8x8 tokens, window 4, W-MSA then SW-MSA (shift 2): tokens the token (1, 4) reaches after 2 blocks",
        answer=32,
        why="its shifted window wraps around, and the mask keeps rows 0-1, columns 2-5: tokens of windows 0 and 1, "
        "each of which saw its whole window in block 1: 2 x 16 = 32.",
        mistakes=[
            Mistake(16, "its own window only", "that is after one block, or without the shift.", SHIFT),
            Mistake(
                64,
                "the centre token's count",
                "64 is the centre (4, 4); (1, 4) sits in a wrapped shifted window.",
                SHIFT,
            ),
            Mistake(36, "the corner token's count", "36 is the corner token (0, 0) after 3 blocks.", SHIFT),
        ],
        hints=[
            "After block 1 every token carries its own 4x4 window. "
            "Which tokens share (1, 4)'s shifted window, after the mask?",
            "Roll the map by -2: (1, 4) moves to (7, 2). Its shifted window wraps rows 6, 7, 0, 1; "
            "the mask keeps the rows that were neighbours before the roll.",
        ],
        solution="Block 1: each token sees its 4x4 window. Block 2 (shift 2): after the roll (1, 4) sits at (7, 2); "
        "its window's rows come from original rows 6, 7, 0, 1, and the mask keeps rows 0-1 (its own side of the wrap); "
        "its columns are original 2-5, no wrap. Rows 0-1 x columns 2-5 hold tokens of windows 0 (columns 0-3) and 1 "
        "(columns 4-7), each carrying its whole window: 2 x 16 = 32 tokens.",
        section=SHIFT,
    )
)

register(
    value(
        "10.2",
        "E-shift-small-map (4x4 map, window 4, shift 2): keys the corner query (0, 0) may attend to when shifted",
        answer=4,
        why="the roll by 2 makes four 2x2 regions that were not neighbours; the mask keeps the query's region: 4 keys.",
        mistakes=[Mistake(16, "the clamp rule's answer", "16 is the correct model (no shift on one window).", ERRATA)],
        hints=[
            "The shifted-window mask splits the window into regions by where the tokens came from before the roll.",
            "With shift 2 on a 4x4 window each axis splits into 2 + 2: how many tokens per region?",
        ],
        solution="The shifted-window mask labels 2 x 2 regions (rows 0-1 / 2-3 times columns 0-1 / 2-3 after the roll);"
        " a query sees only its own region: 2 * 2 = 4 of the 16 tokens "
        "(section 5's model confirms the corner does not reach all 16).",
        section=ERRATA,
    )
)

register(
    choice(
        "10.3",
        "Why does the model with no shift stay at chance on 'same colour?'",
        choices={
            "a": (
                "It is too small to learn the task.",
                "global attention with the same width and depth reaches 100%: size is not the limit.",
            ),
            "b": (
                "Its pooled features are a sum of one term per window, and 'same colour' is not such a sum.",
                "each window's tokens depend only on that window, and the linear head adds one score per dot.",
            ),
            "c": (
                "The mask blocks the two dots from each other.",
                "with no shift there is no mask at all; the windows themselves keep the dots apart.",
            ),
            "d": (
                "It needs more epochs.",
                "the argument is exact: no weights give a sum of per-window scores that separates same from different.",
            ),
        },
        answer="b",
        why="f(window A) + f(window B): summed over the three same and the three different colour pairs the scores are "
        "equal, so no threshold separates them.",
        mistakes=[Mistake("d", "more training", "no amount of training changes what the model can represent.", SHIFT)],
        hints=[
            "What does a token of window A know about window B, with no shift, after any number of blocks?",
            "The head averages the tokens and applies a linear map: what form does its score take?",
        ],
        solution="Without the shift each token's value depends on its own window only, so the mean-pooled head gives "
        "s(A) + s(B) + c. For three colours the three 'same' pairs and the three 'different' pairs sum to the same "
        "2 (s_r + s_g + s_b): they cannot all lie on opposite sides of a threshold: (b).",
        section=SHIFT,
    )
)
