"""Exercises of notebook 13 (Swin on a laptop): the bytes of one activation map, the mask float16 cannot hold,
how dot-product and cosine logits scale, and what precision="auto" picks on a CPU without bf16 units."""

from __future__ import annotations

from swin_tutor.exercises._exercise import Mistake
from swin_tutor.exercises.registry import choice, register, value

MEMORY = "What a training step keeps"
MASKS = "Where low precision breaks: masks"
LOGITS = "Where low precision breaks: dot product against cosine"
SPEED = "Speed on your machine"

register(
    value(
        "13.1",
        "Swin-T at 224 px, batch 8, float32: how many bytes does ONE activation map of stage 1 (B, 56, 56, 96) take?",
        answer=9_633_792,
        why="8 x 56 x 56 x 96 = 2,408,448 numbers x 4 bytes = 9,633,792 bytes (9.2 MiB). A block saves several such "
        "maps (and the attention weights) for backward: that is why stage 1 dominates the bar chart.",
        mistakes=[
            Mistake(2_408_448, "numbers, not bytes", "that is the count of numbers; a float32 takes 4 bytes.", MEMORY),
            Mistake(4_816_896, "bf16 bytes", "2 bytes a number is bfloat16; the question asks float32.", MEMORY),
            Mistake(1_204_224, "batch 1", "that is one image; the batch holds 8.", MEMORY),
            Mistake(
                154_140_672, "224 x 224 tokens", "stage 1 works on 224 / 4 = 56 tokens a side, not on pixels.", MEMORY
            ),
        ],
        hints=["Count the numbers first: B x H x W x C.", "8 * 56 * 56 * 96 numbers, 4 bytes each."],
        solution="8 * 56 * 56 * 96 * 4 = 9,633,792 bytes = 9.19 MiB. In code: torch.empty(8, 56, 56, 96).nbytes.",
        section=MEMORY,
    )
)

register(
    choice(
        "13.2",
        "A masked-attention code sets blocked logits to -1e9 (common in language-model code). In which dtype does a "
        "row whose pairs are all blocked give NaN weights?",
        choices={
            "a": ("float32", "float32 holds -1e9 exactly enough: a row of equal -1e9 logits gives equal weights."),
            "b": ("bfloat16", "bfloat16 has float32's exponent range: -1e9 rounds to -998244352, still finite."),
            "c": (
                "float16",
                "float16's largest number is 65504: -1e9 becomes -inf, and softmax of a row of -inf is inf - inf = "
                "NaN. Swin's -100 (and swin_tutor's -1e4) fit in float16.",
            ),
            "d": ("all three", "only a format whose range ends below 1e9 turns the mask into -inf."),
        },
        answer="c",
        why="float16 stops at 65504, so -1e9 is stored as -inf; a fully blocked row is then NaN.",
        hints=["Which of the three formats has the smallest range?", "torch.finfo(torch.float16).max"],
        solution="float16 (c): torch.tensor(-1e9).half() is -inf, and torch.softmax of [-inf, -inf] is [nan, nan].",
        section=MASKS,
    )
)

register(
    value(
        "13.3",
        "Every activation entering an attention layer doubles. By what factor does the largest DOT-PRODUCT logit grow, "
        "and by what factor the largest COSINE logit (v2)? Answer a pair (dot, cosine).",
        answer=(4, 1),
        why="q and k are linear in x, so q . k grows with the square: 2 x 2 = 4. The cosine divides by both norms, so "
        "it does not move: v2's logits stay within its learned scale (at most 100), whatever the activations do.",
        mistakes=[
            Mistake((2, 1), "linear", "both q and k double, and the logit is their product.", LOGITS),
            Mistake((4, 4), "cosine scales too", "the cosine is normalised by |q| |k|: doubling both cancels.", LOGITS),
            Mistake((2, 2), "both linear", "q . k multiplies two doubled vectors; cos(q, k) ignores length.", LOGITS),
        ],
        hints=["q = x W_q and k = x W_k: how does each change?", "q . k = |q| |k| cos(q, k)."],
        solution="dot: (2q) . (2k) = 4 (q . k); cosine: cos(2q, 2k) = cos(q, k). Pair (4, 1).",
        section=LOGITS,
    )
)

register(
    choice(
        "13.4",
        'A laptop CPU with AVX2 but neither AVX512-BF16 nor AMX: which dtype does choose_dtype("auto", "cpu") pick?',
        choices={
            "a": ("float32", "right: without bf16 units, bf16 products are converted to float32 and back: slower."),
            "b": ("bfloat16", "bf16 pays only where the CPU multiplies it natively; auto never slows a machine."),
            "c": ("float16", "float16 is CUDA-only in swin_tutor: CPUs without AVX512-FP16 emulate it."),
        },
        answer="a",
        why="'auto' stays in float32 on a CPU without bf16 units: emulated bf16 would only be slower.",
        hints=["What does has_bf16_units look for in /proc/cpuinfo?", "No avx512_bf16, no amx_bf16: no bf16 units."],
        solution="float32 (a): has_bf16_units('cpu') is False there, so 'auto' keeps float32.",
        section=SPEED,
    )
)
