"""Window-size transfer: loading weights trained with one window into a model with another.

v1 (Swin-T, window 7 at 224 -> window 12 at 384): every relative_position_bias_table is resized per
head by bicubic interpolation (the official loader's rule) and the resized keys are reported.
v2 (SwinV2-T, window 8 -> window 16 with pretrained_window_sizes 8): nothing to resize; the
coordinate tables are rebuilt by the model from its window and pretrained window.
"""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from helpers import uninitialised  # targets a strict load fills completely, each parameter compared

from swin_tutor import CheckpointError, SwinTransformer, load_checkpoint, swin_t, swinv2_t, transfer_state_dict
from swin_tutor.core.position_bias import log_spaced_coords_table
from swin_tutor.lesson.reference import perturb_

TABLE = "relative_position_bias_table"


def _official_buffers(model: SwinTransformer) -> dict[str, torch.Tensor]:
    """The buffers an official checkpoint file also stores (they depend on the window)."""
    out = {}
    for i, layer in enumerate(model.layers):
        for j, block in enumerate(layer.blocks):
            prefix = f"layers.{i}.blocks.{j}."
            out[prefix + "attn.relative_position_index"] = block.attn.relative_position_index.clone()
            if block.attn_mask is not None:
                out[prefix + "attn_mask"] = block.attn_mask.clone()
            if hasattr(block.attn, "relative_coords_table"):
                out[prefix + "attn.relative_coords_table"] = block.attn.relative_coords_table.clone()
    return out


def _bicubic_per_head(table: torch.Tensor, old: int, new: int) -> torch.Tensor:
    """The expected resized table, computed one head at a time."""
    columns = []
    for head in range(table.shape[1]):
        image = table[:, head].reshape(1, 1, 2 * old - 1, 2 * old - 1)
        resized = F.interpolate(image, size=(2 * new - 1, 2 * new - 1), mode="bicubic", align_corners=False)
        columns.append(resized.flatten())
    return torch.stack(columns, dim=1)


# -- v1 ----
@pytest.fixture(scope="module")
def v1_model() -> SwinTransformer:
    """A window-7 Swin-T (224) with distinctive (N(0, 1)) bias tables."""
    torch.manual_seed(0)
    model = swin_t()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(TABLE):
                p.normal_(0, 1)
    return model


@pytest.fixture(scope="module")
def v1_source(v1_model) -> dict[str, torch.Tensor]:
    """Its state dict (a copy)."""
    return {k: v.clone() for k, v in v1_model.state_dict().items()}


@pytest.fixture(scope="module")
def v1_target() -> SwinTransformer:
    with uninitialised():
        return swin_t(img_size=384, window_size=12).eval()


def test_v1_transfer_resizes_every_table_bicubic_per_head(v1_source, v1_target):
    table_keys = sorted(k for k in v1_source if k.endswith(TABLE))
    assert len(table_keys) == 12
    new, resized = transfer_state_dict(v1_source, v1_target)
    assert sorted(resized) == table_keys
    target = v1_target.state_dict()
    for key in table_keys:
        old = v1_source[key]
        assert old.shape == (13 * 13, old.shape[1])  # the input was not modified
        assert new[key].shape == target[key].shape == (23 * 23, old.shape[1])
        expected = _bicubic_per_head(old, 7, 12)
        assert (new[key] - expected).abs().max() <= 1e-6, key
        # The centre of the table (offset 0, 0) stays at the centre.
        centre_old, centre_new = old.view(13, 13, -1)[6, 6], new[key].view(23, 23, -1)[11, 11]
        assert torch.allclose(centre_old, centre_new, atol=0.5)
    for key, value in v1_source.items():
        if not key.endswith(TABLE):
            assert new[key] is value or torch.equal(new[key], value), key


def test_v1_load_checkpoint_reports_resized_keys_and_runs(v1_model, v1_source, v1_target):
    # As an official file would: with the window-7 buffers, which the loader drops.
    checkpoint = {**v1_source, **_official_buffers(v1_model)}
    report = load_checkpoint(v1_target, checkpoint, strict=True)
    table_keys = sorted(k for k in v1_source if k.endswith(TABLE))
    assert report.format == "official"
    assert sorted(report.resized) == table_keys
    assert report.missing == [] and report.unexpected == []
    assert len(report.dropped_buffers) > 0
    assert all(k.endswith(("relative_position_index", "attn_mask")) for k in report.dropped_buffers)
    state = v1_target.state_dict()
    for key in table_keys:
        assert (state[key] - _bicubic_per_head(v1_source[key], 7, 12)).abs().max() <= 1e-6
    for key, value in v1_source.items():
        if not key.endswith(TABLE):
            assert torch.equal(state[key], value), key
    # The window-12 model keeps its own window-12 buffers.
    block = v1_target.layers[0].blocks[1]
    assert block.attn.relative_position_index.shape == (144, 144)
    assert block.attn_mask.shape[1:] == (144, 144)
    x = torch.rand(1, 3, 384, 384, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = v1_target(x)
    assert logits.shape == (1, 1000) and torch.isfinite(logits).all()


def test_v1_table_with_other_head_count_raises(v1_model, v1_source, v1_target):
    key = f"layers.0.blocks.0.attn.{TABLE}"
    bad = dict(v1_source)
    bad[key] = torch.zeros(13 * 13, 4)  # 4 heads; the model's stage 0 has 3
    message = re.escape(key) + r".*4 heads in the checkpoint, 3 in the model"
    with pytest.raises(CheckpointError, match=message):
        transfer_state_dict(bad, v1_target)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(v1_target, bad)
    # Same window, other head count: also refused (not silently reshaped).
    with pytest.raises(CheckpointError, match=message):
        transfer_state_dict(bad, v1_model)


@pytest.mark.parametrize("target_window", [4, 8])
def test_v1_other_model_with_other_head_counts_raises(target_window):
    """A real pair of models that differ only in heads (same qkv shapes): the tables catch it."""
    small = dict(img_size=64, embed_dim=24, depths=(2, 2, 2, 2), num_classes=5)
    torch.manual_seed(0)
    source = SwinTransformer(window_size=4, num_heads=(2, 4, 8, 16), **small)
    target = SwinTransformer(window_size=target_window, num_heads=(3, 6, 12, 24), **small)
    message = r"layers\.0\.blocks\.0\.attn\.relative_position_bias_table.*2 heads in the checkpoint, 3"
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(target, source.state_dict())


# -- v2 ----
@pytest.fixture(scope="module")
def v2_source() -> SwinTransformer:
    """SwinV2-T window 8, perturbed: no weight (post-norms included) at its initial value."""
    torch.manual_seed(0)
    return perturb_(swinv2_t(), seed=1).eval()


@pytest.fixture(scope="module")
def v2_target() -> SwinTransformer:
    with uninitialised():
        return swinv2_t(window_size=16, pretrained_window_sizes=(8, 8, 8, 8)).eval()


def test_v2_transfer_needs_no_resizing(v2_source, v2_target):
    source = v2_source.state_dict()
    new, resized = transfer_state_dict(source, v2_target)
    assert resized == []
    assert set(new) == set(source) == set(v2_target.state_dict())
    # As an official file would: with the window-8 buffers, which the loader drops.
    report = load_checkpoint(v2_target, {**source, **_official_buffers(v2_source)}, strict=True)
    assert report.resized == [] and report.missing == [] and report.unexpected == []
    assert any(k.endswith("relative_coords_table") for k in report.dropped_buffers)
    target = v2_target.state_dict()
    for key, value in source.items():
        assert torch.equal(target[key], value), key


def test_v2_coords_tables_are_rebuilt_for_the_new_window(v2_source, v2_target):
    load_checkpoint(v2_target, v2_source.state_dict(), strict=True)
    for i, (src_layer, dst_layer) in enumerate(zip(v2_source.layers, v2_target.layers, strict=True)):
        for src_block, dst_block in zip(src_layer.blocks, dst_layer.blocks, strict=True):
            src, dst = src_block.attn, dst_block.attn
            assert src.relative_coords_table.shape == (1, 15, 15, 2)
            if i < 3:  # 64x64, 32x32 and 16x16 maps take the window-16
                assert dst.window_size == (16, 16)
                assert dst.relative_coords_table.shape == (1, 31, 31, 2)
                assert dst.relative_position_index.shape == (256, 256)
                expected = log_spaced_coords_table(16, 8)
                assert torch.equal(dst.relative_coords_table[0], expected)
                # The offsets both windows have keep their coordinates, so the loaded MLP gives them
                # the same bias as before the transfer.
                with torch.no_grad():
                    table_src = src.cpb_mlp(src.relative_coords_table)
                    table_dst = dst.cpb_mlp(dst.relative_coords_table)
                assert torch.allclose(table_dst[:, 8:23, 8:23], table_src, atol=1e-6)
            else:  # the 8x8 map clamps the window to 8: the block runs window 8, as the source did
                assert dst_block.window_size == 8 and dst.window_size == (16, 16)
                with torch.no_grad():
                    assert torch.allclose(dst.position_bias(8), src.position_bias(), atol=1e-6)


def test_v2_transferred_model_runs(v2_source, v2_target):
    load_checkpoint(v2_target, v2_source.state_dict(), strict=True)
    x = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = v2_target(x)
    assert logits.shape == (1, 1000) and torch.isfinite(logits).all()
    assert logits.std() > 0.01


def test_small_tables_of_a_clamped_stage_load_exactly():
    """Official code and Hugging Face build a clamped stage's table for the clamped window (2x2 here: 3x3
    rows); swin_tutor keeps the requested window's table (7x7 rows) and the block reads its centre. Loading
    the small table must place it in the centre (exact), not resize it bicubically (which moves every value)."""
    from swin_tutor.checkpoints.loading import load_checkpoint
    from swin_tutor.train.digits_model import tiny_swin

    torch.manual_seed(0)
    source = tiny_swin(1).eval()
    with torch.no_grad():
        for name, p in source.named_parameters():
            if name.endswith("relative_position_bias_table"):
                p.normal_()  # large, distinct values: a resize would visibly change them
    assert source.layers[3].blocks[0].window_size == 2  # 2x2 map, requested window 4
    state = source.state_dict()
    small = {}
    for key, value in state.items():
        if key.startswith("layers.3.") and key.endswith("relative_position_bias_table"):
            small[key] = value.view(7, 7, -1)[2:5, 2:5].reshape(9, -1)  # what the official code would hold
    state.update(small)
    target = tiny_swin(1).eval()
    report = load_checkpoint(target, state)
    assert sorted(report.resized) == sorted(small)
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(target(x), source(x))
