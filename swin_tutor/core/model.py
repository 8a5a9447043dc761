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

from swin_tutor.core.blocks import SwinTransformerBlock, SwinTransformerBlockV2
from swin_tutor.core.config import NormPlacement, SwinConfig
from swin_tutor.core.patches import PatchEmbed, PatchMerging, PatchMergingV2
from swin_tutor.core.stages import BasicLayer
from swin_tutor.core.validation import check_image_batch

__all__ = ["SwinTransformer", "SwinTransformerV2", "build_model", "init_weights"]


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
    rule to the stage maps of that input. The settings are checked once, into ``self.config``
    (:class:`~swin_tutor.core.config.SwinConfig`), and everything is built from it.
    :class:`SwinTransformerV2` is this class with the v2 block and merging.
    """

    version = 1
    block_class: type[SwinTransformerBlock] = SwinTransformerBlock
    merging_class: type[PatchMerging] = PatchMerging

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
        use_checkpoint: bool = False,
        use_gather: bool = True,
    ) -> None:
        super().__init__()
        config = SwinConfig(
            self.version, img_size, patch_size, in_chans, num_classes, embed_dim, depths, num_heads, window_size,
            mlp_ratio, qkv_bias, drop_rate, attn_drop_rate, drop_path_rate, patch_norm, norm_placement,
            pretrained_window_sizes, use_checkpoint, use_gather,
        )  # fmt: skip
        self.config = config
        for name in ("img_size", "patch_size", "in_chans", "num_classes", "embed_dim", "depths", "num_heads"):
            setattr(self, name, getattr(config, name))
        self.window_size, self.mlp_ratio = config.window_size, config.mlp_ratio
        self.pretrained_window_sizes = config.pretrained_window_sizes
        self.num_layers, self.num_features = config.num_layers, config.num_features

        self.patch_embed = PatchEmbed(config.patch_size, config.in_chans, config.embed_dim, config.patch_norm)
        self.pos_drop = nn.Dropout(config.drop_rate)
        resolution = (
            _ceil_div(config.img_size[0], config.patch_size),
            _ceil_div(config.img_size[1], config.patch_size),
        )
        self.patches_resolution = resolution
        rates = torch.linspace(0, config.drop_path_rate, sum(config.depths), device="cpu").tolist()  # also "meta"
        self.layers = nn.ModuleList()
        for i in range(self.num_layers):
            start = sum(config.depths[:i])
            make_block = partial(
                self.block_class,
                mlp_ratio=config.mlp_ratio,
                qkv_bias=config.qkv_bias,
                drop=config.drop_rate,
                attn_drop=config.attn_drop_rate,
                norm_placement=config.norm_placement,
                pretrained_window_size=config.pretrained_window_sizes[i],
                use_gather=config.use_gather,
            )
            self.layers.append(
                BasicLayer(
                    make_block,
                    dim=config.stage_dims[i],
                    input_resolution=resolution,
                    depth=config.depths[i],
                    num_heads=config.num_heads[i],
                    window_size=config.window_size,
                    drop_path=rates[start : start + config.depths[i]],
                    downsample=self.merging_class if i < self.num_layers - 1 else None,
                    use_checkpoint=config.use_checkpoint,
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
        """The one check of a forward pass (the modules below trust it)."""
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
        x = self.pos_drop(self.patch_embed.embed(x))
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
        if x.shape[0] == 0:  # an empty batch gives empty features of the right shape, as nn modules do
            return self._features(x.new_zeros(1, *x.shape[1:]))[:0]
        return self._features(x)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pos_drop(self.patch_embed.embed(x))
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

    The v1 model with the v2 block and merging, the official defaults (256 px, window 8), and the
    post-norms zeroed at initialisation so every block starts as the identity.
    ``pretrained_window_sizes`` (one per stage, 0 = none): the window the weights were trained
    with, so that the position-bias coordinates keep their scale at a new window.
    """

    version = 2
    block_class = SwinTransformerBlockV2
    merging_class = PatchMergingV2

    def __init__(self, img_size: int | tuple[int, int] = 256, window_size: int = 8, **kwargs) -> None:
        super().__init__(img_size=img_size, window_size=window_size, **kwargs)
        for layer in self.layers:
            for block in layer.blocks:
                if block.norm_placement == "res_post":
                    block.init_respostnorm()


def build_model(config: SwinConfig) -> SwinTransformer:
    """The model a :class:`~swin_tutor.core.config.SwinConfig` describes (v1 or v2)."""
    if not isinstance(config, SwinConfig):
        raise TypeError(f"config must be a SwinConfig, got {type(config).__name__}")
    cls = SwinTransformerV2 if config.version == 2 else SwinTransformer
    return cls(**config.kwargs())
