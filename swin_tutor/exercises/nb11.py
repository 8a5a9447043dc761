"""Exercises of notebook 11 (inside the trained digits Swin): masked keys of a corner query, the map size of the
last stage, and the layout Grad-CAM needs."""

from __future__ import annotations

from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import choice, register, value

ATTN = "1. Where one query token attends: W-MSA and SW-MSA, every head"
CAM = "3. Where the prediction comes from: Grad-CAM, and why the target layer matters"

register(
    value(
        "11.1",
        "Stage 1 (layers[0]: 16x16 tokens, window 4, shift 2): masked keys of the corner query (0, 0) in SW-MSA",
        answer=12,
        why="its shifted window holds rows and columns {14, 15, 0, 1}; only the 2x2 corner region were neighbours.",
        mistakes=[Mistake(0, "no mask", "that is W-MSA, or a query inside a window of both partitions.", ATTN)],
        hints=["After the roll by 2 the corner window wraps around: which of its 16 tokens were neighbours of (0, 0)?"],
        solution="The shifted window of (0, 0) is rows/cols {14, 15, 0, 1}: 16 tokens, of which the 2x2 region "
        "{0, 1} x {0, 1} is unmasked: 16 - 4 = 12 masked keys (the printout of section 1).",
        section=ATTN,
    )
)

register(
    value(
        "11.2",
        "32x32 digits, patch 2, three patch mergings: tokens per side of the last stage's map",
        answer=2,
        why="32 / 2 = 16 tokens a side, merged three times: 16 -> 8 -> 4 -> 2.",
        mistakes=[Mistake(4, "one merge too few", "4x4 is stage 3's map.", CAM)],
        hints=["The patch embedding divides by 2; each merging halves again. How many mergings before layers[3]?"],
        solution="16 tokens a side after the patch embedding, then 8, 4 and 2: Grad-CAM on the last block gives a 2x2 "
        "map, which is why section 3 also shows stage 2.",
        section=CAM,
    )
)

register(
    choice(
        "11.3",
        "Grad-CAM code written for CNNs expects (B, C, h, w). A Swin layer gives (B, h*w, C). What do you do?",
        choices={
            "a": (
                "Nothing: average over the last axis as usual.",
                "then the 'channels' averaged are tokens, and the map is noise.",
            ),
            "b": (
                "Transpose to (B, C, h*w) and reshape to (B, C, h, w).",
                "tokens_to_nchw does exactly this; swin_tutor's blocks give (B, h, w, C), a permute away.",
            ),
            "c": (
                "Reshape (B, h*w, C) directly to (B, C, h, w).",
                "a reshape without the transpose mixes tokens and channels.",
            ),
            "d": (
                "Use the attention weights instead.",
                "attention weights show where tokens mix from, not what the class score depends on.",
            ),
        },
        answer="b",
        why="channels must be the second axis and the token axis must be split into rows and columns, in that order.",
        mistakes=[Mistake("c", "reshape without transpose", "it scrambles tokens and channels.", CAM)],
        hints=["Which axis of (B, h*w, C) holds the channels, and where does Grad-CAM expect them?"],
        solution="x.transpose(1, 2).reshape(B, C, h, w) (swin_tutor.lab.explain.tokens_to_nchw): (b).",
        section=CAM,
    )
)
