"""Argument checks and padding arithmetic: the bottom layer that every other module may use.

Every public constructor and function checks its arguments here, so a mistake ends in one clear
``ValueError`` (or ``TypeError`` for a value of the wrong kind) that names the argument, says what it
got and what it expected, instead of a ``ZeroDivisionError`` or a reshape error deep inside torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "to_2tuple",
    "positive_pair",
    "check_int",
    "check_number",
    "check_rate",
    "check_int_sequence",
    "check_map",
    "check_image_batch",
    "pad_to_multiple",
]


def to_2tuple(value: int | tuple[int, int] | list[int], name: str = "size") -> tuple[int, int]:
    """Return ``(value, value)`` for an int, or the pair itself; reject anything else clearly."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        return (int(value[0]), int(value[1]))
    raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")


def positive_pair(value: int | tuple[int, int] | list[int], name: str, minimum: int = 1) -> tuple[int, int]:
    """:func:`to_2tuple`, then each entry must be >= ``minimum``."""
    pair = to_2tuple(value, name)
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum} (per axis), got {value!r}")
    return pair


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(value, name: str, minimum: int | None = None) -> int:
    """An int (not a bool or a float) that is at least ``minimum``."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_number(value, name: str, *, above: float | None = None) -> float:
    """A finite real number, strictly greater than ``above`` when given."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if above is not None and value <= above:
        raise ValueError(f"{name} must be > {above}, got {value}")
    return float(value)


def check_rate(value, name: str) -> float:
    """A probability of dropping something: a number in [0, 1)."""
    value = check_number(value, name)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


def check_int_sequence(values, name: str, length: int, minimum: int) -> tuple[int, ...]:
    """A sequence of exactly ``length`` ints, each >= ``minimum`` (e.g. depths, num_heads per stage)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of {length} ints, got {type(values).__name__} {values!r}")
    values = tuple(values)
    if len(values) != length:
        raise ValueError(f"{name} must have {length} entries (one per stage), got {len(values)}: {values}")
    for i, v in enumerate(values):
        if not _is_int(v):
            raise TypeError(f"{name}[{i}] must be an int, got {type(v).__name__} {v!r} in {values}")
        if v < minimum:
            raise ValueError(f"{name}[{i}] must be >= {minimum}, got {v} in {values}")
    return values


def check_map(x: torch.Tensor, what: str) -> None:
    """Raise unless ``x`` is a (B, H, W, C) token map."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} expects a torch.Tensor token map, got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"{what} expects a token map of shape (B, H, W, C), got {tuple(x.shape)}")


def check_image_batch(x: torch.Tensor, in_chans: int = 3, like: torch.Tensor | None = None) -> None:
    """Raise unless ``x`` is a finite float (B, in_chans, H, W) batch (on ``like``'s device and dtype)."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"expected a torch.Tensor image batch, got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(
            f"expected an image batch of shape (B, {in_chans}, H, W), got {x.dim()}-D shape {tuple(x.shape)}"
            + ("; add a batch dimension with x.unsqueeze(0)" if x.dim() == 3 else "")
        )
    if x.shape[1] != in_chans:
        hint = "; channels-last input? use x.permute(0, 3, 1, 2)" if x.shape[-1] == in_chans else ""
        raise ValueError(
            f"expected {in_chans} channels in dim 1 (B, C, H, W), got {x.shape[1]} (shape {tuple(x.shape)}){hint}"
        )
    if not torch.is_floating_point(x):
        raise ValueError(
            f"expected a floating-point image (e.g. float32 in [0, 1]), got dtype {x.dtype}; use x.float() / 255"
        )
    if x.shape[2] == 0 or x.shape[3] == 0:
        raise ValueError(f"expected an image of at least 1x1 pixels, got shape {tuple(x.shape)}")
    if like is not None:
        if x.device != like.device:
            raise ValueError(
                f"the image is on {x.device} but the model is on {like.device}; move one: x.to({str(like.device)!r})"
            )
        if x.dtype != like.dtype:
            raise ValueError(
                f"the image has dtype {x.dtype} but the model's parameters are {like.dtype}; "
                f"convert the image (x.to({like.dtype})) or the model (model.to({x.dtype}))"
            )
    # Finiteness is checked on the CPU only. Reading the answer back (bool(...)) makes the host wait
    # for the device: on CUDA that would be a synchronisation in every forward pass, so a GPU input
    # is not checked (NaN in, NaN logits out). Meta tensors have no values, and a compiled graph
    # would break at the host-side check.
    on_cpu = x.device.type == "cpu"
    if on_cpu and not torch.compiler.is_compiling() and not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"the image batch holds {bad} NaN or infinite values; the logits would be NaN")


def pad_to_multiple(x: torch.Tensor, multiple: int | tuple[int, int], channels_last: bool = True) -> torch.Tensor:
    """Zero-pad the two spatial dims at the bottom and right so they become multiples of ``multiple``.

    ``channels_last=True``: a (B, H, W, C) token map; ``False``: a (B, C, H, W) image. The one place
    the padding arithmetic lives (patch embedding, merging of odd maps and window attention use it).
    """
    if channels_last:
        check_map(x, "pad_to_multiple")
    elif not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"pad_to_multiple expects an image batch (B, C, H, W), got {getattr(x, 'shape', x)!r}")
    mh, mw = positive_pair(multiple, "multiple")
    height, width = (x.shape[1], x.shape[2]) if channels_last else (x.shape[2], x.shape[3])
    pad_h, pad_w = (-height) % mh, (-width) % mw
    if pad_h == 0 and pad_w == 0:
        return x
    return F.pad(x, (0, 0, 0, pad_w, 0, pad_h) if channels_last else (0, pad_w, 0, pad_h))
