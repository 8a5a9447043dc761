"""Checkpoints: read official, timm and Hugging Face Swin / Swin V2 weights into swin_tutor models.

swin_tutor's parameter names are the official ones, so an official state dict needs no renaming;
timm and Hugging Face dicts are renamed here. Buffers that a model rebuilds from its configuration
(``relative_position_index``, ``attn_mask``, ``relative_coords_table``) are dropped. v1 bias tables
are resized by bicubic interpolation when the window differs; v2 needs no resizing.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn as nn

from .position_bias import resize_relative_position_bias_table

__all__ = [
    "CheckpointError",
    "LoadReport",
    "REBUILT_BUFFERS",
    "read_checkpoint",
    "detect_format",
    "convert_hf_state_dict",
    "convert_timm_state_dict",
    "to_official_state_dict",
    "transfer_state_dict",
    "load_checkpoint",
]

REBUILT_BUFFERS = ("relative_position_index", "attn_mask", "relative_coords_table")
Format = Literal["official", "timm", "hf"]


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the model; the message says what and where."""


@dataclass
class LoadReport:
    """What :func:`load_checkpoint` did."""

    format: str
    loaded: int
    dropped_buffers: list[str] = field(default_factory=list)
    resized: list[str] = field(default_factory=list)
    head: str = "loaded"
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


# -- reading ----------------------------------------------------------------------------------------
def read_checkpoint(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a ``.pth``/``.pt``/``.bin``/``.ckpt`` (as a pickle, with ``weights_only=True``) or a ``.safetensors``
    file and return its state dict (unwrapping ``{"model": ...}`` and ``{"state_dict": ...}``)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint file not found: {path!r}")
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"refused to load {path!r}: it is not a plain tensor checkpoint (weights_only=True rejected it). "
            "A .pth file is a pickle and can run code when loaded; only load it without weights_only if you "
            f"trust its source. Details: {str(exc).splitlines()[0]}"
        ) from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise CheckpointError(f"could not read {path!r} as a PyTorch checkpoint: {exc}") from None
    return unwrap_state_dict(obj, source=path)


def unwrap_state_dict(obj: object, source: str = "the checkpoint") -> dict[str, torch.Tensor]:
    """Return the tensor dict inside an official (``model``), Lightning-style (``state_dict``) or plain checkpoint."""
    if isinstance(obj, Mapping):
        for key in ("model", "state_dict", "model_state_dict"):
            if key in obj and isinstance(obj[key], Mapping):
                return unwrap_state_dict(obj[key], source)
        tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors and len(tensors) == len(obj):
            return dict(tensors)
    raise CheckpointError(f"{source} holds no state dict (expected a dict of tensors, or one under 'model' / 'state_dict')")


# -- formats ----------------------------------------------------------------------------------------
def detect_format(state_dict: Mapping[str, torch.Tensor]) -> Format:
    """Tell official, timm and Hugging Face dicts apart by their key names."""
    keys = list(state_dict)
    if any(k.startswith(("swin.", "swinv2.", "embeddings.", "encoder.")) for k in keys):
        return "hf"
    if any(k.startswith("head.fc.") for k in keys) or "layers.1.downsample.reduction.weight" in keys and not (
        "layers.0.downsample.reduction.weight" in keys
    ):
        return "timm"
    if any(k.startswith(("patch_embed.", "layers.")) for k in keys):
        return "official"
    raise CheckpointError(
        "unrecognised checkpoint format: expected official Swin keys ('patch_embed.proj.weight', 'layers.0.blocks.0...'), "
        f"timm keys ('head.fc.weight') or Hugging Face keys ('swin.embeddings...'); first keys: {keys[:5]}"
    )


_HF_RENAMES = [
    (r"^(swin|swinv2)\.", ""),
    (r"^embeddings\.patch_embeddings\.projection\.", "patch_embed.proj."),
    (r"^embeddings\.norm\.", "patch_embed.norm."),
    (r"^encoder\.layers\.", "layers."),
    (r"\.layernorm_before\.", ".norm1."),
    (r"\.layernorm_after\.", ".norm2."),
    (r"\.attention\.relative_position_bias\.relative_position_bias_table$", ".attn.relative_position_bias_table"),
    (r"\.attention\.self\.relative_position_bias_table$", ".attn.relative_position_bias_table"),
    (r"\.attention\.self\.logit_scale$", ".attn.logit_scale"),
    (r"\.attention\.self\.continuous_position_bias_mlp\.", ".attn.cpb_mlp."),
    (r"\.attention\.(o_proj|output\.dense)\.", ".attn.proj."),
    (r"\.intermediate\.dense\.", ".mlp.fc1."),
    (r"\.output\.dense\.", ".mlp.fc2."),
    (r"^layernorm\.", "norm."),
    (r"^classifier\.", "head."),
]
_HF_QKV = re.compile(r"^(.*)\.attention\.(?:self\.)?(q_proj|k_proj|v_proj|query|key|value)\.(weight|bias)$")


def convert_hf_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Hugging Face ``Swin*``/``Swinv2*`` names (old and new layouts) -> official names.

    q, k and v projections are concatenated into ``attn.qkv``; for v2 (key without bias) the q and
    v biases become ``attn.q_bias`` and ``attn.v_bias``. Rebuilt buffers and the MIM decoder are dropped.
    """
    out: dict[str, torch.Tensor] = {}
    qkv: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state_dict.items():
        if key.split(".")[-1] in REBUILT_BUFFERS or key.endswith("mask_token") or key.startswith("decoder."):
            continue
        match = _HF_QKV.match(key)
        if match:
            prefix, which, kind = match.groups()
            qkv.setdefault(_rename_hf(prefix), {})[f"{which[0]}.{kind}"] = value
            continue
        out[_rename_hf(key)] = value
    for prefix, parts in qkv.items():
        missing = [p for p in ("q.weight", "k.weight", "v.weight") if p not in parts]
        if missing:
            raise CheckpointError(f"{prefix}: q/k/v projection weights incomplete, missing {missing}")
        out[f"{prefix}.attn.qkv.weight"] = torch.cat([parts["q.weight"], parts["k.weight"], parts["v.weight"]])
        if "k.bias" in parts:  # v1: q, k and v all have a bias
            out[f"{prefix}.attn.qkv.bias"] = torch.cat([parts["q.bias"], parts["k.bias"], parts["v.bias"]])
        elif "q.bias" in parts:  # v2: no k bias
            out[f"{prefix}.attn.q_bias"] = parts["q.bias"]
            out[f"{prefix}.attn.v_bias"] = parts["v.bias"]
    return out


def _rename_hf(key: str) -> str:
    for pattern, repl in _HF_RENAMES:
        key = re.sub(pattern, repl, key)
    return key


def convert_timm_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """timm names -> official names: merging moves from the start of stage i to the end of stage i-1,
    ``head.fc`` becomes ``head``; rebuilt buffers are dropped."""
    out = {}
    for key, value in state_dict.items():
        if key.split(".")[-1] in REBUILT_BUFFERS:
            continue
        match = re.match(r"^layers\.(\d+)\.downsample\.(.*)$", key)
        if match:
            key = f"layers.{int(match.group(1)) - 1}.downsample.{match.group(2)}"
        key = re.sub(r"^head\.fc\.", "head.", key)
        out[key] = value
    return out


def to_official_state_dict(state_dict: Mapping[str, torch.Tensor], fmt: Format | None = None) -> dict[str, torch.Tensor]:
    """Any supported format -> official names, rebuilt buffers dropped."""
    fmt = fmt or detect_format(state_dict)
    if fmt == "hf":
        return convert_hf_state_dict(state_dict)
    if fmt == "timm":
        return convert_timm_state_dict(state_dict)
    return {k: v for k, v in state_dict.items() if k.split(".")[-1] not in REBUILT_BUFFERS}


# -- fitting a state dict to a model ----------------------------------------------------------------
def transfer_state_dict(state_dict: Mapping[str, torch.Tensor], model: nn.Module) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Adapt an official-named state dict to ``model``'s windows. Returns ``(state_dict, resized_keys)``.

    v1: each ``relative_position_bias_table`` whose size differs from the model's is resized per head
    by bicubic interpolation (the official loader's rule). v2: nothing to resize; the model's
    ``relative_coords_table`` is rebuilt from its window and ``pretrained_window_sizes``.
    """
    target = model.state_dict()
    out = {k: v for k, v in state_dict.items() if k.split(".")[-1] not in REBUILT_BUFFERS}
    resized = []
    for key, value in list(out.items()):
        if not key.endswith("relative_position_bias_table") or key not in target:
            continue
        want = target[key].shape
        if value.shape == want:
            continue
        if value.shape[1] != want[1]:
            raise CheckpointError(f"{key}: {value.shape[1]} heads in the checkpoint, {want[1]} in the model")
        old, new = _table_window(value.shape[0], key), _table_window(want[0], key)
        out[key] = resize_relative_position_bias_table(value, old, new)
        resized.append(key)
    return out, resized


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
    """Load official, timm or Hugging Face weights (a file or a state dict) into a swin_tutor model.

    - ``reset_head``: keep the model's own (freshly initialised) classifier when the class counts differ.
    - ``head_indices``: map the classifier by picking these rows of the checkpoint's head (e.g. the
      ImageNet-1k classes out of a 22k head).
    Errors list the missing and unexpected keys (first 10 of each) and every shape mismatch.
    """
    if isinstance(checkpoint, Mapping):
        raw = unwrap_state_dict(checkpoint, "the given state dict")
    else:
        raw = read_checkpoint(checkpoint)
    fmt = detect_format(raw)
    dropped = sorted(k for k in raw if k.split(".")[-1] in REBUILT_BUFFERS)
    state = to_official_state_dict(raw, fmt)
    state, resized = transfer_state_dict(state, model)
    target = model.state_dict()

    head = "loaded"
    if head_indices is not None:
        idx = torch.as_tensor(list(head_indices), dtype=torch.long)
        for name in ("head.weight", "head.bias"):
            if name in state:
                state[name] = state[name][idx]
        head = f"mapped ({len(idx)} of the checkpoint's classes)"
    if reset_head and "head.weight" in state and state["head.weight"].shape != target.get("head.weight", torch.empty(0)).shape:
        state = {k: v for k, v in state.items() if not k.startswith("head.")}
        state.update({k: v for k, v in target.items() if k.startswith("head.")})
        head = "reset (class counts differ; the model keeps its own head)"

    missing = [k for k in target if k not in state]
    unexpected = [k for k in state if k not in target]
    mismatched = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(target[k].shape)}"
        for k in state
        if k in target and state[k].shape != target[k].shape
    ]
    if mismatched:
        hint = ""
        if any(k.startswith("head.") for k in mismatched):
            hint = " (for a different number of classes pass reset_head=True, or head_indices=...)"
        raise CheckpointError(f"{len(mismatched)} shape mismatch(es) loading a {fmt} checkpoint{hint}:\n  " + "\n  ".join(mismatched[:10]))
    if strict and (missing or unexpected):
        raise CheckpointError(_key_report(fmt, missing, unexpected))
    model.load_state_dict({k: v for k, v in state.items() if k in target}, strict=False)
    return LoadReport(fmt, len(state) - len(unexpected), dropped, resized, head, missing, unexpected)


def _key_report(fmt: str, missing: list[str], unexpected: list[str]) -> str:
    lines = [f"the {fmt} checkpoint does not match the model:"]
    if missing:
        lines.append(f"  {len(missing)} missing key(s) (in the model, not the checkpoint): {missing[:10]}")
    if unexpected:
        lines.append(f"  {len(unexpected)} unexpected key(s) (in the checkpoint, not the model): {unexpected[:10]}")
    lines.append("  is it the right variant (v1/v2, T/S/B/L) and depth? pass strict=False to load the overlap")
    return "\n".join(lines)
