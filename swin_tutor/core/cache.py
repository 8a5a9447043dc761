"""A small bounded cache for the tensors that depend only on a map's size (masks, token orders, indices).

A model accepts any image size, so a block meets maps of several sizes; what it derives from a size
(the clamped window, the shifted-window mask, the gather order, the position-bias index) is built
once per size and device and kept, the least recently used entry dropped past ``limit``. Keys carry
the device (and dtype where it matters), so nothing stale is used after ``.to(device)`` or ``.half()``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import torch

__all__ = ["SizeCache"]

T = TypeVar("T")


class SizeCache(Generic[T]):
    """``get(key, build)``: the cached value for ``key``, built by ``build()`` on first use."""

    def __init__(self, limit: int = 8) -> None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        self.limit = limit
        self._entries: OrderedDict[Hashable, T] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        # Built outside inference mode, so a tensor first made under torch.inference_mode() can
        # still be used later in a forward pass that autograd records (training).
        with torch.inference_mode(False), torch.no_grad():
            value = build()
        self._entries[key] = value
        if len(self._entries) > self.limit:
            self._entries.popitem(last=False)
        return value

    def keys(self) -> list[Hashable]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
