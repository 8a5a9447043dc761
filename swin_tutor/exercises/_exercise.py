"""The Exercise type: check an answer (value, function or choice), graded hints, the worked solution."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import swin_tutor.exercises._timeout as _timeout
from swin_tutor.exercises._compare import (
    PLACEHOLDER,
    compare_outputs,
    contains_placeholder,
    normalise,
    plain_text,
    same,
    shape_mismatch,
)


@dataclass(frozen=True)
class Result:
    """What :meth:`Exercise.check` found. ``status`` is "not attempted", "correct" or "not quite"."""

    correct: bool
    message: str
    status: str

    def _ipython_display_(self) -> None:  # check() has printed the line already: show nothing twice
        pass


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer (a value, a letter, or a buggy function), its name, why, and where to read."""

    answer: Any
    name: str
    why: str
    section: str


@dataclass
class Exercise:
    """One exercise; build it with :func:`value`, :func:`function` or :func:`choice`."""

    id: str
    title: str
    kind: Literal["value", "function", "choice"]
    solution_answer: Any  # what checks as correct: the value, a correct function, or the letter
    why: str
    hints: Sequence[str]
    solution_text: str
    section: str
    mistakes: Sequence[Mistake] = ()
    tol: float = 0.0
    diagnose: Callable[[Any], str | None] | None = None
    reference: Callable[..., Any] | None = None
    cases: Sequence[tuple[str, tuple]] = ()
    choices: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Exercise {self.id} ({self.kind}): {self.title}"

    def _result(self, status: str, text: str) -> Result:
        message = f"{self.id} · {text}"
        print(message)
        return Result(status == "correct", message, status)

    def check(self, answer: Any) -> Result:
        """Print one line (not attempted yet / correct / not quite, and why) and return the Result."""
        grade = {"value": self._grade_value, "function": self._grade_function, "choice": self._grade_choice}
        verdict = PLACEHOLDER if contains_placeholder(answer) else grade[self.kind](answer)
        if verdict is PLACEHOLDER:  # the blank itself, or a function that still returns it
            hint = f'exercise("{self.id}").hint() helps'
            return self._result("not attempted", f"Not attempted yet: replace ____ with your answer ({hint}).")
        if verdict is None:
            return self._result("correct", f"Correct: {self.why}")
        return self._result("not quite", f"Not quite: {verdict}")

    def hint(self, level: int = 1) -> None:
        """Print hint ``level`` (1 .. len(hints)); the last is nearly the answer. Another level prints
        one line that says which levels there are."""
        if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= len(self.hints):
            n = len(self.hints)
            print(
                f"{self.id} · There are {n} hints: hint(1) to hint({n}), not hint({level!r}); "
                f'exercise("{self.id}").solution() shows the worked solution.'
            )
            return
        more = f' (more: exercise("{self.id}").hint({level + 1}))' if level < len(self.hints) else ""
        print(f"{self.id} · Hint {level} of {len(self.hints)}: {self.hints[level - 1]}{more}")

    def solution(self) -> None:
        """Print the worked solution."""
        print(f"{self.id} · Solution: {self.solution_text}")

    def _named(self, m: Mistake, why: str | None = None) -> str:
        where = re.match(r"^(\d\d): (.*)$", m.section)  # "03: The clamp rule" points to another notebook
        notebook, section = (where.group(1), where.group(2)) if where else (self.id[:2], m.section)
        return f'{m.name}: {why or m.why} (notebook {notebook}, section "{plain_text(section)}")'

    def _grade_value(self, answer: Any) -> str | None:
        if same(answer, self.solution_answer, self.tol):
            return None
        for m in self.mistakes:
            if same(answer, m.answer, self.tol):
                return self._named(m)
        reason = shape_mismatch(answer, self.solution_answer)
        if reason is None and self.diagnose is not None:
            reason = self.diagnose(normalise(answer))
        return reason or f'that is not it (try exercise("{self.id}").hint()).'

    def _outputs(self, fn: Callable[..., Any]) -> list[Any]:
        return [fn(*_fresh(args)) for _, args in self.cases]

    def _grade_function(self, answer: Any) -> Any:
        if not callable(answer):
            return f"expected a function, got {type(answer).__name__}"
        expected = self._outputs(self.reference)
        got = []
        for desc, args in self.cases:
            try:
                out = _timeout.call_with_time_limit(answer, _fresh(args))
            except _timeout.TimeLimitExceeded:
                return (
                    f"on {desc} your function did not finish within {_timeout.TIME_LIMIT:g} seconds and was stopped "
                    "(an endless loop? a while loop whose condition never changes?)"
                )
            except Exception as err:  # the student's code: report, do not crash the notebook
                return f"on {desc} your function raised {type(err).__name__}: {str(err).splitlines()[0][:120]}"
            if contains_placeholder(out):
                return PLACEHOLDER
            got.append(out)
        problems = [
            (desc, compare_outputs(g, e, self.tol)) for (desc, _), g, e in zip(self.cases, got, expected, strict=True)
        ]
        if all(p is None for _, p in problems):
            return None
        for m in self.mistakes:
            if all(compare_outputs(g, b, self.tol) is None for g, b in zip(got, self._outputs(m.answer), strict=True)):
                return self._named(m)
        desc, problem = next((d, p) for d, p in problems if p is not None)
        return f'on {desc} it {problem} (try exercise("{self.id}").hint()).'

    def _grade_choice(self, answer: Any) -> str | None:
        letter = answer.strip().strip("() .").lower() if isinstance(answer, str) else None
        if letter not in self.choices:
            return f"answer with one letter of {', '.join(sorted(self.choices))}, got {answer!r}"
        if letter == self.solution_answer:
            return None
        named = {m.answer: m for m in self.mistakes}
        if letter in named:
            return f"({letter}) " + self._named(named[letter], self.choices[letter][1])
        return f"({letter}) {self.choices[letter][1]}"


@dataclass(frozen=True)
class UnknownExercise:
    """What ``exercise()`` returns for an id it does not know (after printing one line): its methods
    print nothing more, so a mistyped id costs one line, not a traceback."""

    id: str

    def check(self, answer: Any) -> Result:
        return Result(False, f"no exercise {self.id!r}", "unknown id")

    def hint(self, level: int = 1) -> None:
        return None

    def solution(self) -> None:
        return None


def _fresh(args: tuple) -> tuple:
    """Copies of tensor arguments, so a function that writes in place cannot spoil the next call."""
    return tuple(a.clone() if hasattr(a, "clone") else a for a in args)
