"""swin_tutor: the building blocks of the Swin Transformer (v1 and v2), small, typed and tested.

Import what a notebook needs from here; each name lives in the module named for its concept.
"""

from .attention import WindowAttention, WindowAttentionV2
from .blocks import SwinTransformerBlock, SwinTransformerBlockV2, window_geometry
from .checkpoint import CheckpointError, LoadReport, convert_hf_state_dict, load_checkpoint, transfer_state_dict
from .compiled import compile_model
from .flops import count_macs, count_parameters, global_msa_macs, window_msa_macs
from .images import imagenet_normalize, make_test_card, read_image, resize_center_crop
from .masks import (
    easy_shifted_window_mask,
    easy_window_masks,
    region_labels,
    same_blocked_pairs,
    shifted_window_mask,
)
from .mlp import DropPath, Mlp
from .model import SwinTransformer, SwinTransformerV2, init_weights
from .notebook import default_device, fmt, report_match, setup_notebook
from .patches import (
    PatchEmbed,
    PatchMerging,
    PatchMergingConv,
    PatchMergingUnfold,
    PatchMergingV2,
    conv_to_unfold_weight,
    merge_gather,
    unfold_to_conv_weight,
)
from .position_bias import (
    SharedRelativePositionBias,
    log_spaced_coords_table,
    relative_position_index,
    resize_relative_position_bias_table,
)
from .sizes import swin_b, swin_l, swin_s, swin_t, swinv2_b, swinv2_s, swinv2_t
from .windows import (
    clamp_window_and_shift,
    cyclic_shift,
    pad_to_multiple,
    reverse_cyclic_shift,
    shifted_window_order,
    window_partition,
    window_reverse,
)

__version__ = "0.1.0"

__all__ = [
    "compile_model",
    "CheckpointError",
    "clamp_window_and_shift",
    "conv_to_unfold_weight",
    "convert_hf_state_dict",
    "count_macs",
    "count_parameters",
    "cyclic_shift",
    "default_device",
    "DropPath",
    "easy_shifted_window_mask",
    "easy_window_masks",
    "fmt",
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
    "report_match",
    "resize_relative_position_bias_table",
    "resize_center_crop",
    "reverse_cyclic_shift",
    "same_blocked_pairs",
    "setup_notebook",
    "SharedRelativePositionBias",
    "shifted_window_mask",
    "shifted_window_order",
    "swin_b",
    "swin_l",
    "swin_s",
    "swin_t",
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
