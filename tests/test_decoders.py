"""Decoders: UPerNet's head against Hugging Face's UperNetForSemanticSegmentation on identical weights,
the small FPN head's shapes, and the segmenter's output size."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from helpers import max_diff, seeded_rand, seeded_randn, small_swin

from swin_tutor.checkpoints.backbone import load_backbone_checkpoint
from swin_tutor.checkpoints.export import hf_config_for
from swin_tutor.core.backbone import SwinBackbone
from swin_tutor.dense.fpn import FPNHead
from swin_tutor.dense.segmenter import Segmenter
from swin_tutor.dense.upernet import UperNetHead, convert_upernet_state_dict
from swin_tutor.lesson.reference import perturb_

ATOL = 1e-5
WIDTHS = [16, 32, 64, 128]  # small_swin's stage widths
STRIDES = [4, 8, 16, 32]


def randomise_(module: nn.Module, seed: int) -> nn.Module:
    """Seeded noise on every parameter, and BatchNorm running statistics away from 0 and 1."""
    perturb_(module, seed=seed, scale=0.1)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
    return module


@pytest.fixture(scope="module")
def upernet():
    """Hugging Face's UPerNet on a small Swin (window 4, built at 64), seeded random weights, eval mode."""
    transformers = pytest.importorskip("transformers")
    backbone_config = hf_config_for(small_swin(img_size=64, num_classes=0))
    backbone_config.out_features = ["stage1", "stage2", "stage3", "stage4"]
    config = transformers.UperNetConfig(backbone_config=backbone_config, hidden_size=32, num_labels=5)
    torch.manual_seed(0)
    return randomise_(transformers.UperNetForSemanticSegmentation(config), seed=3).eval()


def our_head(reference) -> UperNetHead:
    head = UperNetHead(WIDTHS, 32, num_classes=5)
    head.load_state_dict(convert_upernet_state_dict(reference.state_dict()))  # strict: every name matches
    return head.eval()


def test_upernet_head_equals_hugging_face(upernet):
    head = our_head(upernet)
    features = [
        seeded_randn(2, c, 64 // s, 96 // s, seed=i) for i, (c, s) in enumerate(zip(WIDTHS, STRIDES, strict=True))
    ]
    with torch.no_grad():
        ours, theirs = head(features), upernet.decode_head(features)
    assert ours.shape == (2, 5, 16, 24)
    assert max_diff(ours, theirs) <= ATOL


def test_upernet_head_equals_hugging_face_in_training_mode(upernet):
    """Batch statistics instead of running ones: the same numbers, and the same running-stat updates."""
    head, reference = our_head(upernet).train(), upernet.decode_head
    features = [
        seeded_randn(2, c, 96 // s, 64 // s, seed=10 + i) for i, (c, s) in enumerate(zip(WIDTHS, STRIDES, strict=True))
    ]
    try:
        reference.train()
        ours, theirs = head(features), reference(features)
    finally:
        upernet.eval()
    assert max_diff(ours, theirs) <= ATOL
    assert max_diff(head.bottleneck.batch_norm.running_var, reference.bottleneck.batch_norm.running_var) <= ATOL


def test_segmenter_equals_hugging_face_upernet(upernet):
    """The whole model: our backbone and head loaded from Hugging Face's state dict, logits at the
    image size. At 64x96 the stage-4 map (2x3) is smaller than the window: both pad and shift."""
    backbone = SwinBackbone(small_swin(img_size=64, num_classes=0))
    report = load_backbone_checkpoint(backbone, upernet.state_dict())  # reads the backbone.* entries
    assert report.new == [] and any(k.startswith("decode_head.") for k in report.dropped)
    segmenter = Segmenter(backbone, our_head(upernet)).eval()
    x = seeded_rand(1, 3, 64, 96, seed=5)
    with torch.no_grad():
        ours, theirs = segmenter(x), upernet(x).logits
    assert ours.shape == theirs.shape == (1, 5, 64, 96)
    assert max_diff(ours, theirs) <= ATOL


def test_convert_mmsegmentation_names():
    head = UperNetHead(WIDTHS, 8, num_classes=3)
    mmseg = {}
    for key, value in head.state_dict().items():
        key = key.replace(".batch_norm.", ".bn.").replace("classifier.", "conv_seg.")
        mmseg[f"decode_head.{key}"] = value
    mmseg["auxiliary_head.conv_seg.weight"] = torch.zeros(3, 8, 1, 1)
    mmseg["backbone.patch_embed.proj.weight"] = torch.zeros(16, 3, 4, 4)
    assert convert_upernet_state_dict(mmseg).keys() == head.state_dict().keys()


@pytest.mark.parametrize("size", [(64, 64), (96, 160), (37, 51)])
def test_fpn_head_shapes_and_gradients(size):
    torch.manual_seed(0)
    head = FPNHead(WIDTHS, 16, 11)
    h, w = size
    features = [seeded_randn(2, c, -(-h // s), -(-w // s), seed=s) for c, s in zip(WIDTHS, STRIDES, strict=True)]
    logits = head(features)
    assert logits.shape == (2, 11, -(-h // 4), -(-w // 4))
    logits.sum().backward()
    assert all(p.grad is not None for p in head.parameters())


@pytest.mark.parametrize("size", [(64, 64), (96, 160), (37, 51)])
def test_segmenter_output_is_the_input_size(size):
    torch.manual_seed(0)
    backbone = SwinBackbone(small_swin(img_size=64, num_classes=0))
    for head in (FPNHead(backbone.channels, 16, 11), UperNetHead(backbone.channels, 16, num_classes=11)):
        segmenter = Segmenter(backbone, head).eval()
        with torch.no_grad():
            assert segmenter(seeded_rand(1, 3, *size, seed=0)).shape == (1, 11, *size)


def test_heads_on_the_last_stage_alone():
    """The ablation of notebook 12: the same decoders on stage 4 only (stride 32), logits still at the image size."""
    backbone = SwinBackbone(small_swin(img_size=64, num_classes=0), out_indices=(3,))
    assert backbone.channels == [128] and backbone.strides == [32]
    for head in (FPNHead(backbone.channels, 16, 11), UperNetHead(backbone.channels, 16, num_classes=11)):
        with torch.no_grad():
            assert Segmenter(backbone, head).eval()(seeded_rand(1, 3, 64, 96, seed=0)).shape == (1, 11, 64, 96)


@pytest.mark.parametrize("version", [1, 2])
def test_segmenter_trains(version):
    """One optimiser step through head and backbone (window rule and all): every parameter gets a gradient."""
    torch.manual_seed(0)
    backbone = SwinBackbone(small_swin(img_size=64, version=version, num_classes=0))
    segmenter = Segmenter(backbone, FPNHead(backbone.channels, 16, 11)).train()
    image, labels = seeded_rand(2, 3, 64, 64, seed=1), torch.randint(0, 11, (2, 64, 64))
    loss = nn.functional.cross_entropy(segmenter(image), labels)
    loss.backward()
    assert all(p.grad is not None for p in segmenter.parameters() if p.requires_grad)
    before = loss.item()
    torch.optim.SGD(segmenter.parameters(), lr=0.1).step()
    assert nn.functional.cross_entropy(segmenter(image), labels).item() < before


def test_clear_errors():
    backbone = SwinBackbone(small_swin(num_classes=0))
    with pytest.raises(ValueError, match="in_channels"):
        Segmenter(backbone, FPNHead([16, 32], 8, 3))
    head = FPNHead(WIDTHS, 8, 3)
    with pytest.raises(ValueError, match="list of 4"):
        head([torch.zeros(1, 16, 8, 8)])
    nhwc = [torch.zeros(1, 16 // s, 16 // s, c) for c, s in zip(WIDTHS, [1, 2, 4, 8], strict=True)]
    with pytest.raises(ValueError, match="channels-last"):
        head(nhwc)
    with pytest.raises(TypeError, match="num_classes"):
        UperNetHead(WIDTHS, 8, num_classes=2.5)
