"""Looking inside a trained Swin (notebook 11): attention maps, learned position bias, Grad-CAM, reach.

Layouts: images (B, C_in, H, W); token maps (B, h, w, C) as the blocks use them; sequences
(B, h*w, C) as Hugging Face and timm's older code use them. Maps returned here are CPU tensors.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from swin_tutor.core.attention import WindowAttentionV2
from swin_tutor.core.masks import shifted_window_mask
from swin_tutor.core.windows import cyclic_shift, window_partition

__all__ = [
    "tokens_to_nchw",
    "capture_block_input",
    "query_attention",
    "relative_bias_image",
    "bias_preferences",
    "grad_cam",
    "effective_receptive_field",
    "paste_digits",
]


def tokens_to_nchw(tokens: torch.Tensor, hw: tuple[int, int] | None = None) -> torch.Tensor:
    """(B, h*w, C) with ``hw=(h, w)``, or (B, h, w, C) -> (B, C, h, w), the layout Grad-CAM code expects."""
    if tokens.dim() == 4:
        return tokens.permute(0, 3, 1, 2)
    if tokens.dim() == 3:
        if hw is None or hw[0] * hw[1] != tokens.shape[1]:
            raise ValueError(
                f"a (B, h*w, C) sequence of {tokens.shape[1]} tokens needs hw=(h, w) with h*w equal; got {hw}"
            )
        b, _, c = tokens.shape
        return tokens.transpose(1, 2).reshape(b, c, hw[0], hw[1])
    raise ValueError(f"tokens must be (B, h*w, C) or (B, h, w, C), got {tuple(tokens.shape)}")


@torch.no_grad()
def capture_block_input(model: nn.Module, block: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Run ``model`` on ``images`` and return what ``block`` received: its (B, h, w, C) token map."""
    seen: list[torch.Tensor] = []
    handle = block.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach()))
    try:
        model(images)
    finally:
        handle.remove()
    if not seen:
        raise ValueError("block was not called by model(images): is it a block of this model?")
    return seen[0]


@torch.no_grad()
def query_attention(block: nn.Module, tokens: torch.Tensor, query: tuple[int, int], index: int = 0) -> dict:
    """Attention weights of one query token, per head, drawn back on the block's (h, w) map.

    ``tokens`` is the block's input (B, h, w, C) (see :func:`capture_block_input`), ``query`` the
    (row, col) of the query token on the unshifted map, ``index`` the image of the batch. Returns
    ``weights`` (heads, h, w) (zero outside the query's window), ``window`` (h, w) bool: the tokens of
    the query's (shifted) window, and ``masked`` (h, w) bool: tokens of that window the shifted-window
    mask hides from the query (they were not neighbours before the cyclic shift).
    """
    _, h, w, c = tokens.shape
    ws, s = block.window_size, block.shift_size
    if h % ws or w % ws:
        raise ValueError(f"query_attention needs a window ({ws}) that divides the map ({h}x{w})")
    r, col = query
    if not (0 <= r < h and 0 <= col < w):
        raise ValueError(f"query must be a token of the {h}x{w} map, got {query}")
    x = tokens[index : index + 1]
    x = block.norm1(x) if block.norm_placement == "pre" else x  # what the attention branch sees
    ids = torch.arange(h * w, dtype=torch.float32).view(1, h, w, 1)
    window_ids = window_partition(cyclic_shift(ids, s), ws).reshape(-1, ws * ws).long()  # (nW, N)
    windows = window_partition(cyclic_shift(x, s), ws).reshape(-1, ws * ws, c)  # (nW, N, C)
    mask = shifted_window_mask(h, w, ws, s) if s > 0 else None  # (nW, N, N) or None
    probs = block.attn.attention_probs(windows, mask, ws)  # (nW, heads, N, N)
    k, i = [int(v) for v in torch.nonzero(window_ids == r * w + col)[0]]
    heads = probs.shape[1]
    weights = torch.zeros(heads, h * w)
    weights[:, window_ids[k]] = probs[k, :, i, :].float().cpu()
    in_window = torch.zeros(h * w, dtype=torch.bool)
    in_window[window_ids[k]] = True
    masked = torch.zeros(h * w, dtype=torch.bool)
    if mask is not None:
        masked[window_ids[k][mask[k, i] < 0]] = True
    return {"weights": weights.view(heads, h, w), "window": in_window.view(h, w), "masked": masked.view(h, w)}


@torch.no_grad()
def relative_bias_image(attn: nn.Module) -> torch.Tensor:
    """(heads, 2wh-1, 2ww-1): the bias a head adds for a key at offset (dy, dx) = query - key.

    The series' convention (notebook 05): offsets are query minus key, so the centre pixel is the query
    itself and pixel (wh-1+dy, ww-1+dx) is the key dy rows *above* and dx columns *left* of the query
    (a key below or right of the query has a negative offset). The image is the table itself, row
    (dy + wh-1) * (2ww-1) + (dx + ww-1). v1: the learned table; v2: ``16 * sigmoid(cpb_mlp(coords))``.
    """
    wh, ww = attn.window_size
    if isinstance(attn, WindowAttentionV2):
        table = 16 * torch.sigmoid(attn.cpb_mlp(attn.relative_coords_table.reshape(-1, 2)))
    else:
        table = attn.relative_position_bias_table
    return table.detach().float().cpu().T.reshape(-1, 2 * wh - 1, 2 * ww - 1)  # (heads, dy, dx), query - key


def bias_preferences(image: torch.Tensor) -> list[str]:
    """For each head's (2w-1, 2w-1) bias image: which offsets it favours most, on average.

    Compares the mean bias of four groups of keys: ``"self"`` (offset 0), ``"same row"`` (dy = 0),
    ``"same column"`` (dx = 0) and ``"elsewhere"``; returns the favoured group's name per head.
    """
    if image.dim() != 3:
        raise ValueError(f"image must be (heads, 2wh-1, 2ww-1), got {tuple(image.shape)}")
    _, hh, hw = image.shape
    cy, cx = hh // 2, hw // 2
    row = torch.zeros(hh, hw, dtype=torch.bool)
    row[cy] = True
    column = torch.zeros(hh, hw, dtype=torch.bool)
    column[:, cx] = True
    centre = row & column
    groups = {"self": centre, "same row": row & ~centre, "same column": column & ~centre, "elsewhere": ~(row | column)}
    names = list(groups)
    means = torch.stack([image[:, m].mean(dim=1) for m in groups.values()], dim=1)  # (heads, 4)
    return [names[int(i)] for i in means.argmax(dim=1)]


def grad_cam(
    model: nn.Module,
    images: torch.Tensor,
    target_layer: nn.Module,
    class_index: torch.Tensor | None = None,
    layout: str = "bhwc",
) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al.) with hooks: (B, h, w) maps in [0, 1] at ``target_layer``'s resolution.

    The layer's output is the activation A: Swin token maps (B, h, w, C) (``layout="bhwc"``, the
    default) or convolution maps (B, C, h, w) (``layout="bchw"``); the weights are the
    mean over positions of d logit[class] / dA; the map is ReLU(sum_c weight_c * A_c), divided by
    its maximum. ``class_index`` (B,) defaults to the predicted class.
    ``layout="sequence_as_bchw"`` is the pitfall ``E-gradcam-tokens``, kept to show it: the tokens are
    flattened to the (B, h*w, C) sequence Hugging Face returns and then *viewed* as (B, C, h, w) without
    moving the channel axis, so every "channel" mixes tokens and the map is noise.
    """
    if layout not in ("bhwc", "bchw", "sequence_as_bchw"):
        raise ValueError(f"layout must be 'bhwc', 'bchw' or 'sequence_as_bchw', got {layout!r}")
    store: dict[str, torch.Tensor] = {}

    def keep(_m, _i, out):
        out.register_hook(lambda g: store.__setitem__("grad", g))
        store["act"] = out

    handle = target_layer.register_forward_hook(keep)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            logits = model(images)  # (B, K)
            if "act" not in store:
                raise ValueError("target_layer was not called by model(images)")
            chosen = logits.argmax(dim=1) if class_index is None else class_index
            logits.gather(1, chosen.view(-1, 1)).sum().backward()
    finally:
        handle.remove()
        model.train(was_training)
    act, grad = store["act"], store["grad"]
    if act.dim() != 4:
        raise ValueError(f"target_layer must output a 4-d map, got {tuple(act.shape)}")
    if layout == "bhwc":
        act, grad = tokens_to_nchw(act), tokens_to_nchw(grad)  # (B, C, h, w)
    elif layout == "sequence_as_bchw":  # the bug: (B, h, w, C) -> (B, h*w, C) -> .view(B, C, h, w)
        b, h, w, c = act.shape
        act, grad = act.reshape(b, c, h, w), grad.reshape(b, c, h, w)
    weights = grad.mean(dim=(2, 3), keepdim=True)  # (B, C, 1, 1)
    cam = torch.relu((weights * act).sum(dim=1)).detach()  # (B, h, w)
    peak = cam.flatten(1).max(dim=1).values.clamp_min(1e-12)
    return (cam / peak.view(-1, 1, 1)).cpu()


def effective_receptive_field(model: nn.Module, images: torch.Tensor, stage: str = "stage1") -> torch.Tensor:
    """(H, W): mean over ``images`` of ``|d centre / d pixel|`` (centre token of ``stage``), scaled to max 1.

    ``stage`` names an output of ``model.forward_intermediates`` (``"stage0"`` .. ``"stage3"``).
    """
    x = images.clone().requires_grad_(True)  # (B, C_in, H, W)
    with torch.enable_grad():
        maps = model.forward_intermediates(x)
        if stage not in maps:
            raise ValueError(f"stage must be one of {sorted(maps)}, got {stage!r}")
        out = maps[stage]  # (B, h, w, C)
        out[:, out.shape[1] // 2, out.shape[2] // 2, :].sum().backward()
    field = x.grad.abs().sum(dim=1).mean(dim=0)  # (H, W)
    return (field / field.max().clamp_min(1e-12)).detach().cpu()


def paste_digits(
    digits: torch.Tensor, slots: list[tuple[int, int]], grid: tuple[int, int], background: float
) -> torch.Tensor:
    """A scene (1, C, gh*H, gw*W): digit i of ``digits`` (N, C, H, W) in tile ``slots[i]`` = (row, col) of a
    ``grid`` of tiles, the other tiles filled with ``background`` (an empty pixel, normalised)."""
    n, c, h, w = digits.shape
    if len(slots) != n:
        raise ValueError(f"slots must give one (row, col) tile per digit: {n} digits, got {len(slots)} slots")
    scene = torch.full((1, c, grid[0] * h, grid[1] * w), float(background), dtype=digits.dtype)
    for digit, (r, col) in zip(digits, slots, strict=True):
        if not (0 <= r < grid[0] and 0 <= col < grid[1]):
            raise ValueError(f"slot {(r, col)} is outside the {grid} grid of tiles")
        scene[0, :, r * h : (r + 1) * h, col * w : (col + 1) * w] = digit
    return scene
