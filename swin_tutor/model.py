"""The whole Swin Transformer (v1 and v2): patch embedding, four stages, LayerNorm, pooling, head.

Layout: (B, 3, H, W) images in, (B, num_classes) logits out; stage outputs are (B, H, W, C) maps.
Parameter names follow the official checkpoints (``patch_embed.proj``, ``layers.0.blocks.0.attn.qkv``,
``layers.0.downsample.reduction``, ``norm``, ``head``), with merging at the end of stages 0-2.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn

from .blocks import NormPlacement, SwinTransformerBlock, SwinTransformerBlockV2
from .patches import PatchEmbed, PatchMerging, PatchMergingV2, check_image_batch
from .windows import to_2tuple

__all__ = [
    "BasicLayer",
    "SwinTransformer",
    "SwinTransformerV2",
    "swin_t",
    "swin_s",
    "swin_b",
    "swin_l",
    "swinv2_t",
    "swinv2_s",
    "swinv2_b",
]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class BasicLayer(nn.Module):
    """One stage: ``depth`` blocks alternating shift 0 and window // 2, then (optionally) merging."""

    def __init__(
        self,
        block_cls: type[SwinTransformerBlock],
        dim: int,
        input_resolution: tuple[int, int],
        depth: int,
        num_heads: int,
        window_size: int,
        mlp_ratio: float,
        qkv_bias: bool,
        drop: float,
        attn_drop: float,
        drop_path: Sequence[float],
        downsample: type[nn.Module] | None,
        norm_placement: NormPlacement | None = None,
        pretrained_window_size: int = 0,
    ) -> None:
        super().__init__()
        self.dim = dim
        self.input_resolution = input_resolution
        self.depth = depth
        self.blocks = nn.ModuleList(
            block_cls(
                dim=dim,
                input_resolution=input_resolution,
                num_heads=num_heads,
                window_size=window_size,
                shift_size=0 if i % 2 == 0 else window_size // 2,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                drop=drop,
                attn_drop=attn_drop,
                drop_path=drop_path[i],
                norm_placement=norm_placement,
                pretrained_window_size=pretrained_window_size,
            )
            for i in range(depth)
        )
        self.downsample = downsample(dim) if downsample is not None else None

    def forward_blocks(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_blocks(x)
        return self.downsample(x) if self.downsample is not None else x


class SwinTransformer(nn.Module):
    """Swin Transformer v1 (Liu et al., 2021). Built for one image size; see ``swin_t`` & co."""

    block_cls: type[SwinTransformerBlock] = SwinTransformerBlock
    merging_cls: type[nn.Module] = PatchMerging
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
        pretrained_window_sizes: Sequence[int] = (0, 0, 0, 0),
    ) -> None:
        super().__init__()
        self.img_size = to_2tuple(img_size, "img_size")
        self._check_config(patch_size, in_chans, embed_dim, depths, num_heads, window_size, pretrained_window_sizes)
        self.num_classes = num_classes
        self.embed_dim = embed_dim
        self.depths = tuple(depths)
        self.num_heads = tuple(num_heads)
        self.window_size = window_size
        self.patch_size = patch_size
        self.in_chans = in_chans
        self.mlp_ratio = mlp_ratio
        self.pretrained_window_sizes = tuple(pretrained_window_sizes)
        self.num_layers = len(depths)
        self.num_features = embed_dim * 2 ** (self.num_layers - 1)

        self.patch_embed = PatchEmbed(patch_size, in_chans, embed_dim, patch_norm)
        self.pos_drop = nn.Dropout(drop_rate)
        resolution = (_ceil_div(self.img_size[0], patch_size), _ceil_div(self.img_size[1], patch_size))
        self.patches_resolution = resolution
        rates = torch.linspace(
            0, drop_path_rate, sum(depths), device="cpu"
        ).tolist()  # works under torch.device("meta")
        self.layers = nn.ModuleList()
        for i in range(self.num_layers):
            start = sum(depths[:i])
            self.layers.append(
                BasicLayer(
                    self.block_cls,
                    dim=embed_dim * 2**i,
                    input_resolution=resolution,
                    depth=depths[i],
                    num_heads=num_heads[i],
                    window_size=window_size,
                    mlp_ratio=mlp_ratio,
                    qkv_bias=qkv_bias,
                    drop=drop_rate,
                    attn_drop=attn_drop_rate,
                    drop_path=rates[start : start + depths[i]],
                    downsample=self.merging_cls if i < self.num_layers - 1 else None,
                    norm_placement=norm_placement,
                    pretrained_window_size=self.pretrained_window_sizes[i],
                )
            )
            if i < self.num_layers - 1:
                resolution = (_ceil_div(resolution[0], 2), _ceil_div(resolution[1], 2))
        self.norm = nn.LayerNorm(self.num_features)
        self.head = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()
        self.apply(self._init_weights)

    @staticmethod
    def _check_config(patch_size, in_chans, embed_dim, depths, num_heads, window_size, pretrained_window_sizes) -> None:
        if len(depths) != 4:
            raise ValueError(f"depths must have 4 entries (one per stage), got {len(depths)}: {tuple(depths)}")
        if len(num_heads) != 4:
            raise ValueError(f"num_heads must have 4 entries (one per stage), got {len(num_heads)}: {tuple(num_heads)}")
        if len(pretrained_window_sizes) != 4:
            raise ValueError(f"pretrained_window_sizes must have 4 entries, got {tuple(pretrained_window_sizes)}")
        if window_size < 1:
            raise ValueError(f"window_size must be >= 1, got {window_size}")
        if patch_size < 1 or in_chans < 1 or embed_dim < 1:
            raise ValueError(
                f"patch_size, in_chans and embed_dim must be >= 1, got {patch_size}, {in_chans}, {embed_dim}"
            )
        for i, heads in enumerate(num_heads):
            dim = embed_dim * 2**i
            if heads < 1 or dim % heads:
                raise ValueError(f"stage {i}: num_heads={heads} must divide the stage dimension {dim}")

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def _check_input(self, x: torch.Tensor) -> None:
        check_image_batch(x, self.in_chans)
        if tuple(x.shape[2:]) != self.img_size:
            raise ValueError(
                f"this model was built for {self.img_size[0]}x{self.img_size[1]} images, got "
                f"{x.shape[2]}x{x.shape[3]}; build one with img_size={tuple(x.shape[2:])} "
                "(and load the weights into it)"
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
    """Swin Transformer V2 (Liu et al., 2022): cosine attention, log-spaced CPB, res-post-norm."""

    block_cls = SwinTransformerBlockV2
    merging_cls = PatchMergingV2
    version = 2

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("img_size", 256)
        kwargs.setdefault("window_size", 8)
        super().__init__(*args, **kwargs)
        for layer in self.layers:
            for block in layer.blocks:
                if block.norm_placement == "res_post":
                    block.init_respostnorm()


# The published sizes, shared by v1 and v2: width C, blocks per stage, heads per stage (head_dim 32).
_SIZES = {
    "T": dict(embed_dim=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24)),
    "S": dict(embed_dim=96, depths=(2, 2, 18, 2), num_heads=(3, 6, 12, 24)),
    "B": dict(embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32)),
    "L": dict(embed_dim=192, depths=(2, 2, 18, 2), num_heads=(6, 12, 24, 48)),
}


def swin_t(
    img_size: int = 224, window_size: int = 7, num_classes: int = 1000, drop_path_rate: float = 0.2, **kw
) -> SwinTransformer:
    """Swin-T: C=96, depths 2-2-6-2, heads 3-6-12-24 (28.3 M parameters at 1000 classes)."""
    return SwinTransformer(
        img_size=img_size,
        window_size=window_size,
        num_classes=num_classes,
        drop_path_rate=drop_path_rate,
        **_SIZES["T"],
        **kw,
    )


def swin_s(
    img_size: int = 224, window_size: int = 7, num_classes: int = 1000, drop_path_rate: float = 0.3, **kw
) -> SwinTransformer:
    """Swin-S: C=96, depths 2-2-18-2, heads 3-6-12-24 (49.6 M parameters)."""
    return SwinTransformer(
        img_size=img_size,
        window_size=window_size,
        num_classes=num_classes,
        drop_path_rate=drop_path_rate,
        **_SIZES["S"],
        **kw,
    )


def swin_b(
    img_size: int = 224, window_size: int = 7, num_classes: int = 1000, drop_path_rate: float = 0.5, **kw
) -> SwinTransformer:
    """Swin-B: C=128, depths 2-2-18-2, heads 4-8-16-32 (87.8 M parameters)."""
    return SwinTransformer(
        img_size=img_size,
        window_size=window_size,
        num_classes=num_classes,
        drop_path_rate=drop_path_rate,
        **_SIZES["B"],
        **kw,
    )


def swin_l(
    img_size: int = 224, window_size: int = 7, num_classes: int = 1000, drop_path_rate: float = 0.2, **kw
) -> SwinTransformer:
    """Swin-L: C=192, depths 2-2-18-2, heads 6-12-24-48 (196.5 M parameters)."""
    return SwinTransformer(
        img_size=img_size,
        window_size=window_size,
        num_classes=num_classes,
        drop_path_rate=drop_path_rate,
        **_SIZES["L"],
        **kw,
    )


def swinv2_t(
    img_size: int = 256,
    window_size: int = 8,
    num_classes: int = 1000,
    drop_path_rate: float = 0.2,
    pretrained_window_sizes: Sequence[int] = (0, 0, 0, 0),
    **kw,
) -> SwinTransformerV2:
    """SwinV2-T: C=96, depths 2-2-6-2, heads 3-6-12-24 (28.3 M parameters)."""
    return SwinTransformerV2(
        img_size=img_size,
        window_size=window_size,
        num_classes=num_classes,
        drop_path_rate=drop_path_rate,
        pretrained_window_sizes=pretrained_window_sizes,
        **_SIZES["T"],
        **kw,
    )


def swinv2_s(
    img_size: int = 256,
    window_size: int = 8,
    num_classes: int = 1000,
    drop_path_rate: float = 0.3,
    pretrained_window_sizes: Sequence[int] = (0, 0, 0, 0),
    **kw,
) -> SwinTransformerV2:
    """SwinV2-S: C=96, depths 2-2-18-2, heads 3-6-12-24 (49.7 M parameters)."""
    return SwinTransformerV2(
        img_size=img_size,
        window_size=window_size,
        num_classes=num_classes,
        drop_path_rate=drop_path_rate,
        pretrained_window_sizes=pretrained_window_sizes,
        **_SIZES["S"],
        **kw,
    )


def swinv2_b(
    img_size: int = 256,
    window_size: int = 8,
    num_classes: int = 1000,
    drop_path_rate: float = 0.5,
    pretrained_window_sizes: Sequence[int] = (0, 0, 0, 0),
    **kw,
) -> SwinTransformerV2:
    """SwinV2-B: C=128, depths 2-2-18-2, heads 4-8-16-32 (87.9 M parameters)."""
    return SwinTransformerV2(
        img_size=img_size,
        window_size=window_size,
        num_classes=num_classes,
        drop_path_rate=drop_path_rate,
        pretrained_window_sizes=pretrained_window_sizes,
        **_SIZES["B"],
        **kw,
    )
