"""The whole Swin Transformer (v1 and v2): patch embedding, four stages, LayerNorm, pooling, head.

Layout: (B, 3, H, W) images in, (B, num_classes) logits out; stage outputs are (B, H, W, C) maps.
Parameter names follow the official checkpoints (``patch_embed.proj``, ``layers.0.blocks.0.attn.qkv``,
``layers.0.downsample.reduction``, ``norm``, ``head``), with merging at the end of stages 0-2.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
import torch.nn as nn

from swin_tutor.core.blocks import NormPlacement, SwinTransformerBlock, SwinTransformerBlockV2
from swin_tutor.core.patches import PatchEmbed, PatchMerging, PatchMergingV2
from swin_tutor.core.stages import BasicLayer
from swin_tutor.core.validation import (
    check_image_batch,
    check_int,
    check_int_sequence,
    check_number,
    check_rate,
    positive_pair,
)

__all__ = ["BasicLayer", "SwinTransformer", "SwinTransformerV2", "init_weights"]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def init_weights(module: nn.Module) -> None:
    """The official initialisation: Linear weights trunc_normal(std 0.02), biases 0, LayerNorms 1 and 0."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class SwinTransformer(nn.Module):
    """Swin Transformer v1 (Liu et al., 2021); see ``swin_t`` & co.

    ``img_size`` is the size the model is built and counted for (stage maps, parameters, MACs,
    official checkpoints); the forward pass accepts any (H, W) of at least one patch, as Hugging
    Face and timm do: it pads to the patch, pads odd maps before merging, and applies the clamp
    rule to the stage maps of that input.
    """

    version = 1

    def __init__(
        self,
        img_size: int | tuple[int, int] = 224,
        patch_size: int = 4,
        in_chans: int = 3,
        num_classes: int = 1000,
        embed_dim: int = 96,
        depths: Sequence[int] = (2, 2, 6, 2),
        num_heads: Sequence[int] = (3, 6, 12, 24),
        window_size: int = 7,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
        patch_norm: bool = True,
        norm_placement: NormPlacement | None = None,
    ) -> None:
        super().__init__()
        self._configure(img_size, patch_size, in_chans, num_classes, embed_dim, depths, num_heads, window_size)
        self.mlp_ratio = check_number(mlp_ratio, "mlp_ratio", above=0)
        make_block = partial(
            SwinTransformerBlock,
            mlp_ratio=mlp_ratio,
            qkv_bias=qkv_bias,
            drop=check_rate(drop_rate, "drop_rate"),
            attn_drop=check_rate(attn_drop_rate, "attn_drop_rate"),
            norm_placement=norm_placement,
        )
        self._build(patch_norm, drop_rate, drop_path_rate, lambda i: make_block, PatchMerging)

    def _configure(self, img_size, patch_size, in_chans, num_classes, embed_dim, depths, num_heads, window_size):
        """Check and store the configuration both versions share."""
        self.img_size = positive_pair(img_size, "img_size")
        self.patch_size = check_int(patch_size, "patch_size", minimum=1)
        if min(self.img_size) < patch_size:
            raise ValueError(f"img_size {self.img_size} must hold at least one {patch_size}x{patch_size} patch")
        self.in_chans = check_int(in_chans, "in_chans", minimum=1)
        self.num_classes = check_int(num_classes, "num_classes", minimum=0)
        self.embed_dim = check_int(embed_dim, "embed_dim", minimum=1)
        self.depths = check_int_sequence(depths, "depths", length=4, minimum=1)
        self.num_heads = check_int_sequence(num_heads, "num_heads", length=4, minimum=1)
        for i, heads in enumerate(self.num_heads):
            if (embed_dim * 2**i) % heads:
                raise ValueError(f"stage {i}: num_heads={heads} must divide the stage dimension {embed_dim * 2**i}")
        self.window_size = check_int(window_size, "window_size", minimum=1)
        self.num_layers = len(self.depths)
        self.num_features = embed_dim * 2 ** (self.num_layers - 1)

    def _build(self, patch_norm, drop_rate, drop_path_rate, block_factory, merging_cls) -> None:
        """Patch embedding, four stages, final norm and head (``block_factory(i)`` makes stage i's blocks)."""
        self.patch_embed = PatchEmbed(self.patch_size, self.in_chans, self.embed_dim, patch_norm)
        self.pos_drop = nn.Dropout(drop_rate)
        resolution = (_ceil_div(self.img_size[0], self.patch_size), _ceil_div(self.img_size[1], self.patch_size))
        self.patches_resolution = resolution
        check_rate(drop_path_rate, "drop_path_rate")
        rates = torch.linspace(0, drop_path_rate, sum(self.depths), device="cpu").tolist()  # also under "meta"
        self.layers = nn.ModuleList()
        for i in range(self.num_layers):
            start = sum(self.depths[:i])
            self.layers.append(
                BasicLayer(
                    block_factory(i),
                    dim=self.embed_dim * 2**i,
                    input_resolution=resolution,
                    depth=self.depths[i],
                    num_heads=self.num_heads[i],
                    window_size=self.window_size,
                    drop_path=rates[start : start + self.depths[i]],
                    downsample=merging_cls if i < self.num_layers - 1 else None,
                )
            )
            if i < self.num_layers - 1:
                resolution = (_ceil_div(resolution[0], 2), _ceil_div(resolution[1], 2))
        self.norm = nn.LayerNorm(self.num_features)
        self.head = nn.Linear(self.num_features, self.num_classes) if self.num_classes > 0 else nn.Identity()
        self.apply(self._init_weights)

    # The initialisation every module gets (a hook tests replace to build models without it).
    _init_weights = staticmethod(init_weights)

    def _check_input(self, x: torch.Tensor) -> None:
        check_image_batch(x, self.in_chans, like=self.patch_embed.proj.weight)
        if min(x.shape[2:]) < self.patch_size:
            raise ValueError(
                f"the image must hold at least one {self.patch_size}x{self.patch_size} patch, "
                f"got {x.shape[2]}x{x.shape[3]}"
            )

    def forward_intermediates(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every stage's output map, for pictures: ``patch_embed`` (B, H/4, W/4, C), ``stage{i}`` after
        the blocks of stage i (before its merging), and ``norm`` (the final normalised map)."""
        self._check_input(x)
        out = {}
        x = self.pos_drop(self.patch_embed(x))
        out["patch_embed"] = x
        for i, layer in enumerate(self.layers):
            x = layer.forward_blocks(x)
            out[f"stage{i}"] = x
            if layer.downsample is not None:
                x = layer.downsample(x)
        out["norm"] = self.norm(x)
        return out

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, H/32, W/32, 8C), after the final LayerNorm."""
        self._check_input(x)
        x = self.pos_drop(self.patch_embed(x))
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Average over all tokens, then the classifier: (B, h, w, C) -> (B, num_classes)."""
        return self.head(features.mean(dim=(1, 2)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class SwinTransformerV2(SwinTransformer):
    """Swin Transformer V2 (Liu et al., 2022): cosine attention, log-spaced CPB, res-post-norm.

    ``pretrained_window_sizes`` (one per stage, 0 = none): the window the weights were trained
    with, so that the position-bias coordinates keep their scale at a new window.
    """

    version = 2

    def __init__(
        self,
        img_size: int | tuple[int, int] = 256,
        patch_size: int = 4,
        in_chans: int = 3,
        num_classes: int = 1000,
        embed_dim: int = 96,
        depths: Sequence[int] = (2, 2, 6, 2),
        num_heads: Sequence[int] = (3, 6, 12, 24),
        window_size: int = 8,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
        patch_norm: bool = True,
        norm_placement: NormPlacement | None = None,
        pretrained_window_sizes: Sequence[int] = (0, 0, 0, 0),
    ) -> None:
        nn.Module.__init__(self)
        self._configure(img_size, patch_size, in_chans, num_classes, embed_dim, depths, num_heads, window_size)
        self.mlp_ratio = check_number(mlp_ratio, "mlp_ratio", above=0)
        self.pretrained_window_sizes = check_int_sequence(
            pretrained_window_sizes, "pretrained_window_sizes", length=4, minimum=0
        )
        make_block = partial(
            SwinTransformerBlockV2,
            mlp_ratio=mlp_ratio,
            qkv_bias=qkv_bias,
            drop=check_rate(drop_rate, "drop_rate"),
            attn_drop=check_rate(attn_drop_rate, "attn_drop_rate"),
            norm_placement=norm_placement,
        )
        self._build(
            patch_norm,
            drop_rate,
            drop_path_rate,
            lambda i: partial(make_block, pretrained_window_size=self.pretrained_window_sizes[i]),
            PatchMergingV2,
        )
        for layer in self.layers:
            for block in layer.blocks:
                if block.norm_placement == "res_post":
                    block.init_respostnorm()
