"""Swin V2 parity with Hugging Face ``Swinv2ForImageClassification`` (the reference).

``make_hf_reference`` gives the Hugging Face model seeded random weights (post-norms included, so
no block is the identity) and copies them into ours. Every v2 building block is then compared on
the same input, to max |diff| <= 1e-5: patch embedding, PatchMergingV2, WindowAttentionV2 with and
without the shifted-window mask, every block, every stage and the logits. Two configurations:
SwinV2-T at 256 with window 8, and with window 16 keeping ``pretrained_window_sizes=(8, 8, 8, 8)``.

Layouts: ours works on maps (B, H, W, C), Hugging Face on token lists (B, H*W, C) plus (H, W).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers import max_diff, seeded_randn, uninitialised

from swin_tutor import PatchMergingV2, SwinTransformerBlockV2, WindowAttentionV2, swinv2_t
from swin_tutor.core.position_bias import log_spaced_coords_table, relative_position_index
from swin_tutor.lesson.reference import hf_block, hf_stage, make_hf_reference

pytest.importorskip("transformers")

ATOL = 1e-5
CONFIGS = {
    "w8": {},
    "w16-pretrained8": {"window_size": 16, "pretrained_window_sizes": (8, 8, 8, 8)},
}
RESOLUTIONS = [(64, 64), (32, 32), (16, 16), (8, 8)]  # stage maps of a 256 input
DIMS = [96, 192, 384, 768]
BLOCKS = [(0, 0), (0, 1), (1, 0), (1, 1)] + [(2, j) for j in range(6)] + [(3, 0), (3, 1)]
# Forward checks run on one shifted/unshifted pair per stage (blocks 2.2-2.5 repeat 2.0 and 2.1).
FORWARD_BLOCKS = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)]


@pytest.fixture(scope="module", params=list(CONFIGS))
def pair(request):
    """(ours, hf, config name): SwinV2-T and its Hugging Face twin, same random weights, eval."""
    # Every parameter of ours is overwritten (strict load) by make_hf_reference, so skip the slow
    # random initialisation; buffers (coordinate tables, index, masks) are still built.
    with uninitialised():
        ours = swinv2_t(**CONFIGS[request.param])
    hf, ours = make_hf_reference(ours, seed=0)
    return ours, hf, request.param


def _tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, H, W, C) map -> (B, H*W, C) tokens, the Hugging Face layout."""
    return x.reshape(x.shape[0], -1, x.shape[-1])


def test_weights_are_not_trivial(pair):
    """The copied weights include non-zero res-post-norms: blocks are not the identity here."""
    ours, _, _ = pair
    for i, j in BLOCKS:
        block = ours.layers[i].blocks[j]
        assert block.norm1.weight.abs().min() > 0 and block.norm2.weight.abs().min() > 0


def test_config_matches(pair):
    ours, hf, name = pair
    assert hf.config.window_size == ours.window_size
    assert list(hf.config.pretrained_window_sizes) == list(ours.pretrained_window_sizes)
    for i, j in BLOCKS:
        block, ref = ours.layers[i].blocks[j], hf_block(hf, i, j)
        assert (block.window_size, block.shift_size) == (ref.window_size, ref.shift_size), (i, j)
    if name == "w16-pretrained8":  # the clamp rule: 16x16 and 8x8 maps run unshifted
        assert [ours.layers[i].blocks[1].shift_size for i in range(4)] == [8, 8, 0, 0]
        assert ours.layers[3].blocks[0].window_size == 8


def test_coords_tables_and_index_match(pair):
    """The log-spaced coordinates (scaled by the pretrained window) and the index, per block, for the
    window each block runs (the clamp rule shrinks stage 3's window 16 to its 8x8 map)."""
    ours, hf, _ = pair
    for i, j in BLOCKS:
        block, ref = ours.layers[i].blocks[j], hf_block(hf, i, j).attention.self
        attn, window = block.attn, block.window_size
        assert isinstance(attn, WindowAttentionV2)
        expected = log_spaced_coords_table(window, ours.pretrained_window_sizes[i])
        assert expected.shape == ref.relative_coords_table.shape[1:]
        assert max_diff(expected, ref.relative_coords_table[0]) <= 1e-6
        assert torch.equal(relative_position_index(window), ref.relative_position_index)
        if attn.window_size == (window, window):  # the buffers hold the built window's table
            assert torch.equal(attn.relative_coords_table[0], expected)
            assert torch.equal(attn.relative_position_index, ref.relative_position_index)


def test_patch_embedding(pair):
    ours, hf, _ = pair
    x = seeded_randn(1, 3, 256, 256, seed=1)
    with torch.no_grad():
        mine = ours.patch_embed(x)
        ref, dims = hf.swinv2.embeddings(x)[:2]
    assert mine.shape == (1, 64, 64, 96) and tuple(dims) == (64, 64)
    assert max_diff(_tokens(mine), ref) <= ATOL


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_patch_merging(pair, stage):
    ours, hf, _ = pair
    (h, w), c = RESOLUTIONS[stage], DIMS[stage]
    merge = ours.layers[stage].downsample
    assert isinstance(merge, PatchMergingV2)
    x = seeded_randn(1, h, w, c, seed=10 + stage)
    with torch.no_grad():
        mine = merge(x)
        ref = hf_stage(hf, stage).downsample(_tokens(x), (h, w))
    assert mine.shape == (1, h // 2, w // 2, 2 * c)
    assert max_diff(_tokens(mine), ref) <= ATOL


def _qkv(attn, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """q, k, v (B_, heads, N, head_dim) of a WindowAttentionV2, from its own weights (k has no bias)."""
    b, n, c = x.shape
    bias = torch.cat([attn.q_bias, torch.zeros_like(attn.q_bias), attn.v_bias])
    qkv = F.linear(x, attn.qkv.weight, bias).reshape(b, n, 3, attn.num_heads, c // attn.num_heads)
    return qkv.permute(2, 0, 3, 1, 4).unbind(0)


def _windows(block: SwinTransformerBlockV2, batch: int, seed: int) -> torch.Tensor:
    h, w = block.padded_resolution
    ws = block.window_size
    return seeded_randn(batch * (h // ws) * (w // ws), ws * ws, block.dim, seed=seed)


@pytest.mark.parametrize("i, j", FORWARD_BLOCKS)
def test_window_attention(pair, i, j):
    """Attention alone on (B*nW, N, C) windows; shifted blocks with their mask, others without.

    The two masks are the same (nW, N, N) tensor of 0 / -100. Hugging Face 5.24's
    ``Swinv2SelfAttention`` adds it twice (-200), ours once (-100), as the official code does:
    after softmax in float32 the two are identical (see test_mask_added_twice_is_harmless).
    """
    ours, hf, _ = pair
    block, ref = ours.layers[i].blocks[j], hf_block(hf, i, j)
    h, w = block.padded_resolution
    ref_mask = ref.get_attn_mask(h, w, dtype=torch.float32)
    if block.shift_size == 0:
        assert block.attn_mask is None and ref_mask is None
    else:
        assert torch.equal(block.attn_mask, ref_mask)
    x = _windows(block, batch=1, seed=100 + 10 * i + j)
    with torch.no_grad():
        mine = block.attn(x, block.attn_mask, block.window_size)
        expected = ref.attention(x, ref_mask)[0]
    assert max_diff(mine, expected) <= ATOL


def test_shifted_attention_is_covered(pair):
    """The shifted (masked) case above is not vacuous: stages 0 and 1 shift in both configs."""
    ours, _, _ = pair
    shifted = [(i, j) for i, j in BLOCKS if ours.layers[i].blocks[j].shift_size > 0]
    assert {(0, 1), (1, 1)} <= set(shifted)
    # ...and the mask changes the output, so a missing mask would fail the comparison.
    block = ours.layers[0].blocks[1]
    x = _windows(block, batch=1, seed=7)
    with torch.no_grad():
        assert max_diff(block.attn(x, block.attn_mask), block.attn(x, None)) > 1e-2


def test_mask_added_twice_is_harmless(pair):
    """-100 (the official mask), -200 (Hugging Face adds the mask twice) and our forward's -1e4 give
    the same attention.

    Cosine logits are bounded (|cos * scale| <= 100, bias in (0, 16)), so a blocked pair sits at
    least ~74 below the row maximum with -100: its weight exp(-74 - ...) is far below float32's
    resolution next to the unblocked weights, which sum to 1. The unblocked probabilities therefore
    agree to float32 rounding; the blocked ones are float32 subnormals (< 1e-30) with -100 and exact
    zeros with our -1e4, which is why swin_tutor uses it (subnormals are slow on CPUs).
    """
    ours, hf, _ = pair
    block, ref = ours.layers[0].blocks[1], hf_block(hf, 0, 1)
    mask = block.attn_mask
    assert set(mask.unique().tolist()) == {-100.0, 0.0}  # the buffer holds the official values
    x = _windows(block, batch=1, seed=8)
    heads, n = block.num_heads, mask.shape[-1]
    blocked = (mask != 0)[None, :, None].expand(1, -1, heads, -1, -1).reshape(-1, heads, n, n)
    with torch.no_grad():
        probs = block.attn.attention_probs(x, mask)
        assert bool((probs[blocked] == 0).all()), "blocked pairs must get an exact 0 (no subnormals)"
        assert bool((probs[~blocked] > 0).all())
        # The official computation, written out: logits + bias + (-100) mask, softmax.
        attn = block.attn
        q, k, _ = _qkv(attn, x)
        logits = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1) * attn.logit_scale_value()
        logits = logits + attn.position_bias()[None]
        official = (logits.view(1, -1, heads, n, n) + mask[None, :, None]).view(-1, heads, n, n).softmax(-1)
        assert official[blocked].max() < 1e-30  # subnormal or zero: not a real weight
        assert max_diff(official, probs) <= 1e-6
        # Hugging Face with its -100 mask (applied twice) equals ours.
        assert max_diff(ref.attention(x, mask)[0], block.attn(x, mask)) <= ATOL


@pytest.mark.parametrize("i, j", FORWARD_BLOCKS)
def test_block(pair, i, j):
    ours, hf, _ = pair
    block = ours.layers[i].blocks[j]
    (h, w), c = RESOLUTIONS[i], DIMS[i]
    x = seeded_randn(1, h, w, c, seed=200 + 10 * i + j)
    with torch.no_grad():
        mine = block(x)
        ref = hf_block(hf, i, j)(_tokens(x), (h, w))[0]
    assert max_diff(_tokens(mine), ref) <= ATOL
    assert max_diff(mine, x) > 1e-2  # the block does something (post-norms are not zero)


@pytest.mark.parametrize("stage", [1, 3])
def test_stage(pair, stage):
    """A whole stage: its blocks (before merging), then merging (none after the last stage)."""
    ours, hf, _ = pair
    (h, w), c = RESOLUTIONS[stage], DIMS[stage]
    layer = ours.layers[stage]
    x = seeded_randn(1, h, w, c, seed=300 + stage)
    with torch.no_grad():
        before = layer.forward_blocks(x)
        after = layer(x)
        ref_after, ref_before = hf_stage(hf, stage)(_tokens(x), (h, w))[:2]
    assert max_diff(_tokens(before), ref_before) <= ATOL
    assert max_diff(_tokens(after), ref_after) <= ATOL
    if stage < 3:
        assert after.shape == (1, h // 2, w // 2, 2 * c)


def test_logits(pair):
    ours, hf, _ = pair
    x = seeded_randn(1, 3, 256, 256, seed=2)
    with torch.no_grad():
        mine = ours(x)
        ref = hf(pixel_values=x).logits
    assert mine.shape == (1, 1000)
    assert max_diff(mine, ref) <= ATOL
    assert mine.std() > 0.1  # not a degenerate output
