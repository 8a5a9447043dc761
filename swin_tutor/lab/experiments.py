"""Short experiment helpers for notebook 10: measure what a mechanism does in a TokenStack.

- ``receptive_field``: which input tokens one output token depends on after k blocks (by gradient).
- ``activation_rms_per_block``: the size of the residual stream after each block (forward hooks).
- ``train_stack`` / ``accuracy``: train with ``swin_tutor.train.loop.fit`` and score, as a small dict.
- ``window_transfer``: accuracy of a stack trained at one window, evaluated at another (and another map size).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from swin_tutor.lab.mechanisms import StackConfig, TokenStack, build_stack, with_window

__all__ = [
    "StackConfig",
    "build_stack",
    "receptive_field",
    "reach",
    "activation_rms_per_block",
    "accuracy",
    "train_stack",
    "window_transfer",
    "load_result",
    "RESULTS_DIR",
]

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def receptive_field(
    model: TokenStack, n_blocks: int, query: tuple[int, int] | None = None, seed: int = 0
) -> torch.Tensor:
    """(H, W): ``|d out[query] / d in|`` after the first ``n_blocks`` blocks, summed over channels.

    The input is a random token map (B=1, H, W, C) (the answer depends on the wiring, not on the
    content); the output is a random projection of the query token (default: the centre token).
    """
    c = model.config
    side = c.size // c.patch_size
    if not 0 <= n_blocks <= len(model.blocks):
        raise ValueError(f"n_blocks must be in 0..{len(model.blocks)}, got {n_blocks}")
    r, col = query if query is not None else (side // 2, side // 2)
    if not (0 <= r < side and 0 <= col < side):
        raise ValueError(f"query must be a token of the {side}x{side} map, got {query}")
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randn(1, side, side, c.dim, generator=gen).requires_grad_(True)  # (1, H, W, C)
    direction = torch.randn(c.dim, generator=gen)
    out = model.forward_tokens(tokens, n_blocks)
    (out[0, r, col] * direction).sum().backward()
    return tokens.grad[0].abs().sum(dim=-1).detach()


def reach(field: torch.Tensor, rel: float = 1e-6) -> torch.Tensor:
    """(H, W) bool: where a receptive field is above ``rel`` times its maximum (exactly-zero paths excluded)."""
    if field.dim() != 2:
        raise ValueError(f"field must be (H, W), got {tuple(field.shape)}")
    return field > rel * field.max()


def activation_rms_per_block(model: TokenStack, images: torch.Tensor) -> list[float]:
    """Root mean square of the token map (B, H, W, C) after each block, on ``images``."""
    values: list[float] = []
    hooks = [
        b.register_forward_hook(lambda _m, _i, out: values.append(out.pow(2).mean().sqrt().item()))
        for b in model.blocks
    ]
    try:
        with torch.no_grad():
            model(images)
    finally:
        for h in hooks:
            h.remove()
    return values


def accuracy(model: nn.Module, dataset: Dataset, batch_size: int = 512) -> float:
    """Fraction of ``dataset`` (any map-style dataset of (image, label): a TensorDataset, a Subset, ...)
    classified correctly (model in eval mode, no gradients)."""
    if len(dataset) == 0:
        raise ValueError("accuracy: the dataset is empty (0 examples)")
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            correct += int((model(images).argmax(dim=1) == labels).sum())
    return correct / len(dataset)


def train_stack(model: nn.Module, train: TensorDataset, test: TensorDataset, config) -> dict:
    """Train ``model`` (a TokenStack, or any classifier) with ``swin_tutor.train.loop.fit`` (a ``TrainConfig``);
    return a JSON-ready summary: the stack's config (else the class name), per-epoch curves, the final test
    accuracy and the wall time."""
    from swin_tutor.train.loop import fit  # imported here: the training module is only needed when training

    start = time.perf_counter()
    history = fit(model, train, test, config, progress=False)
    seconds = time.perf_counter() - start
    return {
        "stack": asdict(model.config) if isinstance(model, TokenStack) else type(model).__name__,
        "train_loss": [float(v) for v in history.train_loss],
        "train_acc": [float(v) for v in history.train_acc],
        "test_acc_curve": [float(v) for v in history.test_acc],
        "test_acc": accuracy(model, test),
        "seconds": seconds,
    }


def window_transfer(
    model: TokenStack, test: TensorDataset, windows: tuple[int, ...] = (4, 8), size: int | None = None
) -> dict[int, float]:
    """Test accuracy of the trained ``model`` rebuilt at each window in ``windows`` (and map ``size``; default:
    the training size), with no fine-tuning (``with_window``). ``test`` holds images of that size."""
    return {w: accuracy(with_window(model, w, size), test) for w in windows}


def load_result(name: str) -> dict:
    """The stored result of one experiment of ``tools/run_experiments.py`` (``results/nb10_<name>.json``)."""
    path = RESULTS_DIR / f"nb10_{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no stored result {path}; run: python tools/run_experiments.py {name}")
    return json.loads(path.read_text())
