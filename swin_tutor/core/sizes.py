"""The published sizes, Swin-T/S/B/L and SwinV2-T/S/B: one table, one constructor.

``swin("T")`` builds Swin-T, ``swin("T", version=2)`` SwinV2-T, each with the official image size
and window of its version (224 px and 7 for v1, 256 px and 8 for v2); any other setting of
:class:`~swin_tutor.core.config.SwinConfig` can be passed through (``num_classes=10``,
``img_size=384``). ``swin_t()``, ``swinv2_t()`` ... are the same calls under the names the official
code and timm use.
"""

from __future__ import annotations

from collections.abc import Callable

from swin_tutor.core.config import SwinConfig
from swin_tutor.core.model import SwinTransformer, build_model

__all__ = ["SIZES", "swin", "swin_t", "swin_s", "swin_b", "swin_l", "swinv2_t", "swinv2_s", "swinv2_b"]

# The published sizes, the one place they are written: width C, blocks and heads per stage (head_dim
# 32), the stochastic-depth rate the official configs train with, and the parameters at 1000 classes.
SIZES = {
    "T": dict(embed_dim=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), drop_path_rate=0.2),
    "S": dict(embed_dim=96, depths=(2, 2, 18, 2), num_heads=(3, 6, 12, 24), drop_path_rate=0.3),
    "B": dict(embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32), drop_path_rate=0.5),
    "L": dict(embed_dim=192, depths=(2, 2, 18, 2), num_heads=(6, 12, 24, 48), drop_path_rate=0.2),
}
_VERSION_DEFAULTS = {1: dict(img_size=224, window_size=7), 2: dict(img_size=256, window_size=8)}
_PARAMETERS = {(1, "T"): "28.3", (1, "S"): "49.6", (1, "B"): "87.8", (1, "L"): "196.5"}
_PARAMETERS |= {(2, "T"): "28.3", (2, "S"): "49.7", (2, "B"): "87.9"}


def swin(size: str, version: int = 1, **overrides) -> SwinTransformer:
    """A published size (``"T"``, ``"S"``, ``"B"``, ``"L"``) of Swin v1 or v2, with ``overrides``.

    ``None`` for an override keeps the table's value (``drop_path_rate=None``).
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    if (version, size) not in _PARAMETERS:
        raise ValueError(f"Swin v{version} was not published in size {size!r}")
    settings = {**SIZES[size], **_VERSION_DEFAULTS[version]}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return build_model(SwinConfig(version=version, **settings))


def _named(size: str, version: int) -> Callable[..., SwinTransformer]:
    def build(**overrides) -> SwinTransformer:
        return swin(size, version, **overrides)

    widths = SIZES[size]
    build.__name__ = build.__qualname__ = f"swin{'v2' if version == 2 else ''}_{size.lower()}"
    build.__doc__ = (
        f"Swin{'V2' if version == 2 else ''}-{size}: C={widths['embed_dim']}, depths "
        f"{'-'.join(map(str, widths['depths']))}, heads {'-'.join(map(str, widths['num_heads']))} "
        f"({_PARAMETERS[version, size]} M parameters at 1000 classes); ``swin({size!r}, {version}, **overrides)``."
    )
    return build


swin_t, swin_s, swin_b, swin_l = (_named(size, 1) for size in "TSBL")
swinv2_t, swinv2_s, swinv2_b = (_named(size, 2) for size in "TSB")
