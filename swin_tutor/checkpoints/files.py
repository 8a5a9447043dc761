"""Reading checkpoint files safely: pickles with ``weights_only``, safetensors, Hugging Face folders.

The bottom layer of checkpoint handling: it knows files and containers, not key names or models
(:mod:`swin_tutor.checkpoints.keys` renames keys, :mod:`swin_tutor.checkpoints.loading` loads into a model).

- ``.pth``/``.pt``/``.bin``/``.ckpt`` pickles are read with ``torch.load(weights_only=True)``: a
  pickle that asks for anything but tensors and plain containers is refused before it can run code.
- ``.safetensors`` files (recognised by name or by their header) are read with safetensors.
- a Hugging Face ``save_pretrained`` folder is read through the weights file inside it.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import warnings
from collections.abc import Mapping

import torch
import torch.nn as nn

from swin_tutor.checkpoints.sniff import not_a_checkpoint, sniff_checkpoint

__all__ = ["CheckpointError", "LISTED_KEYS", "read_checkpoint", "unwrap_state_dict"]

LISTED_KEYS = 10  # how many keys an error message lists

_HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_HF_INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the model; the message says what, where."""


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
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"read_checkpoint: path must be a str or os.PathLike, got {type(path).__name__}")
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
            state: dict[str, torch.Tensor] = {}
            for shard in _index_shards(index):
                state.update(read_checkpoint(os.path.join(folder, shard)))
            return state
    raise CheckpointError(
        f"{folder!r} is a folder without model weights: expected one of "
        f"{list(_HF_WEIGHT_FILES + _HF_INDEX_FILES)} "
        "(what Hugging Face save_pretrained writes), or pass the checkpoint file itself"
    )


def _index_shards(index: str) -> list[str]:
    """The shard files a ``*.index.json`` lists (its ``weight_map`` values), each checked to exist."""
    try:
        with open(index, encoding="utf-8") as f:
            weight_map = json.load(f).get("weight_map")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
        raise CheckpointError(
            f"{index!r} is damaged: not a JSON object with a 'weight_map' ({type(exc).__name__}: "
            f"{_first_line(str(exc))}); download the folder again"
        ) from None
    if not isinstance(weight_map, dict) or not weight_map or not all(isinstance(v, str) for v in weight_map.values()):
        raise CheckpointError(
            f"{index!r} is damaged: expected a 'weight_map' from tensor names to shard file names, "
            f"got {type(weight_map).__name__}"
        )
    shards = sorted(set(weight_map.values()))
    folder = os.path.dirname(index)
    missing = [s for s in shards if not os.path.isfile(os.path.join(folder, s))]
    if missing:
        raise CheckpointError(f"{index!r} lists shard files that are not in the folder: {missing[:LISTED_KEYS]}")
    return shards


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
        kind = sniff_checkpoint(path)  # an HTML page, an LFS pointer, ... (else a damaged safetensors header)
        problem = not_a_checkpoint(path, kind) if kind != "unknown" else None
        raise CheckpointError(problem or f"{path!r} is not a readable safetensors file: {exc}") from None


def _read_pickle(path: str) -> object:
    problem = not_a_checkpoint(path, sniff_checkpoint(path))
    if problem is not None:  # an HTML page, an LFS pointer, random bytes, ...: say so before torch.load
        raise CheckpointError(problem)
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
            f"e.g. {[str(k) for k in others[:LISTED_KEYS]]}"
        )
    state = {str(k): v for k, v in obj.items()}
    if all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state
