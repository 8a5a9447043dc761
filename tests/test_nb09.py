"""The answers of notebook 09's exercises are what the model and the data say (not typed-in numbers only)."""

from __future__ import annotations

import torch

from swin_tutor.exercises import exercise
from swin_tutor.train.data import digits_datasets
from swin_tutor.train.digits_model import tiny_swin


def _windows(layer) -> int:
    h, w = layer.input_resolution
    m = layer.blocks[0].window_size
    return (-(-h // m)) * (-(-w // m))


def test_09_1_is_the_models_stage_3_bias_table_count():
    layer = tiny_swin(1).layers[3]
    count = sum(p.numel() for n, p in layer.named_parameters() if "relative_position_bias_table" in n)
    assert exercise("09.1").solution_answer == count


def test_09_2_and_09_3_follow_from_the_built_models():
    small, large = tiny_swin(1), tiny_swin(1, img_size=64)
    assert exercise("09.2").solution_answer == (_windows(small.layers[0]), _windows(large.layers[0]))
    global_stages = [i for i, layer in enumerate(large.layers) if _windows(layer) == 1]
    assert exercise("09.3").solution_answer == global_stages
    # the mistake "the answer at 32 px" really is the 32 px answer
    assert [i for i, layer in enumerate(small.layers) if _windows(layer) == 1] == [2, 3]


def test_09_4_is_the_majority_class_accuracy():
    train_set, test_set = digits_datasets()
    majority = torch.bincount(train_set.tensors[1]).argmax()
    accuracy = float((test_set.tensors[1] == majority).float().mean())
    ex = exercise("09.4")
    assert abs(accuracy - ex.solution_answer) <= ex.tol
