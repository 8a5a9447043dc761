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
1. Create ``swin_tutor/exercises/nb09.py`` and add it to the import line of this package's ``__init__.py``.
   Register each exercise with one of three builders; ids are ``"09.1"``, ``"09.2"``, ...::

       from swin_tutor.exercises._exercise import Mistake
       from swin_tutor.exercises.registry import choice, function, register, value

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

import difflib

from swin_tutor.exercises import nb01, nb02, nb03, nb04, nb05, nb06, nb07, nb08, nb09, nb10, nb11, nb12, nb13  # noqa: F401  (each fills the registry)
from swin_tutor.exercises._compare import PLACEHOLDER
from swin_tutor.exercises._exercise import Exercise, UnknownExercise
from swin_tutor.exercises.registry import REGISTRY

__all__ = ["____", "all_exercises", "exercise"]

____ = PLACEHOLDER  # the blank a starter cell leaves for the student


def exercise(id: str) -> Exercise | UnknownExercise:
    """The exercise with this id, e.g. ``exercise("03.2")``. An unknown id prints one line (the ids
    there are) and returns a stand-in whose ``check``/``hint``/``solution`` do nothing more."""
    if id not in REGISTRY:
        notebook = [k for k in _sorted_ids() if isinstance(id, str) and k[:2] == id[:2]]
        close = difflib.get_close_matches(str(id), list(REGISTRY), n=3)
        known = notebook or close or [k for k in _sorted_ids() if k.endswith(".1")]
        example = "" if isinstance(id, str) else ' (ids are strings such as "03.2")'
        print(f"There is no exercise {id!r}{example}; try one of: {', '.join(known)}")
        return UnknownExercise(str(id))
    return REGISTRY[id]


def _sorted_ids() -> list[str]:
    """Every registered id, in notebook order ("01.1", "01.2", ..., "11.3")."""
    return sorted(REGISTRY, key=lambda k: tuple(map(int, k.split("."))))


def all_exercises() -> list[Exercise]:
    """Every registered exercise, sorted by id."""
    return [REGISTRY[k] for k in _sorted_ids()]
