"""ImageNet-1k class names, top-k predictions, and the official Swin-T file for readers who download it.

- :func:`imagenet_classes` reads the 1000 class names shipped with the package (``imagenet_classes.txt``,
  one per line, line i = class i: the first WordNet name of each class, with ``tabby cat`` for 281 and the
  two ``crane`` and ``maillot`` classes told apart).
- :func:`top_k` turns logits (1, 1000) into ``(index, name, probability)`` rows.
- :func:`imagenet_input` prepares a photo the way a pretrained Swin expects: short side 256, centre crop
  224, ImageNet mean/std (:mod:`swin_tutor.lesson.images`).
- :func:`classify_imagenet` is the whole path: checkpoint file -> model -> normalised photo -> top-k names.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn as nn

from swin_tutor.lesson.images import imagenet_normalize, read_image, resize_center_crop

__all__ = [
    "CLASSES_FILE",
    "OFFICIAL_SWIN_T_FILE",
    "OFFICIAL_SWIN_T_URL",
    "imagenet_classes",
    "top_k",
    "imagenet_input",
    "classify_imagenet",
]

CLASSES_FILE = Path(__file__).resolve().parent / "imagenet_classes.txt"
# The official Swin-T ImageNet-1k weights (81.2% top-1), listed in the model zoo of
# github.com/microsoft/Swin-Transformer and released as a file of the SwinTransformer/storage repository.
OFFICIAL_SWIN_T_FILE = "swin_tiny_patch4_window7_224.pth"
OFFICIAL_SWIN_T_URL = (
    "https://github.com/SwinTransformer/storage/releases/download/v1.0.0/swin_tiny_patch4_window7_224.pth"
)


@lru_cache(maxsize=1)
def _read_classes() -> tuple[str, ...]:
    names = tuple(line.strip() for line in CLASSES_FILE.read_text(encoding="utf-8").splitlines() if line.strip())
    if len(names) != 1000:
        raise RuntimeError(f"{CLASSES_FILE} should hold 1000 class names, one per line, found {len(names)}")
    return names


def imagenet_classes() -> list[str]:
    """The 1000 ImageNet-1k class names, index i = class i (e.g. 281 'tabby cat', 967 'espresso')."""
    return list(_read_classes())


def top_k(logits: torch.Tensor, k: int = 5) -> list[tuple[int, str, float]]:
    """The ``k`` most probable classes of one image's logits ((1000,) or (1, 1000)), best first, as
    ``(class index, class name, softmax probability)``."""
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"logits must be a torch.Tensor, got {type(logits).__name__}")
    flat = logits.detach().float().cpu()
    if flat.dim() == 2 and flat.shape[0] == 1:
        flat = flat[0]
    if flat.shape != (1000,):
        raise ValueError(
            f"logits must have shape (1000,) or (1, 1000) (one image, ImageNet-1k), got {tuple(logits.shape)}"
        )
    bad = int((~torch.isfinite(flat)).sum())
    if bad:
        raise ValueError(
            f"logits hold {bad} NaN or infinite values of 1000: no class can be named (NaN weights in the "
            "model, or a NaN in the input image?)"
        )
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 1000:
        raise ValueError(f"k must be an int from 1 to 1000, got {k!r}")
    probs, indices = flat.softmax(-1).topk(k)
    names = _read_classes()
    return [(int(i), names[int(i)], float(p)) for p, i in zip(probs, indices, strict=True)]


def imagenet_input(image: str | os.PathLike | torch.Tensor, size: int = 224) -> torch.Tensor:
    """A photo (file path, or a (1, 3, H, W) RGB tensor in [0, 1]) -> (1, 3, size, size), as a pretrained
    Swin expects it: the short side scaled to 256 (for 224), the centre cut out, then ImageNet mean/std."""
    if isinstance(image, (str, os.PathLike)):
        image = read_image(image, size=None)  # the file's own size: the crop keeps the aspect ratio
    return imagenet_normalize(resize_center_crop(image, size))


def classify_imagenet(
    checkpoint: str | os.PathLike,
    image: str | os.PathLike | torch.Tensor,
    k: int = 5,
    build: Callable[[], nn.Module] | None = None,
) -> list[tuple[int, str, float]]:
    """Load an ImageNet-1k ``checkpoint`` (official, timm or Hugging Face) into ``build()`` (default
    :func:`swin_tutor.swin_t`), run it on the prepared ``image`` and return its top ``k`` classes
    (:func:`top_k`). The load is strict: a checkpoint that does not fit the model raises."""
    from swin_tutor.checkpoints.loading import load_checkpoint
    from swin_tutor.core.sizes import swin_t

    model = (build or swin_t)()
    load_checkpoint(model, checkpoint)
    model.eval()
    x = imagenet_input(image, size=model.img_size[0])
    with torch.no_grad():
        logits = model(x)  # (1, 1000)
    return top_k(logits, k)
