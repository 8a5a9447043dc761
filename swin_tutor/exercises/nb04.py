"""Exercises of notebook 04 (the shifted-window mask): kinds of windows, the mask function, is -100 enough in V2?"""

from __future__ import annotations

import torch

from swin_tutor.core.masks import shifted_window_mask
from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import choice, function, register, value

KINDS = "One mask per window"
REGIONS = "Nine regions"
INF = "-100 or $-\\infty$?"

register(
    value(
        "04.1",
        "A 14 x 21 map, window 7, shift 3: windows unmasked, right column, bottom row, corner",
        answer=(2, 1, 2, 1),
        why="a 2 x 3 grid of windows: the last column (1 window besides the corner), the last row (2), the corner (1).",
        mistakes=[
            Mistake(
                (2, 2, 1, 1),
                "rows and columns swapped",
                "14 is H (2 window rows), 21 is W (3 window "
                "columns): the bottom row has 2 windows besides the corner, the right column 1.",
                KINDS,
            ),
            Mistake(
                (6, 0, 0, 0),
                "no mask after the roll",
                "the wrapped strips meet real content in the last window row and column.",
                REGIONS,
            ),
            Mistake((4, 1, 0, 1), "only the right column masked", "the bottom row mixes regions too.", KINDS),
        ],
        hints=[
            "How many windows per axis? Which windows contain labels from two row slices, or two column slices?",
            "labels = region_labels(14, 21, 7, 3); window_partition(labels[None, :, :, None], 7) and classify "
            "each window as the notebook does (rows_split, cols_split).",
            "2 x 3 = 6 windows. Only window row 1 splits rows; only window column 2 splits columns.",
        ],
        solution=(
            "The map holds 2 x 3 windows. Window row 1 (the last) mixes two row regions, window column 2 (last) two "
            "column regions: unmasked = windows (0, 0), (0, 1) = 2; right column = (0, 2) = 1; bottom row = (1, 0), "
            "(1, 1) = 2; corner = (1, 2) = 1. same_blocked_pairs holds for the easy masks here too."
        ),
        section=KINDS,
    )
)


def _labels(length, window, shift):
    idx = torch.arange(length)
    return (idx >= length - window).long() + (idx >= length - shift).long()  # 0, 1, 2 per axis slice


def _mask(height, width, window, shift, fill, invert=False):
    (wh, ww), (sh, sw) = window, shift
    labels = _labels(height, wh, sh)[:, None] * 3 + _labels(width, ww, sw)[None, :]  # (H, W)
    win = labels.reshape(height // wh, wh, width // ww, ww).permute(0, 2, 1, 3).reshape(-1, wh * ww)  # (nW, N)
    different = win[:, :, None] != win[:, None, :]  # (nW, N, N)
    return torch.zeros(different.shape).masked_fill(~different if invert else different, fill)


def _mask_solution(height, width, window, shift):
    return _mask(height, width, window, shift, -100.0)


def _mask_inf(height, width, window, shift):
    return _mask(height, width, window, shift, float("-inf"))


def _mask_inverted(height, width, window, shift):
    return _mask(height, width, window, shift, -100.0, invert=True)


register(
    function(
        "04.2",
        "Write mask(H, W, (wh, ww), (sh, sw)): the official (nW, N, N) shifted-window mask",
        reference=shifted_window_mask,
        cases=[
            ("a 14x14 map, window (7, 7), shift (3, 3)", (14, 14, (7, 7), (3, 3))),
            ("a 14x21 map, window (7, 7), shift (3, 3)", (14, 21, (7, 7), (3, 3))),
            ("an 8x8 map, window (4, 4), shift (2, 2)", (8, 8, (4, 4), (2, 2))),
            ("a 6x10 map, window (3, 5), shift (1, 2)", (6, 10, (3, 5), (1, 2))),
        ],
        solution_answer=_mask_solution,
        why="label the 3 x 3 regions, cut the labels into windows, -100 where two labels differ, 0 elsewhere.",
        mistakes=[
            Mistake(
                _mask_inf,
                "-inf in the mask",
                "the blocked pairs are right, but the official mask holds "
                "-100: -inf gives NaN on a fully masked row and, stored in parameters, NaN in an EMA copy.",
                INF,
            ),
            Mistake(
                _mask_inverted,
                "the mask inverted",
                "-100 goes where the labels DIFFER (different regions must not attend); equal labels get 0.",
                KINDS,
            ),
        ],
        hints=[
            "Per axis, slices [0, L - w), [L - w, L - s), [L - s, L) get labels 0, 1, 2; label = 3 * row + col.",
            "Partition the (H, W) label map into windows exactly like tokens: (nW, N) labels.",
            "different = win[:, :, None] != win[:, None, :]; torch.zeros(...).masked_fill(different, -100.0)",
        ],
        solution=(
            "def mask(height, width, window, shift):\n    (wh, ww), (sh, sw) = window, shift\n"
            "    rows = (torch.arange(height) >= height - wh).long() + (torch.arange(height) >= height - sh).long()\n"
            "    cols = (torch.arange(width) >= width - ww).long() + (torch.arange(width) >= width - sw).long()\n"
            "    labels = rows[:, None] * 3 + cols[None, :]\n"
            "    win = labels.reshape(height // wh, wh, width // ww, ww).permute(0, 2, 1, 3).reshape(-1, wh * ww)\n"
            "    different = win[:, :, None] != win[:, None, :]\n"
            "    return torch.zeros(different.shape).masked_fill(different, -100.0)"
        ),
        section=KINDS,
    )
)

register(
    choice(
        "04.3",
        "Swin V2: logits cos(q, k) / tau (tau >= 0.01, i.e. times a scale s = 1/tau <= 100) plus a bias in (0, 16). "
        "Is adding -100 enough?",
        choices={
            "a": (
                "Yes: e^-100 is negligible, whatever the logits.",
                "only if the logits stay within a few units; V2 logits span -100 .. 116, a range of 216.",
            ),
            "b": (
                "Not in the worst case: a masked key can reach 100 + 16 - 100 = 16, an allowed one -100.",
                "with tau at its clamp a masked key can outweigh every allowed key; -1e4 (swin_tutor's forward) or "
                "the dtype's minimum closes the gap.",
            ),
            "c": (
                "Use -inf instead; that is always safe.",
                "it blocks exactly here (no row of a Swin mask is fully masked), but -inf gives NaN on fully masked "
                "rows and, stored in parameters, NaN in an EMA copy.",
            ),
            "d": (
                "The question does not arise: cosine similarities are never negative.",
                "cos(q, k) lies in [-1, 1]; q and k are different projections and can point in opposite directions.",
            ),
        },
        answer="b",
        why="the largest masked logit is 100 + 16 - 100 = 16 > -100, the smallest allowed one: -100 is not enough.",
        mistakes=[Mistake("a", "the logit range forgotten", "V2 logits span 216.", INF)],
        hints=[
            "What is the largest logit of a masked key (cos = 1, bias near 16), after adding -100?",
            "And the smallest logit of an allowed key (cos = -1, bias near 0)? Compare the two.",
        ],
        solution=(
            "At tau = 0.01 (scale s = 1/tau = 100) a masked key with cos = 1 and bias near 16 gets "
            "100 + 16 - 100 = 16; an allowed key with cos = -1 and bias near 0 gets -100. The masked key then "
            "dominates: (b). Trained models rarely reach this, but a safe constant must beat the logit range: "
            "swin_tutor's forward adds -1e4 (also an exact zero after softmax in float32); the official buffer "
            "keeps -100."
        ),
        section=INF,
    )
)
