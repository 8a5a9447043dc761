"""ImageNet-1k class names, top-k, the photo preparation, and the optional cell's path (notebook 08) end to end
on a locally made 1000-class checkpoint; the timm layout written from timm's key naming."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers import small_swin

from swin_tutor.checkpoints.keys import (
    convert_timm_state_dict,
    detect_format,
    is_rebuilt_buffer,
    official_to_timm_state_dict,
)
from swin_tutor.checkpoints.loading import load_checkpoint, official_checkpoint
from swin_tutor.lesson.imagenet import (
    OFFICIAL_SWIN_T_FILE,
    OFFICIAL_SWIN_T_URL,
    classify_imagenet,
    imagenet_classes,
    imagenet_input,
    top_k,
)
from swin_tutor.lesson.images import imagenet_normalize, read_image, resize_center_crop

PHOTO = Path(__file__).resolve().parents[1] / "images" / "chelsea.png"  # 451 x 300, not square


def test_class_names():
    names = imagenet_classes()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert all(n == n.strip() and n and "_" not in n for n in names)
    known = {
        0: "tench",
        1: "goldfish",
        134: "crane (bird)",
        207: "golden retriever",
        281: "tabby cat",
        285: "Egyptian cat",
        409: "analog clock",
        517: "crane (machine)",
        817: "sports car",
        948: "Granny Smith",
        954: "banana",
        967: "espresso",
        999: "toilet tissue",
    }
    assert {i: names[i] for i in known} == known
    assert imagenet_classes() is not imagenet_classes()  # a fresh list: callers cannot edit the shipped names


def test_top_k_orders_and_names():
    logits = torch.zeros(1, 1000)
    logits[0, [967, 281, 285]] = torch.tensor([3.0, 5.0, 4.0])
    rows = top_k(logits, k=3)
    assert [(i, n) for i, n, _ in rows] == [(281, "tabby cat"), (285, "Egyptian cat"), (967, "espresso")]
    probs = logits[0].softmax(-1)
    assert [p for *_, p in rows] == pytest.approx([float(probs[i]) for i in (281, 285, 967)])
    assert len(top_k(logits[0])) == 5


@pytest.mark.parametrize(
    "logits, k, match",
    [(torch.zeros(2, 1000), 5, "one image"), (torch.zeros(1, 10), 5, r"\(1, 10\)"), (torch.zeros(1000), 0, "k must")],
)
def test_top_k_rejects_bad_input(logits, k, match):
    with pytest.raises(ValueError, match=match):
        top_k(logits, k)


def test_imagenet_input_is_crop_then_normalise():
    x = imagenet_input(PHOTO)
    assert x.shape == (1, 3, 224, 224)
    expected = imagenet_normalize(resize_center_crop(read_image(PHOTO, size=None), 224))
    assert torch.equal(x, expected)
    assert float(x.mean()) < 0.5 and float(x.min()) < -1  # normalised, no longer in [0, 1]


def test_official_file_names():
    assert OFFICIAL_SWIN_T_URL.startswith("https://github.com/") and OFFICIAL_SWIN_T_URL.endswith(OFFICIAL_SWIN_T_FILE)


def _thousand_classes() -> torch.nn.Module:
    """A very narrow Swin at 224 px with an ImageNet-1k head (fast; the path does not depend on the width)."""
    tiny = dict(embed_dim=8, depths=(1, 1, 1, 1), num_heads=(1, 1, 1, 1))
    return small_swin(img_size=224, window_size=7, num_classes=1000, **tiny).eval()


def test_classify_imagenet_end_to_end(tmp_path):
    """The optional cell's path on a locally made checkpoint: file -> model -> prepared photo -> top-5 names.

    The head is set so that the logits of the prepared photo are known: weight 0, bias chosen."""
    torch.manual_seed(0)
    source = _thousand_classes()
    with torch.no_grad():
        source.head.weight.zero_()
        source.head.bias.fill_(-10.0)
        source.head.bias[[281, 285, 282, 283, 967]] = torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0])
    path = tmp_path / OFFICIAL_SWIN_T_FILE
    torch.save(official_checkpoint(source), path)
    rows = classify_imagenet(path, PHOTO, build=_thousand_classes)
    assert [n for _, n, _ in rows] == ["tabby cat", "Egyptian cat", "tiger cat", "Persian cat", "espresso"]
    assert sum(p for *_, p in rows) == pytest.approx(1.0, abs=1e-3)

    # same path, real weights in the body: the logits are those of the model on the normalised crop
    torch.manual_seed(1)
    trained = _thousand_classes()
    torch.save(official_checkpoint(trained), path)
    with torch.no_grad():
        expected = top_k(trained(imagenet_input(PHOTO)), 5)
    got = classify_imagenet(path, PHOTO, build=_thousand_classes)
    assert [i for i, *_ in got] == [i for i, *_ in expected]
    assert [p for *_, p in got] == pytest.approx([p for *_, p in expected], abs=1e-6)


def test_classify_imagenet_refuses_a_wrong_model(tmp_path):
    path = tmp_path / "ten.pth"
    ten = small_swin(
        img_size=224, window_size=7, num_classes=10, embed_dim=8, depths=(1, 1, 1, 1), num_heads=(1, 1, 1, 1)
    )
    torch.save(official_checkpoint(ten), path)
    with pytest.raises(ValueError, match="head"):
        classify_imagenet(path, PHOTO, build=_thousand_classes)


@pytest.mark.parametrize("version", [1, 2])
def test_timm_layout_from_official_names(version):
    torch.manual_seed(0)
    source = small_swin(img_size=64, window_size=4, version=version).eval()
    official = official_checkpoint(source)["model"]
    timm = official_to_timm_state_dict(official)
    assert detect_format(timm) == "timm"
    assert not any(is_rebuilt_buffer(k) for k in timm)  # timm does not save them
    assert "head.fc.weight" in timm and "head.weight" not in timm
    merges = sorted({int(k.split(".")[1]) for k in timm if ".downsample." in k})
    assert merges == [1, 2, 3]  # at the start of stages 2-4, not the end of stages 1-3
    back = convert_timm_state_dict(timm)
    plain = {k: v for k, v in official.items() if not is_rebuilt_buffer(k)}
    assert back.keys() == plain.keys() and all(torch.equal(back[k], plain[k]) for k in plain)
    torch.manual_seed(5)
    fresh = small_swin(img_size=64, window_size=4, version=version).eval()
    assert load_checkpoint(fresh, timm).format == "timm"
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(fresh(x), source(x))
