"""The digit scenes of notebook 12: labels match the pasted digits, classes balanced, seeded, shapes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from swin_tutor.train.data import BACKGROUND, denormalize
from swin_tutor.train.scenes import NUM_SCENE_CLASSES, SCENE_CLASS_NAMES, _digit_pool, make_scenes, scene_datasets


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(200, seed=3)


def test_shapes_and_types(scenes):
    assert scenes.images.shape == (200, 1, 64, 64) and scenes.images.dtype == torch.float32
    assert scenes.masks.shape == scenes.instances.shape == (200, 64, 64) and scenes.masks.dtype == torch.long
    assert len(scenes) == len(scenes.boxes) == len(scenes.digits) == len(scenes.on_border) == 200
    assert int(scenes.masks.min()) == 0 and int(scenes.masks.max()) < NUM_SCENE_CLASSES == len(SCENE_CLASS_NAMES)
    assert all(2 <= len(d) <= 5 for d in scenes.digits)
    image, mask = scenes.dataset()[0]
    assert image.shape == (1, 64, 64) and mask.shape == (64, 64)


def test_non_square_evaluation_scenes():
    wide = make_scenes(3, 96, 160, digits=(4, 9), split="test", seed=1)
    assert wide.images.shape == (3, 1, 96, 160) and wide.masks.shape == (3, 96, 160)
    assert (wide.boxes[0][:, 2] <= 160).all() and (wide.boxes[0][:, 3] <= 96).all()


def test_labels_match_the_pasted_digits(scenes):
    ink = denormalize(scenes.images[:, 0])  # (N, H, W) in [0, 1]
    for n in range(20):
        inside = torch.zeros(64, 64, dtype=torch.bool)
        pasted = zip(scenes.boxes[n].tolist(), scenes.digits[n].tolist(), strict=True)
        for j, ((x0, y0, x1, y1), digit) in enumerate(pasted):
            box_mask = scenes.masks[n, y0:y1, x0:x1]
            box_ink = ink[n, y0:y1, x0:x1]
            assert set(box_mask.unique().tolist()) <= {0, 1 + digit}  # only this digit in its box
            assert torch.equal(box_mask == 1 + digit, box_ink >= 0.3 - 1e-5)  # labelled where the ink is
            assert torch.equal(scenes.instances[n, y0:y1, x0:x1] == j + 1, box_mask == 1 + digit)
            assert (box_mask > 0).any()
            inside[y0:y1, x0:x1] = True
        assert (scenes.masks[n][~inside] == 0).all()  # nothing outside the boxes
        assert torch.allclose(scenes.images[n, 0][~inside], torch.tensor(BACKGROUND))


def test_a_pasted_digit_is_the_upsampled_example():
    scene = make_scenes(1, digits=(1, 1), sizes=(16, 16), on_border=0.0, seed=7)
    x0, y0, x1, y1 = scene.boxes[0][0].tolist()
    pool, labels = _digit_pool("train")
    pasted = denormalize(scene.images[0, 0, y0:y1, x0:x1])
    candidates = pool[labels == scene.digits[0][0]]
    up = F.interpolate(candidates[:, None], size=(16, 16), mode="bilinear", align_corners=False)[:, 0]
    assert (up - pasted).abs().flatten(1).amax(1).min() < 1e-5  # one example of that class, exactly


def test_classes_balanced():
    digits = torch.cat(make_scenes(300, seed=0).digits)
    counts = torch.bincount(digits, minlength=10)
    assert counts.min() >= 0.85 * counts.float().mean() and counts.max() <= 1.15 * counts.float().mean()


def test_seeded():
    a, b, c = make_scenes(5, seed=1), make_scenes(5, seed=1), make_scenes(5, seed=2)
    assert torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    assert not torch.equal(a.masks, c.masks)
    train, test = scene_datasets(4, 4, seed=0)
    assert not torch.equal(train.tensors[1], test.tensors[1])


def test_some_digits_are_centred_on_window_borders():
    scenes = make_scenes(100, on_border=0.5, seed=0)
    flags = torch.cat(scenes.on_border)
    assert 0.3 < flags.float().mean() < 0.6
    boxes = torch.cat(scenes.boxes)[flags]
    centre_x, centre_y = (boxes[:, 0] + boxes[:, 2]) // 2, (boxes[:, 1] + boxes[:, 3]) // 2
    assert ((centre_x % 16 == 0) | (centre_y % 16 == 0)).all()
    assert not torch.cat(make_scenes(20, on_border=0.0).on_border).any()


def test_held_out_scenes_use_held_out_digits():
    train_pool, _ = _digit_pool("train")
    test_pool, _ = _digit_pool("test")
    assert len(train_pool) + len(test_pool) == 1797


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_scenes=0), "num_scenes"),
        (dict(num_scenes=1, height=20), "height"),
        (dict(num_scenes=1, digits=(3, 2)), "digits"),
        (dict(num_scenes=1, sizes=(4, 10)), "sizes"),
        (dict(num_scenes=1, split="val"), "split"),
        (dict(num_scenes=1, on_border=1.5), "on_border"),
        (dict(num_scenes=1, ink_threshold=0.0), "ink_threshold"),
        (dict(num_scenes=1, border=0), "border"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_scenes(**kwargs)
