"""Saving a trained Swin and handing it on: official-format safetensors and Hugging Face folders.

- :func:`save_checkpoint` writes the model's weights under the official key names
  (``patch_embed.proj.weight``, ``layers.0.blocks.0.attn.qkv.weight``, ...) as a ``.safetensors``
  file, with the model's settings in the file's metadata. :func:`swin_tutor.checkpoints.loading.load_checkpoint`
  reads it back; timm's Swin loader (its ``checkpoint_filter_fn``) accepts the same official names.
- :func:`export_hf` writes a ``save_pretrained`` folder (``config.json`` + ``model.safetensors``) that
  ``transformers.SwinForImageClassification`` / ``Swinv2ForImageClassification.from_pretrained`` load.
  The names are mapped by :func:`swin_tutor.checkpoints.keys.official_to_hf_state_dict`, the inverse of
  ``convert_hf_state_dict``, and a test checks the round trip.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import torch.nn as nn

from swin_tutor.checkpoints.keys import is_rebuilt_buffer, official_to_hf_state_dict
from swin_tutor.core.model import SwinTransformer

__all__ = ["model_config", "hf_config_for", "save_checkpoint", "read_metadata", "export_hf"]


def model_config(model: SwinTransformer) -> dict:
    """The constructor settings that rebuild ``model`` (stored in checkpoints next to the weights)."""
    if not isinstance(model, SwinTransformer):
        raise TypeError(f"model must be a swin_tutor SwinTransformer or SwinTransformerV2, got {type(model).__name__}")
    return dict(
        version=model.version,
        img_size=list(model.img_size),
        patch_size=model.patch_size,
        in_chans=model.in_chans,
        num_classes=model.num_classes,
        embed_dim=model.embed_dim,
        depths=list(model.depths),
        num_heads=list(model.num_heads),
        window_size=model.window_size,
        mlp_ratio=model.mlp_ratio,
        **({"pretrained_window_sizes": list(model.pretrained_window_sizes)} if model.version == 2 else {}),
    )


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


def save_checkpoint(
    model: SwinTransformer,
    path: str | os.PathLike,
    metadata: dict | None = None,
    dtype: torch.dtype | None = None,
) -> Path:
    """Write ``model``'s weights (official names, rebuilt buffers left out) to a ``.safetensors`` file.

    ``dtype=torch.float16`` halves the file (the loader casts back to the model's dtype).
    ``metadata`` (JSON-serialisable) is stored with the model's settings under the key ``swin_tutor``.
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"path must end in .safetensors, got {str(path)!r}")
    from safetensors.torch import save_file

    module = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    state = {}
    for key, value in module.state_dict().items():
        if is_rebuilt_buffer(key):
            continue
        value = value.detach().to("cpu")
        state[key] = (value.to(dtype) if dtype is not None and value.is_floating_point() else value).contiguous()
    info = {"model": model_config(module), **(metadata or {})}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path), metadata={"format": "pt", "swin_tutor": json.dumps(info, sort_keys=True)})
    return path


def read_metadata(path: str | os.PathLike) -> dict:
    """The ``swin_tutor`` metadata of a file written by :func:`save_checkpoint` (``{}`` if there is none)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return json.loads((f.metadata() or {}).get("swin_tutor", "{}"))


def _check_hf_can_run(model: SwinTransformer) -> None:
    small = [tuple(layer.input_resolution) for layer in model.layers if min(layer.input_resolution) < model.window_size]
    if model.version == 1 and small:
        raise ValueError(
            f"Hugging Face's Swin v1 cannot run this model: stage maps {small} are smaller than the window "
            f"{model.window_size}. transformers clamps the window at forward time but builds the bias tables "
            "at construction, so their shapes clash (swin_tutor and the official code clamp at construction). "
            "Export a v2 model, or a v1 model whose every stage map is at least the window."
        )


def export_hf(model: SwinTransformer, folder: str | os.PathLike, labels: list[str] | None = None) -> Path:
    """Write a Hugging Face ``save_pretrained`` folder (config.json + model.safetensors) of ``model``.

    ``labels`` name the classes in the config (``id2label``); default "0", "1", ... Returns the folder.
    """
    from transformers import SwinForImageClassification, Swinv2ForImageClassification

    module = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    if not isinstance(module, SwinTransformer) or module.num_classes < 1:
        raise ValueError("model must be a swin_tutor SwinTransformer / SwinTransformerV2 with a classifier head")
    _check_hf_can_run(module)
    config = hf_config_for(module)
    labels = labels or [str(i) for i in range(module.num_classes)]
    if len(labels) != module.num_classes:
        raise ValueError(f"labels must name all {module.num_classes} classes, got {len(labels)}")
    config.id2label = dict(enumerate(labels))
    config.label2id = {name: i for i, name in enumerate(labels)}
    cls = Swinv2ForImageClassification if module.version == 2 else SwinForImageClassification
    reference = cls(config)
    reference.load_state_dict(official_to_hf_state_dict(module.state_dict(), reference.state_dict()), strict=True)
    folder = Path(folder)
    reference.save_pretrained(folder, safe_serialization=True)
    return folder
