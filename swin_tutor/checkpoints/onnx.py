"""ONNX export of a Swin (v1 or v2): the logits, and on request the attention of chosen blocks.

:class:`AttentionRecorder` wraps a model so that its forward returns ``(logits, attn..., bias...)``:
for every chosen block (``(stage, block)`` pairs) the softmax weights ``(B * nW, heads, N, N)`` and
the position bias ``(heads, N, N)`` that block adds (v1: the learned table looked up; v2: the CPB
MLP's ``16 * sigmoid``). It records them with forward hooks on the blocks' attention modules, which
recompute the weights from the module's own inputs and weights (``attention_probs``), so nothing in
the model changes. :func:`export_onnx` writes the file with the TorchScript-based exporter
(``torch.onnx.export(..., dynamo=False)``); :func:`onnx_parity` runs it in ONNX Runtime (CPU) beside
PyTorch.

Limits, honestly:

- **One image size per file.** The graph is traced at one input size, the model's ``img_size``.
  Everything Swin derives from the size becomes a constant in the graph: the clamp rule
  (``min(H, W) <= window`` shrinks the window and turns the shift off, per map, per block), the
  padding of maps the window does not divide, the shifted-window mask ``(nW, N, N)`` and the token
  order of shift + partition. Another size gives other constants, so the graph would be *wrong*, not
  merely slow: ONNX Runtime refuses any other H, W (the input is declared with fixed H, W). For
  another size, build the model again with ``img_size=(H, W)``, load the same weights
  (``load_state_dict``: no parameter depends on the size) and export that one. The export is
  traced at the model's own ``img_size`` only: a block meeting another size works its geometry
  out from the traced shapes, which the tracer hands over as tensors, not ints.
- **The batch is dynamic** (``dynamic_batch=True``): reshapes use -1 and the batch is read from the
  input's shape. Attention outputs then hold ``B * nW`` windows, batch outermost.
- **Operators.** Opset 17 (the default; LayerNorm is one node from 17). The cyclic shift and the
  window partition run as one precomputed ``index_select`` (ONNX ``Gather`` with a constant index),
  not ``torch.roll`` (which the TorchScript exporter lowers to Slice + Concat pairs); the mask is
  a constant added before the ``Softmax``; the v2 clamp of the logit scale is ``Exp`` + ``Clip``.
  The v1 bias lookup is constant-folded into an initializer; the v2 bias MLP stays in the graph
  (``Gemm``, ``Relu``, ``Sigmoid``: it reads only weights). Nothing custom: the file runs in ONNX
  Runtime (CPU, and WebAssembly in a browser) as it is.
- Models with weights in float16 are exported as they are; export a ``.float()`` copy for float32.

A cleaner way, later: a switch in core (say ``forward_intermediates(x, attention=True)`` or an
``attend`` that stores its weights on request) would return the weights the forward pass computes
instead of recomputing them beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

__all__ = ["AttentionRecorder", "OnnxParity", "all_blocks", "export_onnx", "onnx_parity", "output_names"]

DEFAULT_OPSET = 17


def all_blocks(model: nn.Module) -> list[tuple[int, int]]:
    """Every ``(stage, block)`` pair of a Swin model, in order."""
    return [(i, j) for i, layer in enumerate(model.layers) for j in range(len(layer.blocks))]


def _check_blocks(model: nn.Module, blocks: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    valid = all_blocks(model)
    chosen = [tuple(b) for b in blocks]
    bad = [b for b in chosen if b not in valid]
    if bad:
        raise ValueError(f"blocks must be (stage, block) pairs of this model, one of {valid}; got {bad}")
    return chosen


def output_names(blocks: Sequence[tuple[int, int]], bias: bool = True) -> list[str]:
    """The graph's outputs: ``logits``, then ``attn_s{i}_b{j}`` per block, then ``bias_s{i}_b{j}``."""
    names = ["logits"] + [f"attn_s{i}_b{j}" for i, j in blocks]
    return names + ([f"bias_s{i}_b{j}" for i, j in blocks] if bias else [])


class AttentionRecorder(nn.Module):
    """``model`` whose forward returns ``(logits, attn..., bias...)`` for the chosen blocks.

    attn: ``(B * nW, heads, N, N)`` softmax weights, windows in the block's order (``token_order``);
    bias: ``(heads, N, N)`` for the block's (clamped) window. The model itself is not modified;
    the hooks live only while this wrapper's forward runs.
    """

    def __init__(self, model: nn.Module, blocks: Sequence[tuple[int, int]] = (), bias: bool = True) -> None:
        super().__init__()
        self.model = model
        self.blocks = _check_blocks(model, blocks)
        self.bias = bias

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, C, H, W) -> logits (B, classes), attn per block, bias per block."""
        attn: dict[tuple[int, int], torch.Tensor] = {}
        bias: dict[tuple[int, int], torch.Tensor] = {}
        handles = []
        for key in self.blocks:
            module = self.model.layers[key[0]].blocks[key[1]].attn

            def hook(mod, args, output, key=key):  # args: (windows (B*nW, N, C), mask, window)
                attn[key] = mod.attention_probs(*args)
                bias[key] = mod.position_bias(args[2] if len(args) > 2 else None)

            handles.append(module.register_forward_hook(hook))
        try:
            logits = self.model(x)
        finally:
            for handle in handles:
                handle.remove()
        outs = [logits] + [attn[k] for k in self.blocks]
        return tuple(outs + ([bias[k] for k in self.blocks] if self.bias else []))


def export_onnx(
    model: nn.Module,
    path: str | Path,
    blocks: Sequence[tuple[int, int]] = (),
    bias: bool = True,
    dynamic_batch: bool = True,
    opset: int = DEFAULT_OPSET,
) -> list[str]:
    """Write ``model`` (eval mode, on CPU) to ``path`` as ONNX; returns the output names.

    The input is ``x`` (B, in_chans, H, W) at the model's ``img_size``; the graph accepts no other
    H, W (see the module's notes: for another size, build the model at that size). ``blocks``: the ``(stage, block)``
    pairs whose attention (and, with ``bias``, position bias) become extra outputs.
    """
    if not isinstance(opset, int) or isinstance(opset, bool) or opset < 14:
        raise ValueError(f"opset must be an int >= 14, got {opset!r}")
    height, width = model.img_size
    names = output_names(_check_blocks(model, blocks), bias)
    wrapper = AttentionRecorder(model, blocks, bias).eval()
    x = torch.zeros(1, model.in_chans, height, width, dtype=next(model.parameters()).dtype)
    axes = {n: {0: "batch"} for n in ["x"] + [n for n in names if not n.startswith("bias")]} if dynamic_batch else None
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # TracerWarnings: the size checks are constants at the traced size
        torch.onnx.export(
            wrapper,
            (x,),
            str(path),
            input_names=["x"],
            output_names=names,
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    _name_outputs(path, names)
    return names


def _name_outputs(path: str | Path, names: list[str]) -> None:
    """Give every output its name: an output the exporter folded to a constant (a v1 bias) loses it."""
    import onnx

    graph_model = onnx.load(str(path))
    graph = graph_model.graph
    renamed = False
    for output, name in zip(graph.output, names, strict=True):
        if output.name != name:
            graph.node.append(onnx.helper.make_node("Identity", [output.name], [name]))
            output.name, renamed = name, True
    if renamed:
        onnx.save(graph_model, str(path))


@dataclass(frozen=True)
class OnnxParity:
    """ONNX Runtime beside PyTorch on one input: the largest absolute difference of each output."""

    max_abs_diff: dict[str, float]
    max_row_sum_error: float  # max |sum of an attention row - 1| in the ONNX outputs

    @property
    def worst(self) -> float:
        return max(self.max_abs_diff.values())


def onnx_parity(
    path: str | Path, model: nn.Module, x: torch.Tensor, blocks: Sequence[tuple[int, int]] = (), bias: bool = True
) -> OnnxParity:
    """Run the file in ONNX Runtime (CPU, one thread) and ``model`` on ``x``; compare every output."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": x.detach().cpu().numpy()})
    with torch.no_grad():
        want = AttentionRecorder(model, blocks, bias).eval()(x)
    names = [o.name for o in session.get_outputs()]
    diffs = {n: float((torch.from_numpy(g) - w.float()).abs().max()) for n, g, w in zip(names, got, want, strict=True)}
    rows = [abs(g.sum(-1) - 1).max() for n, g in zip(names, got, strict=True) if n.startswith("attn")]
    return OnnxParity(diffs, float(max(rows)) if rows else 0.0)
