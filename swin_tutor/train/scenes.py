"""Scenes of several handwritten digits, with per-pixel labels and boxes: segmentation data without downloads.

A scene is a dark canvas (background, as in :mod:`swin_tutor.train.data`) with 2-5 of scikit-learn's
8x8 digits pasted at random positions and scales (bilinear upsampling of the ink, ``align_corners=False``).
Digits never overlap each other (their boxes are kept apart); a share ``on_border`` of them is centred
on purpose on a window border (a multiple of ``border`` pixels, 16 = patch 4 x window 4 for the tiny
segmenter), so that the window partition cuts them in two.

Label convention (``Scenes.masks``, (N, H, W) long):

- ``0``: background, also the faint rim of a digit whose ink is below ``ink_threshold``;
- ``1 + d``: a pixel of digit ``d`` (0..9) whose ink is at least ``ink_threshold`` (0.3 of the full ink).

So there are ``NUM_SCENE_CLASSES`` = 11 classes; ``SCENE_CLASS_NAMES`` names them. Images are
(N, 1, H, W) float32, normalised like the digits (:func:`~swin_tutor.train.data.normalize`).

The digits come from the train or test part of the fixed split of
:func:`~swin_tutor.train.data.digits_datasets`: training scenes (``split="train"``) and held-out scenes
(``split="test"``) never share a handwritten example. Each class is drawn equally often (whole shuffled
rounds of the 10 classes). Everything is seeded: the same arguments give the same scenes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from swin_tutor.train.data import NUM_CLASSES, denormalize, digits_datasets, normalize

__all__ = ["NUM_SCENE_CLASSES", "SCENE_CLASS_NAMES", "Scenes", "make_scenes", "scene_datasets"]

NUM_SCENE_CLASSES = 1 + NUM_CLASSES  # background + the digits 0..9
SCENE_CLASS_NAMES = ("background", *(str(d) for d in range(NUM_CLASSES)))


@dataclass
class Scenes:
    """Generated scenes. ``images`` (N, 1, H, W) float32 normalised; ``masks`` (N, H, W) long, 0 background,
    1 + d for digit d; ``instances`` (N, H, W) long, 0 background, j + 1 for the j-th digit of its scene.
    Per scene (lists of length N): ``boxes`` (k, 4) long pixel boxes ``(x0, y0, x1, y1)``, end exclusive,
    of the pasted squares; ``digits`` (k,) long, 0..9; ``on_border`` (k,) bool, the digit was centred on a
    window border."""

    images: torch.Tensor
    masks: torch.Tensor
    instances: torch.Tensor
    boxes: list[torch.Tensor]
    digits: list[torch.Tensor]
    on_border: list[torch.Tensor]

    def __len__(self) -> int:
        return len(self.images)

    def dataset(self) -> TensorDataset:
        """(image (1, H, W), mask (H, W)) pairs for :func:`~swin_tutor.train.loop.fit`."""
        return TensorDataset(self.images, self.masks)


@lru_cache(maxsize=2)
def _digit_pool(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Ink (N, 8, 8) in [0, 1] and labels (N,) of one part of the fixed digits split."""
    train, test = digits_datasets(size=8, seed=0)
    images, labels = (train if split == "train" else test).tensors
    return denormalize(images[:, 0]).clamp(0.0, 1.0), labels


def _check_int(value: object, name: str, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _check_args(num_scenes, height, width, digits, sizes, split, on_border, border, ink_threshold) -> None:
    _check_int(num_scenes, "num_scenes", 1)
    _check_int(border, "border", 1)
    for name, pair, low in (("digits", digits, 1), ("sizes", sizes, 8)):
        if not (isinstance(pair, tuple) and len(pair) == 2) or not all(isinstance(v, int) for v in pair):
            raise ValueError(f"{name} must be a (min, max) pair of ints, got {pair!r}")
        if not low <= pair[0] <= pair[1]:
            raise ValueError(f"{name} must satisfy {low} <= min <= max, got {pair!r}")
    _check_int(height, "height", sizes[1])
    _check_int(width, "width", sizes[1])
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test' (which digits are pasted), got {split!r}")
    for name, v in (("on_border", on_border), ("ink_threshold", ink_threshold)):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")
    if ink_threshold == 0.0:
        raise ValueError("ink_threshold must be > 0, or every pixel of a pasted square would be ink")


def _place(size: int, extent: int, on_line: bool, border: int, gen: torch.Generator) -> int:
    """Top-left coordinate of a square of ``size`` along an axis of ``extent`` pixels; on a border line if asked."""
    if on_line:
        lines = [b for b in range(border, extent, border) if size // 2 <= b <= extent - (size - size // 2)]
        if lines:
            return lines[int(torch.randint(len(lines), (1,), generator=gen))] - size // 2
    return int(torch.randint(extent - size + 1, (1,), generator=gen))


def make_scenes(
    num_scenes: int,
    height: int = 64,
    width: int = 64,
    digits: tuple[int, int] = (2, 5),
    sizes: tuple[int, int] = (14, 28),
    split: str = "train",
    seed: int = 0,
    on_border: float = 0.3,
    border: int = 16,
    ink_threshold: float = 0.3,
) -> Scenes:
    """``num_scenes`` seeded scenes of ``height`` x ``width`` pixels, each with ``digits`` = (min, max)
    digits of side ``sizes`` = (min, max) pixels (uniform ints), taken from the ``split`` part of the digits.

    A share ``on_border`` of the digits is centred on a multiple of ``border`` pixels along x or y (or both).
    Placement is rejection-sampled so that digits keep 1 pixel apart; after every 10 failed tries the digit
    shrinks by 2 pixels (not below ``sizes[0]``), and one that finds no free place in 50 tries is left out
    (about 6% of the digits at the defaults; never the first digit of a scene).
    """
    _check_args(num_scenes, height, width, digits, sizes, split, on_border, border, ink_threshold)
    ink, labels = _digit_pool(split)
    by_class = [torch.nonzero(labels == c).flatten() for c in range(NUM_CLASSES)]
    gen = torch.Generator().manual_seed(seed)
    counts = torch.randint(digits[0], digits[1] + 1, (num_scenes,), generator=gen)
    rounds = -(-int(counts.sum()) // NUM_CLASSES)
    classes = torch.cat([torch.randperm(NUM_CLASSES, generator=gen) for _ in range(rounds)]).tolist()
    canvas = torch.zeros(num_scenes, height, width)  # ink in [0, 1]
    masks = torch.zeros(num_scenes, height, width, dtype=torch.long)
    instances = torch.zeros_like(masks)
    all_boxes, all_digits, all_border, next_class = [], [], [], 0
    for n in range(num_scenes):
        boxes, kept, flags = [], [], []
        for _ in range(int(counts[n])):
            digit = classes[next_class]
            next_class += 1
            pool = by_class[digit]
            example = ink[pool[int(torch.randint(len(pool), (1,), generator=gen))]]
            size = int(torch.randint(sizes[0], sizes[1] + 1, (1,), generator=gen))
            centred = bool(torch.rand((), generator=gen) < on_border)
            axis = int(torch.randint(3, (1,), generator=gen))  # 0: x, 1: y, 2: both on a border
            for attempt in range(50):
                size = max(sizes[0], size - 2 * (attempt > 0 and attempt % 10 == 0))  # crowded: shrink a little
                x0 = _place(size, width, centred and axis != 1, border, gen)
                y0 = _place(size, height, centred and axis != 0, border, gen)
                box = (x0, y0, x0 + size, y0 + size)
                if all(box[0] > b[2] or b[0] > box[2] or box[1] > b[3] or b[1] > box[3] for b in boxes):
                    break
            else:
                continue
            pasted = F.interpolate(example[None, None], size=(size, size), mode="bilinear", align_corners=False)[0, 0]
            canvas[n, y0 : y0 + size, x0 : x0 + size] = pasted  # (size, size), boxes never overlap
            on = pasted >= ink_threshold
            masks[n, y0 : y0 + size, x0 : x0 + size][on] = 1 + digit
            instances[n, y0 : y0 + size, x0 : x0 + size][on] = len(boxes) + 1
            cx, cy = x0 + size // 2, y0 + size // 2
            flags.append(centred and (cx % border == 0 or cy % border == 0))
            boxes.append(box)
            kept.append(digit)
        all_boxes.append(torch.tensor(boxes, dtype=torch.long).reshape(-1, 4))
        all_digits.append(torch.tensor(kept, dtype=torch.long))
        all_border.append(torch.tensor(flags, dtype=torch.bool))
    images = normalize(canvas.unsqueeze(1))  # (N, 1, H, W)
    return Scenes(images, masks, instances, all_boxes, all_digits, all_border)


def scene_datasets(
    num_train: int = 2000, num_test: int = 400, size: int = 64, seed: int = 0
) -> tuple[TensorDataset, TensorDataset]:
    """Training scenes (training digits, ``seed``) and held-out scenes (held-out digits, ``seed + 1``), both
    ``size`` x ``size``, as (image (1, H, W), mask (H, W)) ``TensorDataset`` s."""
    train = make_scenes(num_train, size, size, split="train", seed=seed)
    test = make_scenes(num_test, size, size, split="test", seed=seed + 1)
    return train.dataset(), test.dataset()
