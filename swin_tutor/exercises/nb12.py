"""Exercises of notebook 12 (Swin as a backbone): the shape of one pyramid level, the padding a size costs,
what loading a classification checkpoint into a backbone reports, and an IoU from a confusion matrix."""

from __future__ import annotations

from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import choice, register, value

BACKBONE = "From classifier to backbone"
PYRAMID = "The pyramid of one scene"
SIZES = "Input sizes for dense tasks"
SCORES = "The shipped model on held-out scenes"

register(
    value(
        "12.1",
        "tiny_segmenter()'s backbone on one 96x160 scene: what is the shape of its third output (stage 3, stride 16)?",
        answer=(1, 64, 6, 10),
        why="stride 16: 96/16 = 6 rows, 160/16 = 10 columns; width 16 * 2**2 = 64; NCHW: (1, 64, 6, 10).",
        mistakes=[
            Mistake((1, 6, 10, 64), "channels-last", "the backbone permutes every output to NCHW.", BACKBONE),
            Mistake((1, 32, 12, 20), "stage 2", "that is the second output (stride 8).", PYRAMID),
            Mistake((1, 128, 3, 5), "stage 4", "that is the last output (stride 32).", PYRAMID),
            Mistake((1, 64, 10, 6), "height and width swapped", "96 is the height, 160 the width.", PYRAMID),
        ],
        hints=[
            "Output i has stride 4 * 2**i and width 16 * 2**i, in the layout (B, C, H, W).",
            "i = 2: stride 16, width 64. Check with [tuple(f.shape) for f in model.backbone(scene)].",
        ],
        solution="96 / 16 = 6, 160 / 16 = 10, C = 16 * 4 = 64: (1, 64, 6, 10).",
        section=PYRAMID,
    )
)

register(
    value(
        "12.2",
        "Swin-T (patch 4, window 7) as a backbone on a 512x512 image: how many padded tokens does stage 1 add "
        "for attention (padded map minus real map)?",
        answer=1_305,
        why="512 / 4 = 128 tokens a side; the next multiple of 7 is 133: 133**2 - 128**2 = 17,689 - 16,384 = 1,305.",
        mistakes=[
            Mistake(0, "no padding", "128 is not a multiple of 7 (7 * 18 = 126, 7 * 19 = 133).", SIZES),
            Mistake(5, "one side only", "5 rows are added at the bottom, 5 columns at the right: count tokens.", SIZES),
            Mistake(1_280, "a strip of 5 x 128, twice", "the corner of 5 x 5 is padded too: 133**2 - 128**2.", SIZES),
        ],
        hints=[
            "Stage 1's map is 512 / 4 tokens a side. The map is padded at the bottom and right up to a multiple of 7.",
            "128 -> 133. Padded tokens: 133 * 133 - 128 * 128.",
        ],
        solution="(512 / 4) = 128 -> 133 = 7 * 19; 133**2 - 128**2 = 1,305 tokens (7.4% more).",
        section=SIZES,
    )
)

register(
    choice(
        "12.3",
        "You load an official Swin-T classification checkpoint into SwinBackbone(swin_t(num_classes=0)). "
        "What does the load report say?",
        choices={
            "a": (
                "head.* and norm.* are dropped; norm0..norm3 are new (LayerNorm's 1 and 0); everything else loads.",
                "the classifier's final norm and head are not part of a backbone; the output norms are not part "
                "of a classifier.",
            ),
            "b": (
                "Everything loads; norm.* becomes norm3.",
                "the final norm of a classifier normalises stage 4 after the last block, but it is a different "
                "LayerNorm from the detection code's norm3: reusing it is a pitfall, not a mapping.",
            ),
            "c": (
                "Nothing loads: a backbone checkpoint has other names.",
                "the backbone keeps the classifier's names (patch_embed.proj, layers.0.blocks.0...).",
            ),
            "d": (
                "The relative position bias tables are dropped, because a backbone runs at other sizes.",
                "the tables depend on the window, not on the image size: they load as they are.",
            ),
        },
        answer="a",
        why="a backbone = patch_embed + layers of the classifier + one fresh LayerNorm per output; the head and the "
        "final norm have no place in it. Fine-tuning trains the new norms.",
        mistakes=[
            Mistake("b", "the final norm reused", "norm3 is new; the classifier's norm is dropped.", BACKBONE),
            Mistake("d", "tables tied to the image", "the tables depend on the window only.", BACKBONE),
        ],
        hints=[
            "Which modules of a classifier serve only classification, and which modules does the backbone add?",
            "The section printed a load report: read its 'dropped' and 'new' lines.",
        ],
        solution="(a): dropped head.weight, head.bias, norm.weight, norm.bias; new norm0..norm3 (weight and bias).",
        section=BACKBONE,
    )
)

register(
    value(
        "12.4",
        "Two classes, confusion matrix [[80, 2], [3, 5]] (rows true, columns predicted). What is the IoU of "
        "class 1? (3 decimals are enough)",
        answer=5 / 10,
        tol=1e-3,
        why="TP = 5, FP = 2 (true 0, predicted 1), FN = 3 (true 1, predicted 0): 5 / (5 + 2 + 3) = 0.5.",
        mistakes=[
            Mistake(5 / 8, "recall", "5 / 8 ignores the false positives in column 1.", SCORES),
            Mistake(5 / 7, "precision", "5 / 7 ignores the false negatives in row 1.", SCORES),
            Mistake(85 / 90, "pixel accuracy", "85 / 90 counts all correct pixels; IoU is per class.", SCORES),
        ],
        hints=[
            "IoU = TP / (TP + FP + FN). Row 1 holds the true class-1 pixels, column 1 the predicted ones.",
            "TP = 5; row 1 without the diagonal: 3; column 1 without the diagonal: 2.",
        ],
        solution="5 / (5 + 3 + 2) = 0.5; swin_tutor.train.segment.iou_per_class(torch.tensor([[80, 2], [3, 5]])).",
        section=SCORES,
    )
)
