"""The handwritten digits that ship inside scikit-learn, as image tensors a Swin can learn from.

``sklearn.datasets.load_digits`` holds 1,797 grey 8x8 digits (10 classes, about 180 each), with
integer ink values 0..16; it is part of scikit-learn's wheel, so nothing is downloaded.

Preparation, in this order (``load_digits_tensors``):

1. ``x / 16``: ink in [0, 1], background 0.
2. Bilinear upsampling (``align_corners=False``) from 8x8 to ``size`` x ``size`` (default 32, so a
   patch of 2 pixels gives a 16x16 token map). Values stay in [0, 1].
3. Normalisation like ImageNet models expect it, ``(x - DIGITS_MEAN) / DIGITS_STD``, with the mean and
   standard deviation of all 1,797 upsampled images (0.305 and 0.324 at 32x32; they hardly depend on
   the size). The background becomes ``BACKGROUND`` = -0.941. Undo it with :func:`denormalize` for pictures.

The train/test split (``digits_datasets``) is stratified (every class in the same proportion) and
fixed by its seed; the default 20% test set has 360 images. :func:`random_translate` is the
augmentation: each image moved by a few pixels, the uncovered border filled with background.

The synthetic dot tasks of notebook 10 (``two_window_colour_task``, ``relative_position_task``) live in
:mod:`swin_tutor.lab.tasks`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

__all__ = [
    "DIGITS_MEAN",
    "DIGITS_STD",
    "BACKGROUND",
    "NUM_CLASSES",
    "load_digits_tensors",
    "digits_datasets",
    "normalize",
    "denormalize",
    "random_translate",
]

DIGITS_MEAN = 0.305  # mean of all upsampled digits in [0, 1]
DIGITS_STD = 0.324  # their standard deviation
BACKGROUND = (0.0 - DIGITS_MEAN) / DIGITS_STD  # an empty pixel after normalisation
NUM_CLASSES = 10


def normalize(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] ink -> the model's input scale: (x - DIGITS_MEAN) / DIGITS_STD."""
    return (x - DIGITS_MEAN) / DIGITS_STD


def denormalize(x: torch.Tensor) -> torch.Tensor:
    """The model's input scale -> [0, 1] ink (for pictures)."""
    return x * DIGITS_STD + DIGITS_MEAN


def load_digits_tensors(size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """All 1,797 digits: images (N, 1, size, size) float32, normalised; labels (N,) long, 0..9."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 8:
        raise ValueError(f"size must be an int >= 8 (the digits are 8x8), got {size!r}")
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (N, 1, 8, 8) in [0, 1]
    if size != 8:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return normalize(x), torch.tensor(digits.target, dtype=torch.long)


def digits_datasets(size: int = 32, test_fraction: float = 0.2, seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
    """A fixed, stratified train/test split of the digits as two ``TensorDataset`` s of
    (image (1, size, size) float32, label long). The same ``seed`` gives the same split everywhere."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction!r}")
    from sklearn.model_selection import train_test_split

    images, labels = load_digits_tensors(size)
    index = torch.arange(len(labels)).numpy()
    train_idx, test_idx = train_test_split(
        index, test_size=test_fraction, random_state=seed, stratify=labels.numpy(), shuffle=True
    )
    train_idx, test_idx = torch.as_tensor(sorted(train_idx)), torch.as_tensor(sorted(test_idx))
    return (
        TensorDataset(images[train_idx], labels[train_idx]),
        TensorDataset(images[test_idx], labels[test_idx]),
    )


def random_translate(
    images: torch.Tensor, max_shift: int = 2, generator: torch.Generator | None = None, fill: float = BACKGROUND
) -> torch.Tensor:
    """Move each image of a (B, C, H, W) batch by its own random (dy, dx) in [-max_shift, max_shift];
    pixels that come in from outside are ``fill`` (the background). Returns a new tensor.

    A shift rather than ``torch.roll``: rolling would wrap ink from one edge to the other.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be a (B, C, H, W) batch, got shape {tuple(images.shape)}")
    if not isinstance(max_shift, int) or max_shift < 0 or 2 * max_shift >= min(images.shape[-2:]):
        raise ValueError(f"max_shift must be an int in [0, min(H, W) / 2), got {max_shift!r}")
    if max_shift == 0:
        return images.clone()
    b, _, h, w = images.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (b, 2), generator=generator, device="cpu")
    padded = F.pad(images, (max_shift,) * 4, value=fill)  # (B, C, H + 2s, W + 2s)
    out = torch.empty_like(images)
    for i, (dy, dx) in enumerate(shifts.tolist()):  # content moves down by dy, right by dx
        top, left = max_shift - dy, max_shift - dx
        out[i] = padded[i, :, top : top + h, left : left + w]
    return out
