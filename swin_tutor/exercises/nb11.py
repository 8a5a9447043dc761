"""Exercises of notebook 11 (inside the trained digits Swin): masked keys of a border query, the map size of the
last stage on a larger picture, and the layout Grad-CAM needs."""

from __future__ import annotations

from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import choice, register, value

ATTN = "1. Where one query token attends: W-MSA and SW-MSA, every head"
CAM = "3. Where a class score comes from: Grad-CAM"

register(
    value(
        "11.1",
        "Stage 1 (16x16 tokens, window 4, shift 2): masked keys of the query (0, 7) in the SW-MSA block",
        answer=8,
        why="its shifted window holds rows {14, 15, 0, 1} and columns 6-9: the two rows 14-15 came round from the "
        "bottom edge, so their 2 x 4 = 8 keys are masked; columns 6-9 did not wrap.",
        mistakes=[
            Mistake(12, "the corner's count", "12 is the corner (0, 0), whose columns wrap too.", ATTN),
            Mistake(0, "no mask", "that is W-MSA, or a query inside a window of both partitions.", ATTN),
            Mistake(4, "the wrapped rows of one column", "count every column of the window: 2 rows x 4 columns.", ATTN),
        ],
        hints=[
            "After the roll by 2, which rows and which columns does the shifted window of (0, 7) hold?",
            "Rows {14, 15, 0, 1} (wrapped), columns 6-9 (not wrapped): which keys were not neighbours of row 0?",
        ],
        solution="The shifted window of (0, 7) is rows {14, 15, 0, 1} x columns {6, 7, 8, 9}. Rows 14 and 15 came from "
        "the bottom edge, so the mask hides them from a query in row 0: 2 x 4 = 8 masked keys, 8 kept. Check: "
        "query_attention(model.layers[0].blocks[1], tokens, (0, 7))['masked'].sum().",
        section=ATTN,
    )
)

register(
    value(
        "11.2",
        "The digits model on a 96x96 picture (patch 2, three patch mergings): tokens per side of the last stage's map",
        answer=6,
        why="96 / 2 = 48 tokens a side, merged three times: 48 -> 24 -> 12 -> 6, so a Grad-CAM map there is 6x6.",
        mistakes=[
            Mistake(2, "the 32x32 answer", "2 is the last map of a 32x32 digit; the picture is 96x96 here.", CAM),
            Mistake(12, "one merge too few", "12x12 is stage 3's map.", CAM),
            Mistake(3, "one merge too many", "there are three mergings (between four stages), not four.", CAM),
        ],
        hints=["The patch embedding divides by 2; each merging halves again. How many mergings before layers[3]?"],
        solution="48 tokens a side after the patch embedding, then 24, 12 and 6: a Grad-CAM map at the last stage is "
        "6x6 (model.forward_intermediates(x)['stage3'].shape[1:3]).",
        section=CAM,
    )
)

register(
    choice(
        "11.3",
        "Grad-CAM code written for CNNs expects (B, C, h, w). A Swin layer gives (B, h·w, C). What do you do?",
        choices={
            "a": (
                "Nothing: average the gradients over the last axis as usual.",
                "then the 'channels' averaged are tokens, and the map is noise.",
            ),
            "b": (
                "Transpose to (B, C, h·w) and reshape to (B, C, h, w).",
                "tokens_to_nchw does exactly this; swin_tutor's blocks give (B, h, w, C), a permute away.",
            ),
            "c": (
                "Reshape (B, h·w, C) directly to (B, C, h, w).",
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
