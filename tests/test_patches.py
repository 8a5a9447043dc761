"""Patch embedding and patch merging: the official gather order and the unfold / conv variants."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from swin_tutor.core.patches import (
    PatchEmbed,
    PatchMerging,
    PatchMergingConv,
    PatchMergingUnfold,
    PatchMergingV2,
    gather_to_unfold_permutation,
    merge_gather,
    unfold_to_conv_weight,
)


def randomise_(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Seeded random values in every parameter (1-D ones around 1: LayerNorm weights are not 1)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5 + (1.0 if p.dim() == 1 else 0.0))
    return module


def unfolded_map(x: torch.Tensor) -> torch.Tensor:
    """F.unfold (k=2, s=2) on a (B, H, W, C) map, as a (B, H/2, W/2, 4C) map."""
    b, h, w, _ = x.shape
    cols = F.unfold(x.permute(0, 3, 1, 2), kernel_size=2, stride=2)  # (B, 4C, L)
    return cols.transpose(1, 2).reshape(b, h // 2, w // 2, -1)


def test_merge_gather_first_token_on_4x4_ids():
    ids = (4 * torch.arange(4)[:, None] + torch.arange(4)[None, :]).reshape(1, 4, 4, 1).float()
    merged = merge_gather(ids)
    assert merged.shape == (1, 2, 2, 4)
    assert merged[0, 0, 0].tolist() == [0, 4, 1, 5]
    for i in range(2):
        for j in range(2):
            r, c = 2 * i, 2 * j
            # x0 = (r, c), x1 = (r+1, c), x2 = (r, c+1), x3 = (r+1, c+1)
            assert merged[0, i, j].tolist() == [
                4 * r + c,
                4 * (r + 1) + c,
                4 * r + c + 1,
                4 * (r + 1) + c + 1,
            ]


def test_merge_gather_pads_odd_maps_with_zeros():
    x = torch.arange(1, 1 + 3 * 5, dtype=torch.float32).reshape(1, 3, 5, 1)
    merged = merge_gather(x)
    assert merged.shape == (1, 2, 3, 4)
    # bottom-right output token: x0 = (2, 4) = 15, the other three fall in the zero padding
    assert merged[0, 1, 2].tolist() == [15.0, 0.0, 0.0, 0.0]
    # last column of the first row: x0 = (0, 4) = 5, x1 = (1, 4) = 10, x2/x3 padded
    assert merged[0, 0, 2].tolist() == [5.0, 10.0, 0.0, 0.0]


def test_gather_to_unfold_permutation_against_f_unfold():
    dim = 3
    x = torch.randn(2, 6, 4, dim, generator=torch.Generator().manual_seed(0))
    perm = gather_to_unfold_permutation(dim)
    assert sorted(perm.tolist()) == list(range(4 * dim))
    assert torch.equal(merge_gather(x)[..., perm], unfolded_map(x))
    assert not torch.equal(merge_gather(x), unfolded_map(x))  # the orders really differ


def test_unfold_order_for_two_channels():
    """C=2, a 4x4 map numbered channel-major (c * 16 + row * 4 + col): the first merged token is
    [0, 1, 4, 5, 16, 17, 20, 21] with unfold, [0, 16, 4, 20, 1, 17, 5, 21] with the official
    gather."""
    # value = c * 16 + r * 4 + col, laid out (B, H, W, C)
    ids = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(1, 2, 4, 4).permute(0, 2, 3, 1)
    assert unfolded_map(ids)[0, 0, 0].tolist() == [0, 1, 4, 5, 16, 17, 20, 21]
    assert merge_gather(ids)[0, 0, 0].tolist() == [0, 16, 4, 20, 1, 17, 5, 21]


@pytest.mark.parametrize(("dim", "out_dim", "bias"), [(4, None, True), (3, 5, False)])
def test_unfold_linear_equals_conv_merging(dim, out_dim, bias):
    torch.manual_seed(0)
    unfold = randomise_(PatchMergingUnfold(dim, out_dim, bias=bias), seed=1)
    conv = PatchMergingConv(dim, out_dim, bias=bias)
    with torch.no_grad():
        conv.conv.weight.copy_(unfold_to_conv_weight(unfold.linear.weight, dim))
        if bias:
            conv.conv.bias.copy_(unfold.linear.bias)
    x = torch.randn(2, 6, 8, dim)
    with torch.no_grad():
        assert torch.allclose(unfold(x), conv(x), atol=1e-6, rtol=0)
    # the conv's kernel, flattened channel-major, is the unfold Linear's weight again
    assert torch.equal(conv.conv.weight.reshape(conv.conv.weight.shape[0], -1), unfold.linear.weight)


def test_official_merging_is_unfold_linear_with_layernorm_and_permutation():
    """Official merging = LayerNorm + Linear on the gathered order; on unfold's order the same map
    needs the LayerNorm affine and the Linear columns permuted by gather_to_unfold_permutation."""
    dim = 4
    merging = randomise_(PatchMerging(dim), seed=3)
    x = torch.randn(1, 6, 6, dim, generator=torch.Generator().manual_seed(4))
    perm = gather_to_unfold_permutation(dim)
    with torch.no_grad():
        ours = merging(x)
        normed = F.layer_norm(unfolded_map(x), (4 * dim,), merging.norm.weight[perm], merging.norm.bias[perm])
        via_unfold = F.linear(normed, merging.reduction.weight[:, perm])
        assert torch.allclose(ours, via_unfold, atol=1e-5, rtol=0)
        # without the permutation the same weights give something else
        wrong = F.linear(
            F.layer_norm(unfolded_map(x), (4 * dim,), merging.norm.weight, merging.norm.bias),
            merging.reduction.weight,
        )
        assert not torch.allclose(ours, wrong, atol=1e-3)


def test_v1_and_v2_merging_order_of_norm_and_reduction():
    dim = 3
    v1 = randomise_(PatchMerging(dim), seed=5)
    v2 = randomise_(PatchMergingV2(dim), seed=6)
    assert v1.norm.normalized_shape == (4 * dim,) and v2.norm.normalized_shape == (2 * dim,)
    assert v1.reduction.bias is None and v2.reduction.bias is None
    x = torch.randn(2, 4, 6, dim)
    gathered = merge_gather(x)
    with torch.no_grad():
        assert torch.allclose(v1(x), v1.reduction(v1.norm(gathered)), atol=1e-6)
        assert torch.allclose(v2(x), v2.norm(v2.reduction(gathered)), atol=1e-6)
    assert v1(x).shape == v2(x).shape == (2, 2, 3, 2 * dim)


def test_patch_embed_is_per_patch_linear_then_layernorm():
    torch.manual_seed(0)
    embed = randomise_(PatchEmbed(patch_size=4, in_chans=3, embed_dim=8), seed=7)
    image = torch.randn(2, 3, 16, 12)
    with torch.no_grad():
        out = embed(image)
        assert out.shape == (2, 4, 3, 8)
        # (B, L, 3 * 4 * 4), each patch channel-major like the conv weight
        patches = F.unfold(image, kernel_size=4, stride=4).transpose(1, 2)
        tokens = patches @ embed.proj.weight.reshape(8, -1).T + embed.proj.bias
        expected = F.layer_norm(tokens, (8,), embed.norm.weight, embed.norm.bias).reshape(2, 4, 3, 8)
        assert torch.allclose(out, expected, atol=1e-5, rtol=0)


def test_patch_embed_pads_sizes_the_patch_does_not_divide():
    torch.manual_seed(0)
    embed = PatchEmbed(patch_size=4, in_chans=3, embed_dim=8)
    image = torch.randn(1, 3, 14, 9)
    with torch.no_grad():
        out = embed(image)
        padded = embed(F.pad(image, (0, 3, 0, 2)))
    assert out.shape == (1, 4, 3, 8)
    assert torch.equal(out, padded)


def test_patch_embed_output_is_contiguous_channels_last_without_a_copy():
    """The convolution runs on a channels-last input, so the (B, H, W, C) tokens come out
    contiguous (no strided copy) and equal to the channels-first convolution's."""
    torch.manual_seed(0)
    embed = PatchEmbed(patch_size=4, in_chans=3, embed_dim=8, patch_norm=False)
    image = torch.randn(2, 3, 16, 12)
    with torch.no_grad():
        out = embed(image)
        reference = F.conv2d(image, embed.proj.weight, embed.proj.bias, stride=4).permute(0, 2, 3, 1)
    assert out.is_contiguous()
    assert torch.allclose(out, reference, atol=1e-6)
