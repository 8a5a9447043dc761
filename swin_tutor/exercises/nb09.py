"""Exercises of notebook 09 (training the tiny Swin): the last stage's bias tables, windows at two image sizes,
which stages attend globally, the accuracy a model that learned nothing gets, and what an ONNX file does with
another image size."""

from __future__ import annotations

from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import choice, register, value

SIZES = "Why these sizes"
TRAINING = "Training live"

register(
    value(
        "09.1",
        "tiny_swin(1): how many parameters do the relative position bias tables of stage 4 (model.layers[3]) hold?",
        answer=1_568,
        why="2 blocks x (2*4 - 1)^2 = 49 rows x 16 heads = 1,568: the tables keep the requested window 4, "
        "and the clamped 2x2 window reads their centre.",
        mistakes=[
            Mistake(784, "one block", "stage 4 has two blocks, each with its own table: 2 x 784.", SIZES),
            Mistake(
                288,
                "a table for the clamped window",
                "swin_tutor builds each v1 table for the requested window 4 (49 rows), not for the clamped 2x2 "
                "window (9 rows); the clamped window reads the table's centre. (The official code builds the "
                "clamped table: 9 rows, 288 parameters; that is a different count, not this model's.)",
                SIZES,
            ),
            Mistake(98, "one head column", "a table has one column per head, and stage 4 has 16 heads.", SIZES),
        ],
        hints=[
            "A v1 block's table has (2M - 1)^2 rows and one column per head. Which M, and how many heads?",
            "The requested window is 4; stage 4 has 16 heads and 2 blocks. Check with "
            "sum(p.numel() for n, p in model.layers[3].named_parameters() if 'relative_position' in n).",
        ],
        solution=(
            "(2 * 4 - 1)^2 = 49 rows, 16 heads, 2 blocks: 49 * 16 * 2 = 1,568. In code: "
            "sum(p.numel() for n, p in tiny_swin(1).layers[3].named_parameters() if 'relative_position_bias_table' "
            "in n). The map is only 2x2, so each window holds 4 tokens and uses 9 of the 49 rows."
        ),
        section=SIZES,
    )
)

register(
    value(
        "09.2",
        "How many windows does stage 1 (model.layers[0]) of the digits model have at 32 px, and at 64 px "
        "(tiny_swin(1, img_size=64))? "
        "Answer a pair (windows at 32, windows at 64).",
        answer=(16, 64),
        why="patch 2: 32 px -> 16x16 tokens = 4x4 windows of 4x4 = 16; 64 px -> 32x32 tokens = 8x8 windows = 64. "
        "Doubling the side quadruples the windows (and the cost), not the window.",
        mistakes=[
            Mistake((16, 32), "doubled, not quadrupled", "the side doubles in both directions: 4 x as many.", SIZES),
            Mistake(
                (256, 1024), "tokens, not windows", "those are the tokens; each window holds 4 x 4 of them.", SIZES
            ),
            Mistake((4, 16), "patch 4 assumed", "the digits model cuts 2x2 patches: 32 px is 16 tokens a side.", SIZES),
        ],
        hints=[
            "Tokens per side = image side / patch size (2); windows per side = tokens per side / window (4).",
            "32 / 2 / 4 = 4 windows a side; 64 / 2 / 4 = 8.",
        ],
        solution="32 / 2 = 16 tokens a side, 16 / 4 = 4 windows a side, 4 * 4 = 16; 64 px: 32 / 4 = 8, 8 * 8 = 64.",
        section=SIZES,
    )
)

register(
    value(
        "09.3",
        "tiny_swin(1, img_size=64): which stages (indices i of model.layers) attend globally, one window "
        "covering the whole map? Answer a list, e.g. [0, 1].",
        answer=[3],
        why="at 64 px the maps are 32, 16, 8 and 4 tokens a side: only layers[3]'s 4x4 map (stage 4) fits in one "
        "4x4 window.",
        mistakes=[
            Mistake(
                [2, 3], "the answer at 32 px", "at 32 px layers[2] and [3] are global; at 64 px maps double.", SIZES
            ),
            Mistake(
                [],
                "equal is not global",
                "a map exactly the window's size is one window: every token sees every other, which is global.",
                SIZES,
            ),
            Mistake([4], "counted from 1", "that is the paper's stage number; give the index i of layers.", SIZES),
        ],
        hints=[
            "layers[i]'s map is (64 / 2) / 2^i tokens a side. Which of them are <= the window 4?",
            "32, 16, 8, 4: only the last.",
        ],
        solution=(
            "[i for i, layer in enumerate(tiny_swin(1, img_size=64).layers) if min(layer.input_resolution) <= 4] "
            "is [3]: 32, 16 and 8 tokens a side need several windows, 4x4 is one."
        ),
        section=SIZES,
    )
)

register(
    value(
        "09.4",
        "A 'model' that always predicts the class most frequent in the training set: its accuracy on the 360 test "
        "digits (a float, two decimals are enough)?",
        answer=0.1,
        tol=0.005,
        why="the split is stratified: every class is about 36 of the 360 test digits, so one class is about 10%. "
        "A curve that stays near 0.1 has learned nothing.",
        mistakes=[
            Mistake(
                0.9, "the error rate", "0.9 is the share it gets wrong; the accuracy is what it gets right.", TRAINING
            ),
            Mistake(0.5, "a coin", "there are ten classes, not two.", TRAINING),
        ],
        hints=[
            "How many test digits belong to each class? torch.bincount(test_set.tensors[1]).",
            "About 36 of 360 per class.",
        ],
        solution=(
            "The training set's most frequent class is 1; the test set holds 36 ones of 360 digits: 36 / 360 = 0.1. "
            "(Any class gives 0.097 to 0.103.) That is the floor every curve in this notebook starts from."
        ),
        section=TRAINING,
    )
)

EXPORT = "Export to ONNX"

register(
    choice(
        "09.5",
        "The digits model was exported to ONNX at 32x32 (export_onnx). What happens when you give the file a "
        "48x48 image?",
        choices={
            "a": (
                "ONNX Runtime refuses it: the graph's H and W are fixed, because the clamp rule, the padding, the "
                "mask and the token order were worked out for 32x32 and stored as constants. Export a model built "
                "at 48 instead.",
                "the tracer ran the Python that decides window, shift, padding and mask once, at 32x32; the "
                "graph holds its results, not the rule.",
            ),
            "b": (
                "It runs with the same windows and gives the same logits as PyTorch at 48x48.",
                "the mask and the token order in the graph are those of a 16x16 token map; a 24x24 map needs others.",
            ),
            "c": (
                "It cannot have been exported at all: ONNX has no torch.roll.",
                "the export worked: the shift and the window partition run as one gather with a constant index "
                "(and torch.roll itself would export as Slice and Concat).",
            ),
            "d": (
                "It runs, after resizing the image to 32x32 inside the graph.",
                "nothing in the model resizes images; the graph's input simply has the fixed shape (B, 1, 32, 32).",
            ),
        },
        answer="a",
        why="what Swin derives from the image size (clamped window and shift, padding, mask, token order) is "
        "computed in Python and traced as constants; the input is declared (batch, 1, 32, 32).",
        mistakes=[
            Mistake(
                "b",
                "the graph as a general program",
                "tracing records the operations run at one size; the size-dependent choices become constants.",
                EXPORT,
            ),
            Mistake("c", "roll does not export", "the file exists and runs: see the section's output.", EXPORT),
        ],
        hints=[
            "Where are the window's clamp, the mask and the token order decided: in the graph or in Python?",
            "The section's cell fed the file a 48x48 input. What did ONNX Runtime answer?",
        ],
        solution=(
            "(a). torch.onnx.export traces one forward pass at 32x32: the Python that applies the clamp rule and "
            "builds the mask and the gather index runs once, and the graph keeps their results as constants; the "
            "input is declared with H = W = 32 and ONNX Runtime rejects any other. For 48x48: build tiny_swin(1, "
            "img_size=48), load the same state dict (no parameter depends on the size) and export that model."
        ),
        section=EXPORT,
    )
)
