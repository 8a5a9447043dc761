"""swin_tutor.lab.explain on models whose answer is known."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from swin_tutor.lab.explain import (
    bias_preferences,
    capture_block_input,
    effective_receptive_field,
    grad_cam,
    paste_digits,
    query_attention,
    relative_bias_image,
    tokens_to_nchw,
)
from swin_tutor.lab.mechanisms import build_stack
from swin_tutor.train.digits_model import tiny_swin


def test_tokens_to_nchw_both_layouts():
    maps = torch.randn(2, 3, 5, 7)  # (B, h, w, C)
    assert torch.equal(tokens_to_nchw(maps), maps.permute(0, 3, 1, 2))
    seq = maps.reshape(2, 15, 7)
    assert torch.equal(tokens_to_nchw(seq, (3, 5)), maps.permute(0, 3, 1, 2))
    with pytest.raises(ValueError, match="hw"):
        tokens_to_nchw(seq)
    with pytest.raises(ValueError, match="tokens"):
        tokens_to_nchw(torch.zeros(3, 4))


@pytest.mark.parametrize("block_index,query", [(0, (5, 2)), (1, (5, 2)), (1, (0, 0)), (1, (7, 7))])
def test_query_attention_matches_what_the_block_computes(block_index, query):
    torch.manual_seed(0)
    model = build_stack(seed=0).eval()
    images = torch.rand(2, 3, 8, 8)
    block = model.blocks[block_index]
    seen = {}
    hook = block.attn.register_forward_pre_hook(lambda m, args: seen.update(args=args) and None)
    tokens = capture_block_input(model, block, images)
    hook.remove()
    windows, mask = seen["args"][0], seen["args"][1]
    truth = block.attn.attention_probs(windows, mask, block.window_size)  # (B*nW, heads, N, N)

    result = query_attention(block, tokens, query, index=1)
    weights, window, masked = result["weights"], result["window"], result["masked"]
    assert weights.shape == (2, 8, 8) and int(window.sum()) == 16
    assert torch.allclose(weights.sum(dim=(1, 2)), torch.ones(2), atol=1e-5)
    assert (weights[:, ~window] == 0).all()
    assert (weights[:, masked] < 1e-6).all()
    # The same numbers as the block's own attention row: find the query and each key among the
    # windows the block really attended over by their feature vectors (independent of our indexing).
    seen_by_attn = block.norm1(tokens[1])  # (8, 8, C) pre-norm: what the attention branch saw
    flat = seen_by_attn.reshape(64, -1)
    r, c = query
    k, i = [int(v) for v in torch.nonzero((windows[4:] - flat[r * 8 + c]).abs().amax(-1) < 1e-6)[0]]
    for j in range(16):
        pos = int(torch.nonzero((flat - windows[4 + k, j]).abs().amax(-1) < 1e-6)[0])
        assert torch.allclose(weights.reshape(2, 64)[:, pos], truth[4 + k, :, i, j], atol=1e-6)


def test_query_attention_mask_of_the_corner_window():
    model = build_stack(seed=0).eval()
    tokens = capture_block_input(model, model.blocks[1], torch.rand(1, 3, 8, 8))
    result = query_attention(model.blocks[1], tokens, (0, 0))
    # After the roll by 2 the corner window holds rows and columns {6, 7, 0, 1}; only {0, 1} x {0, 1}
    # were neighbours of (0, 0) before the roll: the other 12 tokens are masked.
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[[6, 7, 0, 1]] = True
    expected &= expected.clone().T
    assert torch.equal(result["window"], expected)
    assert int(result["masked"].sum()) == 12 and not result["masked"][:2, :2].any()
    unshifted = query_attention(
        model.blocks[0], capture_block_input(model, model.blocks[0], torch.rand(1, 3, 8, 8)), (0, 0)
    )
    assert not unshifted["masked"].any()


def test_relative_bias_image_orientation():
    model = build_stack(seed=0)
    attn = model.blocks[0].attn
    with torch.no_grad():
        attn.relative_position_bias_table.copy_(torch.arange(49.0).view(49, 1).expand(49, 2))
    image = relative_bias_image(attn)  # (heads, 7, 7), offsets query - key (notebook 05's convention)
    assert image.shape == (2, 7, 7)
    assert image[0, 3, 3] == 3 * 7 + 3  # offset 0
    # pixel (3, 4): query - key = (0, +1), a key one column left of the query, the table row 3 * 7 + 4
    assert image[0, 3, 4] == 3 * 7 + 4
    # pixel (4, 3): query - key = (+1, 0), a key one row above, row 4 * 7 + 3
    assert image[1, 4, 3] == 4 * 7 + 3
    v2 = build_stack(seed=0, version=2).blocks[0].attn
    bias = relative_bias_image(v2)
    assert bias.shape == (2, 7, 7) and bool(((bias > 0) & (bias < 16)).all())


def test_bias_preferences_names_the_favoured_group():
    image = torch.zeros(4, 7, 7)
    image[0, 3, 3] = 5.0  # self
    image[1, 3, :] = 2.0  # same row (centre included, but the row wins on average over 6 keys)
    image[1, 3, 3] = 0.0
    image[2, :, 3] = 2.0  # same column
    image[2, 3, 3] = 0.0
    image[3] = 1.0  # elsewhere high, the cross low
    image[3, 3, :] = 0.0
    image[3, :, 3] = 0.0
    assert bias_preferences(image) == ["self", "same row", "same column", "elsewhere"]
    with pytest.raises(ValueError, match="heads"):
        bias_preferences(torch.zeros(7, 7))


class _PooledLinearModel(nn.Module):
    """logits = head(mean over tokens of relu(1x1 conv)): Grad-CAM is then exactly the class
    activation map relu(w_class . A(p)) (Zhou et al.), up to scale."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Conv2d(1, 4, 1, bias=False)
        self.features = nn.ReLU()
        self.head = nn.Linear(4, 2)
        with torch.no_grad():
            self.embed.weight.copy_(torch.tensor([1.0, 2.0, 0.5, 1.5]).view(4, 1, 1, 1))
            self.head.weight.copy_(torch.tensor([[1.0, 0.5, 2.0, 1.0], [-1.0, -1.0, -1.0, -1.0]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.features(self.embed(x).permute(0, 2, 3, 1))  # (B, h, w, C)
        return self.head(tokens.mean(dim=(1, 2)))


def test_grad_cam_finds_the_region_the_answer_comes_from():
    model = _PooledLinearModel()
    images = torch.zeros(2, 1, 6, 6)
    images[0, 0, 1:3, 3:5] = torch.tensor([[1.0, 0.5], [0.25, 1.0]])  # the only ink
    images[1, 0, 4, 0] = 1.0
    cam = grad_cam(model, images, model.features, class_index=torch.tensor([0, 0]))
    assert cam.shape == (2, 6, 6)
    expected = torch.relu(model.features(model.embed(images)).permute(0, 2, 3, 1) @ model.head.weight[0])
    expected = expected / expected.flatten(1).max(dim=1).values.view(-1, 1, 1)
    assert torch.allclose(cam, expected, atol=1e-6)
    assert (cam[0][images[0, 0] == 0] == 0).all() and cam[1, 4, 0] == 1.0
    # The class whose weights are all negative gets no positive evidence anywhere: an all-zero map.
    assert (grad_cam(model, images, model.features, class_index=torch.tensor([1, 1])) == 0).all()


def test_grad_cam_on_the_digits_swin_depends_on_the_target_layer():
    torch.manual_seed(0)
    model = tiny_swin(1).eval()
    images = torch.randn(2, 1, 32, 32)
    last = model.layers[-1].blocks[-1]
    a = grad_cam(model, images, last.norm1, class_index=torch.tensor([3, 3]))
    b = grad_cam(model, images, last.norm2, class_index=torch.tensor([3, 3]))
    assert a.shape == b.shape == (2, 2, 2)
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="layout"):
        grad_cam(model, images, last.norm1, layout="nhwc")


def test_effective_receptive_field_of_stage0_stays_in_reach():
    torch.manual_seed(0)
    model = tiny_swin(1).eval()
    field = effective_receptive_field(model, torch.randn(2, 1, 32, 32), "stage0")
    # Centre token (8, 8) of the 16x16 map: W-MSA reaches its window (rows 8-11), the shifted block
    # the windows around rows 6-9, i.e. tokens 4..11, pixels 8..23 (patch 2).
    assert field.shape == (32, 32) and float(field.max()) == 1.0
    inside = torch.zeros(32, 32, dtype=torch.bool)
    inside[8:24, 8:24] = True
    assert (field[~inside] < 1e-6).all()
    assert (field[inside] > 0).float().mean() > 0.5
    with pytest.raises(ValueError, match="stage"):
        effective_receptive_field(model, torch.randn(1, 1, 32, 32), "stage9")


def test_grad_cam_sequence_layout_is_the_pitfall_it_names():
    """``sequence_as_bchw`` views the (B, h*w, C) sequence as (B, C, h, w): on the pooled-linear model whose map is
    known, the right layout gives it exactly and the wrong one gives something else."""
    model = _PooledLinearModel()
    images = torch.zeros(1, 1, 6, 6)
    images[0, 0, 1:3, 3:5] = 1.0
    right = grad_cam(model, images, model.features, class_index=torch.tensor([0]))
    wrong = grad_cam(model, images, model.features, class_index=torch.tensor([0]), layout="sequence_as_bchw")
    assert right.shape == wrong.shape == (1, 6, 6)
    assert not torch.allclose(right, wrong, atol=1e-3)


def test_paste_digits_places_each_digit_in_its_tile():
    digits = torch.arange(2 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4)
    scene = paste_digits(digits, [(0, 1), (1, 0)], (2, 2), background=-1.0)
    assert scene.shape == (1, 1, 8, 8)
    assert torch.equal(scene[0, :, 0:4, 4:8], digits[0]) and torch.equal(scene[0, :, 4:8, 0:4], digits[1])
    assert (scene[0, 0, 0:4, 0:4] == -1).all() and (scene[0, 0, 4:8, 4:8] == -1).all()
    with pytest.raises(ValueError, match="slots"):
        paste_digits(digits, [(0, 0)], (2, 2), background=0.0)
    with pytest.raises(ValueError, match="outside"):
        paste_digits(digits, [(0, 0), (2, 0)], (2, 2), background=0.0)


def test_pictures_of_notebooks_10_and_11_draw_what_they_claim():
    """Reach drawn as reached / not reached; one colour per model name; head maps with a named legend;
    bias images labelled with query - key offsets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from swin_tutor.lab.experiments import reach, receptive_field
    from swin_tutor.plot.trained import MODEL_COLOURS, plot_curves, show_bias_images, show_head_maps, show_reach_row

    model = build_stack(seed=0, shift="none")
    field = receptive_field(model, 2, (4, 4))
    fig, axes = show_reach_row([field], ["no shift"], window=4, query=(4, 4))
    assert (axes[0].images[0].get_array() == reach(field).numpy()).all()
    assert axes[0].get_title().endswith("16 of 64 tokens")
    plt.close(fig)
    runs = {"shifted windows": {"test_acc_curve": [0.5, 1.0]}, "no shift": {"test_acc_curve": [0.5, 0.5]}}
    ax = plot_curves(runs)
    colours = {line.get_label(): line.get_color() for line in ax.get_lines()}
    assert colours["shifted windows"] == MODEL_COLOURS["shifted windows"] != colours["no shift"]
    plt.close(ax.figure)
    digits = tiny_swin(1).eval()
    block = digits.layers[0].blocks[1]
    result = query_attention(block, capture_block_input(digits, block, torch.randn(1, 1, 32, 32)), (0, 0))
    fig, axes = show_head_maps(result, (0, 0), "corner", base=torch.rand(16, 16).numpy())
    assert len(axes) == 2 and [t.get_text() for t in fig.legends[0].get_texts()][0] == "query token"
    plt.close(fig)
    fig, axes = show_bias_images(relative_bias_image(block.attn), "bias")
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["-3", "0", "+3"]
    plt.close(fig)
