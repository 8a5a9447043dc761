"""Swin as a backbone: the classifier without its head, returning a pyramid of NCHW feature maps.

A classifier ends in one (B, 1000) vector; detection and segmentation need maps at several scales.
:class:`SwinBackbone` keeps what makes the pyramid (``patch_embed`` and the four ``layers``), drops
what only classification needs (the final ``norm``, the average pooling, the ``head``), and adds
what the official detection code and Hugging Face's ``SwinBackbone`` add: one LayerNorm per output.

Layout: (B, C_in, H, W) images in; a list of (B, C_i, H_i, W_i) maps out, one per ``out_indices``
entry, at strides 4, 8, 16, 32 (for ``patch_size=4``), widths C, 2C, 4C, 8C. Inside, stage maps are
channels-last (B, H, W, C), as everywhere in the model; convolutional necks want NCHW, so each
output is permuted once, at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

import torch
import torch.nn as nn

from swin_tutor.core.blocks import WindowRule
from swin_tutor.core.model import SwinTransformer
from swin_tutor.core.validation import check_image_batch

__all__ = ["SwinBackbone"]

_IDENTITY = nn.Identity()


class SwinBackbone(nn.Module):
    """A Swin classifier turned into a backbone (v1 and v2): NCHW maps at strides 4, 8, 16, 32.

    Built from a classifier instance, whose ``patch_embed`` and ``layers`` it takes over (the modules
    are shared, not copied, and keep their names: ``patch_embed.proj``, ``layers.0.blocks.0...``, so
    an official or Hugging Face checkpoint loads by name). The classifier's final ``norm``, pooling
    and ``head`` are left out.

    - ``out_indices``: the stages whose outputs are returned (0..3), in increasing order. Stage i's
      output is taken after its blocks and BEFORE its patch merging, as in the official detection
      backbone (``Swin-Transformer-Object-Detection``) and Hugging Face
      (``output_hidden_states_before_downsampling=True``): stride ``patch_size * 2**i``, width
      ``embed_dim * 2**i``.
    - ``out_norms``: add a fresh LayerNorm per output, named ``norm{i}`` as in the official detection
      code (Hugging Face: ``hidden_states_norms.stage{i+1}``). ``None`` (default) follows the
      reference for the version: v1 True (Hugging Face ``SwinBackbone``, official detection code),
      v2 False (Hugging Face ``Swinv2Backbone`` returns the stage outputs with NO norm).

    - ``window_rule``: what a block does when a stage map is no larger than its window, which
      is where the references part ways (and Swin-T at 224 already meets it: stage 4 is 7x7 with
      window 7):

      - ``"never"`` (default for v1): never clamp; the map is padded up to the window and the
        odd blocks still shift, with the mask. The official detection code and Hugging Face's
        ``SwinBackbone`` (``always_partition=True``).
      - ``"built"`` (default for v2): the clamp decided for the size the model was built for
        (``img_size``) is kept at every input size. Hugging Face's ``Swinv2Backbone`` (its blocks fix
        window and shift at construction).
      - ``"input"``: the classifier's own rule, applied to each input's maps (``min(H, W) <=
        window``: the window shrinks to the map, no shift).

      All three agree when every stage map is larger than the window (e.g. 320x480 with window 7
      built at 224). The rule is an argument of each forward pass
      (``BasicLayer.forward_blocks(x, window_rule)``), so the classifier the blocks came from keeps
      its own.

    ``channels`` and ``strides`` list each output's width and stride. Any input size the classifier
    accepts works here (odd and non-square sizes included): the image is padded to the patch and odd
    maps are padded before merging.
    """

    def __init__(
        self,
        model: SwinTransformer,
        out_indices: Sequence[int] = (0, 1, 2, 3),
        out_norms: bool | None = None,
        window_rule: WindowRule | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(model, SwinTransformer):
            raise TypeError(f"model must be a SwinTransformer or SwinTransformerV2, got {type(model).__name__}")
        stages = len(model.layers)
        indices = tuple(out_indices)
        if (
            not indices
            or any(not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < stages for i in indices)
            or list(indices) != sorted(set(indices))
        ):
            raise ValueError(
                f"out_indices must be increasing stage indices in 0..{stages - 1} without repeats, got {out_indices!r}"
            )
        if out_norms is None:
            out_norms = model.version == 1
        if not isinstance(out_norms, bool):
            raise TypeError(f"out_norms must be True, False or None, got {out_norms!r}")
        if window_rule is None:
            window_rule = "never" if model.version == 1 else "built"
        if window_rule not in get_args(WindowRule):
            raise ValueError(f"window_rule must be one of {get_args(WindowRule)} or None, got {window_rule!r}")
        self.window_rule = window_rule
        self.version = model.version
        self.in_chans = model.in_chans
        self.patch_size = model.patch_size
        self.out_indices = indices
        self.out_norms = out_norms
        self.channels = [model.embed_dim * 2**i for i in indices]
        self.strides = [model.patch_size * 2**i for i in indices]
        self.patch_embed = model.patch_embed  # (B, C_in, H, W) -> (B, H/4, W/4, C)
        self.pos_drop = model.pos_drop
        self.layers = model.layers  # all four, as in the checkpoints; stages after the last output are not run
        if out_norms:  # new LayerNorms (weight 1, bias 0) until a detection checkpoint or training sets them
            for i, width in zip(indices, self.channels, strict=True):
                self.add_module(f"norm{i}", nn.LayerNorm(width))

    def extra_repr(self) -> str:
        return (
            f"v{self.version}, out_indices={self.out_indices}, channels={self.channels}, strides={self.strides}, "
            f"out_norms={self.out_norms}, window_rule={self.window_rule!r}"
        )

    def output_norm(self, i: int) -> nn.Module:
        """The LayerNorm applied to stage ``i``'s output (``nn.Identity`` without output norms)."""
        return getattr(self, f"norm{i}") if self.out_norms else _IDENTITY

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(B, C_in, H, W) -> [(B, C_i, H_i, W_i) for i in out_indices], H_i = ceil(H / stride_i)."""
        check_image_batch(x, self.in_chans, like=self.patch_embed.proj.weight)
        if min(x.shape[2:]) < self.patch_size:
            raise ValueError(
                f"the image must hold at least one {self.patch_size}x{self.patch_size} patch, "
                f"got {x.shape[2]}x{x.shape[3]}"
            )
        outputs = []
        stages = self.layers[: self.out_indices[-1] + 1]  # stages after the last output are not run
        x = self.pos_drop(self.patch_embed.embed(x))  # (B, H/4, W/4, C)
        for i, layer in enumerate(stages):
            x = layer.forward_blocks(x, self.window_rule)  # (B, H_i, W_i, C_i): stage i before its merging
            if i in self.out_indices:
                y = self.output_norm(i)(x)  # LayerNorm over C_i, channels-last
                outputs.append(y.permute(0, 3, 1, 2).contiguous())  # (B, C_i, H_i, W_i)
            if layer.downsample is not None and i < self.out_indices[-1]:
                x = layer.downsample(x)  # (B, H_i/2, W_i/2, 2 C_i)
        return outputs
