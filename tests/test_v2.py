"""Swin V2 core: log-spaced coordinates, continuous position bias, scaled cosine attention,
res-post-norm and the sizes (parameters, multiply-adds) of SwinV2-T/S/B.

Parity with Hugging Face lives in test_v2_parity.py; window-size transfer in test_transfer.py.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
from helpers import uninitialised

from swin_tutor import (
    SwinTransformerBlock,
    SwinTransformerBlockV2,
    WindowAttentionV2,
    count_macs,
    count_parameters,
    swinv2_b,
    swinv2_s,
    swinv2_t,
)
from swin_tutor.core.masks import shifted_window_mask
from swin_tutor.core.position_bias import (
    continuous_position_bias,
    linear_coords_table,
    log_spaced_coords_table,
    make_cpb_mlp,
    relative_position_index,
)
from swin_tutor.lesson.reference import perturb_

LOG_RANGE = math.log2(9) / 3  # 1.0566: the largest |coordinate| at the pretrained window


def _log_space(t: torch.Tensor) -> torch.Tensor:
    """The official log-spacing, written out again here: sign(x) log2(1 + |x|) / log2(8)."""
    return torch.sign(t) * torch.log2(t.abs() + 1) / 3


def _offsets(wh: int, ww: int) -> tuple[torch.Tensor, torch.Tensor]:
    dy = torch.arange(-(wh - 1), wh, dtype=torch.float32)
    dx = torch.arange(-(ww - 1), ww, dtype=torch.float32)
    return torch.meshgrid(dy, dx, indexing="ij")


@pytest.fixture(scope="module")
def fresh_v2():
    """A freshly initialised SwinV2-T (window 8, 256), eval mode: res-post-norms are zero."""
    torch.manual_seed(0)
    return swinv2_t().eval()


# -- coordinates ----
def test_log_coords_non_square_window_spans_1_0566_on_both_axes():
    table = log_spaced_coords_table((8, 16))
    assert table.shape == (15, 31, 2)
    span = table.abs().amax(dim=(0, 1))
    assert torch.allclose(span, torch.tensor([1.0566, 1.0566]), atol=1e-4), span
    assert torch.allclose(span, torch.full((2,), LOG_RANGE), atol=1e-6)
    # Symmetric: the offset -d has coordinate -c(d).
    assert torch.equal(table.flip(0, 1), -table)

    # Tutorial erratum: divide BOTH axes by ws[0] - 1 = 7. The 16-wide axis then reaches 15/7.
    dy, dx = _offsets(8, 16)
    buggy = _log_space(torch.stack([dy / 7, dx / 7], dim=-1) * 8)
    buggy_span = buggy.abs().amax(dim=(0, 1))
    assert abs(buggy_span[0].item() - LOG_RANGE) < 1e-6
    assert abs(buggy_span[1].item() - 1.394) < 1e-3, buggy_span
    assert abs(span[1].item() - buggy_span[1].item()) > 0.3  # ours is not the buggy table
    assert not torch.allclose(table[..., 1], buggy[..., 1])
    assert torch.allclose(table[..., 0], buggy[..., 0])  # only the second axis differs


def test_log_coords_at_pretrained_window_and_beyond():
    own = log_spaced_coords_table(8)
    at_pretrained = log_spaced_coords_table(8, 8)
    assert torch.equal(own, at_pretrained)
    assert abs(own.abs().max().item() - LOG_RANGE) < 1e-6

    # A window-16 model that keeps pretrained_window_size=8: offsets up to 15 with the scale of 7,
    # so the range grows (15/7 * 8 -> log2(18.14)/3 = 1.394), as intended.
    grown = log_spaced_coords_table(16, 8)
    assert grown.shape == (31, 31, 2)
    assert grown.abs().max().item() > LOG_RANGE + 0.3
    assert abs(grown.abs().max().item() - math.log2(15 / 7 * 8 + 1) / 3) < 1e-6
    # The offsets the window-8 model knew keep exactly their coordinates (what makes transfer work).
    assert torch.equal(grown[8:23, 8:23], own)
    # Without the pretrained size, window 16 is rescaled to its own +-1.0566.
    assert abs(log_spaced_coords_table(16).abs().max().item() - LOG_RANGE) < 1e-6


@pytest.mark.parametrize(
    "window, pretrained",
    [((1, 8), 0), ((1, 1), 0), ((8, 1), 0), ((1, 8), (1, 8)), ((1, 1), (1, 1))],
)
def test_log_coords_one_wide_window_is_finite(window, pretrained):
    table = log_spaced_coords_table(window, pretrained)
    assert table.shape == (2 * window[0] - 1, 2 * window[1] - 1, 2)
    assert torch.isfinite(table).all()
    for axis, size in enumerate(window):
        values = table[..., axis]
        if size == 1:
            assert torch.equal(values, torch.zeros_like(values))
        else:
            assert abs(values.abs().max().item() - LOG_RANGE) < 1e-6
    assert torch.isfinite(linear_coords_table(window, pretrained)).all()


def test_linear_coords_divide_each_axis_by_its_own_size():
    dy, dx = _offsets(8, 16)
    assert torch.equal(linear_coords_table((8, 16)), torch.stack([dy / 7, dx / 15], dim=-1))
    # With a pretrained window, each axis by the pretrained size of that axis.
    assert torch.equal(linear_coords_table((8, 16), (4, 6)), torch.stack([dy / 3, dx / 5], dim=-1))
    table = linear_coords_table((8, 16))
    assert table[..., 0].abs().max() == 1 and table[..., 1].abs().max() == 1
    # log-spaced = log-spacing of 8 x linear
    assert torch.allclose(log_spaced_coords_table((8, 16)), _log_space(table * 8), atol=1e-7)


# -- continuous position bias ----
def test_cpb_mlp_shape():
    mlp = make_cpb_mlp(6)
    assert len(mlp) == 3
    first, act, last = mlp
    assert isinstance(first, nn.Linear) and isinstance(act, nn.ReLU) and isinstance(last, nn.Linear)
    assert (first.in_features, first.out_features) == (2, 512) and first.bias is not None
    assert (last.in_features, last.out_features) == (512, 6) and last.bias is None
    assert mlp(torch.zeros(5, 2)).shape == (5, 6)


def test_cpb_bias_is_16_sigmoid_in_0_16():
    torch.manual_seed(0)
    heads, ws = 4, 7
    mlp = make_cpb_mlp(heads)
    table = log_spaced_coords_table(ws)
    index = relative_position_index(ws)
    bias = continuous_position_bias(mlp, table, index)
    n = ws * ws
    assert bias.shape == (heads, n, n)
    # Independent computation: run the MLP per offset, gather per (query, key) pair, squash.
    raw = mlp(table.reshape(-1, 2))  # (169, heads)
    expected = 16 * torch.sigmoid(raw[index.reshape(-1)].reshape(n, n, heads).permute(2, 0, 1))
    assert torch.allclose(bias, expected, atol=1e-6)
    assert (bias > 0).all() and (bias < 16).all()
    # Zero output layer -> sigmoid(0) = 1/2 -> exactly 8 everywhere.
    with torch.no_grad():
        mlp[2].weight.zero_()
    assert torch.equal(continuous_position_bias(mlp, table, index), torch.full((heads, n, n), 8.0))
    # Huge weights saturate towards the ends but never leave [0, 16].
    with torch.no_grad():
        mlp[2].weight.normal_(0, 100)
    big = continuous_position_bias(mlp, table, index)
    assert big.min() >= 0 and big.max() <= 16 and big.min() < 0.1 and big.max() > 15.9


# -- WindowAttentionV2 ----
def _v2_attention(dim=64, window=4, heads=4, seed=0) -> WindowAttentionV2:
    torch.manual_seed(seed)
    attn = WindowAttentionV2(dim, window, heads)
    perturb_(attn, seed=seed, scale=0.2)  # q_bias, v_bias, logit_scale, ... all non-trivial
    return attn.eval()


def test_v2_attention_parameters_q_and_v_bias_but_no_k_bias():
    attn = _v2_attention()
    names = dict(attn.named_parameters())
    assert attn.qkv.bias is None
    assert names["q_bias"].shape == (64,) and names["v_bias"].shape == (64,)
    assert not any("k_bias" in name or "relative_position_bias_table" in name for name in names)
    assert set(attn.state_dict()) == {
        "qkv.weight",
        "q_bias",
        "v_bias",
        "logit_scale",
        "cpb_mlp.0.weight",
        "cpb_mlp.0.bias",
        "cpb_mlp.2.weight",
        "proj.weight",
        "proj.bias",
    }
    torch.manual_seed(1)
    x = torch.randn(3, 16, 64)
    with torch.no_grad():
        before = attn(x)
        attn.v_bias.add_(0.5)
        assert (attn(x) - before).abs().max() > 1e-3  # v_bias is used
        attn.v_bias.sub_(0.5)
        attn.q_bias.add_(0.5)
        assert (attn(x) - before).abs().max() > 1e-3  # q_bias is used


def _manual_cosine_attention(
    attn: WindowAttentionV2, x: torch.Tensor, mask: torch.Tensor | None, k_bias: float = 0.0
) -> torch.Tensor:
    """Scaled cosine attention written out step by step; no bias on the keys unless k_bias."""
    b, n, c = x.shape
    h, d = attn.num_heads, c // attn.num_heads
    wq, wk, wv = attn.qkv.weight.chunk(3)
    q = (x @ wq.T + attn.q_bias).reshape(b, n, h, d).transpose(1, 2)
    k = (x @ wk.T + k_bias).reshape(b, n, h, d).transpose(1, 2)
    v = (x @ wv.T + attn.v_bias).reshape(b, n, h, d).transpose(1, 2)
    cos = (q / q.norm(dim=-1, keepdim=True)) @ (k / k.norm(dim=-1, keepdim=True)).transpose(-2, -1)
    scale = attn.logit_scale.clamp(max=math.log(100)).exp()
    logits = cos * scale + continuous_position_bias(
        attn.cpb_mlp,
        log_spaced_coords_table(attn.window_size),
        relative_position_index(attn.window_size),
    )
    if mask is not None:
        logits = logits + mask.repeat(b // mask.shape[0], 1, 1)[:, None]
    out = (logits.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
    return attn.proj(out)


@pytest.mark.parametrize("masked", [False, True])
def test_v2_attention_matches_manual_cosine_attention(masked):
    attn = _v2_attention()
    mask = shifted_window_mask(8, 8, 4, 2) if masked else None  # 4 windows of 4x4
    torch.manual_seed(2)
    x = torch.randn(8, 16, 64)  # batch 2 x 4 windows
    with torch.no_grad():
        ours = attn(x, mask)
        manual = _manual_cosine_attention(attn, x, mask)
        # A bias on k (which cosine attention does not cancel) would change the answer.
        manual_k_bias = _manual_cosine_attention(attn, x, mask, k_bias=0.5)
    assert torch.allclose(ours, manual, atol=1e-5), (ours - manual).abs().max()
    assert (ours - manual_k_bias).abs().max() > 1e-3
    assert attn.attention_probs(x, mask).shape == (8, 4, 16, 16)


def test_logit_scale_init_and_clamp():
    attn = WindowAttentionV2(96, 8, 3)
    assert attn.logit_scale.shape == (3, 1, 1)
    assert isinstance(attn.logit_scale, nn.Parameter)
    torch.testing.assert_close(attn.logit_scale.data, torch.full((3, 1, 1), math.log(10)), rtol=1e-6, atol=0)
    torch.testing.assert_close(attn.logit_scale_value(), torch.full((3, 1, 1), 10.0), rtol=1e-6, atol=0)

    def value_at(v: float) -> torch.Tensor:
        with torch.no_grad():
            attn.logit_scale.fill_(v)
        return attn.logit_scale_value().detach().clone()

    clamped = value_at(10.0)  # exp(10) = 22026 without the clamp
    # Exactly 100: the clamp is applied after exp (exp(float32(log 100)) alone is 100.0000076).
    assert torch.equal(clamped, torch.full((3, 1, 1), 100.0))
    assert torch.equal(clamped, value_at(math.log(100)))
    assert torch.equal(clamped, value_at(1000.0))
    torch.testing.assert_close(value_at(math.log(50)), torch.full((3, 1, 1), 50.0), rtol=1e-6, atol=0)
    assert value_at(math.log(50)).max() < 50.001  # below the clamp: untouched
    # The clamp stops the gradient beyond log 100 (scale frozen at 100), not below it.
    with torch.no_grad():
        attn.logit_scale.copy_(torch.tensor([[[10.0]], [[math.log(50)]], [[0.0]]]))
    attn.logit_scale_value().sum().backward()
    grad = attn.logit_scale.grad.flatten()
    assert grad[0] == 0 and grad[1] > 0 and grad[2] > 0


def test_v2_block_state_dict_keys(fresh_v2):
    keys = set(fresh_v2.state_dict())
    blocks = [(i, j) for i, d in enumerate(fresh_v2.depths) for j in range(d)]
    assert len(blocks) == 12
    for i, j in blocks:
        prefix = f"layers.{i}.blocks.{j}."
        attn_keys = {k[len(prefix) :] for k in keys if k.startswith(prefix + "attn.")}
        for name in (
            "attn.logit_scale",
            "attn.q_bias",
            "attn.v_bias",
            "attn.cpb_mlp.0.weight",
            "attn.cpb_mlp.0.bias",
            "attn.cpb_mlp.2.weight",
        ):
            assert name in attn_keys, (prefix, name)
        assert "attn.qkv.bias" not in attn_keys
        assert not any("relative_position_bias_table" in k for k in attn_keys)
    assert not any(k.endswith(("qkv.bias", "relative_position_bias_table", "cpb_mlp.2.bias")) for k in keys)


# -- norm placement ----
def test_fresh_v2_blocks_are_identity(fresh_v2):
    """Zero-initialised res-post-norms: x + norm(f(x)) = x + 0 exactly, in every block."""
    gen = torch.Generator().manual_seed(0)
    checked = 0
    for layer in fresh_v2.layers:
        h, w = layer.input_resolution
        x = torch.randn(1, h, w, layer.dim, generator=gen)
        for block in layer.blocks:
            assert isinstance(block, SwinTransformerBlockV2) and block.norm_placement == "res_post"
            for norm in (block.norm1, block.norm2):
                assert torch.equal(norm.weight, torch.zeros_like(norm.weight))
                assert torch.equal(norm.bias, torch.zeros_like(norm.bias))
            with torch.no_grad():
                assert torch.equal(block(x), x)
                if block is layer.blocks[0]:  # ... and not because the branch itself is dead
                    assert block.window_attention(x).abs().max() > 1e-3
            checked += 1
    assert checked == 12


def _manual_block(block: SwinTransformerBlock, x: torch.Tensor, placement: str) -> torch.Tensor:
    attn, mlp, n1, n2 = block.window_attention, block.mlp, block.norm1, block.norm2
    if placement == "pre":
        x = x + attn(n1(x))
        return x + mlp(n2(x))
    if placement == "post":
        x = n1(x + attn(x))
        return n2(x + mlp(x))
    x = x + n1(attn(x))
    return x + n2(mlp(x))


@pytest.mark.parametrize("block_cls", [SwinTransformerBlock, SwinTransformerBlockV2])
def test_norm_placements(block_cls):
    torch.manual_seed(0)
    x = torch.randn(2, 8, 8, 32)
    outputs = {}
    state = None
    for placement in ("pre", "post", "res_post"):
        torch.manual_seed(0)
        block = block_cls(32, (8, 8), num_heads=2, window_size=4, shift_size=2, norm_placement=placement)
        if state is None:
            perturb_(block, seed=3, scale=0.3)  # LayerNorms away from 1/0 (and away from 0 for v2)
            state = block.state_dict()
        block.load_state_dict(state)
        block.eval()
        assert block.norm_placement == placement and block.shift_size == 2
        with torch.no_grad():
            outputs[placement] = block(x)
            manual = _manual_block(block, x, placement)
        torch.testing.assert_close(outputs[placement], manual, rtol=0, atol=1e-6)
    # Same weights, three different functions.
    assert (outputs["pre"] - outputs["post"]).abs().max() > 1e-2
    assert (outputs["pre"] - outputs["res_post"]).abs().max() > 1e-2
    assert (outputs["post"] - outputs["res_post"]).abs().max() > 1e-2


def test_default_norm_placements_and_invalid_placement():
    assert SwinTransformerBlock(32, (8, 8), 2, 4).norm_placement == "pre"
    assert SwinTransformerBlockV2(32, (8, 8), 2, 4).norm_placement == "res_post"
    for cls in (SwinTransformerBlock, SwinTransformerBlockV2):
        with pytest.raises(ValueError, match="norm_placement"):
            cls(32, (8, 8), 2, 4, norm_placement="sandwich")


# -- sizes ----
@pytest.mark.parametrize(
    "factory, kwargs, expected",
    [
        (swinv2_t, {}, 28_347_154),
        (swinv2_s, {}, 49_728_418),
        (swinv2_b, {}, 87_918_816),
        (swinv2_t, {"window_size": 16}, 28_347_154),  # the CPB MLP does not grow with the window
    ],
)
def test_v2_parameter_counts(factory, kwargs, expected):
    with uninitialised():  # counting needs shapes, not values: skip the (slow) random initialisation
        model = factory(**kwargs)
    assert count_parameters(model) == expected


def test_swinv2_t_multiply_adds():
    with torch.device("meta"):  # shapes are all the counter needs
        model = swinv2_t()
    macs = count_macs(model)
    assert abs(macs / 5.93e9 - 1) < 0.01, macs
