"""Saving a trained Swin and handing it on: official-format safetensors and Hugging Face folders.

- :func:`save_checkpoint` writes the model's weights under the official key names
  (``patch_embed.proj.weight``, ``layers.0.blocks.0.attn.qkv.weight``, ...) as a ``.safetensors``
  file, with the model's settings in the file's metadata. :func:`swin_tutor.checkpoints.loading.load_checkpoint`
  reads it back; timm's Swin loader (its ``checkpoint_filter_fn``) accepts the same official names.
- :func:`export_hf` writes a ``save_pretrained`` folder (``config.json`` + ``model.safetensors``) that
  ``transformers.SwinForImageClassification`` / ``Swinv2ForImageClassification.from_pretrained`` load,
  with ``preprocessor_config.json`` so ``pipeline("image-classification", model=folder)`` runs it.
  The names are mapped by :func:`swin_tutor.checkpoints.keys.official_to_hf_state_dict`, the inverse of
  ``convert_hf_state_dict``, and a test checks the round trip.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import torch.nn as nn

from swin_tutor.checkpoints.atomic import atomic_folder, atomic_write, check_replaceable
from swin_tutor.checkpoints.files import CheckpointError
from swin_tutor.checkpoints.guards import INPUT_CONV
from swin_tutor.checkpoints.hf_processor import check_labels, image_processor_config, normalization_for, spread_over_rgb
from swin_tutor.checkpoints.keys import is_rebuilt_buffer, official_to_hf_state_dict
from swin_tutor.checkpoints.sniff import sniff_checkpoint
from swin_tutor.core.model import SwinTransformer

__all__ = ["EXPORT_MARKER", "model_config", "hf_config_for", "save_checkpoint", "read_metadata", "export_hf"]

EXPORT_MARKER = "swin_tutor.json"  # written into every export_hf folder: the swin_tutor settings of the model


def model_config(model: SwinTransformer) -> dict:
    """The constructor settings that rebuild ``model`` (stored in checkpoints next to the weights)."""
    if not isinstance(model, SwinTransformer):
        raise TypeError(f"model must be a swin_tutor SwinTransformer or SwinTransformerV2, got {type(model).__name__}")
    return model.config.settings()


def hf_config_for(model: SwinTransformer):
    """The ``SwinConfig`` / ``Swinv2Config`` that describes ``model`` (eager attention, no dropout).

    Built from :func:`model_config`, the one description of a model's settings.
    """
    from transformers import SwinConfig, Swinv2Config

    settings = model_config(model)
    common = dict(
        image_size=settings["img_size"],
        patch_size=settings["patch_size"],
        num_channels=settings["in_chans"],
        embed_dim=settings["embed_dim"],
        depths=settings["depths"],
        num_heads=settings["num_heads"],
        window_size=settings["window_size"],
        mlp_ratio=settings["mlp_ratio"],
        qkv_bias=True,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        drop_path_rate=0.0,
        hidden_act="gelu",
        use_absolute_embeddings=False,
        layer_norm_eps=1e-5,
        num_labels=max(settings["num_classes"], 1),
    )
    if settings["version"] == 2:
        config = Swinv2Config(pretrained_window_sizes=settings["pretrained_window_sizes"], **common)
    else:
        config = SwinConfig(**common)
    config._attn_implementation = "eager"
    return config


def _unwrap(model: object, caller: str) -> SwinTransformer:
    """The swin_tutor model inside a DistributedDataParallel wrapper; a compiled model is refused."""
    if hasattr(model, "_orig_mod") and type(model).__name__ == "OptimizedModule":
        raise TypeError(
            f"{caller}: model is a compiled wrapper (torch.compile / compile_model returns a torch._dynamo "
            "OptimizedModule); pass the original model, model._orig_mod (it shares the same weights)"
        )
    module = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    if not isinstance(module, SwinTransformer):
        raise TypeError(
            f"{caller}: model must be a swin_tutor SwinTransformer or SwinTransformerV2, got {type(model).__name__}"
        )
    return module


def _json_metadata(metadata: object) -> str:
    """``metadata`` as JSON text; a TypeError names the entry that JSON cannot hold."""
    if not isinstance(metadata, dict) or not all(isinstance(k, str) for k in metadata):
        raise TypeError(f"metadata must be a dict with str keys, got {type(metadata).__name__}")
    for key, value in metadata.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"metadata[{key!r}] cannot be stored as JSON ({exc}); keep to numbers, strings, lists and dicts "
                "(a tensor: .tolist() or .item())"
            ) from None
    return json.dumps(metadata, sort_keys=True)


def save_checkpoint(
    model: SwinTransformer,
    path: str | os.PathLike,
    metadata: dict | None = None,
    dtype: torch.dtype | None = None,
) -> Path:
    """Write ``model``'s weights (official names, rebuilt buffers left out) to a ``.safetensors`` file.

    ``dtype=torch.float16`` halves the file (the loader casts back to the model's dtype).
    ``metadata`` (JSON-serialisable) is stored with the model's settings under the key ``swin_tutor``.
    The file is written all or nothing (a temporary file beside it, then a rename), with the umask's
    permissions; an existing file is replaced.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"{str(path)!r} is a folder: pass a file path such as {str(path / 'model.safetensors')!r}"
        )
    if path.suffix != ".safetensors":
        raise ValueError(f"path must end in .safetensors, got {str(path)!r}")
    from safetensors.torch import save_file

    module = _unwrap(model, "save_checkpoint")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict with str keys, got {type(metadata).__name__}")
    info = _json_metadata({"model": model_config(module), **(metadata or {})})
    state = {}
    for key, value in module.state_dict().items():
        if is_rebuilt_buffer(key):
            continue
        value = value.detach().to("cpu")
        state[key] = (value.to(dtype) if dtype is not None and value.is_floating_point() else value).contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: save_file(state, tmp, metadata={"format": "pt", "swin_tutor": info}))
    return path


def read_metadata(path: str | os.PathLike) -> dict:
    """The ``swin_tutor`` metadata of a file written by :func:`save_checkpoint` (``{}`` if there is none)."""
    from safetensors import safe_open

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"read_metadata: no file at {path!r}")
    try:
        with safe_open(path, framework="pt") as f:
            text = (f.metadata() or {}).get("swin_tutor", "{}")
    except Exception:  # safetensors' own error type, without the path
        raise CheckpointError(
            f"read_metadata reads .safetensors files (what save_checkpoint writes); {path!r} is not one "
            f"(it looks like: {sniff_checkpoint(path)}); a .pth file has no metadata: load it with load_checkpoint"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise CheckpointError(f"{path!r}: its swin_tutor metadata is not valid JSON (a damaged file?)") from None


def _check_hf_can_run(model: SwinTransformer) -> None:
    small = [tuple(layer.input_resolution) for layer in model.layers if min(layer.input_resolution) < model.window_size]
    if model.version == 1 and small:
        raise ValueError(
            f"Hugging Face's Swin v1 cannot run this model: stage maps {small} are smaller than the window "
            f"{model.window_size}. transformers clamps the window at forward time but builds the bias tables "
            "at construction, so their shapes clash (swin_tutor clamps per map size too, but reads the centre of "
            "a table built for the requested window; the official code clamps at construction, table included). "
            "Export a v2 model, or a v1 model whose every stage map is at least the window."
        )


def export_hf(
    model: SwinTransformer,
    folder: str | os.PathLike,
    labels: list[str] | None = None,
    *,
    mean: float | list[float] | None = None,
    std: float | list[float] | None = None,
    resample: str | None = None,
    rgb_input: bool | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a Hugging Face ``save_pretrained`` folder of ``model``: ``config.json``, ``model.safetensors``,
    ``preprocessor_config.json`` (for ``pipeline``) and ``swin_tutor.json`` (the swin_tutor settings).

    ``labels`` name the classes (``id2label``; default "0", "1", ...; distinct). ``mean`` / ``std``: the
    input normalisation (default ImageNet's for RGB models, the digits' 0.305 / 0.324 for one channel);
    ``resample``: "bilinear" (default for one channel, as the digits are upsampled) or "bicubic"
    (default for RGB). ``rgb_input`` (default: True for a one-channel model) exports a grey model with
    three input channels so ``pipeline`` (which hands over RGB pictures) can run it; pass False for
    one channel. All or nothing: written beside ``folder`` and renamed into place. A non-empty folder
    that export_hf did not make is refused unless ``overwrite=True`` (which replaces all of it).
    """
    from transformers import SwinForImageClassification, Swinv2ForImageClassification

    module = _unwrap(model, "export_hf")
    if module.num_classes < 1:
        raise ValueError("export_hf: the model has no classifier head (num_classes=0); export one with a head")
    _check_hf_can_run(module)
    folder = Path(folder)
    check_replaceable(folder, EXPORT_MARKER, overwrite)
    labels = check_labels(labels, module.num_classes)
    rgb = module.in_chans == 1 if rgb_input is None else bool(rgb_input)
    if rgb and module.in_chans not in (1, 3):
        raise ValueError(f"rgb_input=True needs a 1- or 3-channel model, got in_chans={module.in_chans}")
    means, stds = normalization_for(module.in_chans, mean, std)
    resample = resample or ("bicubic" if module.in_chans == 3 else "bilinear")
    processor = image_processor_config(module.img_size, means, stds, resample, rgb)
    config = hf_config_for(module)
    config.num_channels = 3 if rgb else module.in_chans
    config.id2label = dict(enumerate(labels))
    config.label2id = {name: i for i, name in enumerate(labels)}
    cls = Swinv2ForImageClassification if module.version == 2 else SwinForImageClassification
    reference = cls(config)
    state = dict(module.state_dict())
    if rgb and module.in_chans == 1:
        state[INPUT_CONV] = spread_over_rgb(state[INPUT_CONV])
    reference.load_state_dict(official_to_hf_state_dict(state, reference.state_dict()), strict=True)
    marker = {"model": model_config(module), "rgb_input": rgb, "mean": means, "std": stds}
    with atomic_folder(folder) as tmp:
        reference.save_pretrained(tmp, safe_serialization=True)
        (tmp / "preprocessor_config.json").write_text(json.dumps(processor, indent=2) + "\n", encoding="utf-8")
        (tmp / EXPORT_MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return folder
