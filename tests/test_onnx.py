"""ONNX export (swin_tutor.checkpoints.onnx): ONNX Runtime (CPU) against PyTorch, logits and attention."""

from __future__ import annotations

import pytest
import torch

from swin_tutor.checkpoints.onnx import AttentionRecorder, all_blocks, export_onnx, onnx_parity, output_names
from swin_tutor.core.sizes import swin_t, swinv2_t
from swin_tutor.train.digits_model import load_digits_model, tiny_swin

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install onnxruntime)")
pytest.importorskip("onnx", reason="onnx is not installed (pip install onnx)")

TOL = 1e-4


@pytest.mark.parametrize("version", [1, 2])
def test_digits_model_matches_pytorch_with_every_block(tmp_path, version):
    model = load_digits_model(version)
    blocks = all_blocks(model)
    path = tmp_path / f"digits_v{version}.onnx"
    names = export_onnx(model, path, blocks)
    assert names == output_names(blocks)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == names
    torch.manual_seed(0)
    for batch in (1, 3):  # the batch is dynamic
        parity = onnx_parity(path, model, torch.randn(batch, 1, 32, 32), blocks)
        assert parity.worst <= TOL, parity.max_abs_diff
        assert parity.max_row_sum_error <= 1e-5


def test_other_image_sizes_are_refused_and_a_second_export_works(tmp_path):
    model = load_digits_model(1)
    path = tmp_path / "d.onnx"
    export_onnx(model, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with pytest.raises(Exception, match="(?i)dimension|shape"):
        session.run(None, {"x": torch.zeros(1, 1, 48, 48).numpy()})
    # 48x48, the recipe of the docstring: the same weights in a model built for 48. Its stage 2 map
    # (6x6) is padded to 8x8, its stage 3 map (3x3) clamps the window to 3 (v1: the table's centre).
    big = tiny_swin(1, img_size=48).eval()
    big.load_state_dict(model.state_dict())
    export_onnx(big, tmp_path / "d48.onnx", [(2, 1), (3, 0)])
    torch.manual_seed(1)
    parity = onnx_parity(tmp_path / "d48.onnx", big, torch.randn(2, 1, 48, 48), [(2, 1), (3, 0)])
    assert parity.worst <= TOL, parity.max_abs_diff


def test_recorder_returns_weights_and_bias_without_changing_the_model():
    model = load_digits_model(2)
    torch.manual_seed(0)
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        logits, attn, bias = AttentionRecorder(model, [(0, 1)])(x)
        assert torch.equal(logits, model(x))
    block = model.layers[0].blocks[1]
    assert attn.shape == (2 * 16, 2, 16, 16) and bias.shape == (2, 16, 16)
    assert block.shift_size == 2
    torch.testing.assert_close(attn.sum(-1), torch.ones(2 * 16, 2, 16))
    # a shifted window that mixes regions gives its masked keys no weight at all
    assert (attn[15][:, block.attn_mask[15] < 0] == 0).all()
    assert not model.layers[0].blocks[1].attn._forward_hooks


def test_bad_arguments_name_themselves(tmp_path):
    model = load_digits_model(1)
    with pytest.raises(ValueError, match="blocks must be"):
        AttentionRecorder(model, [(4, 0)])
    with pytest.raises(ValueError, match="opset"):
        export_onnx(model, tmp_path / "x.onnx", opset=9)


@pytest.mark.slow
@pytest.mark.parametrize("build", [swin_t, swinv2_t], ids=["swin_t", "swinv2_t"])
def test_swin_t_sizes_match_pytorch(tmp_path, build):
    torch.manual_seed(0)
    model = build().eval()
    blocks = [(0, 1), (3, 1)]
    export_onnx(model, tmp_path / "m.onnx", blocks)
    parity = onnx_parity(tmp_path / "m.onnx", model, torch.randn(1, 3, *model.img_size), blocks)
    assert parity.worst <= TOL, parity.max_abs_diff
    assert parity.max_row_sum_error <= 1e-5
