"""Every input and configuration mistake raises a ValueError that says what went wrong."""

from __future__ import annotations

import pytest
import torch

from swin_tutor.core.attention import WindowAttention, WindowAttentionV2
from swin_tutor.core.blocks import SwinTransformerBlock
from swin_tutor.core.masks import easy_shifted_window_mask, easy_window_masks, region_labels, shifted_window_mask
from swin_tutor.core.mlp import DropPath
from swin_tutor.core.model import SwinTransformer, SwinTransformerV2
from swin_tutor.core.patches import (
    PatchEmbed,
    PatchMergingConv,
    PatchMergingUnfold,
    merge_gather,
    unfold_to_conv_weight,
)
from swin_tutor.core.position_bias import (
    log_spaced_coords_table,
    relative_position_index,
    resize_relative_position_bias_table,
)
from swin_tutor.core.sizes import swin_b, swin_l, swin_s, swin_t, swinv2_b, swinv2_s, swinv2_t
from swin_tutor.core.validation import pad_to_multiple, to_2tuple
from swin_tutor.core.windows import clamp_window_and_shift, cyclic_shift, window_partition, window_reverse


@pytest.fixture(scope="module")
def model():
    """A narrow model for 64x64 images: every check runs before any real work."""
    torch.manual_seed(0)
    return SwinTransformer(
        img_size=64,
        embed_dim=16,
        depths=(2, 2, 2, 2),
        num_heads=(1, 2, 4, 8),
        window_size=4,
        num_classes=10,
    ).eval()


# -- images ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("x", "match"),
    [
        (torch.zeros(3, 64, 64), r"shape \(B, 3, H, W\), got 3-D.*unsqueeze\(0\)"),
        (torch.zeros(1, 1, 3, 64, 64), r"got 5-D"),
        (torch.zeros(1, 4, 64, 64), r"expected 3 channels in dim 1.*got 4"),
        (
            torch.zeros(1, 64, 64, 3),
            r"expected 3 channels.*channels-last input\? use x\.permute\(0, 3, 1, 2\)",
        ),
        (torch.zeros(1, 3, 64, 64, dtype=torch.uint8), r"floating-point image.*torch\.uint8"),
        (torch.zeros(1, 3, 64, 64, dtype=torch.long), r"floating-point image.*torch\.int64"),
        (torch.zeros(1, 3, 3, 64), r"at least one 4x4 patch, got 3x64"),
        (torch.full((1, 3, 64, 64), float("nan")), r"12288 NaN or infinite values; the logits would be NaN"),
        (torch.zeros(1, 3, 64, 64).index_fill_(2, torch.tensor([5]), float("inf")), r"192 NaN or infinite"),
        (torch.zeros(1, 3, 64, 64, dtype=torch.float64), r"dtype torch.float64 but the model's parameters are"),
        (torch.zeros(1, 3, 64, 64, dtype=torch.float16), r"dtype torch.float16 but the model's parameters are"),
        (torch.zeros(1, 3, 0, 64), r"at least 1x1 pixels"),
    ],
)
def test_bad_images_for_the_model(model, x, match):
    with torch.no_grad():
        for call in (model, model.forward_features, model.forward_intermediates):
            with pytest.raises(ValueError, match=match):
                call(x)


def test_not_a_tensor(model):
    with pytest.raises(ValueError, match="expected a torch.Tensor image batch, got ndarray"):
        model(torch.zeros(1, 3, 64, 64).numpy())


def test_patch_embed_checks_its_input():
    embed = PatchEmbed(patch_size=4, in_chans=1, embed_dim=8)
    with pytest.raises(ValueError, match="expected 1 channels"):
        embed(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match="floating-point"):
        embed(torch.zeros(1, 1, 8, 8, dtype=torch.int32))


# -- configuration ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(window_size=0), r"window_size must be >= 1, got 0"),
        (dict(window_size=-3), r"window_size must be >= 1, got -3"),
        (
            dict(depths=(2, 2, 6)),
            r"depths must have 4 entries \(one per stage\), got 3: \(2, 2, 6\)",
        ),
        (dict(depths=(2, 2, 2, 2, 2)), r"depths must have 4 entries.*got 5"),
        (dict(num_heads=(3, 6, 12)), r"num_heads must have 4 entries"),
        (
            dict(num_heads=(5, 6, 12, 24)),
            r"stage 0: num_heads=5 must divide the stage dimension 96",
        ),
        (
            dict(num_heads=(3, 6, 12, 7)),
            r"stage 3: num_heads=7 must divide the stage dimension 768",
        ),
        (dict(num_heads=(0, 6, 12, 24)), r"num_heads\[0\] must be >= 1, got 0"),
        (dict(patch_size=0), r"patch_size must be >= 1, got 0"),
        (dict(img_size=-1), r"img_size must be >= 1 \(per axis\), got -1"),
        (dict(img_size=0), r"img_size must be >= 1"),
        (dict(img_size=(224, 0)), r"img_size must be >= 1 \(per axis\), got \(224, 0\)"),
        (dict(img_size=3), r"img_size \(3, 3\) must hold at least one 4x4 patch"),
        (dict(img_size=224.0), r"img_size must be an int or a pair of ints, got 224.0"),
        (dict(embed_dim=0), r"embed_dim must be >= 1, got 0"),
        (dict(in_chans=0), r"in_chans must be >= 1, got 0"),
        (dict(num_classes=-1), r"num_classes must be >= 0, got -1"),
        (dict(depths=(2, 0, 6, 2)), r"depths\[1\] must be >= 1, got 0 in \(2, 0, 6, 2\)"),
        (dict(depths=(2, -2, 6, 2)), r"depths\[1\] must be >= 1, got -2"),
        (dict(mlp_ratio=0), r"mlp_ratio must be > 0, got 0"),
        (dict(mlp_ratio=-4.0), r"mlp_ratio must be > 0, got -4.0"),
        (dict(drop_rate=1.0), r"drop_rate must be in \[0, 1\), got 1.0"),
        (dict(attn_drop_rate=-0.1), r"attn_drop_rate must be in \[0, 1\), got -0.1"),
        (dict(drop_path_rate=1.5), r"drop_path_rate must be in \[0, 1\), got 1.5"),
        (dict(drop_path_rate=float("nan")), r"drop_path_rate must be finite, got nan"),
        (dict(img_size="large"), r"img_size must be an int or a pair of ints, got 'large'"),
    ],
)
def test_bad_model_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SwinTransformer(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(window_size=7.0), r"window_size must be an int, got float 7.0"),
        (dict(patch_size="4"), r"patch_size must be an int, got str '4'"),
        (dict(num_classes=True), r"num_classes must be an int, got bool True"),
        (dict(depths=(2, 2, 6.0, 2)), r"depths\[2\] must be an int, got float 6.0"),
        (dict(depths=6), r"depths must be a sequence of 4 ints, got int 6"),
        (dict(mlp_ratio="4"), r"mlp_ratio must be a number, got str '4'"),
    ],
)
def test_wrong_types_in_the_configuration(kwargs, match):
    with pytest.raises(TypeError, match=match):
        SwinTransformer(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(window_size=0), r"window_size must be >= 1, got 0"),
        (dict(pretrained_window_sizes=(8, -1, 8, 8)), r"pretrained_window_sizes\[1\] must be >= 0, got -1"),
        (dict(pretrained_window_sizes=(8, 8)), r"pretrained_window_sizes must have 4 entries"),
        (dict(img_size=-1), r"img_size must be >= 1"),
        (dict(num_heads=(3, 6, 12, 0)), r"num_heads\[3\] must be >= 1, got 0"),
    ],
)
def test_bad_v2_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SwinTransformerV2(**kwargs)


def test_every_factory_names_the_bad_argument():
    for factory in (swin_t, swin_s, swin_b, swin_l, swinv2_t, swinv2_s, swinv2_b):
        with pytest.raises(ValueError, match=r"img_size must be >= 1"):
            factory(img_size=-1)
        with pytest.raises(ValueError, match=r"num_classes must be >= 0, got -5"):
            factory(num_classes=-5)


def test_image_on_another_device_than_the_model(model):
    with torch.device("meta"):
        x = torch.zeros(1, 3, 64, 64)
    with pytest.raises(ValueError, match=r"the image is on meta but the model is on cpu; move one"):
        model(x)


def test_half_precision_model_on_cpu_runs_or_says_why():
    """A float16 model with a float16 image: either real logits or a clear error, never NaN or a crash."""
    torch.manual_seed(0)
    half = SwinTransformer(img_size=32, embed_dim=16, depths=(1, 1, 1, 1), num_heads=(1, 2, 2, 4), window_size=4)
    half = half.half().eval()
    with torch.no_grad():
        out = half(torch.rand(1, 3, 32, 32, dtype=torch.float16))
    assert out.dtype == torch.float16 and torch.isfinite(out).all()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: WindowAttention(96, 0, 3), r"window_size must be >= 1 \(per axis\), got 0"),
        (lambda: WindowAttention(0, 7, 3), r"dim must be >= 1, got 0"),
        (lambda: WindowAttention(96, 7, 0), r"num_heads must be >= 1, got 0"),
        (lambda: WindowAttention(96, 7, 3, attn_drop=1.0), r"attn_drop must be in \[0, 1\), got 1.0"),
        (lambda: WindowAttentionV2(96, 8, 3, pretrained_window_size=-8), r"pretrained_window_size must be >= 0"),
        (lambda: WindowAttention(8, 4, 2)(torch.zeros(2, 25, 8), None, 5), r"larger than the window \(4, 4\)"),
        (lambda: SwinTransformerBlock(8, (8, 8), 2, 4, mlp_ratio=0.0), r"mlp_ratio must be > 0, got 0.0"),
        (lambda: SwinTransformerBlock(8, (0, 8), 2, 4), r"input_resolution must be >= 1 \(per axis\)"),
        (lambda: SwinTransformerBlock(8, (8, 8), 2, 4, drop_path=-0.5), r"drop_path must be in \[0, 1\)"),
        (lambda: PatchEmbed(patch_size=0), r"patch_size must be >= 1 \(per axis\), got 0"),
        (lambda: PatchEmbed(in_chans=0), r"in_chans must be >= 1, got 0"),
        (lambda: relative_position_index(0), r"window_size must be >= 1"),
        (lambda: relative_position_index(7, table_window=5), r"table_window \(5, 5\) must be at least the window"),
        (lambda: log_spaced_coords_table(-2), r"window_size must be >= 1"),
        (lambda: log_spaced_coords_table(8, -1), r"pretrained_window_size must be >= 0"),
        (lambda: clamp_window_and_shift((7, 7), 7.5, 0), r"window_size must be an int, got float 7.5"),
        (lambda: pad_to_multiple(torch.zeros(1, 4, 4, 1), 0), r"multiple must be >= 1"),
    ],
)
def test_blocks_and_helpers_name_the_bad_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_bad_configuration_through_the_factories():
    with pytest.raises(ValueError, match="window_size must be >= 1"):
        swin_t(window_size=0)


def test_attention_heads_must_divide_the_dimension():
    with pytest.raises(ValueError, match=r"num_heads must divide dim: got dim=96, num_heads=5"):
        WindowAttention(96, 7, 5)
    with pytest.raises(ValueError, match=r"num_heads must divide dim"):
        WindowAttentionV2(96, 8, 7)
    with pytest.raises(ValueError, match=r"num_heads must divide dim"):
        SwinTransformerBlock(dim=96, input_resolution=(14, 14), num_heads=5)


def test_attention_checks_window_and_mask_shapes():
    attn = WindowAttention(8, 2, 2)
    with pytest.raises(ValueError, match=r"expects \(B\*nW, 4, 8\), got \(3, 5, 8\)"):
        attn(torch.zeros(3, 5, 8))
    with pytest.raises(ValueError, match=r"expects \(B\*nW, 4, 8\)"):
        attn(torch.zeros(3, 4, 6))
    with pytest.raises(
        ValueError,
        match=r"mask must be \(nW, 4, 4\) with nW dividing the 6 windows, got \(4, 4, 4\)",
    ):
        attn(torch.zeros(6, 4, 8), torch.zeros(4, 4, 4))
    with pytest.raises(ValueError, match=r"mask must be"):
        attn(torch.zeros(6, 4, 8), torch.zeros(3, 9, 9))


def test_block_checks_resolution_and_configuration():
    block = SwinTransformerBlock(dim=8, input_resolution=(8, 8), num_heads=2, window_size=4, shift_size=2)
    assert block(torch.zeros(1, 7, 9, 8)).shape == (1, 7, 9, 8)  # any map size runs
    with pytest.raises(ValueError, match=r"this block expects maps \(B, H, W, 8\), got \(1, 8, 8, 4\)"):
        block(torch.zeros(1, 8, 8, 4))
    with pytest.raises(ValueError, match=r"a Swin block expects a token map of shape \(B, H, W, C\), got \(64, 8\)"):
        block(torch.zeros(64, 8))
    with pytest.raises(ValueError, match="window_size must be >= 1"):
        SwinTransformerBlock(dim=8, input_resolution=(8, 8), num_heads=2, window_size=0)
    with pytest.raises(ValueError, match=r"shift_size must be in \[0, window_size\), got 4 with window 4"):
        SwinTransformerBlock(dim=8, input_resolution=(8, 8), num_heads=2, window_size=4, shift_size=4)
    with pytest.raises(ValueError, match="norm_placement must be one of"):
        SwinTransformerBlock(dim=8, input_resolution=(8, 8), num_heads=2, window_size=4, norm_placement="middle")
    with pytest.raises(ValueError, match=r"drop_prob must be in \[0, 1\), got 1.0"):
        DropPath(1.0)


# -- windows, masks, merging, tables ---------------------------------------------------------------
def test_window_partition_and_reverse_shapes():
    with pytest.raises(ValueError, match=r"the window 3x3 must divide the map, got a 10x10 map.*pad_to_multiple"):
        window_partition(torch.zeros(1, 10, 10, 2), 3)
    with pytest.raises(ValueError, match=r"window 7x7 must divide the map, got a 14x10 map"):
        window_partition(torch.zeros(1, 14, 10, 2), 7)
    with pytest.raises(ValueError, match=r"expects a token map of shape \(B, H, W, C\), got \(10, 10\)"):
        window_partition(torch.zeros(10, 10), 2)
    with pytest.raises(ValueError, match=r"window_reverse expects windows of shape \(B\*nW, 2, 2, C\)"):
        window_reverse(torch.zeros(4, 3, 3, 1), 2, 4, 4)
    with pytest.raises(ValueError, match=r"window_reverse: the window 2x2 must divide the map 5x4"):
        window_reverse(torch.zeros(4, 2, 2, 1), 2, 5, 4)
    with pytest.raises(ValueError, match=r"5 windows is not a multiple of the 2x2 window grid"):
        window_reverse(torch.zeros(5, 2, 2, 1), 2, 4, 4)
    for func in (cyclic_shift, pad_to_multiple):
        with pytest.raises(ValueError, match=r"token map of shape \(B, H, W, C\)"):
            func(torch.zeros(4, 4, 1), 1)


@pytest.mark.parametrize("garbage", ["abc", (1, 2, 3), (1,), 1.5, True, (1, "a"), None, [2.0, 2.0]])
def test_to_2tuple_rejects_garbage(garbage):
    with pytest.raises(ValueError, match=r"window_size must be an int or a pair of ints, got"):
        to_2tuple(garbage, "window_size")


def test_clamp_rule_rejects_bad_sizes():
    with pytest.raises(ValueError, match="window_size must be >= 1, got 0"):
        clamp_window_and_shift((7, 7), 0, 0)
    with pytest.raises(ValueError, match=r"shift_size must be in \[0, window_size\), got 7 with window 7"):
        clamp_window_and_shift((14, 14), 7, 7)
    with pytest.raises(ValueError, match=r"shift_size must be in \[0, window_size\), got -1"):
        clamp_window_and_shift((14, 14), 7, -1)


def test_masks_reject_bad_sizes():
    with pytest.raises(ValueError, match=r"the window 7x7 must divide the \(padded\) map, got 50x56"):
        region_labels(50, 56, 7, 3)
    with pytest.raises(ValueError, match=r"shift_size must be in \[0, window\) per axis, got \(7, 7\)"):
        shifted_window_mask(14, 14, 7, 7)
    with pytest.raises(ValueError, match=r"need window_size >= 2 and 0 < shift < window_size, got 7, 0"):
        easy_window_masks(7, 0)
    with pytest.raises(ValueError, match=r"the window 7 must divide the map, got 50x50"):
        easy_shifted_window_mask(50, 50, 7, 3)


def test_merging_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"patch merging expects \(B, H, W, C\), got \(4, 4, 2\)"):
        merge_gather(torch.zeros(4, 4, 2))
    with pytest.raises(
        ValueError,
        match=r"unfold merging expects \(B, H, W, C\) with even H and W, got \(1, 5, 4, 2\)",
    ):
        PatchMergingUnfold(2)(torch.zeros(1, 5, 4, 2))
    with pytest.raises(ValueError, match=r"conv merging expects \(B, H, W, C\) with even H and W"):
        PatchMergingConv(2)(torch.zeros(1, 4, 3, 2))
    with pytest.raises(ValueError, match=r"expected a weight of shape \(out, 8\), got \(4, 6\)"):
        unfold_to_conv_weight(torch.zeros(4, 6), 2)


def test_resize_rejects_a_table_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"a table for window 7x7 has 169 rows, got 100"):
        resize_relative_position_bias_table(torch.zeros(100, 3), 7, 12)
