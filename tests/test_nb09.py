"""The answers of notebook 09's exercises are what the model and the data say (not typed-in numbers only)."""

from __future__ import annotations

import pytest
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


def test_09_5_a_32_px_onnx_file_refuses_48_px(tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install onnxruntime)")
    from swin_tutor.checkpoints.onnx import export_onnx

    assert exercise("09.5").solution_answer == "a"
    model = tiny_swin(1).eval()
    export_onnx(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == ["batch", 1, 32, 32]
    with pytest.raises(Exception, match="(?i)dimension"):
        session.run(None, {"x": torch.zeros(1, 1, 48, 48).numpy()})


def test_the_centre_of_a_v1_table_is_the_table_of_the_clamped_window():
    """Notebook 09: the official code builds stage 4's table for the clamped 2x2 window (9 rows); swin_tutor keeps
    the 49 rows of window 4 and reads their centre, so the centre 3x3 of the table is exactly an official table."""
    from swin_tutor.core.attention import WindowAttention
    from swin_tutor.train.digits_model import load_digits_model

    model = load_digits_model(1)
    block = model.layers[3].blocks[0]
    assert (block.window_size, block.shift_size, block.attn.window_size) == (2, 0, (4, 4))
    table = block.attn.relative_position_bias_table  # (49, 16)
    centre = table.view(7, 7, -1)[2:5, 2:5].reshape(9, -1)
    official = WindowAttention(block.dim, 2, block.num_heads)
    with torch.no_grad():
        official.relative_position_bias_table.copy_(centre)
    assert torch.equal(official.position_bias(), block.attn.position_bias(2))
