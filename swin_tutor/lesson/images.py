"""Images in and out: read a photo as an RGB tensor, prepare it as a pretrained Swin expects, draw the test card.

Layout: images are float tensors (1, 3, H, W) in [0, 1], RGB (after ``imagenet_normalize``: about -2..2.6).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "read_image",
    "resize_center_crop",
    "imagenet_normalize",
    "make_test_card",
]

# Per-channel (R, G, B) mean and standard deviation of the ImageNet training images in [0, 1]: the
# constants the official Swin code, timm and Hugging Face normalise every input with.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _check_size(size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)
    ):
        raise ValueError(f"size must be a positive int or a pair (height, width) of positive ints, got {size!r}")
    return int(size[0]), int(size[1])


def read_image(path: str | os.PathLike, size: int | tuple[int, int] | None = (224, 224)) -> torch.Tensor:
    """Read an image file as a float tensor (1, 3, H, W) in [0, 1], RGB.

    ``size`` is (height, width) (note: cv2.resize itself takes (width, height)); ``None`` keeps the
    file's size. The resize is one ``cv2.resize`` to exactly that size (area averaging): a photo of
    another aspect ratio is squashed, not cropped (:func:`resize_center_crop` keeps the aspect ratio).
    Grayscale becomes three equal channels, an alpha channel is dropped, 16-bit images are scaled by 65535.
    A missing or unreadable file raises instead of returning None as cv2 does. A photo's EXIF
    orientation is applied (a phone picture taken sideways comes out upright).
    """
    target = None if size is None else _check_size(size)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: '{path}' (resolved from {os.getcwd()!r})")
    array = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if array is None:  # cv2 returns None instead of raising
        raise ValueError(f"could not decode '{path}' as an image (cv2.imread returned None): is it a PNG/JPEG file?")
    if array.dtype == np.uint16:
        array = array.astype(np.float32) / 65535.0
    elif array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    else:
        raise ValueError(f"'{path}': unsupported pixel type {array.dtype} (expected 8- or 16-bit)")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    elif array.shape[2] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_BGRA2RGB)
    elif array.shape[2] == 3:
        array = cv2.cvtColor(array, cv2.COLOR_BGR2RGB)  # cv2 decodes to BGR
    elif array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    else:
        raise ValueError(f"'{path}': {array.shape[2]} channels, expected 1 (gray), 3 (RGB) or 4 (RGBA)")
    array = _upright(array, path)
    if target is not None and array.shape[:2] != target:
        array = cv2.resize(array, (target[1], target[0]), interpolation=cv2.INTER_AREA)
    tensor = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)
    return tensor.clamp_(0.0, 1.0).unsqueeze(0).contiguous()


def _upright(array: np.ndarray, path: Path) -> np.ndarray:
    """Turn an (H, W, C) picture as its EXIF orientation tag says (a phone photo taken sideways), as
    PIL's ``ImageOps.exif_transpose`` does; cv2's IMREAD_UNCHANGED ignores the tag."""
    try:
        from PIL import Image

        with Image.open(path) as img:
            orientation = int(img.getexif().get(0x0112, 1))
    except Exception:  # no PIL, or a format PIL cannot read: keep the picture as decoded
        return array
    turn = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
        8: lambda a: np.rot90(a, 1),
    }.get(orientation)
    return array if turn is None else np.ascontiguousarray(turn(array))


def _check_images(image: torch.Tensor, name: str = "image") -> None:
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(image).__name__}")
    if image.dim() not in (3, 4) or image.shape[-3] != 3:
        raise ValueError(f"{name} must have shape (B, 3, H, W) or (3, H, W) (RGB), got {tuple(image.shape)}")
    if not image.is_floating_point():
        raise ValueError(f"{name} must be a float tensor (RGB in [0, 1]), got dtype {image.dtype}")


def resize_center_crop(image: torch.Tensor, size: int = 224, crop_fraction: float = 224 / 256) -> torch.Tensor:
    """The ImageNet evaluation resize: scale the short side to ``size / crop_fraction`` (bicubic, with
    antialiasing), then cut the central ``size`` x ``size`` square. (B, 3, H, W) -> (B, 3, size, size).

    With the default 224 / 256 the short side becomes 256 and the crop keeps its central 87.5%, as the
    official Swin code does at test time; the aspect ratio is kept, the long side's ends are cut off.
    """
    _check_images(image)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    if not isinstance(crop_fraction, (int, float)) or isinstance(crop_fraction, bool) or not 0 < crop_fraction <= 1:
        raise ValueError(f"crop_fraction must be in (0, 1], got {crop_fraction!r}")
    batch = image if image.dim() == 4 else image[None]
    h, w = batch.shape[-2:]
    if h == 0 or w == 0 or batch.shape[0] == 0:
        raise ValueError(f"image is empty: shape {tuple(image.shape)}; nothing to resize")
    short = int(size / crop_fraction)  # 256 for 224 / (224 / 256)
    new_h, new_w = (short, max(short, round(w * short / h))) if h <= w else (max(short, round(h * short / w)), short)
    resized = F.interpolate(batch, size=(new_h, new_w), mode="bicubic", align_corners=False, antialias=True)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    out = resized[..., top : top + size, left : left + size].clamp(0.0, 1.0)
    return out if image.dim() == 4 else out[0]


def _mean_std(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The checked image's ImageNet mean and std as (3, 1, 1) tensors of its dtype and device."""
    _check_images(image)
    like = dict(dtype=image.dtype, device=image.device)
    return torch.tensor(IMAGENET_MEAN, **like)[:, None, None], torch.tensor(IMAGENET_STD, **like)[:, None, None]


def imagenet_normalize(image: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1] -> the input scale of ImageNet-pretrained models: ``(x - IMAGENET_MEAN) / IMAGENET_STD``
    per channel. (B, 3, H, W) or (3, H, W), same shape out. A pretrained Swin needs it before its first layer.

    Pixels above 1 (0..255 values: divide by 255 first) or below 0 (normalised twice?) are refused."""
    mean, std = _mean_std(image)
    if image.numel():
        low, high = float(image.min()), float(image.max())
        if high > 1 + 1e-3:
            raise ValueError(
                f"image values go up to {high:g}: imagenet_normalize expects RGB in [0, 1]; divide by 255 first"
            )
        if low < -1e-3:
            raise ValueError(f"image values go down to {low:g}: expected RGB in [0, 1] (is it normalised already?)")
    return (image - mean) / std


def make_test_card(grid: int | tuple[int, int] = 8, patch_size: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """A synthetic image whose ``patch_size`` x ``patch_size`` patches each have their own colour.

    Returns ``(image, ids)``: image (1, 3, rows * p, cols * p) in [0, 1]; ids (rows, cols) long,
    ``ids[r, c] = r * cols + c``, the number of the token each patch becomes. Red grows along the
    columns, green along the rows and blue alternates in a checkerboard, so every patch differs
    from its neighbours and can be followed through shifts and merges.
    """
    rows, cols = _check_size(grid)
    if not isinstance(patch_size, int) or patch_size < 1:
        raise ValueError(f"patch_size must be a positive int, got {patch_size!r}")
    r = torch.arange(rows, dtype=torch.float32)[:, None].expand(rows, cols)
    c = torch.arange(cols, dtype=torch.float32)[None, :].expand(rows, cols)
    red = 0.15 + 0.8 * c / max(cols - 1, 1)
    green = 0.15 + 0.8 * r / max(rows - 1, 1)
    blue = torch.where((r + c) % 2 == 0, torch.tensor(0.85), torch.tensor(0.35))
    colours = torch.stack([red, green, blue])  # (3, rows, cols)
    image = colours.repeat_interleave(patch_size, 1).repeat_interleave(patch_size, 2)
    ids = torch.arange(rows * cols).reshape(rows, cols)
    return image.unsqueeze(0), ids
