"""Checkpoints: read official, timm and Hugging Face Swin / Swin V2 weights into swin_tutor models.

swin_tutor's parameter names are the official ones, so an official state dict needs no renaming;
timm and Hugging Face dicts are renamed here. Buffers that a model rebuilds from its configuration
(``relative_position_index``, ``attn_mask``, ``relative_coords_table``) are dropped. v1 bias tables
are resized by bicubic interpolation when the window differs; v2 needs no resizing.

Files are read safely: ``.pth``/``.pt``/``.bin``/``.ckpt`` pickles with
``torch.load(weights_only=True)`` (a pickle that asks for anything but tensors and plain containers
is refused before it can run code), ``.safetensors`` with the safetensors reader, and a Hugging
Face ``save_pretrained`` folder through the weights file inside it.

Typical use::

    model = swin_t()
    report = load_checkpoint(model, "swin_tiny_patch4_window7_224.pth")
    print(report.summary())
"""

from __future__ import annotations

import json
import os
import pickle
import re
import warnings
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
    "unwrap_state_dict",
    "detect_format",
    "convert_hf_state_dict",
    "convert_timm_state_dict",
    "to_official_state_dict",
    "transfer_state_dict",
    "official_checkpoint",
    "load_checkpoint",
]

REBUILT_BUFFERS = ("relative_position_index", "attn_mask", "relative_coords_table")
Format = Literal["official", "timm", "hf"]
_SHOW = 10  # how many keys an error message lists


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the model; the message says what, where."""


@dataclass
class LoadReport:
    """What :func:`load_checkpoint` did.

    ``format``: "official", "timm" or "hf"; ``loaded``: number of checkpoint tensors copied into
    the model; ``dropped_buffers``: checkpoint entries the model rebuilds itself (index, mask,
    coordinate tables), by their names in the checkpoint; ``resized``: v1 bias tables interpolated
    to the model's window; ``head``: what happened to the classifier; ``missing`` /
    ``unexpected``: keys left out (only with ``strict=False``).
    """

    format: str
    loaded: int
    dropped_buffers: list[str] = field(default_factory=list)
    resized: list[str] = field(default_factory=list)
    head: str = "loaded"
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines that say what happened (no file paths, the same on every machine)."""
        lines = [
            f"format: {self.format}",
            f"tensors loaded: {self.loaded}",
            f"rebuilt buffers dropped: {len(self.dropped_buffers)}",
            f"bias tables resized: {len(self.resized)}",
            f"head: {self.head}",
        ]
        if self.missing or self.unexpected:
            lines.append(f"left out (strict=False): {len(self.missing)} missing, {len(self.unexpected)} unexpected")
        return "\n".join(lines)


def _is_rebuilt_buffer(key: str) -> bool:
    return key.rsplit(".", 1)[-1] in REBUILT_BUFFERS


# -- reading ---------------------------------------------------------------------------------------
_HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_HF_INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")


def read_checkpoint(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a checkpoint file and return its state dict (unwrapping ``{"model": ...}`` and
    ``{"state_dict": ...}``).

    - ``.pth``/``.pt``/``.bin``/``.ckpt``: a pickle, read with ``torch.load(weights_only=True)``;
      one that holds other Python objects (and could run code while loading) raises
      :class:`CheckpointError`.
    - ``.safetensors``: read with safetensors (no code can run).
    - a folder written by Hugging Face ``save_pretrained``: its ``model.safetensors`` or
      ``pytorch_model.bin`` (sharded weights through their ``*.index.json``).
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        return _read_hf_folder(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint file not found: {path!r}")
    if path.endswith(".safetensors") or _looks_like_safetensors(path):
        return _read_safetensors(path)
    return unwrap_state_dict(_read_pickle(path), source=repr(path))


def _read_hf_folder(folder: str) -> dict[str, torch.Tensor]:
    for name in _HF_WEIGHT_FILES:
        if os.path.isfile(os.path.join(folder, name)):
            return read_checkpoint(os.path.join(folder, name))
    for name in _HF_INDEX_FILES:
        index = os.path.join(folder, name)
        if os.path.isfile(index):
            with open(index, encoding="utf-8") as f:
                shards = sorted(set(json.load(f).get("weight_map", {}).values()))
            state: dict[str, torch.Tensor] = {}
            for shard in shards:
                state.update(read_checkpoint(os.path.join(folder, shard)))
            return state
    raise CheckpointError(
        f"{folder!r} is a folder without model weights: expected one of "
        f"{list(_HF_WEIGHT_FILES + _HF_INDEX_FILES)} "
        "(what Hugging Face save_pretrained writes), or pass the checkpoint file itself"
    )


def _looks_like_safetensors(path: str) -> bool:
    """A safetensors file starts with an 8-byte little-endian header length, then JSON ('{')."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
        size = os.path.getsize(path)
    except OSError:
        return False
    return len(head) == 9 and head[8:9] == b"{" and 0 < int.from_bytes(head[:8], "little") < size


def _read_safetensors(path: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    try:
        return load_file(path, device="cpu")
    except Exception as exc:  # safetensors raises its own error type for a damaged header
        raise CheckpointError(f"{path!r} is not a readable safetensors file: {exc}") from None


def _read_pickle(path: str) -> object:
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*pickle protocol.*")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        message = str(exc)
        if "weights only" not in message.lower() and "weights_only" not in message:
            raise CheckpointError(
                f"{path!r} is not a checkpoint file: torch.load could not read it ({_first_line(message)})"
            ) from None
        wanted = re.search(r"GLOBAL ([\w.]+)", message)
        asked = f" (it asks for {wanted.group(1)})" if wanted else ""
        raise CheckpointError(
            f"refused to load {path!r}: it holds Python objects, not only tensors{asked}. "
            "A .pth file is a pickle, and unpickling can run arbitrary code; weights_only=True "
            "stopped it before anything ran. If you trust where the file came from, read it "
            "yourself with torch.load(path, weights_only=False) and pass the state dict to "
            "load_checkpoint."
        ) from None
    except Exception as exc:  # a text file, a truncated download, a zip that is not a torch archive, ...
        detail = _first_line(str(exc)) or "no details"
        raise CheckpointError(
            f"{path!r} is not a checkpoint file: torch.load could not read it "
            f"({type(exc).__name__}: {detail}); "
            "expected a file written by torch.save or a .safetensors file"
        ) from None


def _first_line(text: str, limit: int = 200) -> str:
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    return line[:limit]


def unwrap_state_dict(obj: object, source: str = "the checkpoint") -> dict[str, torch.Tensor]:
    """Return the tensor dict inside an official (``model``), Lightning-style (``state_dict``) or
    plain checkpoint, or a module's state dict. A ``module.`` prefix on every key
    (DistributedDataParallel) is removed."""
    if isinstance(obj, nn.Module):
        return dict(obj.state_dict())
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{source} holds a {type(obj).__name__}, not a state dict (a dict of tensors)")
    for key in ("model", "state_dict", "model_state_dict"):
        if key in obj and isinstance(obj[key], (Mapping, nn.Module)):
            return unwrap_state_dict(obj[key], source)
    if not obj:
        raise CheckpointError(f"{source} is empty: no tensors to load")
    others = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if others:
        raise CheckpointError(
            f"{source} holds no state dict: expected a dict of tensors, or one under 'model' / "
            f"'state_dict'; {len(others)} of its {len(obj)} entries are not tensors, "
            f"e.g. {[str(k) for k in others[:_SHOW]]}"
        )
    state = {str(k): v for k, v in obj.items()}
    if all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


# -- formats ---------------------------------------------------------------------------------------
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
        if _is_rebuilt_buffer(key) or key.endswith("mask_token") or bare.startswith(_HF_DROPPED_PREFIXES):
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


def convert_timm_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """timm names -> official names: merging moves from the start of stage i (i >= 1) to the end of
    stage i-1, ``head.fc`` becomes ``head``; rebuilt buffers are dropped.

    Older timm dicts that already merge at the end of a stage (``layers.0.downsample`` present) keep
    their merging keys.
    """
    merges_at_start = not any(k.startswith("layers.0.downsample.") for k in state_dict)
    out = {}
    for key, value in state_dict.items():
        if _is_rebuilt_buffer(key):
            continue
        match = re.match(r"^layers\.(\d+)\.downsample\.(.*)$", key)
        if match and merges_at_start:
            key = f"layers.{int(match.group(1)) - 1}.downsample.{match.group(2)}"
        key = re.sub(r"^head\.fc\.", "head.", key)
        out[key] = value
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
    return {k: v for k, v in state_dict.items() if not _is_rebuilt_buffer(k)}


def official_checkpoint(model: nn.Module) -> dict[str, dict[str, torch.Tensor]]:
    """``model``'s weights laid out as an official checkpoint file: ``{"model": state_dict}`` with
    the buffers official files carry (``relative_position_index``, ``attn_mask``,
    ``relative_coords_table``).

    ``torch.save(official_checkpoint(model), "file.pth")`` writes what the official repository
    publishes.
    """
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for name, buffer in model.named_buffers():
        if buffer is not None and _is_rebuilt_buffer(name):
            state[name] = buffer.detach().clone()
    return {"model": state}


# -- fitting a state dict to a model ---------------------------------------------------------------
def transfer_state_dict(
    state_dict: Mapping[str, torch.Tensor], model: nn.Module
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Adapt an official-named state dict to ``model``'s windows.

    Returns ``(state_dict, resized_keys)``. v1: each ``relative_position_bias_table`` whose size
    differs from the model's is resized per head by bicubic interpolation (the official loader's
    rule). v2: nothing to resize; the model's ``relative_coords_table`` is rebuilt from its window
    and ``pretrained_window_sizes`` (build the model with the checkpoint's window as
    ``pretrained_window_sizes`` to keep the coordinates' scale).
    """
    target = model.state_dict()
    out = {k: v for k, v in state_dict.items() if not _is_rebuilt_buffer(k)}
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
    """Load official, timm or Hugging Face weights (file, folder or state dict) into a model.

    - ``strict``: every model key must be in the checkpoint and every checkpoint key in the model;
      with ``strict=False`` the overlap is loaded and the rest listed in the report. Shape
      mismatches are always an error.
    - ``reset_head``: when the checkpoint's classifier does not fit (another class count, no head,
      or a headless model), keep the model's own (freshly initialised) classifier.
    - ``head_indices``: map the classifier by picking these rows of the checkpoint's head (e.g. the
      ImageNet-1k classes out of a 22k head).
    Errors list the missing and unexpected keys (first 10 of each) and the shape mismatches with
    both shapes.
    """
    if isinstance(checkpoint, (Mapping, nn.Module)):
        raw = unwrap_state_dict(checkpoint, "the given state dict")
    else:
        raw = read_checkpoint(checkpoint)
    fmt = detect_format(raw)
    dropped = sorted(k for k in raw if _is_rebuilt_buffer(k))
    state = to_official_state_dict(raw, fmt)
    state, resized = transfer_state_dict(state, model)
    target = model.state_dict()

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
        raise CheckpointError(_mismatch_report(fmt, state, target, missing, unexpected, mismatched, strict))
    model.load_state_dict({k: v for k, v in state.items() if k in target}, strict=False)
    return LoadReport(fmt, len(state) - len(unexpected), dropped, resized, head, missing, unexpected)


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


def _mismatch_report(
    fmt: str,
    state: Mapping[str, torch.Tensor],
    target: Mapping[str, torch.Tensor],
    missing: list[str],
    unexpected: list[str],
    mismatched: list[str],
    strict: bool,
) -> str:
    lines = [f"the {fmt} checkpoint does not fit the model:"]
    if mismatched:
        lines.append(f"  {len(mismatched)} shape mismatch(es) (checkpoint vs model):")
        lines.extend(
            f"    {k}: checkpoint {tuple(state[k].shape)} vs model {tuple(target[k].shape)}" for k in mismatched[:_SHOW]
        )
        if len(mismatched) > _SHOW:
            lines.append(f"    ... and {len(mismatched) - _SHOW} more")
    if strict and missing:
        lines.append(f"  {len(missing)} missing key(s) (in the model, not the checkpoint): {missing[:_SHOW]}")
    if strict and unexpected:
        lines.append(f"  {len(unexpected)} unexpected key(s) (in the checkpoint, not the model): {unexpected[:_SHOW]}")
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
