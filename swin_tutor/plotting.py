"""Plot helpers the notebooks share, under one name: ``from swin_tutor.plotting import show_heatmap``.

Every function draws on a matplotlib Axes and returns it. They live in modules by job:
:mod:`~swin_tutor.plot_axes` (panels, images, tables, heat maps, and the shared ``to_numpy`` /
``finish_axes``), :mod:`~swin_tutor.plot_tokens` (patches, token ids, windows, merge gather, shifted
regions), :mod:`~swin_tutor.plot_features` (token maps as colours) and
:mod:`~swin_tutor.plot_diagrams` (norm placement).

End a notebook cell that plots with ``plt.show()`` so no artist (and no memory address) is printed.
"""

from __future__ import annotations

from .plot_axes import draw_grid, finish_axes, show_heatmap, show_image, show_int_table, subplots, titles_row, to_numpy
from .plot_diagrams import draw_norm_placement
from .plot_features import feature_norm, feature_pca_rgb, show_pca_map
from .plot_tokens import (
    show_channel_blocks,
    show_gather_order,
    show_patch_grid,
    show_patch_ids,
    show_region_labels,
    show_windows,
)

__all__ = [
    "to_numpy",
    "finish_axes",
    "show_image",
    "draw_grid",
    "show_patch_grid",
    "show_windows",
    "show_int_table",
    "show_heatmap",
    "feature_pca_rgb",
    "feature_norm",
    "subplots",
    "titles_row",
    "show_patch_ids",
    "show_gather_order",
    "show_channel_blocks",
    "show_pca_map",
    "show_region_labels",
    "draw_norm_placement",
]
