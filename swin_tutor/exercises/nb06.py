"""Exercises of notebook 06 (continuous position bias): the coordinate range of a non-square window, the
log-spaced table as a function, and what 16 * sigmoid allows."""

from __future__ import annotations

import math

import torch

from swin_tutor.core.position_bias import log_spaced_coords_table
from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import function, register, value

COORDS = "Linear and log-spaced coordinates"
BOTH_AXES = "1. Dividing both axes by the first window size"
SQUASH = "The output is squashed: $16\\,\\sigma(\\cdot)$"

register(
    value(
        "06.1",
        "Window (8, 16), no pre-training window: the largest |log-spaced coordinate| on each axis (3 decimals)",
        answer=(1.057, 1.057),
        tol=0.002,
        why="each axis is divided by its own size - 1, so both reach 8 before the log: log2(9) / 3 = 1.057.",
        mistakes=[
            Mistake(
                (1.057, 1.394),
                "both axes divided by ws[0] - 1",
                "axis 1 must be divided by ws[1] - 1 = 15, not 7: 15 / 7 * 8 = 17.1 -> log2(18.1) / 3 = 1.394.",
                BOTH_AXES,
            ),
            Mistake(
                (8.0, 8.0),
                "the log forgotten",
                "8 is the linear coordinate times 8; then sign(x) log2(1 + |x|) / log2(8).",
                COORDS,
            ),
            Mistake((1.0, 1.0), "linear coordinates", "1 is the range before the scaling by 8 and the log.", COORDS),
        ],
        hints=[
            "Divide offsets -7..7 by 7 and -15..15 by 15, multiply by 8, then sign(x) * log2(1 + |x|) / log2(8).",
            "log_spaced_coords_table((8, 16))[..., 0].abs().max() and [..., 1].abs().max().",
        ],
        solution=(
            "Axis 0: 7 / 7 * 8 = 8; axis 1: 15 / 15 * 8 = 8; log2(1 + 8) / log2(8) = 3.17 / 3 = 1.057 on both. "
            "Dividing axis 1 by ws[0] - 1 = 7 instead gives 17.1 -> 1.394: a range the MLP never saw."
        ),
        section=COORDS,
    )
)


def _log(table):
    return torch.sign(table) * torch.log2(table.abs() + 1.0) / math.log2(8)


def _linear(window, pretrained, divide_both_by_first=False):
    (wh, ww), (ph, pw) = window, pretrained
    dy = torch.arange(-(wh - 1), wh, dtype=torch.float32)
    dx = torch.arange(-(ww - 1), ww, dtype=torch.float32)
    table = torch.stack(torch.meshgrid(dy, dx, indexing="ij"), dim=-1)  # (2wh-1, 2ww-1, 2)
    nh = ph - 1 if ph > 0 else wh - 1
    nw = pw - 1 if pw > 0 else ww - 1
    if divide_both_by_first:
        nw = nh
    if nh > 0:
        table[..., 0] /= nh
    if nw > 0:
        table[..., 1] /= nw
    return table * 8


def _coords_solution(window, pretrained):
    return _log(_linear(window, pretrained))


def _both_axes(window, pretrained):
    return _log(_linear(window, pretrained, divide_both_by_first=True))


def _no_scale(window, pretrained):
    return _log(_linear(window, pretrained) / 8)


register(
    function(
        "06.2",
        "Write log_coords((wh, ww), (ph, pw)): Swin V2's (2wh-1, 2ww-1, 2) coordinate table",
        reference=log_spaced_coords_table,
        cases=[
            ("window (8, 8), no pre-training window", ((8, 8), (0, 0))),
            ("window (8, 16), no pre-training window", ((8, 16), (0, 0))),
            ("window (12, 24) from pre-training window (8, 8)", ((12, 24), (8, 8))),
            ("window (3, 5), no pre-training window", ((3, 5), (0, 0))),
            ("window (1, 4): a 1-wide axis", ((1, 4), (0, 0))),
        ],
        solution_answer=_coords_solution,
        tol=1e-5,
        why="offsets / (size - 1) per axis (the pre-training size when given), * 8, then sign * log2(1 + |x|) / 3.",
        mistakes=[
            Mistake(
                _both_axes,
                "both axes divided by ws[0] - 1",
                "each axis needs its own size - 1; square windows cannot tell.",
                BOTH_AXES,
            ),
            Mistake(
                _no_scale,
                "the factor 8 forgotten",
                "the official code multiplies by 8 before the log, so "
                "the pre-training window spans +-1.057, not +-0.333.",
                COORDS,
            ),
        ],
        hints=[
            "torch.arange(-(wh - 1), wh) and the same for ww; torch.meshgrid(..., indexing='ij'), stacked on axis -1.",
            "Divide axis 0 by (ph - 1 if ph > 0 else wh - 1), axis 1 by its own; skip a divisor of 0 (1-wide axes).",
            "Multiply by 8, then torch.sign(t) * torch.log2(t.abs() + 1) / math.log2(8).",
        ],
        solution=(
            "def log_coords(window, pretrained):\n    (wh, ww), (ph, pw) = window, pretrained\n"
            "    dy = torch.arange(-(wh - 1), wh, dtype=torch.float32)\n"
            "    dx = torch.arange(-(ww - 1), ww, dtype=torch.float32)\n"
            "    t = torch.stack(torch.meshgrid(dy, dx, indexing='ij'), dim=-1)\n"
            "    nh, nw = (ph - 1 if ph > 0 else wh - 1), (pw - 1 if pw > 0 else ww - 1)\n"
            "    if nh > 0: t[..., 0] /= nh\n    if nw > 0: t[..., 1] /= nw\n    t = t * 8\n"
            "    return torch.sign(t) * torch.log2(t.abs() + 1) / math.log2(8)\n"
            "(A natural log with / log(8) is the same function: log2(x) / log2(8) = ln(x) / ln(8).)"
        ),
        section=COORDS,
    )
)

register(
    value(
        "06.3",
        "16 * sigmoid: the largest log-ratio ln(p_j / p_k) the position bias alone can create between two keys",
        answer=16,
        tol=0.01,
        why="the bias lies in (0, 16), so two keys differ by less than 16 in logit: weight ratio below e^16 = 8.9e6.",
        mistakes=[
            Mistake(
                8, "half the range", "16 sigmoid(x) runs from 0 to 16, not -8 to 8; the difference can near 16.", SQUASH
            ),
            Mistake(32, "a range of -16 .. 16 assumed", "sigmoid is positive: the bias lies in (0, 16).", SQUASH),
            Mistake(1, "the sigmoid without the factor 16", "the official bias is 16 * sigmoid(mlp(coords)).", SQUASH),
        ],
        hints=[
            "What range does 16 * sigmoid(x) cover?",
            "Softmax weights relate as p_j / p_k = exp(logit_j - logit_k). How large can the bias difference be?",
        ],
        solution=(
            "16 sigmoid(.) lies in (0, 16), so the bias can favour one key over another by less than 16 logits: "
            "p_j / p_k < e^16 (about 9 million), whatever the MLP outputs. The raw MLP output is unbounded: at a "
            "window far larger than the pre-training one it could swamp the content term; the squashing bounds it."
        ),
        section=SQUASH,
    )
)
