"""What several test files need: small models, building without initialisation, seeded inputs, max |a - b|.

Import with ``from helpers import ...`` (pytest puts tests/ on the path).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch
import torch.nn as nn

from swin_tutor.core.model import SwinTransformer, SwinTransformerV2

# A narrow Swin: C = 16, 2 blocks per stage, heads 1, 2, 4, 8. Fast, and the paths do not depend on the width.
SMALL = dict(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8), num_classes=10, drop_path_rate=0.0)


def small_swin(img_size: int = 64, window_size: int = 4, version: int = 1, **kw) -> SwinTransformer:
    """A small v1 (or v2) model; ``kw`` overrides ``SMALL`` (e.g. ``num_classes``)."""
    cls = SwinTransformerV2 if version == 2 else SwinTransformer
    return cls(img_size=img_size, window_size=window_size, **{**SMALL, **kw})


@contextmanager
def uninitialised(everything: bool = False) -> Iterator[None]:
    """Build models without their random initialisation (Linear layers and ``SwinTransformer``'s
    init hook): for models whose parameters a strict load overwrites, or that are only counted.
    ``everything`` also skips LayerNorm, Conv2d and ``trunc_normal_`` (the bias tables)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nn.Linear, "reset_parameters", lambda self: None)
        mp.setattr(SwinTransformer, "_init_weights", staticmethod(lambda module: None))
        if everything:
            for module in (nn.LayerNorm, nn.Conv2d):
                mp.setattr(module, "reset_parameters", lambda self: None)
            mp.setattr(nn.init, "trunc_normal_", lambda tensor, *args, **kwargs: tensor)
        yield


def seeded_randn(*shape: int, seed: int) -> torch.Tensor:
    """Standard normal values from a generator of their own (the global seed is left alone)."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def seeded_rand(*shape: int, seed: int) -> torch.Tensor:
    """Uniform [0, 1) values (an image) from a generator of their own."""
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b|; the shapes must be equal (no broadcasting hides a wrong layout)."""
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item()
