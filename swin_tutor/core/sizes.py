"""The published sizes, Swin-T/S/B/L and SwinV2-T/S/B: one table and one thin constructor each.

``swin_t()`` is ``SwinTransformer(**_SIZES["T"])`` with the official image size and window; any
other argument of the model's constructor can be passed through (``num_classes=10``, ``img_size=384``).
"""

from __future__ import annotations

from collections.abc import Sequence

from swin_tutor.core.model import SwinTransformer, SwinTransformerV2

__all__ = ["swin_t", "swin_s", "swin_b", "swin_l", "swinv2_t", "swinv2_s", "swinv2_b"]

# The published sizes, the one place they are written: width C, blocks and heads per stage (head_dim
# 32), and the stochastic-depth rate the official configs train with.
_SIZES = {
    "T": dict(embed_dim=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), drop_path_rate=0.2),
    "S": dict(embed_dim=96, depths=(2, 2, 18, 2), num_heads=(3, 6, 12, 24), drop_path_rate=0.3),
    "B": dict(embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32), drop_path_rate=0.5),
    "L": dict(embed_dim=192, depths=(2, 2, 18, 2), num_heads=(6, 12, 24, 48), drop_path_rate=0.2),
}


def _sized(cls: type[SwinTransformer], size: str, **kw) -> SwinTransformer:
    config = dict(_SIZES[size])
    config.update({k: v for k, v in kw.items() if v is not None})
    return cls(**config)


def swin_t(img_size=224, window_size=7, num_classes=1000, drop_path_rate: float | None = None, **kw) -> SwinTransformer:
    """Swin-T: C=96, depths 2-2-6-2, heads 3-6-12-24 (28.3 M parameters at 1000 classes)."""
    return _sized(SwinTransformer, "T", img_size=img_size, window_size=window_size, num_classes=num_classes,
                  drop_path_rate=drop_path_rate, **kw)  # fmt: skip


def swin_s(img_size=224, window_size=7, num_classes=1000, drop_path_rate: float | None = None, **kw) -> SwinTransformer:
    """Swin-S: C=96, depths 2-2-18-2, heads 3-6-12-24 (49.6 M parameters)."""
    return _sized(SwinTransformer, "S", img_size=img_size, window_size=window_size, num_classes=num_classes,
                  drop_path_rate=drop_path_rate, **kw)  # fmt: skip


def swin_b(img_size=224, window_size=7, num_classes=1000, drop_path_rate: float | None = None, **kw) -> SwinTransformer:
    """Swin-B: C=128, depths 2-2-18-2, heads 4-8-16-32 (87.8 M parameters)."""
    return _sized(SwinTransformer, "B", img_size=img_size, window_size=window_size, num_classes=num_classes,
                  drop_path_rate=drop_path_rate, **kw)  # fmt: skip


def swin_l(img_size=224, window_size=7, num_classes=1000, drop_path_rate: float | None = None, **kw) -> SwinTransformer:
    """Swin-L: C=192, depths 2-2-18-2, heads 6-12-24-48 (196.5 M parameters)."""
    return _sized(SwinTransformer, "L", img_size=img_size, window_size=window_size, num_classes=num_classes,
                  drop_path_rate=drop_path_rate, **kw)  # fmt: skip


def swinv2_t(img_size=256, window_size=8, num_classes=1000, drop_path_rate: float | None = None,
             pretrained_window_sizes: Sequence[int] = (0, 0, 0, 0), **kw) -> SwinTransformerV2:  # fmt: skip
    """SwinV2-T: C=96, depths 2-2-6-2, heads 3-6-12-24 (28.3 M parameters)."""
    return _sized(SwinTransformerV2, "T", img_size=img_size, window_size=window_size, num_classes=num_classes,
                  drop_path_rate=drop_path_rate, pretrained_window_sizes=pretrained_window_sizes, **kw)  # fmt: skip


def swinv2_s(img_size=256, window_size=8, num_classes=1000, drop_path_rate: float | None = None,
             pretrained_window_sizes: Sequence[int] = (0, 0, 0, 0), **kw) -> SwinTransformerV2:  # fmt: skip
    """SwinV2-S: C=96, depths 2-2-18-2, heads 3-6-12-24 (49.7 M parameters)."""
    return _sized(SwinTransformerV2, "S", img_size=img_size, window_size=window_size, num_classes=num_classes,
                  drop_path_rate=drop_path_rate, pretrained_window_sizes=pretrained_window_sizes, **kw)  # fmt: skip


def swinv2_b(img_size=256, window_size=8, num_classes=1000, drop_path_rate: float | None = None,
             pretrained_window_sizes: Sequence[int] = (0, 0, 0, 0), **kw) -> SwinTransformerV2:  # fmt: skip
    """SwinV2-B: C=128, depths 2-2-18-2, heads 4-8-16-32 (87.9 M parameters)."""
    return _sized(SwinTransformerV2, "B", img_size=img_size, window_size=window_size, num_classes=num_classes,
                  drop_path_rate=drop_path_rate, pretrained_window_sizes=pretrained_window_sizes, **kw)  # fmt: skip
