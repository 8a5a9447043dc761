"""The opt-in compiled model gives the eager model's outputs (slow: inductor compiles C++)."""

from __future__ import annotations

import pytest
import torch

from swin_tutor import compile_model
from swin_tutor.train.digits_model import tiny_swin


def test_compile_model_wants_a_module():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got function"):
        compile_model(lambda x: x)


@pytest.mark.slow
def test_compiled_equals_eager_without_graph_breaks():
    """V2 (the version with more between the products: cosine, CPB-MLP); v1 compiles the same way."""
    torch.manual_seed(0)
    model = tiny_swin(2).eval()
    x = torch.randn(2, 1, 32, 32)
    compiled = compile_model(model, fullgraph=True)  # fullgraph: a graph break would raise here
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), atol=1e-5, rtol=1e-5)
    assert compiled.parameters().__next__() is model.parameters().__next__()  # weights shared
