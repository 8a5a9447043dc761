"""The answers of notebook 10's exercises agree with what the package measures (not only with themselves)."""

from __future__ import annotations

import torch

from swin_tutor.exercises import exercise
from swin_tutor.lab.experiments import reach, receptive_field
from swin_tutor.lab.mechanisms import build_stack


def test_10_1_reach_after_two_blocks_matches_the_gradient():
    model = build_stack(seed=0)
    assert int(reach(receptive_field(model, 2, (4, 4))).sum()) == exercise("10.1").solution_answer


def test_10_2_forced_shift_keys_match_the_gradient():
    model = build_stack(seed=0, size=4, depth=2, forced_shift=True)
    tokens = torch.randn(1, 4, 4, 32, requires_grad=True)
    model.blocks[1](tokens)[0, 0, 0].sum().backward()
    assert int((tokens.grad[0].abs().sum(-1) > 0).sum()) == exercise("10.2").solution_answer


def test_10_3_answer_is_a_listed_choice():
    ex = exercise("10.3")
    assert ex.solution_answer in ex.choices and len(ex.choices) == 4


def test_11_1_and_11_2_match_the_digits_model():
    from swin_tutor.lab.explain import capture_block_input, query_attention
    from swin_tutor.train.digits_model import tiny_swin

    model = tiny_swin(1).eval()
    images = torch.randn(1, 1, 32, 32)
    block = model.layers[0].blocks[1]
    result = query_attention(block, capture_block_input(model, block, images), (0, 0))
    assert int(result["masked"].sum()) == exercise("11.1").solution_answer
    with torch.no_grad():
        last = model.forward_intermediates(images)["stage3"]
    assert last.shape[1] == last.shape[2] == exercise("11.2").solution_answer
