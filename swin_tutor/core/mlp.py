"""The two residual-branch helpers of every block: the MLP and stochastic depth (DropPath).

Layout: any (..., C) tensor; the MLP acts on every token on its own.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from swin_tutor.core.validation import check_int, check_rate

__all__ = ["DropPath", "Mlp"]


class DropPath(nn.Module):
    """Stochastic depth: in training, drop a sample's whole residual branch with probability p."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = check_rate(drop_prob, "drop_prob")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        return x * x.new_empty(shape).bernoulli_(keep) / keep

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob:.3f}"


class Mlp(nn.Module):
    """fc1 (C -> ratio*C), exact GELU, fc2 (ratio*C -> C), applied to every token on its own.

    Without autograd (inference) the tokens go through in chunks of ``chunk_tokens`` rows: the
    hidden activations are 4x wider than the input, and at batch 8 in stage 0 they are 40-50 MB,
    which the C allocator hands out as fresh pages that the CPU must fault in on every call (measured
    here: a fifth of Swin-T's CPU time at batch 8). A chunk's hidden block stays small and is reused.
    The tokens are independent, so the numbers are those of the one-shot path (used when training).
    """

    def __init__(self, dim: int, hidden_dim: int, drop: float = 0.0, chunk_tokens: int = 4096) -> None:
        super().__init__()
        check_int(dim, "dim", minimum=1)
        check_int(hidden_dim, "hidden_dim", minimum=1)
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.drop = nn.Dropout(check_rate(drop, "drop"))
        self.chunk_tokens = chunk_tokens

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., C) -> (..., C)."""
        if torch.is_grad_enabled() or x.numel() <= self.chunk_tokens * x.shape[-1]:
            return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))
        tokens = x.reshape(-1, x.shape[-1])  # (T, C)
        out = tokens.new_empty(tokens.shape[0], self.fc2.out_features)
        for start in range(0, tokens.shape[0], self.chunk_tokens):
            rows = slice(start, start + self.chunk_tokens)
            hidden = self.drop(self.act(self.fc1(tokens[rows])))  # (chunk, hidden_dim)
            out[rows] = self.fc2(hidden)
        return self.drop(out).view(*x.shape[:-1], -1)
