"""Checks made before training starts: every setting of a run, the data sets, the labels of each batch.

A bad setting is refused when the :class:`~swin_tutor.train.loop.TrainConfig` is made (and again when
``fit`` starts, in case a field was changed since), naming the field, the value and the allowed range:
``lr=nan`` would turn every weight into NaN, ``lr=0`` would train for nothing, ``lr="0.01"`` would fail
deep inside a comparison. Empty data sets and labels outside ``[0, num_classes)`` are refused before
the first step.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
from torch.utils.data import Dataset, Subset, TensorDataset

from swin_tutor.train.precision import PRECISIONS

__all__ = ["check_train_config", "check_datasets", "check_batch_labels"]

_INF = math.inf
# field: (kind, low, high, low inclusive, high inclusive, what it is)
_RULES: dict[str, tuple[str, float, float, bool, bool, str]] = {
    "epochs": ("int", 1, _INF, True, False, "passes over the training set"),
    "batch_size": ("int", 1, _INF, True, False, "images per step and process"),
    "lr": ("float", 0, _INF, False, False, "the peak learning rate, e.g. 1e-3"),
    "weight_decay": ("float", 0, _INF, True, False, "AdamW's decoupled weight decay, e.g. 0.05"),
    "warmup_epochs": ("float", 0, _INF, True, False, "epochs of linear warm-up"),
    "label_smoothing": ("float", 0, 1, True, False, "share of the target spread over all classes"),
    "clip_grad": ("float", 0, _INF, True, False, "max gradient norm; 0 switches clipping off"),
    "seed": ("int", 0, 2**32 - 1, True, True, "the random seed"),
    "max_shift": ("int", 0, _INF, True, False, "pixels of random translation"),
    "min_lr_ratio": ("float", 0, 1, True, True, "where the cosine ends, as a share of lr"),
}


def _range(low: float, high: float, low_in: bool, high_in: bool) -> str:
    left = f"{'[' if low_in else '('}{low:g}"
    right = "inf)" if high == _INF else f"{high:g}{']' if high_in else ')'}"
    return f"{left}, {right}"


def check_train_config(config: Any) -> None:
    """Raise TypeError / ValueError for the first setting of ``config`` of the wrong type or out of range."""
    for name, (kind, low, high, low_in, high_in, meaning) in _RULES.items():
        value = getattr(config, name)
        where = f"TrainConfig.{name} ({meaning})"
        if kind == "int" and (not isinstance(value, numbers.Integral) or isinstance(value, bool)):
            raise TypeError(f"{where} must be an int, got {type(value).__name__} {value!r}")
        if kind == "float" and (not isinstance(value, numbers.Real) or isinstance(value, bool)):
            raise TypeError(f"{where} must be a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{where} must be a finite number in {_range(low, high, low_in, high_in)}, got {value!r}")
        above = value >= low if low_in else value > low
        below = value <= high if high_in else value < high
        if not (above and below):
            raise ValueError(f"{where} must be in {_range(low, high, low_in, high_in)}, got {value!r}")
    for name in ("augment", "use_checkpoint"):
        value = getattr(config, name, False)
        if not isinstance(value, bool):
            raise TypeError(f"TrainConfig.{name} must be True or False, got {type(value).__name__} {value!r}")
    precision = getattr(config, "precision", None)
    if precision is not None and precision not in PRECISIONS:
        raise ValueError(
            f"TrainConfig.precision must be None (the device's default) or one of {PRECISIONS}, got {precision!r}"
        )
    if config.device is not None:
        try:
            torch.device(config.device)
        except (RuntimeError, TypeError):
            raise ValueError(
                f"TrainConfig.device must be None (CUDA when there is one) or a device such as 'cpu', 'cuda', "
                f"'cuda:1', got {config.device!r}"
            ) from None


def _size(dataset: Dataset, name: str) -> int:
    try:
        return len(dataset)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be a map-style Dataset with a length, got {type(dataset).__name__}") from None


def _tensor_labels(dataset: Dataset) -> torch.Tensor | None:
    """All labels of a TensorDataset (through Subsets) without reading the images; None for other kinds."""
    if isinstance(dataset, Subset):
        inner = _tensor_labels(dataset.dataset)
        return None if inner is None else inner[torch.as_tensor(list(dataset.indices), dtype=torch.long)]
    if isinstance(dataset, TensorDataset) and len(dataset.tensors) >= 2:
        return dataset.tensors[1]
    return None


def check_datasets(train_set: Dataset, test_set: Dataset | None, num_classes: int | None) -> None:
    """Refuse an empty training or test set, and (for tensor data sets) labels outside ``[0, num_classes)``."""
    for name, dataset in (("train_set", train_set), ("test_set", test_set)):
        if dataset is None:
            continue
        if _size(dataset, name) == 0:
            raise ValueError(
                f"{name} is empty (0 examples): nothing to {'train on' if name == 'train_set' else 'test'}"
            )
        labels = _tensor_labels(dataset)
        if labels is not None:
            check_batch_labels(labels, num_classes, name)


def check_batch_labels(labels: torch.Tensor, num_classes: int | None, name: str = "a batch") -> None:
    """Labels must be integer class indices in ``[0, num_classes)`` (the cross-entropy's targets): a (B,)
    batch of class labels, or per-pixel targets (B, H, W), whose ignore index -100 is allowed."""
    if not isinstance(labels, torch.Tensor) or labels.is_floating_point() or labels.is_complex():
        kind = labels.dtype if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise TypeError(f"labels of {name} must be integer class indices (torch.long), got {kind}")
    if labels.dim() != 1:  # per-pixel targets: cross-entropy's ignore index is allowed
        labels = labels[labels != -100]
    if labels.numel() == 0 or not num_classes:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        raise ValueError(
            f"{name} holds the label {bad}, but the model has {num_classes} classes: labels must be in "
            f"[0, {num_classes - 1}] (build the model with num_classes={max(high + 1, num_classes)}?)"
        )
