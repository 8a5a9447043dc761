"""One description of a Swin model, v1 or v2: a small frozen configuration.

:class:`SwinConfig` holds every setting the model constructors take, checked once when it is made.
The size table (:mod:`swin_tutor.core.sizes`) fills it, every model keeps its own as ``model.config``
(stage, block and attention are built from it), and checkpoints store it beside the weights
(:meth:`SwinConfig.settings`). What differs between the versions is the ``version`` field and
nothing else: v2 means cosine attention with a continuous position bias, res-post-norm, merging
with the LayerNorm after the reduction, and a pre-training window per stage.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

from swin_tutor.core.validation import (
    check_int,
    check_int_sequence,
    check_number,
    check_rate,
    positive_pair,
)

__all__ = ["NormPlacement", "SwinConfig", "default_norm_placement"]

NormPlacement = Literal["pre", "post", "res_post"]


def default_norm_placement(version: int) -> NormPlacement:
    """Where each version puts its LayerNorms: ``"pre"`` (v1), ``"res_post"`` (v2)."""
    return "res_post" if version == 2 else "pre"


@dataclass(frozen=True)
class SwinConfig:
    """Every setting of a Swin Transformer, with the official constructors' names and defaults (v1).

    ``img_size`` is the size the model is built and counted for; it runs at any size.
    ``norm_placement=None`` takes the version's own; ``pretrained_window_sizes`` (v2 only, one per
    stage, 0 = none) is the window the weights were trained with. ``use_checkpoint`` (the official
    flag) recomputes each block's activations in the backward pass instead of keeping them;
    ``use_gather=False`` runs the readable shift-and-partition steps instead of the one gather.
    """

    version: int = 1
    img_size: tuple[int, int] = (224, 224)
    patch_size: int = 4
    in_chans: int = 3
    num_classes: int = 1000
    embed_dim: int = 96
    depths: tuple[int, ...] = (2, 2, 6, 2)
    num_heads: tuple[int, ...] = (3, 6, 12, 24)
    window_size: int = 7
    mlp_ratio: float = 4.0
    qkv_bias: bool = True
    drop_rate: float = 0.0
    attn_drop_rate: float = 0.0
    drop_path_rate: float = 0.1
    patch_norm: bool = True
    norm_placement: NormPlacement | None = None
    pretrained_window_sizes: tuple[int, ...] = (0, 0, 0, 0)
    use_checkpoint: bool = False
    use_gather: bool = True

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if self.version not in (1, 2):
            raise ValueError(f"version must be 1 or 2, got {self.version!r}")
        put("img_size", positive_pair(self.img_size, "img_size"))
        put("patch_size", check_int(self.patch_size, "patch_size", minimum=1))
        if min(self.img_size) < self.patch_size:
            raise ValueError(
                f"img_size {self.img_size} must hold at least one {self.patch_size}x{self.patch_size} patch"
            )
        put("in_chans", check_int(self.in_chans, "in_chans", minimum=1))
        put("num_classes", check_int(self.num_classes, "num_classes", minimum=0))
        put("embed_dim", check_int(self.embed_dim, "embed_dim", minimum=1))
        put("depths", check_int_sequence(self.depths, "depths", length=4, minimum=1))
        put("num_heads", check_int_sequence(self.num_heads, "num_heads", length=4, minimum=1))
        for i, heads in enumerate(self.num_heads):
            if self.stage_dims[i] % heads:
                raise ValueError(f"stage {i}: num_heads={heads} must divide the stage dimension {self.stage_dims[i]}")
        put("window_size", check_int(self.window_size, "window_size", minimum=1))
        put("mlp_ratio", check_number(self.mlp_ratio, "mlp_ratio", above=0))
        for name in ("drop_rate", "attn_drop_rate", "drop_path_rate"):
            put(name, check_rate(getattr(self, name), name))
        placement = self.norm_placement or default_norm_placement(self.version)
        if placement not in get_args(NormPlacement):
            raise ValueError(f"norm_placement must be one of {get_args(NormPlacement)}, got {placement!r}")
        put("norm_placement", placement)
        windows = check_int_sequence(self.pretrained_window_sizes, "pretrained_window_sizes", length=4, minimum=0)
        if self.version == 1 and any(windows):
            raise ValueError(
                f"pretrained_window_sizes={windows} is a Swin V2 setting; a v1 bias table is resized instead "
                "(swin_tutor.core.position_bias.resize_relative_position_bias_table)"
            )
        put("pretrained_window_sizes", windows)
        for name in ("qkv_bias", "patch_norm", "use_checkpoint", "use_gather"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")

    @property
    def num_layers(self) -> int:
        return len(self.depths)

    @property
    def stage_dims(self) -> tuple[int, ...]:
        """The width of each stage: C, 2C, 4C, 8C."""
        return tuple(self.embed_dim * 2**i for i in range(len(self.depths)))

    @property
    def num_features(self) -> int:
        """The width of the last stage (what the head sees)."""
        return self.stage_dims[-1]

    def settings(self) -> dict[str, Any]:
        """JSON-ready: the settings that rebuild the model for its weights (stored in checkpoints).

        Training-time settings (dropout, drop path, checkpointing) are left out; the norm placement
        only when it is not the version's own.
        """
        keep = ["version", "img_size", "patch_size", "in_chans", "num_classes", "embed_dim", "depths", "num_heads"]
        keep += ["window_size", "mlp_ratio"] + (["pretrained_window_sizes"] if self.version == 2 else [])
        keep += ["norm_placement"] if self.norm_placement != default_norm_placement(self.version) else []
        return {k: list(getattr(self, k)) if isinstance(getattr(self, k), tuple) else getattr(self, k) for k in keep}

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the model constructor (everything but ``version``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "version"}
