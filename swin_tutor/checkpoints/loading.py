"""Loading checkpoints into swin_tutor models, and reporting what happened.

The top layer of checkpoint handling: :mod:`swin_tutor.checkpoints.files` reads files safely,
:mod:`swin_tutor.checkpoints.keys` renames timm and Hugging Face keys to the official names, and this
module fits the result to a model (v1 bias tables resized to the model's window, classifier heads
kept, reset or mapped) and says what it did. Their public names are importable from here too.

Typical use::

    model = swin_t()
    report = load_checkpoint(model, "swin_tiny_patch4_window7_224.pth")
    print(report.summary())
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import torch
import torch.nn as nn

from swin_tutor.checkpoints.files import CheckpointError, read_checkpoint, unwrap_state_dict
from swin_tutor.checkpoints.guards import adapt_input_channels, check_finite, check_load_arguments
from swin_tutor.checkpoints.keys import (
    REBUILT_BUFFERS,
    convert_hf_state_dict,
    convert_timm_state_dict,
    detect_format,
    is_rebuilt_buffer,
    to_official_state_dict,
)
from swin_tutor.checkpoints.report import LoadReport, mismatch_report
from swin_tutor.core.position_bias import embed_relative_position_bias_table, resize_relative_position_bias_table

__all__ = [
    "CheckpointError",
    "LoadReport",
    "REBUILT_BUFFERS",
    "read_checkpoint",
    "unwrap_state_dict",
    "detect_format",
    "convert_hf_state_dict",
    "convert_timm_state_dict",
    "to_official_state_dict",
    "transfer_state_dict",
    "official_checkpoint",
    "load_checkpoint",
]


def official_checkpoint(model: nn.Module) -> dict[str, dict[str, torch.Tensor]]:
    """``model``'s weights laid out as an official checkpoint file: ``{"model": state_dict}`` with
    the buffers official files carry (``relative_position_index``, ``attn_mask``,
    ``relative_coords_table``).

    ``torch.save(official_checkpoint(model), "file.pth")`` writes what the official repository
    publishes.
    """
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for name, buffer in model.named_buffers():
        if buffer is not None and is_rebuilt_buffer(name):
            state[name] = buffer.detach().clone()
    return {"model": state}


def transfer_state_dict(
    state_dict: Mapping[str, torch.Tensor], model: nn.Module
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Adapt an official-named state dict to ``model``'s windows.

    Returns ``(state_dict, resized_keys)``. v1: each ``relative_position_bias_table`` whose size
    differs from the model's is resized per head by bicubic interpolation (the official loader's
    rule), except a clamped block's small table (official code, Hugging Face): it goes in the centre
    of the model's table, all that the block reads. v2: nothing to resize; the
    model's ``relative_coords_table`` is rebuilt from its window and ``pretrained_window_sizes``
    (build the model with the checkpoint's window as ``pretrained_window_sizes`` to keep the
    coordinates' scale).
    """
    target = model.state_dict()
    out = {k: v for k, v in state_dict.items() if not is_rebuilt_buffer(k)}
    resized = []
    for key, value in list(out.items()):
        if not key.endswith("relative_position_bias_table") or key not in target:
            continue
        want = target[key].shape
        if value.shape == want:
            continue
        if value.dim() != 2 or value.shape[1] != want[1]:
            raise CheckpointError(
                f"{key}: checkpoint {tuple(value.shape)} vs model {tuple(want)}: "
                f"{value.shape[-1]} heads in the checkpoint, {want[1]} in the model"
            )
        old, new = _table_window(value.shape[0], key), _table_window(want[0], key)
        if old < new and old == _clamped_window(model, key):  # the block reads only the centre: exact
            out[key] = embed_relative_position_bias_table(value, old, new)
        else:
            out[key] = resize_relative_position_bias_table(value, old, new)
        resized.append(key)
    return out, resized


def _clamped_window(model: nn.Module, key: str) -> int | None:
    """The window the block owning ``key`` runs after the clamp rule (None if no block owns it)."""
    return getattr(dict(model.named_modules()).get(key.rsplit(".attn.", 1)[0]), "window_size", None)


def _table_window(rows: int, key: str) -> int:
    side = int(round(rows**0.5))
    if side * side != rows or side % 2 == 0:
        raise CheckpointError(f"{key}: {rows} rows is not the table of a square window ((2w-1)^2 rows)")
    return (side + 1) // 2


def load_checkpoint(
    model: nn.Module,
    checkpoint: str | os.PathLike | Mapping[str, torch.Tensor],
    strict: bool = True,
    reset_head: bool = False,
    head_indices: Sequence[int] | None = None,
) -> LoadReport:
    """Load official, timm or Hugging Face weights (file, folder or state dict) into a model. Errors
    list the missing and unexpected keys (first 10 of each) and the shape mismatches with both shapes.

    - ``strict``: every model key must be in the checkpoint and every checkpoint key in the model;
      with ``strict=False`` the overlap is loaded and the rest listed in the report. Shape
      mismatches are always an error.
    - ``reset_head``: when the checkpoint's classifier does not fit (another class count, no head,
      or a headless model), keep the model's own (freshly initialised) classifier.
    - ``head_indices``: map the classifier by picking these rows of the checkpoint's head (e.g. the
      ImageNet-1k classes out of a 22k head).

    Refused: swapped arguments (TypeError), NaN or infinite weights (naming the tensors). An RGB
    patch embedding loads into a one-channel model summed over R, G, B (reported in ``channels``).
    """
    check_load_arguments(model, checkpoint)
    if isinstance(checkpoint, (Mapping, nn.Module)):
        source = "the given state dict"
        raw = unwrap_state_dict(checkpoint, source)
    else:
        source = repr(os.fspath(checkpoint))
        raw = read_checkpoint(checkpoint)
    check_finite({k: v for k, v in raw.items() if not is_rebuilt_buffer(k)}, source)
    fmt = detect_format(raw)
    dropped = sorted(k for k in raw if is_rebuilt_buffer(k))
    state = to_official_state_dict(raw, fmt)
    state, resized = transfer_state_dict(state, model)
    target = model.state_dict()
    channels = adapt_input_channels(state, target)

    head = "loaded"
    if head_indices is not None:
        state, head = _map_head(state, head_indices)
    model_head = {k for k in target if k.startswith("head.")}
    ckpt_head = {k for k in state if k.startswith("head.")}
    head_fits = model_head == ckpt_head and all(state[k].shape == target[k].shape for k in model_head)
    keep_own_head = reset_head and not head_fits
    if keep_own_head:
        state = {k: v for k, v in state.items() if not k.startswith("head.")}
        head = "reset (the checkpoint's classifier does not fit; the model keeps its own head)"
    elif not model_head and not ckpt_head:
        head = "none (the model has no classifier)"

    missing = [k for k in target if k not in state and not (keep_own_head and k in model_head)]
    unexpected = [k for k in state if k not in target]
    mismatched = [k for k in state if k in target and state[k].shape != target[k].shape]
    if mismatched or (strict and (missing or unexpected)):
        raise CheckpointError(mismatch_report(fmt, state, target, missing, unexpected, mismatched, strict))
    model.load_state_dict({k: v for k, v in state.items() if k in target}, strict=False)
    return LoadReport(fmt, len(state) - len(unexpected), dropped, resized, head, missing, unexpected, channels)


def _map_head(state: dict[str, torch.Tensor], head_indices: Sequence[int]) -> tuple[dict[str, torch.Tensor], str]:
    if "head.weight" not in state:
        raise CheckpointError("head_indices was given, but the checkpoint has no classifier head ('head.weight')")
    classes = state["head.weight"].shape[0]
    idx = torch.as_tensor(list(head_indices), dtype=torch.long)
    if idx.dim() != 1 or idx.numel() == 0 or int(idx.min()) < 0 or int(idx.max()) >= classes:
        raise CheckpointError(
            f"head_indices must be a non-empty list of the checkpoint's class indices 0..{classes - 1}"
        )
    state = dict(state)
    for name in ("head.weight", "head.bias"):
        if name in state:
            state[name] = state[name][idx]
    return state, f"mapped ({idx.numel()} of the checkpoint's {classes} classes)"
