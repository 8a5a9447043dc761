"""swin_tutor: the building blocks of the Swin Transformer (v1 and v2), small, typed and tested.

The folders are the layers, each importing only from the ones below it:

- ``core/``: the model (validation, windows, masks, position bias, patches, attention, MLP, blocks,
  stages, model, sizes, cost) and the model as a backbone;
- ``checkpoints/``: file formats, key names, loading and export; ``dense/`` beside it: decoders
  (UPerNet, FPN) and the segmenter;
- ``train/``: digits data, the training loop and its command line;
- ``lab/``: experiments on the mechanisms, synthetic tasks, Grad-CAM;
- ``plot/`` and ``lesson/`` beside them: pictures, and what notebooks need around the model;
- ``exercises/`` on top.

This module is the public face: the model, its blocks and checkpoint loading, importable as
``from swin_tutor import SwinTransformer``. Everything else has one import path, its own module.
"""

from swin_tutor.checkpoints.files import CheckpointError
from swin_tutor.checkpoints.keys import convert_hf_state_dict
from swin_tutor.checkpoints.loading import LoadReport, load_checkpoint, transfer_state_dict
from swin_tutor.core.attention import WindowAttention, WindowAttentionV2
from swin_tutor.core.backbone import SwinBackbone
from swin_tutor.core.blocks import SwinTransformerBlock, SwinTransformerBlockV2, window_geometry
from swin_tutor.core.compiled import compile_model
from swin_tutor.core.config import SwinConfig
from swin_tutor.core.flops import count_macs, count_parameters, global_msa_macs, window_msa_macs
from swin_tutor.core.masks import (
    easy_shifted_window_mask,
    easy_window_masks,
    region_labels,
    same_blocked_pairs,
    shifted_window_mask,
)
from swin_tutor.core.mlp import DropPath, Mlp
from swin_tutor.core.model import SwinTransformer, SwinTransformerV2, build_model, init_weights
from swin_tutor.core.patches import (
    PatchEmbed,
    PatchMerging,
    PatchMergingConv,
    PatchMergingUnfold,
    PatchMergingV2,
    merge_gather,
    unfold_to_conv_weight,
)
from swin_tutor.core.position_bias import (
    SharedRelativePositionBias,
    log_spaced_coords_table,
    relative_position_index,
    resize_relative_position_bias_table,
)
from swin_tutor.core.sizes import swin, swin_b, swin_l, swin_s, swin_t, swinv2_b, swinv2_s, swinv2_t
from swin_tutor.core.validation import pad_to_multiple
from swin_tutor.core.windows import (
    clamp_window_and_shift,
    cyclic_shift,
    reverse_cyclic_shift,
    shifted_window_order,
    window_partition,
    window_reverse,
)
from swin_tutor.lesson.images import imagenet_normalize, make_test_card, read_image, resize_center_crop

__version__ = "0.1.0"

__all__ = [
    "build_model",
    "compile_model",
    "CheckpointError",
    "clamp_window_and_shift",
    "convert_hf_state_dict",
    "count_macs",
    "count_parameters",
    "cyclic_shift",
    "DropPath",
    "easy_shifted_window_mask",
    "easy_window_masks",
    "global_msa_macs",
    "imagenet_normalize",
    "init_weights",
    "load_checkpoint",
    "LoadReport",
    "log_spaced_coords_table",
    "make_test_card",
    "merge_gather",
    "Mlp",
    "pad_to_multiple",
    "PatchEmbed",
    "PatchMerging",
    "PatchMergingConv",
    "PatchMergingUnfold",
    "PatchMergingV2",
    "read_image",
    "region_labels",
    "relative_position_index",
    "resize_relative_position_bias_table",
    "resize_center_crop",
    "reverse_cyclic_shift",
    "same_blocked_pairs",
    "SharedRelativePositionBias",
    "shifted_window_mask",
    "shifted_window_order",
    "swin",
    "swin_b",
    "swin_l",
    "swin_s",
    "swin_t",
    "SwinBackbone",
    "SwinConfig",
    "SwinTransformer",
    "SwinTransformerBlock",
    "SwinTransformerBlockV2",
    "SwinTransformerV2",
    "swinv2_b",
    "swinv2_s",
    "swinv2_t",
    "transfer_state_dict",
    "unfold_to_conv_weight",
    "window_geometry",
    "window_msa_macs",
    "window_partition",
    "window_reverse",
    "WindowAttention",
    "WindowAttentionV2",
]
