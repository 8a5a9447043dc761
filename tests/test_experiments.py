"""The mechanism variants of notebook 10 and the measurements made on them."""

from __future__ import annotations

import math

import pytest
import torch

from swin_tutor.lab.experiments import (
    accuracy,
    activation_rms_per_block,
    reach,
    receptive_field,
    train_stack,
    window_transfer,
)
from swin_tutor.lab.mechanisms import ForcedShiftAttention, attention_modules, build_stack, unshifted, with_window
from swin_tutor.lab.tasks import relative_position_task, two_window_colour_task


def test_shift_modes_and_global_attention():
    assert [b.shift_size for b in build_stack(shift="alternating").blocks] == [0, 2, 0, 2]
    assert [b.shift_size for b in build_stack(shift="none").blocks] == [0, 0, 0, 0]
    glob = build_stack(window=8)
    assert [(b.window_size, b.shift_size) for b in glob.blocks] == [(8, 0)] * 4


def test_receptive_field_grows_only_with_the_shift():
    counts = {}
    for name, kw in {"shift": {}, "no shift": {"shift": "none"}, "global": {"window": 8}}.items():
        model = build_stack(seed=0, **kw)
        counts[name] = [int(reach(receptive_field(model, k)).sum()) for k in range(5)]
    assert counts["no shift"] == [1, 16, 16, 16, 16]  # the centre token's window, forever
    assert counts["global"] == [1, 64, 64, 64, 64]
    assert counts["shift"][:2] == [1, 16] and counts["shift"][4] > 16  # the shift lets it reach further
    field = reach(receptive_field(build_stack(seed=0, shift="none"), 4, query=(5, 6)))
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[4:, 4:] = True
    assert torch.equal(field, expected)
    with pytest.raises(ValueError, match="n_blocks"):
        receptive_field(build_stack(), 5)
    with pytest.raises(ValueError, match="query"):
        receptive_field(build_stack(), 1, query=(8, 0))


def test_no_position_bias_is_blind_to_mirror_images():
    images = relative_position_task(16, seed=0).tensors[0]
    blind = build_stack(seed=0, position="none").eval()
    sighted = build_stack(seed=0).eval()
    with torch.no_grad():
        for attn in attention_modules(sighted):
            attn.relative_position_bias_table.normal_(0, 1.0)
        for model, equivariant in ((blind, True), (sighted, False)):
            tokens = model.forward_tokens(model.embed(images))  # (B, H, W, C)
            mirrored = model.forward_tokens(model.embed(images.flip(-1)))
            assert torch.allclose(tokens.flip(2), mirrored, atol=1e-5) is equivariant
        assert torch.allclose(blind(images), blind(images.flip(-1)), atol=1e-5)
    assert not any(a.relative_position_bias_table.requires_grad for a in attention_modules(blind))


def test_shared_table_gives_every_head_the_same_bias():
    model = build_stack(seed=0, position="shared")
    attn = model.blocks[0].attn
    table = attn.relative_position_bias_table  # (49, heads) through the parametrization
    assert table.shape == (49, 2) and torch.equal(table[:, 0], table[:, 1])
    n_params = sum(p.numel() for p in model.parameters())
    assert sum(p.numel() for p in build_stack(seed=0).parameters()) - n_params == 4 * 49  # one column less per block
    with pytest.raises(ValueError, match="v1"):
        build_stack(version=2, position="shared")


def test_v2_options_linear_coords_and_fixed_temperature():
    log = build_stack(seed=0, version=2).blocks[0].attn
    lin = build_stack(seed=0, version=2, cpb_coords="linear").blocks[0].attn
    assert math.isclose(float(log.relative_coords_table.abs().max()), math.log2(9) / 3, rel_tol=1e-5)
    assert math.isclose(float(lin.relative_coords_table.abs().max()), 1.0, rel_tol=1e-6)
    assert not torch.allclose(log.position_bias(), lin.position_bias())
    hot = build_stack(seed=0, version=2, tau=0.01).blocks[0].attn
    assert torch.allclose(hot.logit_scale_value(), torch.full((2, 1, 1), 100.0))
    assert not hot.logit_scale.requires_grad
    with pytest.raises(ValueError, match="V2"):
        build_stack(version=1, tau=0.01)
    blind = build_stack(seed=0, version=2, position="none").blocks[0].attn
    assert torch.allclose(blind.position_bias(), torch.full((2, 16, 16), 8.0))


def test_forced_shift_masks_a_map_that_equals_the_window():
    right = build_stack(seed=0, size=4, depth=2)
    wrong = build_stack(seed=0, size=4, depth=2, forced_shift=True)
    assert right.blocks[1].shift_size == 0 and isinstance(wrong.blocks[1].attn, ForcedShiftAttention)
    assert int((wrong.blocks[1].attn.forced_mask < 0).sum()) == 16 * 16 - 4 * 16  # 4 regions of 4 tokens
    assert all(
        torch.equal(a, b) for a, b in zip(right.parameters(), wrong.parameters(), strict=True)
    )  # same seeded weights
    x = torch.randn(3, 4, 4, 32)
    with torch.no_grad():
        assert not torch.allclose(right.blocks[1](x), wrong.blocks[1](x), atol=1e-3)
    # the erratum cuts the reach of the shifted block: a corner token sees its 2x2 region only
    tokens = torch.randn(1, 4, 4, 32, requires_grad=True)
    wrong.blocks[1](tokens)[0, 0, 0].sum().backward()
    assert int((tokens.grad[0].abs().sum(-1) > 0).sum()) == 4


@pytest.mark.parametrize("version", [1, 2])
def test_with_window_keeps_weights_and_resizes_v1_tables(version):
    model = build_stack(seed=0, version=version, size=16)
    big = with_window(model, 8)
    assert [b.window_size for b in big.blocks] == [8] * 4 and [b.shift_size for b in big.blocks] == [0, 4, 0, 4]
    if version == 1:
        assert big.blocks[0].attn.relative_position_bias_table.shape == (225, 2)
    else:
        assert big.config.pretrained_window == 4
        # a seen offset keeps its coordinate: the centre of the 15x15 table is that of the 7x7 one
        assert torch.allclose(
            big.blocks[0].attn.relative_coords_table[0, 4:11, 4:11], model.blocks[0].attn.relative_coords_table[0]
        )
    same = with_window(model, 4)
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(same(x), model(x), atol=1e-5)


@pytest.mark.parametrize("version", [1, 2])
def test_with_window_on_a_larger_map_keeps_every_weight(version):
    """Window 4 on 8x8 maps -> window 8 on 16x16 maps (the transfer test of notebook 10): same weights, new geometry."""
    model = build_stack(seed=0, version=version)
    big = with_window(model, 8, size=16)
    assert big.config.size == 16 and [b.window_size for b in big.blocks] == [8] * 4
    assert torch.equal(big.head.weight, model.head.weight)
    assert big(torch.rand(2, 3, 16, 16)).shape == (2, 2)
    test = relative_position_task(8, seed=1, size=16, window=8, block=8)
    scores = window_transfer(model, test, (8,), size=16)
    assert set(scores) == {8} and scores[8] == accuracy(with_window(model, 8, size=16), test)


@pytest.mark.parametrize("version", [1, 2])
def test_unshifted_removes_every_shift_and_keeps_the_weights(version):
    from swin_tutor.train.digits_model import load_digits_model

    shifted = load_digits_model(version)  # trained: a v2 res-post-norm branch starts at zero
    assert any(b.shift_size for layer in shifted.layers for b in layer.blocks)
    before = {k: v.clone() for k, v in shifted.state_dict().items()}
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        out_shifted = shifted(x)
        plain = unshifted(shifted)
        out_plain = plain(x)
    assert all(b.shift_size == 0 and b.attn_mask is None for layer in plain.layers for b in layer.blocks)
    after = plain.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in after if "attn_mask" not in k)
    assert not torch.allclose(out_shifted, out_plain)  # the same weights on other windows


def test_activation_rms_per_block_counts_every_block():
    model = build_stack(seed=0, depth=6)
    values = activation_rms_per_block(model, torch.rand(4, 3, 8, 8))
    assert len(values) == 6 and all(v > 0 for v in values)


@pytest.mark.slow
def test_train_stack_learns_a_task_global_attention_can_solve():
    from swin_tutor.train.loop import TrainConfig

    train = two_window_colour_task(512, seed=0, near_border=2)
    test = two_window_colour_task(256, seed=1, near_border=2)
    config = TrainConfig(epochs=2, batch_size=64, lr=3e-3, warmup_epochs=0.5, label_smoothing=0.0, augment=False)
    model = build_stack(seed=0, window=8, depth=2)
    result = train_stack(model, train, test, config)
    assert len(result["train_loss"]) == 2 and result["stack"]["window"] == 8
    assert result["train_loss"][-1] < result["train_loss"][0] + 1e-3
    assert 0.0 <= result["test_acc"] <= 1.0 and result["test_acc"] == accuracy(model, test)
    scores = window_transfer(model, test, (8,))
    assert set(scores) == {8} and scores[8] == result["test_acc"]
