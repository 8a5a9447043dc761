"""The whole Swin v1 model: published sizes and costs, the clamp rule in Swin-T, stage shapes,
training behaviour, weight updates reaching the position bias in eval mode, and CUDA."""

from __future__ import annotations

import pytest
import torch
from helpers import seeded_rand, small_swin, uninitialised

from swin_tutor.core.flops import count_macs, count_parameters
from swin_tutor.core.mlp import Mlp
from swin_tutor.core.sizes import swin_b, swin_l, swin_s, swin_t

# name: (constructor, parameters at 1000 classes, published GMACs at 224 or None)
PUBLISHED = {
    "swin_t": (swin_t, 28_288_354, 4.49),
    "swin_s": (swin_s, 49_606_258, 8.75),
    "swin_b": (swin_b, 87_768_224, 15.44),
    # Swin-L: the parameter count only, no forward for 197 M parameters
    "swin_l": (swin_l, 196_532_476, None),
}


def image(batch: int = 1, size: int = 64, seed: int = 0) -> torch.Tensor:
    """Seeded images for ``small_swin()`` (64 px: a 16x16 first map, a shifted block in every stage
    but the clamped last one)."""
    return seeded_rand(batch, 3, size, size, seed=seed)


@pytest.fixture(scope="module")
def swin_t_224():
    torch.manual_seed(0)
    return swin_t().eval()


# -- published numbers ---------------------------------------------------------------------------
@pytest.fixture
def no_init():
    """Counting needs the parameters' shapes, not their values: switch off initialisation (for
    Swin-L about 200 M random draws, most of the build time) while a test builds models."""
    with uninitialised(everything=True):
        yield


def assert_macs_close(model: torch.nn.Module, gmacs: float) -> None:
    macs = count_macs(model, batch=1)
    assert abs(macs / 1e9 - gmacs) / gmacs < 0.01, f"{macs / 1e9:.3f} G vs published {gmacs} G"


def test_swin_t_parameters_and_macs(swin_t_224):
    _, params, gmacs = PUBLISHED["swin_t"]
    assert count_parameters(swin_t_224) == params
    assert_macs_close(swin_t_224, gmacs)


@pytest.mark.parametrize("name", ["swin_s", "swin_b"])
def test_larger_models_parameters_and_macs(name):
    """The counter sees only shapes, so the model is built on the meta device (no memory, no maths)."""
    build, params, gmacs = PUBLISHED[name]
    with torch.device("meta"):
        model = build().eval()
    assert count_parameters(model) == params
    assert_macs_close(model, gmacs)


def test_swin_l_parameter_count(no_init):
    assert count_parameters(swin_l()) == PUBLISHED["swin_l"][1]


def test_swin_b_384_window_12_parameter_count(no_init):
    """Only the bias tables grow with the window: (2*12-1)^2 instead of (2*7-1)^2 rows per block."""
    assert count_parameters(swin_b(img_size=384, window_size=12)) == 87_903_584


def test_parameter_count_of_head_and_bias_tables(no_init):
    """Cross-checks of the count: the head has 768 * k + k parameters, and there is one
    (2 * 7 - 1)^2-row bias table per block."""
    small_head = swin_t(num_classes=10)
    assert count_parameters(small_head) == PUBLISHED["swin_t"][1] - 990 * 769
    table_rows = sum(b.attn.relative_position_bias_table.shape[0] for layer in small_head.layers for b in layer.blocks)
    assert table_rows == 12 * 13 * 13  # twelve blocks, one (2*7-1)^2 table each


# -- Swin-T structure ------------------------------------------------------------------------------
def test_swin_t_clamp_and_masks_at_224(swin_t_224):
    resolutions = [layer.input_resolution for layer in swin_t_224.layers]
    assert resolutions == [(56, 56), (28, 28), (14, 14), (7, 7)]
    for i, layer in enumerate(swin_t_224.layers[:3]):
        unshifted, shifted = layer.blocks[0], layer.blocks[1]
        assert (unshifted.window_size, unshifted.shift_size, unshifted.attn_mask) == (7, 0, None)
        assert (shifted.window_size, shifted.shift_size) == (7, 3)
        n_windows = (resolutions[i][0] // 7) ** 2
        assert shifted.attn_mask.shape == (n_windows, 49, 49)
    for block in swin_t_224.layers[3].blocks:  # the 7x7 map is one window: full attention, no shift
        assert (block.window_size, block.shift_size) == (7, 0)
        assert block.attn_mask is None
    assert [len(layer.blocks) for layer in swin_t_224.layers] == [2, 2, 6, 2]
    assert [layer.blocks[0].num_heads for layer in swin_t_224.layers] == [3, 6, 12, 24]


def test_drop_path_rates_are_linspace(swin_t_224):
    rates = [b.drop_path.drop_prob for layer in swin_t_224.layers for b in layer.blocks]
    assert len(rates) == 12
    assert rates[0] == 0.0 and rates[-1] == pytest.approx(0.2)
    steps = [rates[k + 1] - rates[k] for k in range(11)]
    assert all(s == pytest.approx(0.2 / 11) for s in steps)


def test_forward_intermediates_shapes_and_consistency():
    torch.manual_seed(0)
    model = small_swin().eval()
    x = image()
    with torch.no_grad():
        maps = model.forward_intermediates(x)
        logits = model(x)
    shapes = {k: tuple(v.shape) for k, v in maps.items()}
    assert shapes == {
        "patch_embed": (1, 16, 16, 16),
        "stage0": (1, 16, 16, 16),
        "stage1": (1, 8, 8, 32),
        "stage2": (1, 4, 4, 64),
        "stage3": (1, 2, 2, 128),
        "norm": (1, 2, 2, 128),
    }
    assert torch.allclose(model.forward_head(maps["norm"]), logits, atol=1e-6)
    assert torch.allclose(model.forward_features(x), maps["norm"], atol=1e-6)
    assert logits.shape == (1, 10)


def test_batch_elements_are_independent():
    torch.manual_seed(0)
    model = small_swin().eval()
    x = image(batch=3, seed=1)
    with torch.no_grad():
        together = model(x)
        alone = torch.cat([model(x[i : i + 1]) for i in range(3)])
    assert torch.allclose(together, alone, atol=1e-5)


def test_drop_path_is_random_in_training_and_off_in_eval():
    torch.manual_seed(0)
    model = small_swin(drop_path_rate=0.5)
    x = image(batch=2)
    with torch.no_grad():
        model.train()
        a, b = model(x), model(x)
        model.eval()
        c, d = model(x), model(x)
    assert not torch.allclose(a, b)
    assert torch.equal(c, d)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_gradients_reach_every_parameter(mode):
    """In training and in eval with grad enabled, every bias table, like every other parameter,
    gets a gradient."""
    torch.manual_seed(0)
    model = small_swin()
    model.train(mode == "train")
    model(image(batch=2)).logsumexp(dim=1).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert missing == []


@pytest.mark.parametrize(("img", "window"), [(64, 4), (100, 7)])
@pytest.mark.parametrize("version", [1, 2])
def test_fast_window_attention_equals_the_step_by_step_path(img, window, version):
    """``use_gather=True`` (one precomputed gather) and ``use_gather=False`` (pad, shift, partition,
    reverse, roll back, crop: the readable path) give the same model: shifted or not, padded
    (100 -> 25x25 map, padded to 28) or not, clamped or not."""
    from swin_tutor.core.sizes import swin

    settings = dict(img_size=img, window_size=window, embed_dim=16, num_heads=(1, 2, 4, 8), num_classes=5)
    torch.manual_seed(0)
    fast = swin("T", version, **settings).eval()
    torch.manual_seed(0)
    steps = swin("T", version, use_gather=False, **settings).eval()
    assert all(not b.use_gather for layer in steps.layers for b in layer.blocks)
    steps.load_state_dict(fast.state_dict())
    x = torch.randn(2, 3, img, img, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = fast.forward_intermediates(x), steps.forward_intermediates(x)
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-5), name


def test_use_gather_is_an_argument():
    with pytest.raises(TypeError, match="use_gather must be True or False"):
        swin_t(use_gather="no")


@pytest.mark.parametrize("tokens", [1, 7, 8, 9, 50])
@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
def test_chunked_mlp_equals_the_one_shot_mlp(tokens, mode):
    """Without autograd the MLP runs in chunks of ``chunk_tokens`` rows (fewer than, exactly, and
    not a multiple of the chunk here): the same numbers as one pass, the same shape, and with
    autograd the one-shot path (gradients flow)."""
    torch.manual_seed(0)
    mlp = Mlp(12, 48, chunk_tokens=8).eval()
    x = torch.randn(2, tokens, 12)
    expected = mlp(x)  # grad enabled: the one-shot path
    assert expected.requires_grad
    context = torch.no_grad() if mode == "no_grad" else torch.inference_mode()
    with context:
        chunked = mlp(x)
    assert chunked.shape == x.shape
    assert torch.allclose(chunked, expected.detach(), atol=1e-6)


def test_chunked_mlp_leaves_the_model_output_unchanged():
    """The whole model, eval mode: chunks of 16 tokens (every stage chunked) against one pass."""
    torch.manual_seed(0)
    model = small_swin().eval()
    x = image(batch=2)
    with torch.no_grad():
        one_pass = model(x)
        for m in model.modules():
            if isinstance(m, Mlp):
                m.chunk_tokens = 16
        chunked = model(x)
    assert torch.allclose(chunked, one_pass, atol=1e-5)


# -- weight updates are always seen (no stale position bias in eval mode) ---------------------------------------
def bias_tables(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v for k, v in model.state_dict().items() if k.endswith("relative_position_bias_table")}


@pytest.fixture
def evaluated_model():
    """A small model in eval mode and its output after one no-grad forward."""
    torch.manual_seed(0)
    model = small_swin().eval()
    with torch.no_grad():
        before = model(image())
    return model, before


def fresh_output(state: dict[str, torch.Tensor]) -> torch.Tensor:
    """The output of a newly built model holding ``state``."""
    other = small_swin().eval()
    other.load_state_dict(state)
    with torch.no_grad():
        return other(image())


def new_tables(model: torch.nn.Module, seed: int = 1) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {k: v + torch.randn(v.shape, generator=gen) for k, v in bias_tables(model).items()}


def test_load_state_dict_of_new_bias_tables_changes_the_output(evaluated_model):
    """Only the bias tables change, so a stale bias would reproduce the old output exactly."""
    model, before = evaluated_model
    state = model.state_dict()
    state.update(new_tables(model))
    model.load_state_dict(state)
    with torch.no_grad():
        after = model(image())
    assert (after - before).abs().max().item() > 1e-3
    assert torch.allclose(after, fresh_output(state), atol=1e-6)


@pytest.mark.parametrize("j", [0, 1])
def test_in_place_updates_and_reassigned_tables_change_the_output(evaluated_model, j):
    """Block 0 adds the bias alone; block 1 (shifted) adds the bias + mask."""
    model, before = evaluated_model
    block = model.layers[0].blocks[j]
    assert (block.attn_mask is not None) == (j == 1)
    table = block.attn.relative_position_bias_table
    noise = 5 * torch.randn(table.shape, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        table.add_(noise)  # in place, as an optimizer step: bumps the tensor version
        after_add = model(image())
    assert (after_add - before).abs().max().item() > 1e-4  # a stale bias would give 0
    assert torch.allclose(after_add, fresh_output(model.state_dict()), atol=1e-6)
    table.data = table.data * -3.0  # new storage
    with torch.no_grad():
        after_assign = model(image())
    assert (after_assign - after_add).abs().max().item() > 1e-4
    assert torch.allclose(after_assign, fresh_output(model.state_dict()), atol=1e-6)


def test_writes_through_data_change_the_output(evaluated_model):
    """Writes through ``param.data`` bypass autograd's version counter: the bias is therefore
    recomputed on every forward rather than cached (a cache gained nothing measurable)."""
    model, _ = evaluated_model
    table = model.layers[0].blocks[0].attn.relative_position_bias_table
    table.data.copy_(table.data + 5 * torch.randn(table.shape, generator=torch.Generator().manual_seed(6)))
    with torch.no_grad():
        after = model(image())
    assert torch.allclose(after, fresh_output(model.state_dict()), atol=1e-6)


# -- CUDA ------------------------------------------------------------------------------------------
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    torch.manual_seed(0)
    model = small_swin(img_size=100, window_size=7).eval()  # 25x25 map: padding and odd merging too
    x = image(batch=2, size=100)
    with torch.no_grad():
        expected = model(x)
    flags = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False  # exact float32
    try:
        model = model.cuda()
        assert all(b.device.type == "cuda" for b in model.buffers())
        with torch.no_grad():
            first = model(x.cuda())
            second = model(x.cuda())
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = flags
    assert torch.allclose(first, second, atol=1e-6, rtol=0)
    assert torch.allclose(first.cpu(), expected, atol=1e-4, rtol=0)


def test_blocked_pairs_get_exact_zero_weight_and_match_the_official_minus_100():
    """The forward adds -1e4 where the official mask (our attn_mask buffer) holds -100: e^-100 would
    be a float32 subnormal (slow on CPUs), -1e4 gives an exact 0, and nothing else changes."""
    torch.manual_seed(0)
    block = swin_t().layers[0].blocks[1].eval()
    mask = block.attn_mask
    assert set(mask.unique().tolist()) == {-100.0, 0.0}
    x = torch.randn(64, 49, 96, generator=torch.Generator().manual_seed(3))
    attn = block.attn
    blocked = (mask != 0)[:, None].expand(-1, attn.num_heads, -1, -1)
    with torch.no_grad():
        probs = attn.attention_probs(x, mask)
        qkv = attn.qkv(x).reshape(64, 49, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
        q, k, _ = qkv.unbind(0)
        official = ((q * attn.scale) @ k.transpose(-2, -1) + attn.position_bias() + mask[:, None]).softmax(-1)
    assert bool((probs[blocked] == 0).all()) and bool((probs[~blocked] > 0).all())
    assert torch.allclose(probs, official, atol=1e-6, rtol=0)


@pytest.mark.parametrize("version", [1, 2])
def test_an_empty_batch_gives_empty_logits(version):
    """(0, 3, H, W) in, (0, num_classes) out, as PyTorch modules and Hugging Face do."""
    from swin_tutor.core.sizes import swin

    model = swin("T", version, num_classes=7).eval()
    with torch.no_grad():
        assert model(torch.zeros(0, 3, 64, 96)).shape == (0, 7)
        assert model.forward_features(torch.zeros(0, 3, 64, 96)).shape == (0, 2, 3, 768)
