"""Exercises of notebook 07 (pre-norm, post-norm, res-post-norm, cosine attention): the RMS of a post-norm stack,
the largest attention ratio under the logit-scale clamp, and why deep post-norm Transformers needed warm-up."""

from __future__ import annotations

from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import choice, register, value

PLACES = "Three places for the LayerNorm"
COSINE = "Scaled cosine attention"
EXPERIMENT = "Experiment: activations through 24 blocks"
TAU = "1. One fixed temperature, `tau = 0.01`"

register(
    choice(
        "07.1",
        "The 24-block experiment with norm_placement='post': the RMS of x after every block",
        choices={
            "a": (
                "About 1 after every block, whatever the gain.",
                "post-norm ends every block with LN(x + f(x)): LayerNorm weights 1, bias 0 give RMS 1 per token.",
            ),
            "b": (
                "It grows like sqrt(number of blocks), as res-post-norm did.",
                "res-post adds normalised branches onto an unnormalised path; post-norm normalises the path itself.",
            ),
            "c": (
                "It grows with the gain, as pre-norm did.",
                "pre-norm adds raw branch outputs to x; post-norm's final LayerNorm removes any scale.",
            ),
            "d": (
                "Zero: the block starts as the identity.",
                "that is res-post-norm with the official zero-initialised LayerNorms; post-norm normalises x + f(x).",
            ),
        },
        answer="a",
        why="LN(x + f(x)) with weight 1 and bias 0 has mean 0 and variance 1 over the channels: RMS 1 at every depth.",
        mistakes=[Mistake("d", "res-post-norm's zero init", "confuses the two placements.", PLACES)],
        hints=[
            "Where is the last LayerNorm of a post-norm block: on the branch, or on the sum?",
            "A LayerNorm with weight 1 and bias 0 outputs, per token, mean 0 and variance 1. What RMS is that?",
        ],
        solution=(
            "Post-norm computes x <- LN(x + f(x)), so after every block each token has mean 0 and variance 1 over its "
            "96 channels (weight 1, bias 0): RMS 1, for any depth and gain: (a). Run make_stack('post') with "
            "rms_after_each_block to see it (just under 1, by the eps)."
        ),
        section=PLACES,
    )
)


def _diagnose_scale(answer):
    big, small = answer
    if big == 200:
        return "the clamp part is right; at the initial scale 10 the logits span 2 * 10."
    if small == 20:
        return "the initial part is right; at the clamp the scale is 100, so the logits span 2 * 100."
    return None


register(
    value(
        "07.2",
        "Ignoring the bias: the largest ln(p_j / p_k) for one query at the clamp (scale 100), and at the initial 10",
        answer=(200, 20),
        why="cos lies in [-1, 1], so the logits of one query span at most 2s: 200 at the clamp, 20 at init.",
        mistakes=[
            Mistake((100, 10), "cosines taken as non-negative", "cos(q, k) reaches -1: the span is 2s, not s.", COSINE),
            Mistake(
                (200, 200),
                "tau = 0.01 at init",
                "the official scale starts at 10 (tau = 0.1) and can at most reach 100.",
                TAU,
            ),
            Mistake((2, 2), "the scale forgotten", "the logits are cos(q, k) times s_h.", COSINE),
        ],
        diagnose=_diagnose_scale,
        hints=[
            "p_j / p_k = exp(logit_j - logit_k). What is the largest and the smallest logit s * cos can take?",
            "s * 1 and s * (-1): the difference is 2s.",
        ],
        solution=(
            "Logits are s_h cos(q, k) with cos in [-1, 1], so ln(p_j / p_k) <= 2 s_h: 200 at the clamp s = 100 "
            "(a ratio of e^200, far beyond float32), 20 at the initial s = 10 (e^20, about 5e8). The clamp bounds how "
            "sharp attention can get; a v1 dot product has no such bound."
        ),
        section=COSINE,
    )
)

register(
    choice(
        "07.3",
        "Why did deep post-norm Transformers need learning-rate warm-up to train at all?",
        choices={
            "a": (
                "With the LayerNorm on the main path, gradients near the output are large at initialisation; "
                "big early steps diverge.",
                "Xiong et al. (2020, 'On Layer Normalization in the Transformer Architecture') show the expected "
                "gradients of the last layers' weights are large for post-norm at init; warm-up keeps early steps "
                "small (pre-norm trains without it).",
            ),
            "b": (
                "The activations grow with depth and overflow.",
                "that is pre-norm's problem (the experiment above); post-norm renormalises x after every block.",
            ),
            "c": (
                "LayerNorm has no learnable parameters at initialisation.",
                "it has a weight (1) and a bias (0) from the start; that is not what warm-up is for.",
            ),
            "d": (
                "Post-norm uses cosine attention, whose logits are too small at first.",
                "cosine attention is a Swin V2 choice, independent of where the LayerNorm sits.",
            ),
        },
        answer="a",
        why="post-norm's LayerNorm sits on the residual path, so early gradients are badly scaled; warm-up tames them.",
        mistakes=[Mistake("b", "pre-norm's growth", "post-norm normalises the path after every block.", EXPERIMENT)],
        hints=[
            "In post-norm, does any path from the loss back to an early layer avoid a LayerNorm?",
            "Look up Xiong et al. 2020: which layers get large gradients at initialisation under post-norm?",
        ],
        solution=(
            "In post-norm every residual passes through LN(x + f(x)), so there is no identity path from the output to "
            "early layers, and at initialisation the gradients of the last layers' weights are large (Xiong et al., "
            "2020). A full learning rate from step 0 then diverges; warm-up starts small: (a). Pre-norm keeps an "
            "identity path and trains without warm-up, at the price of the growth seen above; Swin V2's res-post-norm "
            "keeps the identity path and bounds each branch."
        ),
        section=PLACES,
    )
)
