"""Checks made before weights go into a model: argument order, finite values, input channels.

- :func:`check_load_arguments`: ``load_checkpoint(model, checkpoint)``, not the other way round.
- :func:`check_finite`: a checkpoint holding NaN or infinite weights is refused, naming the tensors.
- :func:`adapt_input_channels`: RGB patch-embedding weights into a one-channel model are summed over
  R, G, B (timm's rule for ``in_chans=1``): exact for a grey picture given as three equal channels,
  which is how :func:`swin_tutor.checkpoints.export.export_hf` writes a one-channel model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import torch
import torch.nn as nn

from swin_tutor.checkpoints.files import LISTED_KEYS, CheckpointError

__all__ = ["check_load_arguments", "check_finite", "adapt_input_channels", "INPUT_CONV"]

INPUT_CONV = "patch_embed.proj.weight"  # (C_out, C_in, p, p): the only weight that sees the image's channels


def check_load_arguments(model: object, checkpoint: object) -> None:
    """Raise TypeError when ``model`` is not a module or the checkpoint is of no known kind (e.g. swapped)."""
    if not isinstance(model, nn.Module) and isinstance(checkpoint, nn.Module):
        raise TypeError(
            "load_checkpoint(model, checkpoint): the model comes first, then the checkpoint; got "
            f"{type(model).__name__} then {type(checkpoint).__name__}: swap the two arguments"
        )
    if not isinstance(model, nn.Module):
        raise TypeError(f"load_checkpoint: model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(checkpoint, (str, os.PathLike, Mapping, nn.Module)):
        raise TypeError(
            "load_checkpoint: checkpoint must be a file or folder path (str / pathlib.Path) or a state dict, "
            f"got {type(checkpoint).__name__}"
        )


def check_finite(state: Mapping[str, torch.Tensor], source: str) -> None:
    """Refuse floating-point tensors holding NaN or infinity (a diverged run), naming them."""
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        first = state[bad[0]]
        count = int((~torch.isfinite(first)).sum())
        raise CheckpointError(
            f"{source}: {len(bad)} tensor(s) hold NaN or infinite values, e.g. {bad[0]} ({count} of "
            f"{first.numel()} values); all: {bad[:LISTED_KEYS]}. The run that wrote it diverged (lower the "
            "learning rate) or the file is damaged: these weights would make every prediction NaN"
        )


def adapt_input_channels(state: dict[str, torch.Tensor], target: Mapping[str, torch.Tensor]) -> list[str]:
    """Sum a 3-channel patch embedding into a 1-channel model's, in place; returns the keys changed."""
    have, want = state.get(INPUT_CONV), target.get(INPUT_CONV)
    if have is None or want is None or have.dim() != 4 or want.dim() != 4:
        return []
    if have.shape[1] == 3 and want.shape[1] == 1 and have.shape[0] == want.shape[0]:
        state[INPUT_CONV] = have.sum(1, keepdim=True)
        return [INPUT_CONV]
    return []
