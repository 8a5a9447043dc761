"""Exercises of notebook 05 (relative position bias): a non-square index by hand, the index function, and the
cost of an absolute bias."""

from __future__ import annotations

import torch

from swin_tutor.core.position_bias import relative_position_index
from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import function, register, value

STEP = "The index, step by step: a $2\\times2$ window"
TIMES = "3. Forgetting the multiplication by $2M_w-1$, or using $2M_h-1$"
RELATIVE = "Relative, not absolute"


def _diagnose_rows(answer):
    rows, index = answer
    if rows != 77:
        return "the table row count is wrong: (2 M_h - 1)(2 M_w - 1) offsets."
    return "the row count is right; the index of (query N-1, key 0) is not."


register(
    value(
        "05.1",
        "A 4 x 6 window: table rows, and the row read by (query N-1, key 0)",
        answer=(77, 76),
        why="(2*4-1)(2*6-1) = 77 rows; query (3, 5) minus key (0, 0) = (3, 5), shifted (6, 10): 6 * 11 + 10 = 76.",
        mistakes=[
            Mistake((77, 0), "key minus query", "the offset is query - key: (3, 5), not (-3, -5).", STEP),
            Mistake(
                (77, 52),
                "multiplied by 2M_h - 1",
                "the row offset is multiplied by 2M_w - 1 = 11, the number "
                "of column offsets; square windows cannot tell.",
                TIMES,
            ),
            Mistake(
                (77, 16),
                "the multiplication forgotten",
                "dy + dx alone collides: (0, 2) and (1, 1) share a row.",
                TIMES,
            ),
            Mistake((49, 76), "the square-window count", "(2M - 1)^2 with M = 4 ignores the 6 columns.", STEP),
        ],
        diagnose=_diagnose_rows,
        hints=[
            "N = 24 tokens. Query N-1 is at (3, 5), key 0 at (0, 0). Offsets run -3..3 and -5..5.",
            "Shift each offset to start at 0: dy + (M_h - 1), dx + (M_w - 1); read them in base 2M_w - 1.",
            "(3 + 3) * 11 + (5 + 5). Check with relative_position_index((4, 6))[23, 0].",
        ],
        solution=(
            "Rows: (2*4 - 1)(2*6 - 1) = 7 * 11 = 77. Query 23 = (3, 5), key 0 = (0, 0): query - key = (3, 5); "
            "+ (3, 5) -> (6, 10); index = 6 * 11 + 10 = 76, the last row (the pair (query 0, key N-1) reads row 0)."
        ),
        section=STEP,
    )
)


def _index_solution(window):
    wh, ww = window
    rows, cols = torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")
    coords = torch.stack([rows.flatten(), cols.flatten()])  # (2, N)
    rel = coords[:, :, None] - coords[:, None, :]  # (2, N query, N key): query - key
    return (rel[0] + wh - 1) * (2 * ww - 1) + (rel[1] + ww - 1)


def _key_minus_query(window):
    return _index_solution(window).T


def _times_height(window):
    wh, ww = window
    rel = _index_solution((wh, ww))
    dy, dx = rel // (2 * ww - 1), rel % (2 * ww - 1)
    return dy * (2 * wh - 1) + dx


def _no_times(window):
    wh, ww = window
    rel = _index_solution((wh, ww))
    return rel // (2 * ww - 1) + rel % (2 * ww - 1)


register(
    function(
        "05.2",
        "Write rel_index((wh, ww)): the (N, N) relative_position_index",
        reference=relative_position_index,
        cases=[
            ("window (3, 3)", ((3, 3),)),
            ("window (7, 7)", ((7, 7),)),
            ("window (4, 6)", ((4, 6),)),
            ("window (3, 5)", ((3, 5),)),
            ("window (1, 4)", ((1, 4),)),
        ],
        solution_answer=_index_solution,
        why="(dy + wh - 1) * (2ww - 1) + (dx + ww - 1) with (dy, dx) = query - key; values 0 .. (2wh-1)(2ww-1)-1.",
        mistakes=[
            Mistake(
                _key_minus_query,
                "key minus query",
                "the official offset is coords[:, :, None] - "
                "coords[:, None, :] (query - key); the transpose of the right index.",
                STEP,
            ),
            Mistake(
                _times_height,
                "multiplied by 2M_h - 1",
                "the row offset must be multiplied by the number of column offsets, 2M_w - 1.",
                TIMES,
            ),
            Mistake(_no_times, "the multiplication forgotten", "dy + dx maps different offsets to one row.", TIMES),
        ],
        hints=[
            "coords: (2, N) row and column of each token (torch.meshgrid with indexing='ij', then flatten).",
            "rel = coords[:, :, None] - coords[:, None, :]: (2, N, N), query minus key.",
            "(rel[0] + wh - 1) * (2 * ww - 1) + (rel[1] + ww - 1)",
        ],
        solution=(
            "def rel_index(window):\n    wh, ww = window\n"
            "    rows, cols = torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing='ij')\n"
            "    coords = torch.stack([rows.flatten(), cols.flatten()])  # (2, N)\n"
            "    rel = coords[:, :, None] - coords[:, None, :]  # query - key\n"
            "    return (rel[0] + wh - 1) * (2 * ww - 1) + (rel[1] + ww - 1)"
        ),
        section=STEP,
    )
)

register(
    value(
        "05.3",
        "An absolute bias B_h[i, j] free for every pair: numbers per head for M = 7",
        answer=2401,
        why="N = 49 tokens, one number per (query, key) pair: 49^2 = 2401, against 169 for the relative table.",
        mistakes=[
            Mistake(
                169,
                "the relative table's size",
                "169 = 13^2 counts offsets; an absolute bias needs one number per pair of positions.",
                "Window 7: 169 offsets",
            ),
            Mistake(49, "one number per token", "a bias is added to a (query, key) logit: N x N of them.", RELATIVE),
        ],
        hints=["How many (query, key) pairs does a 7 x 7 window have?", "N = 49; every pair gets its own number."],
        solution=(
            "49 * 49 = 2401 numbers per head (14 times the 169 of the relative table). It loses translation "
            "invariance: two pairs with the same offset learn separately (less data per number), and it cannot be "
            "reused at another window size."
        ),
        section=RELATIVE,
    )
)
