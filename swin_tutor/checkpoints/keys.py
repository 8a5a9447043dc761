"""Checkpoint key formats: tell official, timm and Hugging Face state dicts apart and rename them.

swin_tutor's parameter names are the official ones, so an official state dict needs no renaming;
timm and Hugging Face (old and new layouts) dicts are renamed here. Buffers that a model rebuilds
from its configuration (``REBUILT_BUFFERS``) are dropped. Works on dicts only: no files, no models.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

import torch

from swin_tutor.checkpoints.files import CheckpointError

__all__ = [
    "Format",
    "REBUILT_BUFFERS",
    "is_rebuilt_buffer",
    "detect_format",
    "convert_hf_state_dict",
    "official_to_hf_state_dict",
    "convert_timm_state_dict",
    "official_to_timm_state_dict",
    "to_official_state_dict",
]

REBUILT_BUFFERS = ("relative_position_index", "attn_mask", "relative_coords_table")
Format = Literal["official", "timm", "hf"]


def is_rebuilt_buffer(key: str) -> bool:
    """Whether ``key`` names a buffer the model rebuilds from its configuration (``REBUILT_BUFFERS``)."""
    return key.rsplit(".", 1)[-1] in REBUILT_BUFFERS


def detect_format(state_dict: Mapping[str, torch.Tensor]) -> Format:
    """Tell official, timm and Hugging Face dicts apart by their key names.

    Hugging Face: ``swin.``/``swinv2.`` prefixes (a bare backbone: ``embeddings.``/``encoder.``).
    timm: ``head.fc.*``, or merging at the start of a stage (``layers.1.downsample`` without
    ``layers.0.downsample``).
    official: ``patch_embed.*`` / ``layers.*`` otherwise.
    """
    keys = list(state_dict)
    if not keys:
        raise CheckpointError("unrecognised checkpoint format: the state dict is empty")
    if any(k.startswith(("swin.", "swinv2.", "embeddings.", "encoder.")) for k in keys):
        return "hf"
    merges_at_start = any(k.startswith("layers.1.downsample.") for k in keys) and not any(
        k.startswith("layers.0.downsample.") for k in keys
    )
    if any(k.startswith("head.fc.") for k in keys) or merges_at_start:
        return "timm"
    if any(k.startswith(("patch_embed.", "layers.")) for k in keys):
        return "official"
    raise CheckpointError(
        "unrecognised checkpoint format: expected official Swin keys ('patch_embed.proj.weight', "
        "'layers.0.blocks.0...'), timm keys ('head.fc.weight') or Hugging Face keys "
        f"('swin.embeddings...'); first keys: {keys[:5]}"
    )


# Hugging Face names -> official names, applied in order. Both layouts are covered: the older one
# (attention.self.query/key/value, attention.output.dense, intermediate.dense, output.dense) and
# the newer one (attention.q_proj/k_proj/v_proj/o_proj, mlp.fc1/fc2: already the official names).
_HF_RENAMES = [
    (r"^(swin|swinv2)\.", ""),
    (r"^embeddings\.patch_embeddings\.projection\.", "patch_embed.proj."),
    (r"^embeddings\.norm\.", "patch_embed.norm."),
    (r"^encoder\.layers\.", "layers."),
    (r"\.layernorm_before\.", ".norm1."),
    (r"\.layernorm_after\.", ".norm2."),
    (
        r"\.attention\.(?:self\.)?(?:relative_position_bias\.)?relative_position_bias_table$",
        ".attn.relative_position_bias_table",
    ),
    (r"\.attention\.(?:self\.)?logit_scale$", ".attn.logit_scale"),
    (r"\.attention\.(?:self\.)?continuous_position_bias_mlp\.", ".attn.cpb_mlp."),
    (r"\.attention\.(?:o_proj|output\.dense)\.", ".attn.proj."),
    (r"\.intermediate\.dense\.", ".mlp.fc1."),
    (r"\.output\.dense\.", ".mlp.fc2."),
    (r"^layernorm\.", "norm."),
    (r"^classifier\.", "head."),
]
_HF_QKV = re.compile(r"^(.*)\.attention\.(?:self\.)?(q_proj|k_proj|v_proj|query|key|value)\.(weight|bias)$")
_HF_DROPPED_PREFIXES = ("decoder.", "pooler.")


def convert_hf_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Hugging Face ``Swin*``/``Swinv2*`` names (old and new layouts) -> official names.

    q, k and v projections are concatenated into ``attn.qkv``; for v2 (key without bias) the q and
    v biases become ``attn.q_bias`` and ``attn.v_bias``. Rebuilt buffers, the mask token and the
    masked-image-modelling decoder are dropped.
    """
    out: dict[str, torch.Tensor] = {}
    qkv: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state_dict.items():
        bare = re.sub(r"^(swin|swinv2)\.", "", key)
        if is_rebuilt_buffer(key) or key.endswith("mask_token") or bare.startswith(_HF_DROPPED_PREFIXES):
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
            if "q.bias" not in parts or "v.bias" not in parts:
                raise CheckpointError(f"{prefix}: a key bias without both query and value biases")
            out[f"{prefix}.attn.qkv.bias"] = torch.cat([parts["q.bias"], parts["k.bias"], parts["v.bias"]])
        elif "q.bias" in parts or "v.bias" in parts:  # v2: no key bias
            if "q.bias" not in parts or "v.bias" not in parts:
                raise CheckpointError(f"{prefix}: v2 attention needs both a query and a value bias")
            out[f"{prefix}.attn.q_bias"] = parts["q.bias"]
            out[f"{prefix}.attn.v_bias"] = parts["v.bias"]
    return out


def _rename_hf(key: str) -> str:
    for pattern, repl in _HF_RENAMES:
        key = re.sub(pattern, repl, key)
    return key


def official_to_hf_state_dict(
    official: Mapping[str, torch.Tensor], hf_template: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """The inverse of :func:`convert_hf_state_dict`: the ``official`` weights under the names of a
    Hugging Face model's state dict ``hf_template`` (its rebuilt buffers are taken from the template).

    Every Hugging Face name is mapped with the same renaming rules; ``attn.qkv`` is split into the
    query, key and value projections, and v2's ``q_bias`` / ``v_bias`` become their biases.
    """
    out: dict[str, torch.Tensor] = {}
    for key, theirs in hf_template.items():
        if is_rebuilt_buffer(key):
            out[key] = theirs  # rebuilt from the configuration on both sides
            continue
        match = _HF_QKV.match(key)
        if match is None:
            out[key] = official[_rename_hf(key)]
            continue
        prefix, which, kind = match.groups()
        attn, part = f"{_rename_hf(prefix)}.attn", "qkv".index(which[0])
        if kind == "bias" and f"{attn}.q_bias" in official:  # v2: separate q and v biases, the key has none
            out[key] = official[f"{attn}.{which[0]}_bias"] if which[0] != "k" else torch.zeros_like(theirs)
        else:
            out[key] = official[f"{attn}.qkv.{kind}"].chunk(3, dim=0)[part]
    return out


def convert_timm_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """timm names -> official names: merging moves from the start of stage i (i >= 1) to the end of
    stage i-1, ``head.fc`` becomes ``head``; rebuilt buffers are dropped.

    Older timm dicts that already merge at the end of a stage (``layers.0.downsample`` present) keep
    their merging keys.
    """
    merges_at_start = not any(k.startswith("layers.0.downsample.") for k in state_dict)
    out = {}
    for key, value in state_dict.items():
        if is_rebuilt_buffer(key):
            continue
        match = re.match(r"^layers\.(\d+)\.downsample\.(.*)$", key)
        if match and merges_at_start:
            key = f"layers.{int(match.group(1)) - 1}.downsample.{match.group(2)}"
        key = re.sub(r"^head\.fc\.", "head.", key)
        out[key] = value
    return out


def official_to_timm_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse of :func:`convert_timm_state_dict`: official names -> the layout of timm >= 0.9
    (what its hub files hold), written from timm's key naming (timm itself is not needed).

    Merging moves from the end of stage i to the start of stage i+1 (``layers.0.downsample`` ->
    ``layers.1.downsample``), ``head`` becomes ``head.fc``; the rebuilt buffers are left out, as timm
    does not save them.
    """
    out = {}
    for key, value in state_dict.items():
        if is_rebuilt_buffer(key):
            continue
        match = re.match(r"^layers\.(\d+)\.downsample\.(.*)$", key)
        if match:
            key = f"layers.{int(match.group(1)) + 1}.downsample.{match.group(2)}"
        out[re.sub(r"^head\.", "head.fc.", key)] = value
    return out


def to_official_state_dict(
    state_dict: Mapping[str, torch.Tensor], fmt: Format | None = None
) -> dict[str, torch.Tensor]:
    """Any supported format -> official names, rebuilt buffers dropped."""
    fmt = fmt or detect_format(state_dict)
    if fmt == "hf":
        return convert_hf_state_dict(state_dict)
    if fmt == "timm":
        return convert_timm_state_dict(state_dict)
    return {k: v for k, v in state_dict.items() if not is_rebuilt_buffer(k)}
