"""A tiny Swin segmenter for the digit scenes of notebook 12: the model, its scores, the shipped weights.

``tiny_segmenter()`` is the digits Swin of notebook 09 made a backbone (width 16, window 4, but patch 4
on 64x64 scenes: maps of 16, 8, 4, 2 tokens a side at strides 4, 8, 16, 32) with the small FPN head
of :mod:`swin_tutor.dense.fpn` (32 channels). It trains with the loop of notebook 09
(:func:`~swin_tutor.train.loop.fit`: per-pixel labels, no augmentation). Scores come from the per-pixel
confusion matrix of :func:`~swin_tutor.train.loop.evaluate`:

- IoU of class k = TP / (TP + FP + FN) = confusion[k, k] / (row k + column k - confusion[k, k]);
- mean IoU (mIoU): the mean over the 11 classes (background included; NaN-free: a class absent from
  both labels and predictions is left out); :func:`mean_iou` with ``background=False`` averages the
  10 digits only.

``load_scene_segmenter()`` reads ``weights/scene_segmenter.safetensors`` (``make weights``).
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Sequence

import torch
import torch.nn as nn

from swin_tutor.core.backbone import SwinBackbone
from swin_tutor.dense.fpn import FPNHead
from swin_tutor.dense.segmenter import Segmenter
from swin_tutor.train.digits_model import WEIGHTS_DIR, tiny_swin
from swin_tutor.train.loop import TrainConfig, evaluate, fit, seed_everything
from swin_tutor.train.scenes import NUM_SCENE_CLASSES, Scenes, make_scenes

__all__ = [
    "TINY_SEGMENTER",
    "SEGMENTER_CONFIG",
    "SCENE_WEIGHTS",
    "tiny_segmenter",
    "remove_shifts",
    "iou_per_class",
    "mean_iou",
    "SMALL_DIGIT",
    "scene_scores",
    "train_scene_segmenter",
    "digit_hit_rates",
    "load_scene_segmenter",
    "scene_record",
    "scene_config",
]

# The backbone: tiny_swin's settings (width 16, heads 2-4-8-16, window 4) on 64x64 scenes with patch 4.
TINY_SEGMENTER = dict(img_size=64, patch_size=4, window_size=4, drop_path_rate=0.1)
FPN_CHANNELS = 32
# The recipe of the shipped weights: the loop of notebook 09, no augmentation, no label smoothing.
SEGMENTER_CONFIG = dict(epochs=15, batch_size=32, lr=2e-3, warmup_epochs=1.0, label_smoothing=0.0, augment=False)
SCENE_WEIGHTS = WEIGHTS_DIR / "scene_segmenter.safetensors"


def tiny_segmenter(
    version: int = 1, out_indices: Sequence[int] = (0, 1, 2, 3), fpn_channels: int = FPN_CHANNELS, **overrides
) -> Segmenter:
    """Tiny Swin backbone (maps of stages ``out_indices``) + FPN head, 11 classes: (B, 1, H, W) -> (B, 11, H, W).

    ``out_indices=(3,)`` gives the same decoder on stage 4 alone (stride 32); ``overrides`` go to
    :func:`~swin_tutor.train.digits_model.tiny_swin` (e.g. ``patch_size=2``)."""
    classifier = tiny_swin(version, num_classes=0, **{**TINY_SEGMENTER, **overrides})
    backbone = SwinBackbone(classifier, out_indices)
    model = Segmenter(backbone, FPNHead(backbone.channels, fpn_channels, NUM_SCENE_CLASSES))
    model.num_classes = NUM_SCENE_CLASSES  # fit checks the labels against it
    return model


def remove_shifts(model: Segmenter) -> Segmenter:
    """Switch every shifted window off (every block attends in the plain grid), in place; returns ``model``.

    For the shift-against-no-shift comparison. Acts through the backbone's ``window_rule="never"`` (the
    v1 default), which uses each block's requested window and shift."""
    if getattr(model.backbone, "window_rule", None) != "never":
        raise ValueError("remove_shifts needs a backbone with window_rule='never' (the v1 default)")
    for layer in model.backbone.layers:
        for block in layer.blocks:
            block.requested_shift_size = 0
    return model


def iou_per_class(confusion: torch.Tensor) -> torch.Tensor:
    """(K, K) confusion (rows true, columns predicted) -> (K,) IoU; NaN for a class in neither."""
    if confusion.dim() != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion must be a square (K, K) matrix, got shape {tuple(confusion.shape)}")
    c = confusion.double()
    tp = c.diagonal()
    union = c.sum(0) + c.sum(1) - tp
    return torch.where(union > 0, tp / union.clamp(min=1), torch.full_like(tp, float("nan"))).float()


def mean_iou(confusion: torch.Tensor, background: bool = True) -> float:
    """The mean of :func:`iou_per_class` over the classes present (class 0, background, left out if not
    ``background``)."""
    iou = iou_per_class(confusion)
    iou = iou if background else iou[1:]
    return float(iou[~iou.isnan()].mean())


def digit_hit_rates(predictions: torch.Tensor, scenes: Scenes) -> torch.Tensor:
    """For every pasted digit (scene by scene, in order): the share of its labelled pixels predicted as
    its class. ``predictions`` (N, H, W) long class maps. Pair with ``torch.cat(scenes.boxes)`` (sizes)
    and ``torch.cat(scenes.on_border)``."""
    if predictions.shape != scenes.masks.shape:
        raise ValueError(f"predictions must be (N, H, W) = {tuple(scenes.masks.shape)}, got {tuple(predictions.shape)}")
    rates = []
    for n, digits in enumerate(scenes.digits):
        for j, digit in enumerate(digits.tolist()):
            pixels = scenes.instances[n] == j + 1
            rates.append(float((predictions[n][pixels] == 1 + digit).float().mean()) if pixels.any() else float("nan"))
    return torch.tensor(rates)


SMALL_DIGIT = 18  # a digit of side <= 18 pixels counts as small (4 tokens or fewer a side at stride 4)


def scene_scores(model: nn.Module, scenes: Scenes, batch_size: int = 64) -> dict:
    """Scores of ``model`` on ``scenes``: mIoU (all 11 classes), mIoU of the digits, pixel accuracy,
    per-class IoU (a list), and the mean share of each digit's pixels found (:func:`digit_hit_rates`) for
    small (side <= ``SMALL_DIGIT``) and large digits, and for digits centred on a window border or not."""
    result = evaluate(model, scenes.dataset(), batch_size)
    confusion = result.confusion[:NUM_SCENE_CLASSES, :NUM_SCENE_CLASSES]
    hits = digit_hit_rates(result.predictions, scenes)
    sides = torch.cat(scenes.boxes)[:, 2] - torch.cat(scenes.boxes)[:, 0]
    border = torch.cat(scenes.on_border)
    return {
        "miou": mean_iou(confusion),
        "miou_digits": mean_iou(confusion, background=False),
        "pixel_accuracy": result.accuracy,
        "iou": iou_per_class(confusion).tolist(),
        "hit_small": float(hits[sides <= SMALL_DIGIT].nanmean()),
        "hit_large": float(hits[sides > SMALL_DIGIT].nanmean()),
        "hit_on_border": float(hits[border].nanmean()),
        "hit_off_border": float(hits[~border].nanmean()),
    }


def scene_record() -> dict:
    """The JSON record beside the shipped weights: settings, seed, scores, seconds."""
    path = SCENE_WEIGHTS.with_suffix(".json")
    if not path.is_file():
        raise FileNotFoundError(f"no record at {path}; create it with 'make weights'")
    return json.loads(path.read_text())


def load_scene_segmenter() -> Segmenter:
    """The shipped segmenter (``weights/scene_segmenter.safetensors``, float16 on disk), float32, eval mode."""
    from safetensors.torch import load_file

    if not SCENE_WEIGHTS.is_file():
        raise FileNotFoundError(f"no shipped weights at {SCENE_WEIGHTS}; create them with 'make weights'")
    model = tiny_segmenter()
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(SCENE_WEIGHTS)).items()}
    model.load_state_dict(state, strict=True)
    return model.float().eval()


def scene_config(seed: int = 0, **overrides) -> TrainConfig:
    """The training settings of the shipped segmenter (:data:`SEGMENTER_CONFIG`), on the CPU."""
    return TrainConfig(**{**SEGMENTER_CONFIG, "seed": seed, "device": "cpu", **overrides})


def train_scene_segmenter(
    seed: int = 0,
    num_train: int = 2000,
    num_test: int = 400,
    out_indices: Sequence[int] = (0, 1, 2, 3),
    shifts: bool = True,
    progress: bool = True,
    **config,
) -> tuple[Segmenter, dict]:
    """Train :func:`tiny_segmenter` with :func:`~swin_tutor.train.loop.fit` on ``num_train`` scenes (seed
    ``seed``) and score it on ``num_test`` held-out scenes (seed ``seed + 1``); returns the model (eval
    mode) and a record: settings, :func:`scene_scores`, wall and CPU seconds, threads, load average."""
    train = make_scenes(num_train, split="train", seed=seed)
    test = make_scenes(num_test, split="test", seed=seed + 1)
    seed_everything(seed)
    model = tiny_segmenter(out_indices=out_indices)
    if not shifts:
        remove_shifts(model)
    cfg = scene_config(seed, **config)
    cpu = time.process_time()
    history = fit(model, train.dataset(), None, cfg, progress=progress)
    record = {
        "config": cfg.to_dict(),
        "num_train": num_train,
        "num_test": num_test,
        "out_indices": list(out_indices),
        "shifts": shifts,
        "scores": scene_scores(model, test),
        "train_loss": history.train_loss,
        "seconds": round(history.seconds, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "threads": torch.get_num_threads(),
        "load_average": round(os.getloadavg()[0], 1),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    return model, record
