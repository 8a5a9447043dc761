"""swin_tutor.lesson.images: the ImageNet input pipeline (resize_center_crop, imagenet_normalize)."""

from __future__ import annotations

import pytest
import torch

from swin_tutor.lesson.images import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    imagenet_normalize,
    resize_center_crop,
)


def test_constants_are_the_standard_imagenet_ones():
    assert IMAGENET_MEAN == (0.485, 0.456, 0.406)
    assert IMAGENET_STD == (0.229, 0.224, 0.225)


def test_normalize_maps_the_mean_colour_to_zero_and_one_std_to_one():
    mean = torch.tensor(IMAGENET_MEAN)[:, None, None].expand(3, 5, 7)
    std = torch.tensor(IMAGENET_STD)[:, None, None].expand(3, 5, 7)
    assert torch.allclose(imagenet_normalize(mean), torch.zeros(3, 5, 7), atol=1e-6)
    assert torch.allclose(imagenet_normalize((mean + std)[None]), torch.ones(1, 3, 5, 7), atol=1e-6)
    # black and white in each channel: -mean/std and (1-mean)/std, channel by channel (R, G, B)
    black = imagenet_normalize(torch.zeros(2, 3, 1, 1))
    white = imagenet_normalize(torch.ones(2, 3, 1, 1))
    for c in range(3):
        assert black[1, c, 0, 0].item() == pytest.approx(-IMAGENET_MEAN[c] / IMAGENET_STD[c], rel=1e-6)
        assert white[0, c, 0, 0].item() == pytest.approx((1 - IMAGENET_MEAN[c]) / IMAGENET_STD[c], rel=1e-6)


def test_normalize_is_undone_by_std_and_mean_and_keeps_dtype():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 4, 6, dtype=torch.float64)
    y = imagenet_normalize(x)
    assert y.dtype == torch.float64 and y.shape == x.shape
    mean, std = (torch.tensor(v, dtype=torch.float64)[:, None, None] for v in (IMAGENET_MEAN, IMAGENET_STD))
    assert torch.allclose(y * std + mean, x, atol=1e-12)
    assert not torch.allclose(y, x)


@pytest.mark.parametrize("fn", [imagenet_normalize, resize_center_crop])
def test_bad_images_raise_naming_the_argument(fn):
    with pytest.raises(TypeError, match="image"):
        fn([[0.5]])
    with pytest.raises(ValueError, match=r"image.*\(1, 4, 8, 8\)"):
        fn(torch.zeros(1, 4, 8, 8))  # RGBA
    with pytest.raises(ValueError, match="image"):
        fn(torch.zeros(8, 8))
    with pytest.raises(ValueError, match="float"):
        fn(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))


def test_resize_center_crop_keeps_aspect_and_cuts_the_long_side():
    # a 300 x 450 image: left third red, middle third green, right third blue
    image = torch.zeros(1, 3, 300, 450)
    image[0, 0, :, :150] = 1
    image[0, 1, :, 150:300] = 1
    image[0, 2, :, 300:] = 1
    out = resize_center_crop(image)  # short side 256 -> 256 x 384, centre crop 224 x 224
    assert out.shape == (1, 3, 224, 224)
    assert out.min() >= 0 and out.max() <= 1
    # the crop spans columns 80..303 of the 384-wide map, whose thirds end at 128 and 256
    assert torch.allclose(out[0, :, 112, 2], torch.tensor([1.0, 0.0, 0.0]), atol=1e-3)
    assert torch.allclose(out[0, :, 112, 112], torch.tensor([0.0, 1.0, 0.0]), atol=1e-3)
    assert torch.allclose(out[0, :, 112, 221], torch.tensor([0.0, 0.0, 1.0]), atol=1e-3)
    # every column of the crop is constant down the rows (no vertical squash)
    assert torch.allclose(out[0, :, :1], out[0], atol=1e-4)


def test_resize_center_crop_portrait_single_image_and_options():
    image = torch.rand(3, 400, 200)
    assert resize_center_crop(image).shape == (3, 224, 224)
    assert resize_center_crop(image, size=32, crop_fraction=1.0).shape == (3, 32, 32)
    square = torch.rand(1, 3, 64, 64)
    same = resize_center_crop(square, size=64, crop_fraction=1.0)
    assert torch.allclose(same, square, atol=1e-5)  # nothing to resize or cut


@pytest.mark.parametrize("kwargs", [{"size": 0}, {"size": 2.5}, {"crop_fraction": 0}, {"crop_fraction": 1.5}])
def test_resize_center_crop_rejects_bad_options(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        resize_center_crop(torch.rand(1, 3, 16, 16), **kwargs)
