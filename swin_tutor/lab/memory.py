"""What a forward and backward keep in memory, measured without a clock: saved tensors and live bytes.

Training memory is mostly activations: every op that needs its input for the gradient (a Linear, a
LayerNorm, a GELU, a softmax) keeps it until the backward pass frees it. Two deterministic measures,
the same on every CPU (they count tensor bytes, not what the allocator or the OS did):

- :func:`saved_bytes_by_stage`: the bytes autograd saves for backward during one forward, per stage
  (``torch.autograd.graph.saved_tensors_hooks``), parameters and buffers left out;
- :func:`peak_step_bytes`: the peak of all live tensor bytes created during one forward + backward
  (a dispatch mode that counts every new storage and its release).

:func:`checkpointing` switches activation checkpointing (the stages' ``use_checkpoint`` flag) on for a while:
each block keeps only its input and recomputes its inside during the backward pass.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator

import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

__all__ = ["STAGES", "saved_bytes_by_stage", "LiveTensorBytes", "peak_step_bytes", "checkpointing"]

STAGES = ("patch_embed", "stage1", "stage2", "stage3", "stage4", "head")


def _stage_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(label, module) in forward order: patch embedding, the four stages (blocks + merging), the final norm."""
    if not hasattr(model, "layers") or not hasattr(model, "patch_embed"):
        raise TypeError(f"model must be a swin_tutor SwinTransformer(V2), got {type(model).__name__}")
    stages = [(f"stage{i + 1}", layer) for i, layer in enumerate(model.layers)]
    return [("patch_embed", model.patch_embed), *stages, ("head", model.norm)]


def saved_bytes_by_stage(model: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """Bytes of the tensors autograd saves for backward in ``model(x)``, per stage (``STAGES``).

    Each storage counts once, in the stage that saved it first; parameters and buffers do not count
    (they live anyway). The loss and the pooling + head count in ``"head"``. Run in eval mode for a
    deterministic count (no drop path); gradients must be enabled.
    """
    if not torch.is_grad_enabled():
        raise RuntimeError("saved_bytes_by_stage needs gradients enabled (it is not run under torch.no_grad)")
    owned = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    totals, seen, current = dict.fromkeys(STAGES, 0), set(), ["patch_embed"]

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        key = storage.data_ptr()
        if key not in owned and key not in seen and storage.nbytes() > 0:
            seen.add(key)
            totals[current[0]] += storage.nbytes()
        return t

    handles = [
        module.register_forward_pre_hook(lambda _m, _a, label=label: current.__setitem__(0, label))
        for label, module in _stage_modules(model)
    ]
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            model(x).float().logsumexp(dim=1).mean()  # (B, K) -> a scalar "loss", saved in "head"
    finally:
        for handle in handles:
            handle.remove()
    return totals


class LiveTensorBytes(TorchDispatchMode):
    """Counts the bytes of every tensor storage created inside it, and their release: ``live``, ``peak``.

    Tensors made before entering (weights, the input) are not counted; gradients created inside are.
    """

    def __init__(self) -> None:
        super().__init__()
        self.live = self.peak = 0
        self._sizes: dict[int, int] = {}

    def _release(self, key: int) -> None:
        self.live -= self._sizes.pop(key, 0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                storage = t.untyped_storage()
                key, size = storage.data_ptr(), storage.nbytes()
                if size and key not in self._sizes:
                    self._sizes[key] = size
                    self.live += size
                    self.peak = max(self.peak, self.live)
                    weakref.finalize(storage, self._release, key)
        return out


def peak_step_bytes(step: Callable[[], object]) -> int:
    """Peak live tensor bytes of ``step()`` (e.g. forward + loss + backward), counted by :class:`LiveTensorBytes`."""
    counter = LiveTensorBytes()
    with counter:
        step()
    return counter.peak


@contextlib.contextmanager
def checkpointing(model: nn.Module, enabled: bool = True) -> Iterator[nn.Module]:
    """Activation checkpointing (every stage's ``use_checkpoint`` flag) on inside the ``with``, restored after."""
    layers = [layer for _, layer in _stage_modules(model)[1:-1]]
    before = [layer.use_checkpoint for layer in layers]
    for layer in layers:
        layer.use_checkpoint = enabled
    try:
        yield model
    finally:
        for layer, flag in zip(layers, before, strict=True):
            layer.use_checkpoint = flag
