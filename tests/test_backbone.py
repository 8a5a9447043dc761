"""SwinBackbone: the pyramid's shapes, its parity with Hugging Face's SwinBackbone / Swinv2Backbone on
identical weights, and loading Hugging Face backbone folders, classification and dense checkpoints."""

from __future__ import annotations

import pytest
import torch
from helpers import max_diff, seeded_rand, small_swin

from swin_tutor.checkpoints.backbone import load_backbone_checkpoint
from swin_tutor.checkpoints.export import hf_config_for, save_checkpoint
from swin_tutor.checkpoints.files import CheckpointError
from swin_tutor.core.backbone import SwinBackbone
from swin_tutor.core.sizes import swin_t, swinv2_t
from swin_tutor.lesson.reference import perturb_

ATOL = 1e-5
STAGES = ["stage1", "stage2", "stage3", "stage4"]


def hf_backbone(model, seed: int = 1):
    """Hugging Face's backbone for ``model``'s configuration, all four stages out, seeded random weights."""
    transformers = pytest.importorskip("transformers")
    config = hf_config_for(model)
    config.out_features = STAGES
    cls = transformers.Swinv2Backbone if model.version == 2 else transformers.SwinBackbone
    torch.manual_seed(seed)
    return perturb_(cls(config), seed=seed).eval()


def small_224(version: int):
    """A narrow model built for 224: every stage map (56, 28, 14, 7) is at least its window 4."""
    torch.manual_seed(0)
    return small_swin(img_size=224, window_size=4, version=version, num_classes=0)


@pytest.fixture(scope="module", params=[1, 2], ids=["v1", "v2"])
def pair(request, tmp_path_factory):
    """(ours, Hugging Face's) with the same weights, ours loaded from Hugging Face's save_pretrained folder."""
    reference = hf_backbone(small_224(request.param))
    folder = tmp_path_factory.mktemp(f"hf_backbone_v{request.param}")
    reference.save_pretrained(folder)
    ours = SwinBackbone(small_224(request.param)).eval()
    report = load_backbone_checkpoint(ours, folder)
    return ours, reference, report


@pytest.mark.parametrize("size", [(224, 224), (320, 480)], ids=["224", "320x480"])
def test_equals_hugging_face_backbone(pair, size):
    ours, reference, _ = pair
    x = seeded_rand(1, 3, *size, seed=3)
    with torch.no_grad():
        mine, theirs = ours(x), reference(x).feature_maps
    assert len(mine) == len(theirs) == 4
    for a, b in zip(mine, theirs, strict=True):
        assert a.abs().max() > 0.1  # not a trivial match
        assert max_diff(a, b) <= ATOL


def test_hf_folder_report(pair):
    ours, _, report = pair
    assert report.format == "hf"
    assert report.new == [] and report.missing == [] and report.unexpected == []
    if ours.version == 1:  # SwinBackbone keeps SwinModel's final LayerNorm, unused: dropped
        assert report.dropped == ["norm.bias", "norm.weight"]
        assert [k for k in ours.state_dict() if k.startswith("norm")] == [
            f"norm{i}.{p}" for i in range(4) for p in ("weight", "bias")
        ]
    else:  # Swinv2Backbone: no final norm, no output norms
        assert report.dropped == []
        assert not any(k.startswith("norm") for k in ours.state_dict())


@pytest.mark.slow
@pytest.mark.parametrize("size", [(224, 224), (320, 480)], ids=["224", "320x480"])
@pytest.mark.parametrize("make", [swin_t, swinv2_t], ids=["Swin-T", "SwinV2-T"])
def test_swin_t_equals_hugging_face_backbone(make, size):
    """Full size. Swin-T at 224 has a 7x7 stage 4 under a 7x7 window: Hugging Face's backbone (and the
    official detection code) still shifts there, the classifier's clamp rule would not."""
    model = make(num_classes=0, drop_path_rate=0.0)
    reference = hf_backbone(model)
    ours = SwinBackbone(model).eval()
    load_backbone_checkpoint(ours, reference.state_dict())
    x = seeded_rand(1, 3, *size, seed=4)
    with torch.no_grad():
        for a, b in zip(ours(x), reference(x).feature_maps, strict=True):
            assert max_diff(a, b) <= ATOL


@pytest.mark.parametrize("version", [1, 2])
def test_channels_strides_and_shapes(version):
    backbone = SwinBackbone(small_swin(version=version), out_indices=(1, 3)).eval()
    assert backbone.channels == [32, 128] and backbone.strides == [8, 32]
    with torch.no_grad():
        for h, w in [(64, 64), (97, 131), (37, 200)]:  # odd and non-square sizes run like the classifier
            maps = backbone(seeded_rand(2, 3, h, w, seed=0))
            assert [tuple(m.shape) for m in maps] == [
                (2, c, -(-h // s), -(-w // s)) for c, s in zip(backbone.channels, backbone.strides, strict=True)
            ]


@pytest.mark.parametrize("version", [1, 2])
def test_outputs_are_the_stages_before_merging(version):
    model = small_swin(version=version).eval()
    backbone = SwinBackbone(model, out_norms=False, window_rule="input")  # the classifier's clamp rule
    x = seeded_rand(1, 3, 64, 96, seed=1)
    with torch.no_grad():
        stages = model.forward_intermediates(x)
        for i, feature in enumerate(backbone(x)):
            assert torch.equal(feature, stages[f"stage{i}"].permute(0, 3, 1, 2))  # NHWC -> NCHW, no other change


@pytest.mark.parametrize("version", [1, 2])
def test_window_rules_part_ways_only_on_maps_no_larger_than_the_window(version):
    model = perturb_(small_swin(img_size=64, version=version), seed=2).eval()  # window 4; stage 4: 2x2 at 64
    rules = {rule: SwinBackbone(model, window_rule=rule, out_norms=False) for rule in ("never", "built", "input")}
    with torch.no_grad():
        small = {rule: b(seeded_rand(1, 3, 64, 64, seed=7))[3] for rule, b in rules.items()}
        large = {rule: b(seeded_rand(1, 3, 160, 160, seed=7))[3] for rule, b in rules.items()}  # stage 4: 5x5
        classifier_stage = model.forward_intermediates(seeded_rand(1, 3, 64, 64, seed=7))["stage3"]
    assert torch.equal(small["built"], small["input"])  # built at 64: the same clamp
    assert max_diff(small["never"], small["input"]) > 1e-3  # padded to the window and shifted
    assert torch.equal(large["never"], large["input"])  # 5x5 > window 4: nobody clamps
    assert max_diff(large["built"], large["input"]) > 1e-3  # the clamp of 64x64 kept at 160x160
    assert torch.equal(small["input"], classifier_stage.permute(0, 3, 1, 2))
    assert all("geometry" not in vars(block) for layer in model.layers for block in layer.blocks)  # restored


def test_output_norm_defaults():
    v1, v2 = SwinBackbone(small_swin(version=1)), SwinBackbone(small_swin(version=2))
    assert (v1.out_norms, v1.window_rule) == (True, "never")  # official detection code, HF SwinBackbone
    assert (v2.out_norms, v2.window_rule) == (False, "built")  # HF Swinv2Backbone
    v2 = SwinBackbone(small_swin(version=2), out_indices=(2,), out_norms=True)
    assert [k for k in v2.state_dict() if k.startswith("norm")] == ["norm2.weight", "norm2.bias"]


@pytest.mark.parametrize("as_file", [True, False], ids=["save_checkpoint", "torch.save"])
def test_loads_classification_checkpoint(tmp_path, as_file):
    classifier = perturb_(small_swin(version=1), seed=5)
    if as_file:
        path = save_checkpoint(classifier, tmp_path / "classifier.safetensors")
    else:
        path = tmp_path / "classifier.pth"
        torch.save({"model": classifier.state_dict()}, path)
    backbone = SwinBackbone(small_swin(version=1, num_classes=0)).eval()
    report = load_backbone_checkpoint(backbone, path)
    assert report.format == "official"
    assert report.dropped == ["head.bias", "head.weight", "norm.bias", "norm.weight"]
    assert report.new == [f"norm{i}.{p}" for i in range(4) for p in ("weight", "bias")]
    assert "dropped (not part of a backbone): head, norm" in report.summary()
    expected = SwinBackbone(classifier.eval())  # the classifier's own stages, fresh output norms
    x = seeded_rand(1, 3, 64, 64, seed=2)
    with torch.no_grad():
        for a, b in zip(backbone(x), expected(x), strict=True):
            assert torch.equal(a, b)


def test_loads_the_backbone_of_a_dense_checkpoint():
    source = perturb_(SwinBackbone(small_swin(version=1)), seed=6)
    state = {f"backbone.{k}": v for k, v in source.state_dict().items()}
    state["decode_head.conv_seg.weight"] = torch.zeros(3, 8, 1, 1)
    backbone = SwinBackbone(small_swin(version=1))
    report = load_backbone_checkpoint(backbone, {"state_dict": state})
    assert report.dropped == ["decode_head.conv_seg.weight"] and report.new == []
    assert all(torch.equal(v, source.state_dict()[k]) for k, v in backbone.state_dict().items())


def test_wrong_variant_is_a_clear_error():
    backbone = SwinBackbone(small_swin(version=1, embed_dim=32, num_heads=(1, 2, 4, 8)))
    with pytest.raises(CheckpointError, match="patch_embed.proj.weight: checkpoint"):
        load_backbone_checkpoint(backbone, small_swin(version=1).state_dict())


def test_bad_arguments():
    with pytest.raises(ValueError, match="out_indices"):
        SwinBackbone(small_swin(), out_indices=(3, 1))
    with pytest.raises(ValueError, match="out_indices"):
        SwinBackbone(small_swin(), out_indices=(4,))
    with pytest.raises(ValueError, match="window_rule"):
        SwinBackbone(small_swin(), window_rule="clamp")
    with pytest.raises(TypeError, match="SwinTransformer"):
        SwinBackbone(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError):
        SwinBackbone(small_swin())(torch.zeros(1, 64, 64, 3))  # channels-last image
