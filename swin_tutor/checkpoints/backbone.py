"""Loading weights into a :class:`~swin_tutor.core.backbone.SwinBackbone`, and saying what was left out.

Three kinds of files fit a backbone:

- a Hugging Face backbone folder (``SwinBackbone`` / ``Swinv2Backbone`` ``save_pretrained``): its
  output norms ``hidden_states_norms.stage{k}`` become ``norm{k-1}``;
- a classification checkpoint (official, timm or Hugging Face classifier): the ``head`` and the
  final ``norm`` are dropped, the output norms are new (LayerNorm's 1 and 0), both reported;
- a dense-prediction checkpoint whose backbone sits under ``backbone.`` (mmdetection /
  mmsegmentation, Hugging Face ``UperNetForSemanticSegmentation``): only the backbone is read.

Typical use::

    backbone = SwinBackbone(swin_t(num_classes=0))
    report = load_backbone_checkpoint(backbone, "swin_tiny_patch4_window7_224.pth")
    print(report.summary())
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from swin_tutor.checkpoints.files import CheckpointError, read_checkpoint, unwrap_state_dict
from swin_tutor.checkpoints.keys import detect_format, is_rebuilt_buffer, to_official_state_dict
from swin_tutor.checkpoints.loading import transfer_state_dict
from swin_tutor.core.backbone import SwinBackbone

__all__ = ["BackboneLoadReport", "load_backbone_checkpoint", "backbone_state_dict"]

_LISTED = 10
_OUTPUT_NORM = re.compile(r"^norm\d+\.")
_HF_OUTPUT_NORM = re.compile(r"^hidden_states_norms\.stage(\d+)\.")
_CLASSIFIER_ONLY = ("head.", "norm.")


@dataclass
class BackboneLoadReport:
    """What :func:`load_backbone_checkpoint` did.

    ``format``: "official", "timm" or "hf"; ``loaded``: tensors copied into the backbone;
    ``dropped``: checkpoint entries a backbone has no use for (the classifier's ``head`` and final
    ``norm``, output norms the backbone was built without, a decoder next to the backbone);
    ``new``: output norms the checkpoint lacks, left at LayerNorm's initial 1 and 0 (train them);
    ``resized``: v1 bias tables interpolated to the backbone's window; ``dropped_buffers``:
    entries the model rebuilds itself; ``missing`` / ``unexpected``: left out (``strict=False`` only).
    """

    format: str
    loaded: int
    dropped: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    resized: list[str] = field(default_factory=list)
    dropped_buffers: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines that say what happened (no file paths, the same on every machine)."""
        lines = [
            f"format: {self.format}",
            f"tensors loaded: {self.loaded}",
            f"dropped (not part of a backbone): {_short(self.dropped)}",
            f"new (not in the checkpoint, freshly initialised): {_short(self.new)}",
            f"bias tables resized: {len(self.resized)}",
            f"rebuilt buffers dropped: {len(self.dropped_buffers)}",
        ]
        if self.missing or self.unexpected:
            lines.append(f"left out (strict=False): {len(self.missing)} missing, {len(self.unexpected)} unexpected")
        return "\n".join(lines)


def _short(keys: list[str]) -> str:
    """Group parameter names by module (``head.weight``, ``head.bias`` -> ``head``) for the summary."""
    modules = list(dict.fromkeys(k.rsplit(".", 1)[0] for k in keys))
    return ", ".join(modules) if modules else "none"


def backbone_state_dict(
    state_dict: Mapping[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], str, list[str], list[str]]:
    """Any supported checkpoint -> ``(state, format, dropped, dropped_buffers)``: official names, the
    output norms as ``norm{i}``, a ``backbone.`` prefix removed (the rest of such a file dropped).

    The classifier's ``head`` and final ``norm`` are still in ``state``; the caller decides.
    """
    dropped: list[str] = []
    if any(k.startswith("backbone.") for k in state_dict):
        dropped = [k for k in state_dict if not k.startswith("backbone.")]
        state_dict = {k[len("backbone.") :]: v for k, v in state_dict.items() if k.startswith("backbone.")}
    fmt = detect_format(state_dict)
    dropped_buffers = sorted(k for k in state_dict if is_rebuilt_buffer(k))
    norms = {k: v for k, v in state_dict.items() if _HF_OUTPUT_NORM.match(k)}
    rest = {k: v for k, v in state_dict.items() if k not in norms}
    state = to_official_state_dict(rest, fmt)
    for key, value in norms.items():  # Hugging Face counts stages from 1 ("stage1"), the official code from 0
        state[_HF_OUTPUT_NORM.sub(lambda m: f"norm{int(m.group(1)) - 1}.", key)] = value
    return state, fmt, dropped, dropped_buffers


def load_backbone_checkpoint(
    backbone: SwinBackbone,
    checkpoint: str | os.PathLike | Mapping[str, torch.Tensor],
    strict: bool = True,
) -> BackboneLoadReport:
    """Load a Hugging Face backbone folder, a classification checkpoint or a dense-prediction
    checkpoint's backbone into ``backbone`` (file, folder or state dict); see the module docstring.

    What a backbone has no use for is dropped and what the checkpoint lacks of the output norms is
    left new; both are listed in the report. Any other difference is an error with ``strict``
    (listing the keys), and loaded as the overlap with ``strict=False``. Shape mismatches are
    always an error (the wrong variant, or a backbone built with other widths).
    """
    if not isinstance(backbone, SwinBackbone):
        raise TypeError(f"backbone must be a SwinBackbone, got {type(backbone).__name__}")
    if isinstance(checkpoint, Mapping):
        raw = unwrap_state_dict(checkpoint, "the given state dict")
    else:
        raw = read_checkpoint(checkpoint)
    state, fmt, dropped, dropped_buffers = backbone_state_dict(raw)
    target = backbone.state_dict()
    for key in list(state):
        if key.startswith(_CLASSIFIER_ONLY) or (_OUTPUT_NORM.match(key) and key not in target):
            dropped.append(key)
            del state[key]
    state, resized = transfer_state_dict(state, backbone)
    new = [k for k in target if k not in state and _OUTPUT_NORM.match(k)]
    missing = [k for k in target if k not in state and k not in new]
    unexpected = [k for k in state if k not in target]
    mismatched = [k for k in state if k in target and state[k].shape != target[k].shape]
    if mismatched or (strict and (missing or unexpected)):
        raise CheckpointError(_mismatch_message(fmt, state, target, missing, unexpected, mismatched))
    backbone.load_state_dict({k: v for k, v in state.items() if k in target}, strict=False)
    loaded = len(state) - len(unexpected)
    return BackboneLoadReport(fmt, loaded, sorted(dropped), new, resized, dropped_buffers, missing, unexpected)


def _mismatch_message(
    fmt: str,
    state: Mapping[str, torch.Tensor],
    target: Mapping[str, torch.Tensor],
    missing: list[str],
    unexpected: list[str],
    mismatched: list[str],
) -> str:
    lines = [f"the {fmt} checkpoint does not fit the backbone:"]
    lines += [
        f"  {k}: checkpoint {tuple(state[k].shape)} vs backbone {tuple(target[k].shape)}" for k in mismatched[:_LISTED]
    ]
    if len(mismatched) > _LISTED:
        lines.append(f"  ... and {len(mismatched) - _LISTED} more shape mismatch(es)")
    if missing:
        lines.append(f"  {len(missing)} missing key(s) (in the backbone, not the checkpoint): {missing[:_LISTED]}")
    if unexpected:
        lines.append(
            f"  {len(unexpected)} unexpected key(s) (in the checkpoint, not the backbone): {unexpected[:_LISTED]}"
        )
    lines.append(
        "  hint: is it the right variant (v1/v2; T/S/B/L; depths, embed_dim) and window? "
        "pass strict=False to load the overlap (shapes must still match)"
    )
    return "\n".join(lines)
