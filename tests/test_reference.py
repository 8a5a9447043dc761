"""swin_tutor.lesson.reference's checks: they agree on twins with the same weights, and they can fail."""

from __future__ import annotations

import pytest
import torch

from swin_tutor.core.model import SwinTransformer, SwinTransformerV2
from swin_tutor.lesson.reference import (
    compare_blocks,
    compare_merging,
    compare_position_biases,
    hf_block,
    hf_on_map,
    hf_position_bias,
    make_hf_reference,
)

pytest.importorskip("transformers")

# Hugging Face v1 needs every stage map to be at least the window: 128 px -> maps 32, 16, 8, 4.
SMALL = dict(img_size=128, window_size=4, embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8))


@pytest.fixture(scope="module", params=[1, 2], ids=["v1", "v2"])
def twins(request):
    torch.manual_seed(0)
    cls = SwinTransformerV2 if request.param == 2 else SwinTransformer
    reference, model = make_hf_reference(cls(**SMALL, num_classes=10), seed=3)
    x = torch.randn(1, 32, 32, 16, generator=torch.Generator().manual_seed(1))  # stage-0 map (B, H, W, C)
    return model, reference, x


def test_compare_blocks_prints_one_line_per_block(twins, capsys):
    model, reference, x = twins
    label = "layers[{i}].blocks[{j}] ({block.norm_placement})"
    assert compare_blocks(model, reference, x, 0, (0, 1), label=label)
    placement = model.layers[0].blocks[0].norm_placement
    assert capsys.readouterr().out.splitlines() == [
        f"layers[0].blocks[{j}] ({placement}): shape (1, 32, 32, 16), max |ours - reference| <= 1e-05: True"
        for j in (0, 1)
    ]


def test_hf_on_map_returns_the_block_output_as_tokens(twins):
    model, reference, x = twins
    with torch.no_grad():
        out = hf_on_map(hf_block(reference, 0, 1), x)
        expected = hf_block(reference, 0, 1)(x.reshape(1, -1, 16), (32, 32))[0]
    assert out.shape == (1, 32 * 32, 16) and torch.equal(out, expected)


def test_compare_merging_on_an_odd_map(twins, capsys):
    model, reference, _ = twins
    odd = torch.randn(1, 7, 7, 16, generator=torch.Generator().manual_seed(2))
    assert compare_merging(model, reference, odd, 0)
    line = "layers[0].downsample on 7x7x16: shape (1, 16, 32), max |ours - reference| <= 1e-05: True"
    assert capsys.readouterr().out == line + "\n"


def test_position_biases_agree_block_by_block(twins):
    model, reference, _ = twins
    same = compare_position_biases(model, reference)
    expected = {"bias": True, "index": True, **({"coords": True} if model.version == 2 else {})}
    assert same == expected
    with torch.no_grad():
        bias = hf_position_bias(reference, 1, 1)
    assert bias.shape == (2, 16, 16) and torch.allclose(bias, model.layers[1].blocks[1].attn.position_bias(), atol=1e-6)


def test_the_checks_fail_when_the_weights_differ(twins, capsys):
    """One changed number in stage 2 of our model: the block, merging and bias checks say False."""
    model, reference, _ = twins
    attn = model.layers[2].blocks[1].attn
    param = attn.cpb_mlp[2].weight if model.version == 2 else attn.relative_position_bias_table
    x2 = torch.randn(1, 8, 8, 64, generator=torch.Generator().manual_seed(4))
    saved = param.detach().clone()
    with torch.no_grad():
        param[0, 0] += 1.0
        model.layers[2].downsample.reduction.weight[0, 0] += 1.0
    try:
        assert not compare_blocks(model, reference, x2, 2, (0, 1))
        assert not compare_merging(model, reference, x2, 2)
        same = compare_position_biases(model, reference)
        assert not same["bias"] and same["index"]
        assert capsys.readouterr().out.count(": False") == 2  # block 1 and the merging; block 0 still matches
    finally:
        with torch.no_grad():
            param.copy_(saved)
            model.layers[2].downsample.reduction.weight[0, 0] -= 1.0


def test_position_biases_of_a_clamped_v2_window():
    """Window 8 on maps 32, 16, 8, 4: the last stage runs window 4 with the attention built for 8."""
    torch.manual_seed(0)
    reference, model = make_hf_reference(SwinTransformerV2(**{**SMALL, "window_size": 8}, num_classes=10), seed=5)
    assert model.layers[3].blocks[0].window_size == 4 and model.layers[3].blocks[0].attn.window_size == (8, 8)
    assert compare_position_biases(model, reference) == {"bias": True, "index": True, "coords": True}
