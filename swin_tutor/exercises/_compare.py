"""Comparing a student's answer with the expected one, and saying in words how they differ.

Every message is fixed text, integers or the student's own short input: nothing that depends on the
CPU's floating point, so the lines a notebook prints are stable.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch


class _Placeholder:
    """The blank in a starter cell. ``____`` everywhere means "not attempted yet"."""

    _instance: _Placeholder | None = None

    def __new__(cls) -> _Placeholder:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "____"

    def __bool__(self) -> bool:
        return False


PLACEHOLDER = _Placeholder()


def contains_placeholder(obj: Any) -> bool:
    """True when ``obj`` is the placeholder or holds it (in a tuple, list or dict)."""
    if obj is PLACEHOLDER:
        return True
    if isinstance(obj, (tuple, list)):
        return any(contains_placeholder(o) for o in obj)
    if isinstance(obj, Mapping):
        return any(contains_placeholder(o) for o in obj.values())
    return False


def normalise(obj: Any) -> Any:
    """Tensors, arrays, tuples, torch.Size -> nested lists of Python scalars; dicts keep their keys."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().tolist()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (tuple, list, torch.Size)):
        return [normalise(o) for o in obj]
    if isinstance(obj, Mapping):
        return {k: normalise(v) for k, v in obj.items()}
    return obj


def describe(obj: Any) -> str:
    """A short, stable description of what kind of thing ``obj`` is."""
    if isinstance(obj, bool):
        return "a bool"
    if isinstance(obj, numbers.Integral):
        return "an int"
    if isinstance(obj, numbers.Real):
        return "a number"
    if isinstance(obj, str):
        return "a string"
    if isinstance(obj, (torch.Tensor, np.ndarray)):
        return f"a {'tensor' if isinstance(obj, torch.Tensor) else 'array'} of shape {tuple(obj.shape)}"
    if isinstance(obj, (tuple, list, torch.Size)):
        return f"a sequence of {len(obj)}"
    if isinstance(obj, Mapping):
        return f"a dict with keys {sorted(map(str, obj))}"
    if obj is None:
        return "None"
    return f"a {type(obj).__name__}"


def same(answer: Any, expected: Any, tol: float = 0.0) -> bool:
    """Value equality after :func:`normalise`; numbers within ``tol``; strings ignoring case and spaces."""
    a, e = normalise(answer), normalise(expected)
    if isinstance(e, bool) or isinstance(a, bool):
        return isinstance(a, bool) and isinstance(e, bool) and a == e
    if isinstance(e, numbers.Real):
        return isinstance(a, numbers.Real) and abs(float(a) - float(e)) <= tol
    if isinstance(e, str):
        return isinstance(a, str) and a.strip().lower() == e.strip().lower()
    if isinstance(e, list):
        return isinstance(a, list) and len(a) == len(e) and all(same(x, y, tol) for x, y in zip(a, e, strict=True))
    if isinstance(e, dict):
        return isinstance(a, dict) and a.keys() == e.keys() and all(same(a[k], e[k], tol) for k in e)
    return a == e


def shape_mismatch(answer: Any, expected: Any) -> str | None:
    """Why ``answer`` cannot be the answer whatever its numbers (wrong type or length), or None."""
    a, e = normalise(answer), normalise(expected)
    if isinstance(e, bool):
        return None if isinstance(a, bool) else f"expected True or False, got {describe(answer)}"
    if isinstance(e, numbers.Real):
        ok = isinstance(a, numbers.Real) and not isinstance(a, bool)
        return None if ok else f"expected a number, got {describe(answer)}"
    if isinstance(e, list):
        if not isinstance(a, list):
            return f"expected a sequence of {len(e)}, got {describe(answer)}"
        if len(a) != len(e):
            return f"expected {len(e)} entries, got {len(a)}"
        for x, y in zip(a, e, strict=True):
            reason = shape_mismatch(x, y)
            if reason:
                return reason
        return None
    if isinstance(e, dict):
        if not isinstance(a, dict) or a.keys() != e.keys():
            return f"expected a dict with keys {sorted(map(str, e))}, got {describe(answer)}"
    return None


def compare_outputs(got: Any, expected: torch.Tensor, atol: float) -> str | None:
    """None when a function's output matches the reference output, else what differs (stable words)."""
    if not isinstance(got, torch.Tensor):
        return f"returned {describe(got)}, expected a tensor of shape {tuple(expected.shape)}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"returned shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    if expected.is_floating_point() or got.is_floating_point():
        close = torch.isclose(got.double(), expected.double(), atol=atol, rtol=0.0)
    else:
        close = got == expected
    wrong = int((~close).sum())
    return None if wrong == 0 else f"{wrong} of {expected.numel()} values differ"


_LATEX = {r"\times": "×", r"\cdot": "·", r"\infty": "∞", r"\sigma": "σ", r"\,": " ", r"\sqrt": "√"}
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def plain_text(text: str) -> str:
    """Markdown section names without LaTeX: ``a $2\\times2$ window`` -> ``a 2×2 window``, ``$x_0$`` -> ``x₀``."""

    def convert(match: re.Match) -> str:
        math = match.group(1)
        for command, symbol in _LATEX.items():
            math = math.replace(command, symbol)
        math = re.sub(r"_(\d)", lambda m: m.group(1).translate(_SUBSCRIPTS), math)
        return re.sub(r"\\([A-Za-z]+)", r"\1", math).replace("{", "").replace("}", "")

    return re.sub(r"\$([^$]*)\$", convert, text)
