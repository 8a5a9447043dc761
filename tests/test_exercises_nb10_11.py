"""The answers of notebook 10's exercises agree with what the package measures (not only with themselves)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from swin_tutor.exercises import exercise
from swin_tutor.lab.experiments import reach, receptive_field
from swin_tutor.lab.mechanisms import build_stack

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_10_1_reach_after_two_blocks_matches_the_gradient():
    model = build_stack(seed=0)
    assert int(reach(receptive_field(model, 2, (1, 4))).sum()) == exercise("10.1").solution_answer


def test_10_2_forced_shift_keys_match_the_gradient():
    model = build_stack(seed=0, size=4, depth=2, forced_shift=True)
    tokens = torch.randn(1, 4, 4, 32, requires_grad=True)
    model.blocks[1](tokens)[0, 0, 0].sum().backward()
    assert int((tokens.grad[0].abs().sum(-1) > 0).sum()) == exercise("10.2").solution_answer


def test_10_3_answer_is_a_listed_choice():
    ex = exercise("10.3")
    assert ex.solution_answer in ex.choices and len(ex.choices) == 4


PAIRS = [("10", "10_what_each_part_buys.ipynb"), ("11", "11_what_it_learned.ipynb")]


@pytest.mark.parametrize(("number", "path"), PAIRS)
def test_questions_and_choices_are_markdown_above_each_starter_cell(number, path):
    """Every starter cell has its question (and, for multiple choice, every choice) in the markdown cell above it."""
    cells = json.loads((NOTEBOOKS / path).read_text())["cells"]
    starters = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and "exercise(" in "".join(c["source"])]
    assert len(starters) == 3
    for k, i in enumerate(starters, start=1):
        above = "".join(cells[i - 1]["source"])
        assert cells[i - 1]["cell_type"] == "markdown" and f"**{number}.{k}**" in above
        ex = exercise(f"{number}.{k}")
        for letter, (text, _why) in (getattr(ex, "choices", None) or {}).items():
            assert f"**{letter}** {text}".replace("'", '"') in above.replace("'", '"')


def test_11_1_and_11_2_match_the_digits_model():
    from swin_tutor.lab.explain import capture_block_input, query_attention
    from swin_tutor.train.digits_model import tiny_swin

    model = tiny_swin(1).eval()
    images = torch.randn(1, 1, 32, 32)
    block = model.layers[0].blocks[1]
    result = query_attention(block, capture_block_input(model, block, images), (0, 7))
    assert int(result["masked"].sum()) == exercise("11.1").solution_answer
    with torch.no_grad():
        last = model.forward_intermediates(torch.randn(1, 1, 96, 96))["stage3"]
    assert last.shape[1] == last.shape[2] == exercise("11.2").solution_answer
