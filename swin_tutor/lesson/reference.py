"""The reference implementation the tests and notebook checks compare with: Hugging Face transformers.

``make_hf_reference(model)`` builds the Hugging Face Swin / Swinv2 classifier with the same
configuration, gives it seeded random weights (every parameter, LayerNorms and bias tables
included, so nothing is left at a default that could hide a mistake), and copies those weights into
``model`` through :func:`swin_tutor.checkpoints.loading.convert_hf_state_dict`. Both then hold the same numbers.
transformers is imported only here, and only when called.

The ``compare_*`` functions are the checks the notebooks print: ours and Hugging Face's block,
merging layer or position bias side by side, one ``report_match`` line or one boolean each.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn

from swin_tutor.checkpoints.export import hf_config_for
from swin_tutor.checkpoints.keys import convert_hf_state_dict
from swin_tutor.core.model import SwinTransformer
from swin_tutor.core.position_bias import log_spaced_coords_table, relative_position_index
from swin_tutor.lesson.notebook import report_match

__all__ = [
    "make_hf_reference",
    "hf_block",
    "hf_stage",
    "perturb_",
    "hf_on_map",
    "compare_blocks",
    "compare_merging",
    "hf_position_bias",
    "compare_position_biases",
]


def perturb_(module: nn.Module, seed: int = 0, scale: float = 0.02) -> nn.Module:
    """Add seeded noise to every floating-point parameter, in place (LayerNorm weights stop being 1, etc.)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(module.named_parameters()):
            p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * scale)
    return module


def make_hf_reference(model: SwinTransformer, seed: int = 0):
    """Build the Hugging Face twin of ``model``, randomise it (seeded), copy its weights into ``model``.

    Returns the Hugging Face model in eval mode; ``model`` is left in eval mode with the same weights.
    """
    from transformers import SwinForImageClassification, Swinv2ForImageClassification

    if model.version == 1:
        small = [
            tuple(layer.input_resolution) for layer in model.layers if min(layer.input_resolution) < model.window_size
        ]
        if small:
            raise ValueError(
                f"Hugging Face's Swin v1 cannot run this configuration: stage maps {small} are smaller than the "
                f"window {model.window_size}. It clamps the window at forward time but builds the bias tables at "
                "construction, so the shapes clash (swin_tutor clamps per map size too, but reads the centre of a "
                "table built for the requested window; the official code clamps at construction, table included). "
                "Compare such a model stage by stage instead (see tests/test_v1_parity.py)."
            )
    torch.manual_seed(seed)
    cls = Swinv2ForImageClassification if model.version == 2 else SwinForImageClassification
    reference = cls(hf_config_for(model))
    perturb_(reference, seed=seed)
    if model.num_classes == 0:
        reference.classifier = nn.Identity()
    state = convert_hf_state_dict(reference.state_dict())
    model.load_state_dict(state, strict=True)
    device = next(model.parameters()).device
    return reference.to(device).eval(), model.eval()


def hf_stage(reference, i: int) -> nn.Module:
    """Stage ``i`` (``layers.i``) of a Hugging Face Swin / Swinv2 classifier."""
    backbone = reference.swinv2 if hasattr(reference, "swinv2") else reference.swin
    return backbone.encoder.layers[i]


def hf_block(reference, i: int, j: int) -> nn.Module:
    """Block ``j`` of stage ``i`` of a Hugging Face Swin / Swinv2 classifier."""
    return hf_stage(reference, i).blocks[j]


# -- checks the notebooks print: ours next to Hugging Face, block by block ---------------------------
def hf_on_map(hf_module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Run a Hugging Face block or merging layer on our (B, H, W, C) map.

    Hugging Face modules take (B, H*W, C) tokens and the map size (H, W); a block returns a tuple,
    whose first entry is the output (B, H*W, C); merging returns (B, H*W/4, 2C).
    """
    b, h, w, c = x.shape
    out = hf_module(x.reshape(b, h * w, c), (h, w))
    return out[0] if isinstance(out, tuple) else out


def compare_blocks(
    model: SwinTransformer,
    reference,
    x: torch.Tensor,
    stage: int,
    blocks: Sequence[int],
    label: str = "layers[{i}].blocks[{j}]",
    atol: float = 1e-5,
) -> bool:
    """Run blocks ``blocks`` of stage ``stage``, ours and Hugging Face's, each on the same (B, H, W, C)
    map ``x``; print one :func:`~swin_tutor.lesson.notebook.report_match` line per block and return whether
    all match.

    ``label`` is formatted with ``i`` (the stage), ``j`` (the block) and ``block`` (our block), e.g.
    ``"layers[{i}].blocks[{j}] ({block.norm_placement})"``.
    """
    ok = True
    with torch.no_grad():
        for j in blocks:
            block = model.layers[stage].blocks[j]
            ours = block(x)  # (B, H, W, C)
            theirs = hf_on_map(hf_block(reference, stage, j), x).view_as(ours)
            ok &= report_match(label.format(i=stage, j=j, block=block), ours, theirs, atol)
    return ok


def compare_merging(
    model: SwinTransformer, reference, x: torch.Tensor, stage: int, label: str | None = None, atol: float = 1e-5
) -> bool:
    """Our patch merging at the end of stage ``stage`` and Hugging Face's on the same (B, H, W, C) map,
    compared as (B, tokens, 2C); prints one line (``label`` defaults to the layer and map size)."""
    b, h, w, c = x.shape
    with torch.no_grad():
        ours = model.layers[stage].downsample(x)  # (B, ceil(H/2), ceil(W/2), 2C)
        ours = ours.reshape(b, -1, ours.shape[-1])
        theirs = hf_on_map(hf_stage(reference, stage).downsample, x)
    return report_match(label or f"layers[{stage}].downsample on {h}x{w}x{c}", ours, theirs, atol)


def hf_position_bias(reference, i: int, j: int) -> torch.Tensor:
    """(heads, N, N): the position bias Hugging Face adds in block ``j`` of stage ``i``.

    v1: its bias module gathers the table with the index. v2: Hugging Face computes it inside the
    attention forward, so it is rebuilt here from its own parts: the CPB-MLP on its coordinate
    table, gathered with its index, then ``16 * sigmoid``.
    """
    attention = hf_block(reference, i, j).attention
    if hasattr(attention, "relative_position_bias"):  # v1
        return attention.relative_position_bias()[0]
    attn = attention.self
    heads = attn.num_attention_heads
    n = attn.window_size[0] * attn.window_size[1]
    table = attn.continuous_position_bias_mlp(attn.relative_coords_table).view(-1, heads)  # (offsets, heads)
    return 16 * torch.sigmoid(table[attn.relative_position_index.view(-1)].view(n, n, heads).permute(2, 0, 1))


def _hf_bias_buffers(reference, i: int, j: int) -> nn.Module:
    """The Hugging Face module of block (i, j) that holds ``relative_position_index`` (and v2's
    ``relative_coords_table``)."""
    attention = hf_block(reference, i, j).attention
    return attention.relative_position_bias if hasattr(attention, "relative_position_bias") else attention.self


def _our_bias_buffers(block: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(index (N, N), v2 coordinate table or None) that our block reads for the window it runs.

    A block whose window was clamped keeps the attention built for the requested window: v1 then
    reads the centre of its table, v2 runs its MLP on the smaller window's own coordinates.
    """
    attn, window = block.attn, (block.window_size, block.window_size)
    coords = getattr(attn, "relative_coords_table", None)
    if window == tuple(attn.window_size):
        return attn.relative_position_index, coords
    if coords is None:  # v1
        return relative_position_index(window, attn.window_size), None
    return relative_position_index(window), log_spaced_coords_table(window, attn.pretrained_window_size).unsqueeze(0)


def compare_position_biases(model: SwinTransformer, reference, atol: float = 1e-5) -> dict[str, bool]:
    """Compare every block's position bias (to ``atol``) and ``relative_position_index`` (exactly) with
    Hugging Face's, and for v2 the ``relative_coords_table`` (``torch.allclose``), each for the window
    the block runs.

    Returns ``{"bias": ..., "index": ...}`` (v2: and ``"coords"``), each True when all blocks agree.
    """
    same = {"bias": True, "index": True, **({"coords": True} if model.version == 2 else {})}
    with torch.no_grad():
        for i, layer in enumerate(model.layers):
            for j, block in enumerate(layer.blocks):
                theirs = _hf_bias_buffers(reference, i, j)
                ours_bias, their_bias = block.attn.position_bias(block.window_size), hf_position_bias(reference, i, j)
                same["bias"] &= ours_bias.shape == their_bias.shape and torch.allclose(
                    ours_bias, their_bias, atol=atol, rtol=0
                )
                index, coords = _our_bias_buffers(block)
                same["index"] &= torch.equal(index.flatten(), theirs.relative_position_index.flatten())
                if "coords" in same:
                    same["coords"] &= coords.shape == theirs.relative_coords_table.shape and torch.allclose(
                        coords, theirs.relative_coords_table
                    )
    return {k: bool(v) for k, v in same.items()}
