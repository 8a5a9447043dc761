"""The registry of exercises and the three ways to make one: :func:`value`, :func:`function`, :func:`choice`.

Each ``nbNN.py`` registers its exercises by calling :func:`register` when it is imported;
``swin_tutor.exercises`` imports every ``nbNN.py`` by name, so the registry is full once the package is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from swin_tutor.exercises._exercise import Exercise

__all__ = ["REGISTRY", "choice", "function", "register", "value"]

_ID = re.compile(r"^\d\d\.\d+$")


def _make(id: str, title: str, kind: str, answer: Any, kwargs: dict[str, Any]) -> Exercise:
    if "solution" not in kwargs:
        raise TypeError(f"exercise {id}: the worked solution= text is required")
    return Exercise(id, title, kind, answer, solution_text=kwargs.pop("solution"), **kwargs)


def value(id: str, title: str, *, answer: Any, **kwargs: Any) -> Exercise:
    """An exercise whose answer is a value (number, shape, small table)."""
    return _make(id, title, "value", answer, kwargs)


def function(
    id: str,
    title: str,
    *,
    reference: Callable,
    cases: Sequence[tuple[str, tuple]],
    solution_answer: Callable,
    **kwargs: Any,
) -> Exercise:
    """An exercise whose answer is a function, checked against ``reference`` on every case."""
    return _make(id, title, "function", solution_answer, dict(kwargs, reference=reference, cases=list(cases)))


def choice(id: str, title: str, *, choices: dict[str, tuple[str, str]], answer: str, **kwargs: Any) -> Exercise:
    """Multiple choice: ``choices`` = {letter: (text, explanation)}; ``answer`` the right letter."""
    return _make(id, title, "choice", answer, dict(kwargs, choices=choices))


REGISTRY: dict[str, Exercise] = {}


def register(ex: Exercise) -> Exercise:
    """Add ``ex`` to the registry; refuse a bad id, a duplicate, or an exercise without hints/solution."""
    if not isinstance(ex, Exercise):
        raise TypeError(f"register: expected an Exercise, got {type(ex).__name__}")
    if not _ID.match(ex.id):
        raise ValueError(f'register: id must look like "03.2", got {ex.id!r}')
    if ex.id in REGISTRY:
        raise ValueError(f"register: exercise {ex.id} is registered twice")
    if not ex.hints or not ex.solution_text or not ex.section or not ex.why:
        raise ValueError(f"register: exercise {ex.id} needs hints, a solution, a why and a section")
    if ex.kind == "choice" and (ex.solution_answer not in ex.choices or not all(e for _, e in ex.choices.values())):
        raise ValueError(f"register: choice {ex.id} needs its answer among the letters and an explanation per choice")
    if ex.kind == "function" and (ex.reference is None or not ex.cases):
        raise ValueError(f"register: function exercise {ex.id} needs a reference and cases")
    REGISTRY[ex.id] = ex
    return ex
