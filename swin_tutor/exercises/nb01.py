"""Exercises of notebook 01 (patchify): attention cost, the ratio's dependence on C, PatchEmbed sizes, patchify."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from swin_tutor.core.flops import global_msa_macs, window_msa_macs
from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import choice, function, register, value
from swin_tutor.lesson.images import make_test_card

COST = "Why global attention explodes on small patches"


def _ratio(side: int, c: int = 96, m: int = 7) -> float:
    h = side // 4
    return global_msa_macs(h, h, c) / window_msa_macs(h, h, c, m)


def _diagnose_side(side):
    if not isinstance(side, int) or side % 32:
        return f"the question asks for a multiple of 32, got {side!r}"
    if side < 640:
        return f"at {side} px global attention costs {int(_ratio(side))} times window attention, not yet 100."
    return f"at {side} px the ratio is above 100, but a smaller multiple of 32 already passes."


register(
    value(
        "01.1",
        "Smallest image side where global attention costs 100x window attention",
        answer=640,
        why="at 640 px (160 x 160 tokens) the ratio (2C + hw) / (2C + M^2) is 107; at 608 px it is 96.",
        mistakes=[
            Mistake(288, "the 2C terms dropped", "hw / M^2 > 100 ignores the shared projection cost 4hwC^2.", COST),
            Mistake(160, "pixels used as tokens", "h and w count tokens: divide the side by the patch size 4.", COST),
        ],
        diagnose=_diagnose_side,
        hints=[
            "Loop over side = 32, 64, ... and compare global_msa_macs(h, h, 96) with window_msa_macs(h, h, 96, 7).",
            "h = side // 4. Divide the two formulas: the ratio is (2C + hw) / (2C + M^2).",
            "hw must exceed 100 (2C + 49) - 2C = 23908, so h >= 155; the next multiple of 32 above 4 * 155.",
        ],
        solution=(
            "ratio = (4hwC^2 + 2(hw)^2 C) / (4hwC^2 + 2M^2 hwC) = (2C + hw) / (2C + M^2). With C = 96, M = 7: "
            "hw > 100 * 241 - 192 = 23908, h >= 155, side >= 620; the first multiple of 32 is 640 (ratio 107)."
        ),
        section=COST,
    )
)

register(
    choice(
        "01.2",
        "How does the global/window cost ratio depend on C?",
        choices={
            "a": (
                "It does not depend on C, only on the token count.",
                "the ratio (2C + hw) / (2C + M^2) has C in numerator and denominator; only the C^2 terms cancel.",
            ),
            "b": (
                "A larger C lowers the ratio.",
                "the shared projections 4hwC^2 grow with C and dilute the difference in the attention term.",
            ),
            "c": (
                "A larger C raises the ratio.",
                "both attention terms are linear in C, the projections quadratic: more C pulls the ratio to 1.",
            ),
            "d": (
                "It depends on C only through head_dim, so on the number of heads.",
                "the formulas count multiply-adds of all heads together; the head count does not appear.",
            ),
        },
        answer="b",
        why="ratio = (2C + hw) / (2C + M^2): the same hw > M^2 diluted by a larger 2C (C = 192 needs 832 px).",
        mistakes=[
            Mistake("a", "the old question's claim", "(2C + hw) / (2C + M^2) still contains C.", COST),
        ],
        hints=["Divide both formulas by 2hwC.", "You get (2C + hw) / (2C + M^2). What happens to it as C grows?"],
        solution=(
            "Dividing by 2hwC: ratio = (2C + hw) / (2C + M^2). Since hw > M^2 the ratio is above 1, and a larger C "
            "adds the same 2C to both, pulling it towards 1: (b). With C = 192 the 100x side is larger."
        ),
        section=COST,
    )
)

EMBED = "The patch embedding: a 4×4 convolution and a LayerNorm"


def _diagnose_embed(answer):
    tokens, params = answer
    if tokens == 28:
        return "28 is the side of the token map; the question asks for the number of tokens (28 * 28)."
    if tokens != 784:
        return "the token count is wrong: 224 / 8 tokens per side, squared."
    return "the token count is right, the parameter count is not: conv weight + conv bias + LayerNorm."


register(
    value(
        "01.3",
        "PatchEmbed(patch_size=8) at 224 px: tokens and parameters",
        answer=(784, 18720),
        why="28 x 28 = 784 tokens; 96 * 3 * 8 * 8 + 96 (conv) + 2 * 96 (LayerNorm) = 18720 parameters.",
        mistakes=[
            Mistake((784, 18528), "the LayerNorm forgotten", "LayerNorm(96) has a weight and a bias: 192.", EMBED),
            Mistake((784, 18432), "only the conv weight counted", "the conv has a bias (96) and LN 192 more.", EMBED),
            Mistake((3136, 4896), "patch size 4 used", "those are the numbers of PatchEmbed(patch_size=4).", EMBED),
        ],
        diagnose=_diagnose_embed,
        hints=[
            "Build it and look: PatchEmbed(patch_size=8)(torch.zeros(1, 3, 224, 224)).shape, count_parameters(...).",
            "Tokens: (224 / 8)^2. Parameters: Conv2d(3, 96, 8, 8) weight and bias, then LayerNorm(96).",
            "96 * 3 * 8 * 8 = 18432; add 96 and 192.",
        ],
        solution=(
            "224 / 8 = 28, so 28 * 28 = 784 tokens of 96 channels: (1, 28, 28, 96). Parameters: 96 * 3 * 8 * 8 = 18432 "
            "(conv weight) + 96 (conv bias) + 192 (LayerNorm weight and bias) = 18720. A detector would lose the "
            "stride-4 map: the finest features would be 8 pixels apart."
        ),
        section=EMBED,
    )
)

LINEAR = "The convolution is one Linear layer applied to every patch"


def patchify_reference(image: torch.Tensor, p: int) -> torch.Tensor:
    """(B, 3, H, W) -> (B, H/p * W/p, 3 p p): row-major patches, each flattened as (channel, row, col)."""
    return F.unfold(image, kernel_size=p, stride=p).transpose(1, 2)


def _patchify_solution(image, p):
    b, c, h, w = image.shape
    x = image.reshape(b, c, h // p, p, w // p, p)  # (B, C, rows, p, cols, p)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(b, (h // p) * (w // p), c * p * p)


def _channels_last_patches(image, p):
    b, c, h, w = image.shape
    x = image.reshape(b, c, h // p, p, w // p, p)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(b, (h // p) * (w // p), c * p * p)


def _column_major_tokens(image, p):
    b, c, h, w = image.shape
    x = image.reshape(b, c, h // p, p, w // p, p)
    return x.permute(0, 4, 2, 1, 3, 5).reshape(b, (h // p) * (w // p), c * p * p)


_gen = torch.Generator().manual_seed(1)
_card = make_test_card(grid=(6, 10), patch_size=4)[0]
register(
    function(
        "01.4",
        "Write patchify(image, p): (B, 3, H, W) -> (B, tokens, 3 p p) in the conv weight's order",
        reference=patchify_reference,
        cases=[
            ("the 6x10 test card, p = 4", (_card, 4)),
            ("a random (2, 3, 12, 20) image, p = 4", (torch.rand(2, 3, 12, 20, generator=_gen), 4)),
            ("a random (1, 3, 24, 16) image, p = 8", (torch.rand(1, 3, 24, 16, generator=_gen), 8)),
        ],
        solution_answer=_patchify_solution,
        tol=0.0,
        why="tokens row by row, each patch flattened (channel, row, col) like Conv2d's weight (C_out, C_in, kh, kw).",
        mistakes=[
            Mistake(
                _channels_last_patches,
                "channels last inside the patch",
                "(p1 p2 c) is not the conv weight's "
                "layout (c p1 p2): a Linear with the conv weights would give different numbers.",
                LINEAR,
            ),
            Mistake(
                _column_major_tokens,
                "tokens read column by column",
                "Swin numbers tokens row-major: token k is patch (k // w, k % w).",
                "Cutting the image into 4×4 patches",
            ),
        ],
        hints=[
            "Reshape (B, C, H, W) to (B, C, H/p, p, W/p, p) and permute.",
            "The token axes (H/p, W/p) go first, in that order; then C, then the two pixel axes.",
            "x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(b, -1, c * p * p)",
        ],
        solution=(
            "def patchify(image, p):\n    b, c, h, w = image.shape\n"
            "    x = image.reshape(b, c, h // p, p, w // p, p)  # (B, C, rows, p, cols, p)\n"
            "    return x.permute(0, 2, 4, 1, 3, 5).reshape(b, (h // p) * (w // p), c * p * p)\n"
            "Equivalent: rearrange(image, 'b c (h p1) (w p2) -> b (h w) (c p1 p2)', p1=p, p2=p) "
            "or F.unfold(image, p, stride=p).transpose(1, 2)."
        ),
        section=LINEAR,
    )
)
