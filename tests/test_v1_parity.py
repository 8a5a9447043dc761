"""Swin v1 against Hugging Face transformers, block type by block type, with identical weights.

``make_hf_reference`` builds the Hugging Face twin of a model, gives it seeded random weights (every
parameter perturbed, so no LayerNorm sits at 1/0 and no bias table at 0) and copies them into ours.
Every comparison is float32 and must agree to max |ours - reference| <= 1e-5.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
import torch
from helpers import max_diff, seeded_randn, small_swin

from swin_tutor.checkpoints.export import hf_config_for
from swin_tutor.checkpoints.keys import convert_hf_state_dict
from swin_tutor.core.position_bias import embed_relative_position_bias_table
from swin_tutor.core.sizes import swin_t
from swin_tutor.lesson.reference import hf_block, hf_stage, make_hf_reference, perturb_

pytest.importorskip("transformers")

ATOL = 1e-5
# (image size, window): Swin-T as published, and the 256 / window 8 setting of the v2 papers.
CONFIGS = {"224-w7": (224, 7), "256-w8": (256, 8)}
# blocks 0 (W-MSA) and 1 (SW-MSA) of each stage
BLOCKS = [(i, j) for i in range(4) for j in range(2)]


def prepared_hf_block(ref, i: int, j: int, resolution: tuple[int, int]):
    """HF clamps a block's window and shift at forward time: take that step first, like forward."""
    block = hf_block(ref, i, j)
    block.set_shift_and_window_size(resolution)
    return block


@pytest.fixture(scope="module", params=list(CONFIGS))
def pair(request):
    img, window = CONFIGS[request.param]
    torch.manual_seed(0)
    model = swin_t(img_size=img, window_size=window, drop_path_rate=0.0)
    ref, model = make_hf_reference(model, seed=1)
    return SimpleNamespace(model=model, ref=ref, img=img, window=window)


# -- building blocks -------------------------------------------------------------------------------
def test_patch_embedding(pair):
    x = seeded_randn(1, 3, pair.img, pair.img, seed=10)
    with torch.no_grad():
        ours = pair.model.patch_embed(x)
        theirs, dims = pair.ref.swin.embeddings(x)
    b, h, w, c = ours.shape
    assert (h, w) == tuple(dims) == (pair.img // 4, pair.img // 4)
    assert max_diff(ours.reshape(b, h * w, c), theirs) <= ATOL


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_patch_merging(pair, stage):
    layer = pair.model.layers[stage]
    h, w = layer.input_resolution
    x = seeded_randn(2, h, w, layer.dim, seed=20 + stage)
    with torch.no_grad():
        ours = layer.downsample(x)
        theirs = hf_stage(pair.ref, stage).downsample(x.reshape(2, h * w, layer.dim), (h, w))
    assert ours.shape == (2, h // 2, w // 2, 2 * layer.dim)
    assert max_diff(ours.reshape(2, -1, 2 * layer.dim), theirs) <= ATOL


@pytest.mark.parametrize(("stage", "j"), BLOCKS)
def test_window_index_clamp_and_mask_match_hf(pair, stage, j):
    block = pair.model.layers[stage].blocks[j]
    theirs = prepared_hf_block(pair.ref, stage, j, block.input_resolution)
    assert (block.window_size, block.shift_size) == (
        int(theirs.window_size),
        int(theirs.shift_size),
    )
    n = block.window_size**2
    hf_index = theirs.attention.relative_position_bias.relative_position_index.view(n, n)
    assert torch.equal(block.attn.relative_position_index, hf_index)
    hf_mask = theirs.get_attn_mask(*block.padded_resolution, dtype=torch.float32, device=torch.device("cpu"))
    if block.shift_size == 0:
        assert block.attn_mask is None and hf_mask is None
    else:
        assert torch.equal(block.attn_mask, hf_mask)


@pytest.mark.parametrize(("stage", "j"), BLOCKS)
def test_window_attention(pair, stage, j):
    """Our block.attn on windows with block.attn_mask vs HF's SwinAttention with its own mask."""
    block = pair.model.layers[stage].blocks[j]
    theirs = prepared_hf_block(pair.ref, stage, j, block.input_resolution)
    if stage < 3:  # odd blocks really are shifted
        assert block.shift_size == (pair.window // 2 if j == 1 else 0)
    hp, wp = block.padded_resolution
    ws = block.window_size
    n_windows = (hp // ws) * (wp // ws)
    windows = seeded_randn(2 * n_windows, ws * ws, block.dim, seed=30 + 2 * stage + j)
    hf_mask = theirs.get_attn_mask(hp, wp, dtype=torch.float32, device=torch.device("cpu"))
    with torch.no_grad():
        ours = block.attn(windows, block.attn_mask)
        ours_probs = block.attn.attention_probs(windows, block.attn_mask)
        hf_out, hf_probs = theirs.attention(windows, hf_mask)
    assert max_diff(ours, hf_out) <= ATOL
    assert max_diff(ours_probs, hf_probs) <= ATOL


def test_shifted_attention_comparison_is_sensitive_to_the_mask(pair):
    """Negative control: dropping the mask on a shifted block changes the output far beyond ATOL."""
    block = pair.model.layers[0].blocks[1]
    assert block.attn_mask is not None
    hp, wp = block.padded_resolution
    ws = block.window_size
    windows = seeded_randn((hp // ws) * (wp // ws), ws * ws, block.dim, seed=40)
    with torch.no_grad():
        assert max_diff(block.attn(windows, block.attn_mask), block.attn(windows, None)) > 1e-3


@pytest.mark.parametrize(("stage", "j"), BLOCKS)
def test_block(pair, stage, j):
    block = pair.model.layers[stage].blocks[j]
    h, w = block.input_resolution
    x = seeded_randn(1, h, w, block.dim, seed=50 + 2 * stage + j)
    theirs = hf_block(pair.ref, stage, j)
    with torch.no_grad():
        ours = block(x)
        hf_out = theirs(x.reshape(1, h * w, block.dim), (h, w))[0]
    assert max_diff(ours.reshape(1, h * w, block.dim), hf_out) <= ATOL
    assert max_diff(ours, x) > 1e-3  # the block did something


@pytest.mark.parametrize("stage", [0, 1, 2, 3])
def test_stage(pair, stage):
    layer = pair.model.layers[stage]
    h, w = layer.input_resolution
    x = seeded_randn(1, h, w, layer.dim, seed=60 + stage)
    with torch.no_grad():
        ours = layer(x)
        hf_out = hf_stage(pair.ref, stage)(x.reshape(1, h * w, layer.dim), (h, w))[0]
    assert max_diff(ours.reshape(1, -1, ours.shape[-1]), hf_out) <= ATOL


def test_logits(pair):
    x = seeded_randn(1, 3, pair.img, pair.img, seed=70)
    with torch.no_grad():
        ours = pair.model(x)
        theirs = pair.ref(x).logits
    assert ours.shape == theirs.shape == (1, 1000)
    assert max_diff(ours, theirs) <= ATOL
    assert ours.std().item() > 1e-2  # not a constant output that would match anything


# -- image sizes the window does not divide --------------------------------------------------------
@pytest.mark.parametrize(
    ("img", "maps", "padded"),
    [
        # 200: 50x50 is padded to 56 for window 7; 25 is odd before merging; 13 -> 14; 7 is clamped
        (200, [50, 25, 13, 7], [56, 28, 14, 7]),
        # 232: 58 -> 63; 29 odd -> 35 and merged to 15 -> 21; 8 > 7 keeps window 7 and shift 3 -> 14
        (232, [58, 29, 15, 8], [63, 35, 21, 14]),
    ],
)
def test_padding_matches_hf_stage_by_stage(img, maps, padded):
    """Maps the window does not divide are zero-padded for attention, odd maps before merging;
    HF does the same: every stage output (before merging) and the logits agree."""
    torch.manual_seed(0)
    ref, model = make_hf_reference(
        small_swin(img, window_size=7), seed=2
    )  # the padding paths do not depend on the width
    assert [layer.input_resolution for layer in model.layers] == [(m, m) for m in maps]
    assert [layer.blocks[1].padded_resolution for layer in model.layers] == [(p, p) for p in padded]
    assert all(layer.blocks[1].shift_size == 3 for layer in model.layers[:3])
    assert model.layers[3].blocks[1].shift_size == (3 if maps[3] > 7 else 0)

    x = seeded_randn(1, 3, img, img, seed=80)
    with torch.no_grad():
        ours = model.forward_intermediates(x)
        hidden, dims = ref.swin.embeddings(x)
        for i, layer in enumerate(model.layers):
            stage = hf_stage(ref, i)
            for block in stage.blocks:
                hidden = block(hidden, dims)[0]
            assert tuple(dims) == layer.input_resolution
            assert max_diff(ours[f"stage{i}"].reshape(1, -1, layer.dim), hidden) <= ATOL, f"stage {i}"
            if stage.downsample is not None:
                hidden = stage.downsample(hidden, dims)
                dims = ((dims[0] + 1) // 2, (dims[1] + 1) // 2)
        assert max_diff(model(x), ref(x).logits) <= ATOL


# -- the Hugging Face v1 bug: window 6 at 96 -------------------------------------------------------
@pytest.fixture(scope="module")
def swin96():
    """Ours: swin_t(img_size=96, window_size=6). References:

    - ``hf6``: Hugging Face's Swin-T with ``image_size=96, window_size=6`` (the configuration that
      crashes). Its patch embedding, stages 0-2 (maps 24, 12, 6) with their merging, final
      LayerNorm and classifier run fine and give our weights.
    - ``stage3``: a Hugging Face ``SwinStage`` for the 3x3 stage built with window 3, the window the
      clamp rule gives (min(H, W) = 3, no shift). Its random weights are copied into our stage 3.
    """
    from transformers.models.swin.modeling_swin import SwinForImageClassification, SwinStage

    torch.manual_seed(0)
    model = swin_t(img_size=96, window_size=6, drop_path_rate=0.0).eval()
    config = hf_config_for(model)
    assert (config.image_size, config.window_size, config.embed_dim) == ([96, 96], 6, 96)
    assert (list(config.depths), list(config.num_heads)) == ([2, 2, 6, 2], [3, 6, 12, 24])
    hf6 = perturb_(SwinForImageClassification(config), seed=3).eval()

    config3 = copy.deepcopy(config)
    config3.window_size = 3
    stage3 = SwinStage(
        config3,
        dim=768,
        input_resolution=(3, 3),
        depth=2,
        num_heads=24,
        drop_path=[0.0, 0.0],
        downsample=None,
    )
    stage3 = perturb_(stage3, seed=4).eval()

    state = convert_hf_state_dict(hf6.state_dict())
    state = {k: v for k, v in state.items() if not k.startswith("layers.3.")}
    stage3_state = convert_hf_state_dict({f"swin.encoder.layers.3.{k}": v for k, v in stage3.state_dict().items()})
    for key, value in stage3_state.items():  # our tables keep window 6; the clamped stage reads their centre
        if key.endswith("relative_position_bias_table"):
            stage3_state[key] = embed_relative_position_bias_table(value, 3, 6)
    state.update(stage3_state)
    model.load_state_dict(state, strict=True)
    return SimpleNamespace(model=model, hf6=hf6, stage3=stage3)


def test_hf_v1_crashes_at_96_with_window_6(swin96):
    """Hugging Face v1 (5.24) applies the clamp rule at forward time
    (``SwinLayer.set_shift_and_window_size`` shrinks the window of the 3x3 stage to 3) but built the
    relative position bias table and index for window 6 at construction, so the 36x36 bias no
    longer fits the 9x9 attention and the forward raises. The official code and timm clamp at
    construction and run; so must we."""
    x = seeded_randn(1, 3, 96, 96, seed=90)
    # the 36x36 bias (window 6) added to 9x9 logits (window 3); if this stops raising, the bug is fixed
    with pytest.raises(RuntimeError, match=r"size of tensor a \(9\) must match the size of tensor b \(36\)"):
        with torch.no_grad():
            swin96.hf6(x)
    with torch.no_grad():
        assert swin96.model(x).shape == (1, 1000)


def test_ours_at_96_applies_the_clamp_rule(swin96):
    layers = swin96.model.layers
    assert [layer.input_resolution for layer in layers] == [(24, 24), (12, 12), (6, 6), (3, 3)]
    assert [(b.window_size, b.shift_size) for b in layers[0].blocks] == [(6, 0), (6, 3)]
    # the 6x6 map is one window of 6: no shift
    assert all((b.window_size, b.shift_size) == (6, 0) for b in layers[2].blocks)
    for block in layers[3].blocks:
        assert (block.window_size, block.shift_size) == (3, 0)
        assert block.attn_mask is None
        # the table keeps the requested window 6 (11 x 11 offsets); window 3 reads its central 5 x 5
        assert block.attn.relative_position_bias_table.shape == (11 * 11, 24)


def test_ours_at_96_agrees_with_hf_block_by_block(swin96):
    """Patch embedding and stages 0-2 against the window-6 HF model itself; stage 3 against HF's
    window-3 SwinStage fed with HF's own stage-2 output; then the logits of that composed HF model
    (its final LayerNorm, average pool and classifier). Not compared: the official code itself."""
    x = seeded_randn(1, 3, 96, 96, seed=91)
    hf6, model = swin96.hf6, swin96.model
    with torch.no_grad():
        ours = model.forward_intermediates(x)
        hidden, dims = hf6.swin.embeddings(x)
        assert max_diff(ours["patch_embed"].reshape(1, -1, 96), hidden) <= ATOL
        for i in range(3):
            stage = hf_stage(hf6, i)
            for block in stage.blocks:
                hidden = block(hidden, dims)[0]
            assert max_diff(ours[f"stage{i}"].reshape(1, -1, 96 * 2**i), hidden) <= ATOL, f"stage {i}"
            hidden = stage.downsample(hidden, dims)
            dims = ((dims[0] + 1) // 2, (dims[1] + 1) // 2)
        assert tuple(dims) == (3, 3)
        hidden = swin96.stage3(hidden, dims)[0]
        assert max_diff(ours["stage3"].reshape(1, 9, 768), hidden) <= ATOL
        logits = hf6.classifier(hf6.swin.layernorm(hidden).mean(dim=1))
        assert max_diff(model(x), logits) <= ATOL
