"""The Hugging Face image processor of an exported Swin, so ``transformers.pipeline`` can run it.

``pipeline("image-classification", model=folder)`` reads ``preprocessor_config.json``: the input size,
the resampling, the rescale (1/255) and the per-channel mean and std. ``pipeline`` always hands the
processor RGB pictures (``PIL.Image.convert("RGB")``), so a one-channel model (the digits model) is
exported with three input channels: its patch embedding's weights spread over R, G and B (each a
third), which gives the same numbers for a grey picture (R = G = B).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["RESAMPLING", "check_labels", "image_processor_config", "normalization_for", "spread_over_rgb"]

# PIL's resampling filters by name (what preprocessor_config.json stores: the integer)
RESAMPLING = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}
# Defaults: ImageNet's statistics for RGB models; the digits' (swin_tutor.train.data) for one channel
_IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
_DIGITS = ((0.305,), (0.324,))


def _numbers(name: str, value: float | Sequence[float], channels: int) -> list[float]:
    values = [value] if isinstance(value, (int, float)) else list(value)
    if len(values) == 1:
        values = values * channels
    ok = len(values) == channels and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )
    if not ok:
        raise ValueError(f"{name} must be one finite number or {channels} (one per channel), got {value!r}")
    return [float(v) for v in values]


def normalization_for(
    in_chans: int, mean: float | Sequence[float] | None, std: float | Sequence[float] | None
) -> tuple[list[float], list[float]]:
    """The mean and std per input channel: the given ones, else ImageNet's (3 channels) or the digits'
    (1 channel, 0.305 / 0.324); any other channel count needs them given."""
    if (mean is None) != (std is None):
        raise ValueError("pass both mean= and std= (the normalisation the model was trained with), or neither")
    if mean is None:
        defaults = {3: _IMAGENET, 1: _DIGITS}
        if in_chans not in defaults:
            raise ValueError(f"a {in_chans}-channel model: pass mean= and std= (one number per channel)")
        mean, std = defaults[in_chans]
    means, stds = _numbers("mean", mean, in_chans), _numbers("std", std, in_chans)
    if min(stds) <= 0:
        raise ValueError(f"std must be > 0 in every channel, got {std!r}")
    return means, stds


def image_processor_config(
    size: tuple[int, int], mean: list[float], std: list[float], resample: str, rgb: bool
) -> dict:
    """The ``preprocessor_config.json`` of a ViT-style processor (the one Hugging Face's Swin uses)."""
    if resample not in RESAMPLING:
        raise ValueError(f"resample must be one of {sorted(RESAMPLING)}, got {resample!r}")
    if rgb and len(mean) == 1:
        mean, std = mean * 3, std * 3
    return {
        "image_processor_type": "ViTImageProcessor",
        "do_resize": True,
        "size": {"height": int(size[0]), "width": int(size[1])},
        "resample": RESAMPLING[resample],
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": mean,
        "image_std": std,
    }


def spread_over_rgb(weight: torch.Tensor) -> torch.Tensor:
    """A one-channel patch embedding (C, 1, p, p) -> (C, 3, p, p), each channel a third of it."""
    return (weight / 3).repeat(1, 3, 1, 1).contiguous()


def check_labels(labels: list[str] | None, num_classes: int) -> list[str]:
    """The class names for ``id2label``: default "0", "1", ...; one per class, non-empty, distinct."""
    labels = [str(i) for i in range(num_classes)] if labels is None else list(labels)
    if len(labels) != num_classes or not all(isinstance(n, str) and n for n in labels):
        raise ValueError(f"labels must be {num_classes} non-empty strings (one per class), got {len(labels)}")
    repeated = sorted({n for n in labels if labels.count(n) > 1})
    if repeated:
        raise ValueError(f"labels must be distinct (label2id maps each name to one class); repeated: {repeated}")
    return labels
