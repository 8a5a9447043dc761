"""Exercises that check themselves: ``exercise("03.2").check(answer)``, graded hints, worked solutions.

A starter cell looks like this; its first run prints the "not attempted yet" line::

    from swin_tutor.exercises import ____, exercise

    answer = ____  # replace ____ with your answer
    exercise("03.2").check(answer)

``check`` prints one line and returns a :class:`Result` (``correct``, ``message``, ``status``);
``hint()``, ``hint(2)``, ... print graded hints (the last is nearly the answer); ``solution()``
prints the worked solution. Printed text is fixed words and integers: stable on every CPU.

How to add the exercises of a notebook (e.g. notebook 09)
---------------------------------------------------------
1. Create ``swin_tutor/exercises/nb09.py`` (found and imported automatically, no other file to edit).
   Register each exercise with one of three builders; ids are ``"09.1"``, ``"09.2"``, ...::

       from swin_tutor.exercises import Mistake, choice, function, register, value

       register(value(
           "09.1", "Tokens in stage 3 at 224 px",            # id, one-line title
           answer=196,                                        # what counts as correct
           why="224/4 = 56 tokens a side, merged twice: 14 x 14 = 196.",  # printed after "Correct:"
           mistakes=[Mistake(784, "one merge too few", "28 x 28 is stage 2's map.", "Through all four stages")],
           hints=["How many merges come before stage 3?", "56 -> 28 -> 14."],
           solution="56 / 2 / 2 = 14 tokens a side, 14 * 14 = 196.",
           section="Through all four stages",             # the notebook section that explains it
       ))

   - :func:`value`: a number, a shape, a small int table (tuples, lists, tensors, arrays compare by
     value; ``tol=`` for floats). ``diagnose(answer) -> str | None`` may explain wrong answers that no
     single :class:`Mistake` value covers ("the first entry is right, the second is not").
   - :func:`function`: the student writes a function. ``reference`` is the package's own
     implementation; ``cases`` is a list of ``(description, args)`` with seeded inputs of several
     shapes (non-square windows, odd maps, the test card); ``solution_answer`` is a correct function
     written the way a student would; each Mistake's ``answer`` is a function with the typical bug,
     recognised when the student's function agrees with it on every case.
   - :func:`choice`: multiple choice; ``choices`` maps a letter to ``(text, explanation)``, with an
     explanation for every choice (a wrong letter prints its explanation).
2. :func:`register` refuses an exercise without hints, a solution or a section, or with a duplicate id.
3. In the notebook: an "Exercises" markdown cell (concept answers also in a collapsed ``<details>``
   block) and one starter cell per exercise whose stored output is the "Not attempted yet" line.
   ``tests/test_exercises.py`` then checks everything by itself: every solution is correct, every
   mistake gets its own message, the placeholder is "not attempted", a random wrong answer is
   rejected, and every ``exercise("NN.k")`` in ``notebooks/`` exists. Keep each module <= ~250 lines.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Sequence
from typing import Any

from swin_tutor.exercises._compare import PLACEHOLDER
from swin_tutor.exercises._exercise import Exercise, Mistake, Result

__all__ = ["PLACEHOLDER", "____", "Exercise", "Mistake", "Result", "all_exercises", "choice", "exercise"]
__all__ += ["function", "register", "value"]

____ = PLACEHOLDER  # the blank a starter cell leaves for the student
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


_REGISTRY: dict[str, Exercise] = {}


def register(ex: Exercise) -> Exercise:
    """Add ``ex`` to the registry; refuse a bad id, a duplicate, or an exercise without hints/solution."""
    if not isinstance(ex, Exercise):
        raise TypeError(f"register: expected an Exercise, got {type(ex).__name__}")
    if not _ID.match(ex.id):
        raise ValueError(f'register: id must look like "03.2", got {ex.id!r}')
    if ex.id in _REGISTRY:
        raise ValueError(f"register: exercise {ex.id} is registered twice")
    if not ex.hints or not ex.solution_text or not ex.section or not ex.why:
        raise ValueError(f"register: exercise {ex.id} needs hints, a solution, a why and a section")
    if ex.kind == "choice" and (ex.solution_answer not in ex.choices or not all(e for _, e in ex.choices.values())):
        raise ValueError(f"register: choice {ex.id} needs its answer among the letters and an explanation per choice")
    if ex.kind == "function" and (ex.reference is None or not ex.cases):
        raise ValueError(f"register: function exercise {ex.id} needs a reference and cases")
    _REGISTRY[ex.id] = ex
    return ex


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if re.fullmatch(r"nb\d\d", info.name):
            importlib.import_module(f"{__name__}.{info.name}")


def exercise(id: str) -> Exercise:
    """The exercise with this id, e.g. ``exercise("03.2")``."""
    _load_all()
    if id not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ValueError(f"exercise: no exercise {id!r}; known ids: {known}")
    return _REGISTRY[id]


def all_exercises() -> list[Exercise]:
    """Every registered exercise, sorted by id."""
    _load_all()
    return [_REGISTRY[k] for k in sorted(_REGISTRY, key=lambda k: tuple(map(int, k.split("."))))]
