"""Exercises of notebook 08 (the full model): parameters at 384 px, when global attention costs a whole Swin-T,
and why a window-16 SwinV2 loads window-8 weights without resizing."""

from __future__ import annotations

from swin_tutor.core.flops import global_msa_macs
from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import choice, register, value

COUNTS = "Parameters and multiply-adds against the papers"
GLOBAL = "Window attention against global attention"
LOADING = "Loading checkpoints: official, timm and Hugging Face files"
SWIN_T_MACS = 4_490_000_000  # the paper's 4.49 G multiply-adds of Swin-T at 224 px (count_macs agrees to 1%)

register(
    value(
        "08.1",
        "swin_t(img_size=384, window_size=12): how many more parameters than swin_t() at 224 px?",
        answer=49_680,
        why="only the bias tables grow: (23^2 - 13^2) = 360 rows times the heads of all 12 blocks (138) = 49,680.",
        mistakes=[
            Mistake(
                360,
                "one table, one head",
                "every block has its own table with one column per head: 138 columns in all (2*3 + 2*6 + 6*12 + 2*24).",
                COUNTS,
            ),
            Mistake(
                0,
                "nothing grows",
                "the window grows from 7 to 12, so every relative position bias table grows.",
                COUNTS,
            ),
            Mistake(135_360, "Swin-B's difference", "135,360 = 360 * 376 heads is Swin-B; Swin-T has 138.", COUNTS),
        ],
        hints=[
            "Which parameters depend on the window size? (Buffers such as relative_position_index do not count.)",
            "Each block's table has (2M - 1)^2 rows and one column per head. M = 7 -> 169 rows, M = 12 -> 529.",
            "Heads per block, summed over all blocks: 2*3 + 2*6 + 6*12 + 2*24.",
        ],
        solution=(
            "count_parameters on the meta device: 28,338,034 - 28,288,354 = 49,680. By hand: each table grows by "
            "529 - 169 = 360 rows, and the tables of all blocks have 2*3 + 2*6 + 6*12 + 2*24 = 138 head columns: "
            "360 * 138 = 49,680. (Stage 4 at 384 px is 12 x 12, so its window stays 12.)"
        ),
        section=COUNTS,
    )
)


def _stage1_global(side: int) -> int:
    h = side // 4
    return 2 * global_msa_macs(h, h, 96)


def _diagnose_side(side):
    if not isinstance(side, int) or side % 32:
        return f"the question asks for a multiple of 32, got {side!r}"
    if _stage1_global(side) <= SWIN_T_MACS:
        return f"at {side} px the two global blocks cost {_stage1_global(side) // 10**6:,} M MACs, below 4,490 M."
    return f"at {side} px global attention does cost more, but a smaller multiple of 32 already does."


register(
    value(
        "08.2",
        "The smallest square image (multiple of 32) where global attention in stage 1 (two blocks) costs more "
        "than all of Swin-T at 224 px",
        answer=256,
        why="at 256 px: 2 (4hwC^2 + 2(hw)^2 C) with h = w = 64 is 6.7 G MACs > 4.49 G; at 224 px it is 4.0 G.",
        mistakes=[
            Mistake(
                288, "one block counted", "stage 1 has two blocks; one alone passes 4.49 G only at 288 px.", GLOBAL
            ),
            Mistake(
                224, "224 assumed", "at 224 px the two global blocks cost 4.0 G, just below Swin-T's 4.49 G.", GLOBAL
            ),
        ],
        diagnose=_diagnose_side,
        hints=[
            "global_msa_macs(h, h, 96) for one block, h = side / 4; stage 1 has two blocks. Swin-T: 4.49 G.",
            "Try 224 and 256.",
        ],
        solution=(
            "Two blocks of global attention on h x h tokens, C = 96: 2 (4 h^2 C^2 + 2 h^4 C). h = 56 (224 px): "
            "4.0 G < 4.49 G; h = 64 (256 px): 6.7 G > 4.49 G. So 256 px: two global-attention layers on the first "
            "map already cost more than the whole windowed network at 224."
        ),
        section=GLOBAL,
    )
)

register(
    choice(
        "08.3",
        "A window-8 SwinV2-T checkpoint loads into swinv2_t(window_size=16, pretrained_window_sizes=(8, 8, 8, 8)). "
        "Why is report.resized empty?",
        choices={
            "a": (
                "V2 has no bias table: the CPB-MLP's weights do not depend on the window, and the coordinate table "
                "is a buffer rebuilt for window 16.",
                "every parameter has the same shape at window 8 and 16; only buffers differ, and those are rebuilt.",
            ),
            "b": (
                "The loader skipped the tables that did not fit.",
                "nothing is skipped: the load is strict and every parameter is used.",
            ),
            "c": (
                "The tables were resized by bicubic interpolation without being reported.",
                "that is v1's route (notebook 06); a v2 model has no table to resize.",
            ),
            "d": (
                "pretrained_window_sizes resizes the MLP's first layer to the new window.",
                "the MLP maps 2 coordinates to 512 to heads at every window; pretrained_window_sizes only sets the "
                "divisor of the coordinates, so that window 16 spans offsets beyond the pre-training range.",
            ),
        },
        answer="a",
        why="the CPB-MLP is a function of coordinates: its weights fit any window; the coordinate buffers are rebuilt.",
        mistakes=[
            Mistake(
                "c",
                "v1's bicubic route",
                "v2 re-evaluates a function.",
                "06: Changing the window: v1 resizes a table, v2 re-evaluates its function",
            )
        ],
        hints=[
            "Which V2 parameters have a shape that depends on the window size?",
            "relative_coords_table and relative_position_index are buffers. What does pretrained_window_sizes change?",
        ],
        solution=(
            "A V2 block's position bias is 16 sigmoid(MLP(coords)): the MLP's weights (2 -> 512 -> heads) fit every "
            "window, so nothing needs resizing: (a). The coordinate table and index are buffers, rebuilt for window "
            "16; pretrained_window_sizes=(8, ...) divides the offsets by 7 instead of 15, so the offsets the model "
            "knew keep their coordinates and the new ones lie beyond them."
        ),
        section=LOADING,
    )
)
