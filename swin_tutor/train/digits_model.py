"""The tiny Swin of notebooks 09-11: the digits model and the weights this package ships.

``tiny_swin(version)`` builds it (v1 or v2, any setting overridable); ``load_digits_model(version)``
reads ``swin_tutor/train/weights/digits_swin_v{version}.safetensors``, made by ``make weights`` from fixed
seeds (the JSON file beside each records the settings, the test accuracy and the time).
"""

from __future__ import annotations

from pathlib import Path

from swin_tutor.core.model import SwinTransformer, SwinTransformerV2

__all__ = ["TINY_SWIN", "WEIGHTS_DIR", "tiny_swin", "load_digits_model"]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

# The digits model: 32x32 grey images, patch 2 -> 16x16 tokens, window 4 (16, 4, 1, 1 windows per stage;
# stage 2's 4x4 map is one window, stage 3's 2x2 map is clamped to a 2x2 window), width 16, head_dim 8 as in
# Swin-T (heads 2-4-8-16). About 0.58 M parameters: the float16 weights are 1.2 MB. Width 24 (1.3 M parameters,
# 2.6 MB files) was shipped first and scored no better: 98.6% (v1) and 98.9% (v2) after the same 15 epochs.
TINY_SWIN = dict(
    img_size=32, patch_size=2, in_chans=1, embed_dim=16, depths=(2, 2, 2, 2), num_heads=(2, 4, 8, 16), window_size=4
)


def tiny_swin(version: int = 1, num_classes: int = 10, **overrides) -> SwinTransformer | SwinTransformerV2:
    """The small Swin of notebook 09 (about 0.58 M parameters): v1 or v2, any setting overridable."""
    if version not in (1, 2):
        raise ValueError(f"version must be 1 or 2, got {version!r}")
    kwargs = {**TINY_SWIN, "num_classes": num_classes, "drop_path_rate": 0.1, **overrides}
    return (SwinTransformer if version == 1 else SwinTransformerV2)(**kwargs)


def load_digits_model(version: int = 1) -> SwinTransformer | SwinTransformerV2:
    """The shipped digits model (``swin_tutor/train/weights/digits_swin_v{version}.safetensors``), in eval mode."""
    from swin_tutor.checkpoints.loading import load_checkpoint

    path = WEIGHTS_DIR / f"digits_swin_v{version}.safetensors"
    if version not in (1, 2):
        raise ValueError(f"version must be 1 or 2, got {version!r}")
    if not path.is_file():
        raise FileNotFoundError(f"no shipped weights at {path}; create them with 'make weights'")
    model = tiny_swin(version)
    load_checkpoint(model, path)
    return model.float().eval()
