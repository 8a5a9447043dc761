"""The reference implementation the tests and notebook checks compare with: Hugging Face transformers.

``make_hf_reference(model)`` builds the Hugging Face Swin / Swinv2 classifier with the same
configuration, gives it seeded random weights (every parameter, LayerNorms and bias tables
included, so nothing is left at a default that could hide a mistake), and copies those weights into
``model`` through :func:`swin_tutor.checkpoint.convert_hf_state_dict`. Both then hold the same numbers.
transformers is imported only here, and only when called.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .checkpoint import convert_hf_state_dict
from .model import SwinTransformer

__all__ = ["hf_config_for", "make_hf_reference", "hf_block", "hf_stage", "perturb_"]


def hf_config_for(model: SwinTransformer):
    """The ``SwinConfig`` / ``Swinv2Config`` that describes ``model`` (eager attention, no dropout)."""
    from transformers import SwinConfig, Swinv2Config

    common = dict(
        image_size=list(model.img_size),
        patch_size=model.patch_size,
        num_channels=model.in_chans,
        embed_dim=model.embed_dim,
        depths=list(model.depths),
        num_heads=list(model.num_heads),
        window_size=model.window_size,
        mlp_ratio=model.mlp_ratio,
        qkv_bias=True,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        drop_path_rate=0.0,
        hidden_act="gelu",
        use_absolute_embeddings=False,
        layer_norm_eps=1e-5,
        num_labels=max(model.num_classes, 1),
    )
    if model.version == 2:
        config = Swinv2Config(pretrained_window_sizes=list(model.pretrained_window_sizes), **common)
    else:
        config = SwinConfig(**common)
    config._attn_implementation = "eager"
    return config


def perturb_(module: nn.Module, seed: int = 0, scale: float = 0.02) -> nn.Module:
    """Add seeded noise to every floating-point parameter, in place (LayerNorm weights stop being 1, etc.)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(module.named_parameters()):
            p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * scale)
    return module


def make_hf_reference(model: SwinTransformer, seed: int = 0):
    """Build the Hugging Face twin of ``model``, randomise it (seeded), copy its weights into ``model``.

    Returns the Hugging Face model in eval mode; ``model`` is left in eval mode with the same weights.
    """
    from transformers import SwinForImageClassification, Swinv2ForImageClassification

    if model.version == 1:
        small = [
            tuple(layer.input_resolution) for layer in model.layers if min(layer.input_resolution) < model.window_size
        ]
        if small:
            raise ValueError(
                f"Hugging Face's Swin v1 cannot run this configuration: stage maps {small} are smaller than the "
                f"window {model.window_size}. It clamps the window at forward time but builds the bias tables at "
                "construction, so the shapes clash (swin_tutor and the official code clamp at construction). "
                "Compare such a model stage by stage instead (see tests/test_v1_parity.py)."
            )
    torch.manual_seed(seed)
    cls = Swinv2ForImageClassification if model.version == 2 else SwinForImageClassification
    reference = cls(hf_config_for(model))
    perturb_(reference, seed=seed)
    if model.num_classes == 0:
        reference.classifier = nn.Identity()
    state = convert_hf_state_dict(reference.state_dict())
    model.load_state_dict(state, strict=True)
    device = next(model.parameters()).device
    return reference.to(device).eval(), model.eval()


def hf_stage(reference, i: int) -> nn.Module:
    """Stage ``i`` (``layers.i``) of a Hugging Face Swin / Swinv2 classifier."""
    backbone = reference.swinv2 if hasattr(reference, "swinv2") else reference.swin
    return backbone.encoder.layers[i]


def hf_block(reference, i: int, j: int) -> nn.Module:
    """Block ``j`` of stage ``i`` of a Hugging Face Swin / Swinv2 classifier."""
    return hf_stage(reference, i).blocks[j]
