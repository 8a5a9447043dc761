"""What :func:`swin_tutor.checkpoints.loading.load_checkpoint` did, and why a checkpoint does not fit a model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from swin_tutor.checkpoints.files import LISTED_KEYS

__all__ = ["LoadReport", "mismatch_report"]


@dataclass
class LoadReport:
    """What :func:`load_checkpoint` did.

    ``format``: "official", "timm" or "hf"; ``loaded``: number of checkpoint tensors copied into
    the model; ``dropped_buffers``: checkpoint entries the model rebuilds itself (index, mask,
    coordinate tables), by their names in the checkpoint; ``resized``: v1 bias tables interpolated
    to the model's window; ``head``: what happened to the classifier; ``missing`` /
    ``unexpected``: keys left out (only with ``strict=False``); ``channels``: RGB input weights summed
    for a one-channel model.
    """

    format: str
    loaded: int
    dropped_buffers: list[str] = field(default_factory=list)
    resized: list[str] = field(default_factory=list)
    head: str = "loaded"
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines that say what happened (no file paths, the same on every machine)."""
        lines = [
            f"format: {self.format}",
            f"tensors loaded: {self.loaded}",
            f"rebuilt buffers dropped: {len(self.dropped_buffers)}",
            f"bias tables resized: {len(self.resized)}",
            f"head: {self.head}",
        ]
        if self.channels:
            lines.append(f"input channels: RGB summed to grey in {len(self.channels)} tensor(s)")
        if self.missing or self.unexpected:
            lines.append(f"left out (strict=False): {len(self.missing)} missing, {len(self.unexpected)} unexpected")
        return "\n".join(lines)


def mismatch_report(
    fmt: str,
    state: Mapping[str, torch.Tensor],
    target: Mapping[str, torch.Tensor],
    missing: list[str],
    unexpected: list[str],
    mismatched: list[str],
    strict: bool,
) -> str:
    """The error text: shape mismatches with both shapes, missing / unexpected keys (first 10), hints."""
    lines = [f"the {fmt} checkpoint does not fit the model:"]
    if mismatched:
        lines.append(f"  {len(mismatched)} shape mismatch(es) (checkpoint vs model):")
        lines.extend(
            f"    {k}: checkpoint {tuple(state[k].shape)} vs model {tuple(target[k].shape)}"
            for k in mismatched[:LISTED_KEYS]
        )
        if len(mismatched) > LISTED_KEYS:
            lines.append(f"    ... and {len(mismatched) - LISTED_KEYS} more")
    if strict and missing:
        lines.append(f"  {len(missing)} missing key(s) (in the model, not the checkpoint): {missing[:LISTED_KEYS]}")
    if strict and unexpected:
        lines.append(
            f"  {len(unexpected)} unexpected key(s) (in the checkpoint, not the model): {unexpected[:LISTED_KEYS]}"
        )
    head_problem = any(k.startswith("head.") for k in mismatched + (missing + unexpected if strict else []))
    if head_problem:
        lines.append(
            "  hint: a classifier for another number of classes? pass reset_head=True to keep "
            "the model's own head, or head_indices=[...] to pick the checkpoint's classes"
        )
    body = [k for k in mismatched + (missing + unexpected if strict else []) if not k.startswith("head.")]
    if body:
        lines.append(
            "  hint: is it the right variant (v1/v2; T/S/B/L; depths, embed_dim) and window? "
            + ("pass strict=False to load the overlap" if not mismatched else "shapes must match to load")
        )
    return "\n".join(lines)
