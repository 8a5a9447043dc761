"""Every registered exercise: its solution is correct, each catalogued mistake gets its own message, the
placeholder is "not attempted", a random wrong answer is rejected; every notebook's exercise cells exist."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
import torch

from swin_tutor.exercises import ____, all_exercises, exercise
from swin_tutor.exercises._compare import normalise
from swin_tutor.exercises._exercise import Exercise, Mistake
from swin_tutor.exercises.registry import choice, register, value

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
REF = re.compile(r"""exercise\(\s*["'](\d\d\.\d+)["']\s*\)""")
EXERCISES = all_exercises()
IDS = [ex.id for ex in EXERCISES]


def starter_line(exercise_id: str) -> str:
    return f'{exercise_id} · Not attempted yet: replace ____ with your answer (exercise("{exercise_id}").hint() helps).'


def by_id(exercise_id: str) -> Exercise:
    return exercise(exercise_id)


def code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def stdout(cell: dict) -> str:
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", []) if o["output_type"] == "stream")


def perturb(obj, rng: random.Random):
    """A wrong value of the same type and shape: one entry changed."""
    obj = normalise(obj)
    if isinstance(obj, bool):
        return not obj
    if isinstance(obj, int):
        return obj + rng.choice([-3, -2, -1, 1, 2, 3, 17])
    if isinstance(obj, float):
        return obj + rng.choice([-1, 1]) * (0.3 + rng.random())
    if isinstance(obj, list) and obj:
        i = rng.randrange(len(obj))
        return [perturb(x, rng) if j == i else x for j, x in enumerate(obj)]
    if isinstance(obj, dict) and obj:
        k = rng.choice(sorted(obj))
        return {key: perturb(v, rng) if key == k else v for key, v in obj.items()}
    raise TypeError(f"cannot perturb {obj!r}")


@pytest.mark.parametrize("exercise_id", IDS)
def test_solution_is_correct(exercise_id, capsys):
    ex = by_id(exercise_id)
    result = ex.check(ex.solution_answer)
    assert result.correct and result.status == "correct", result.message
    assert capsys.readouterr().out == result.message + "\n"  # exactly one printed line
    assert result.message.startswith(f"{exercise_id} · Correct: ")


@pytest.mark.parametrize("exercise_id", IDS)
def test_each_mistake_gets_its_message(exercise_id):
    ex = by_id(exercise_id)
    for mistake in ex.mistakes:
        result = ex.check(mistake.answer)
        assert not result.correct and result.status == "not quite"
        why = ex.choices[mistake.answer][1] if ex.kind == "choice" else mistake.why
        assert mistake.name in result.message and why in result.message, result.message
        assert "section" in result.message


@pytest.mark.parametrize("exercise_id", IDS)
def test_placeholder_is_not_attempted(exercise_id):
    ex = by_id(exercise_id)
    result = ex.check(____)
    assert result.status == "not attempted" and not result.correct
    assert result.message == starter_line(exercise_id)
    if ex.kind == "function":
        assert ex.check(lambda *args: ____).status == "not attempted"
    if ex.kind == "value" and isinstance(ex.solution_answer, tuple):
        partial = (ex.solution_answer[0], *([____] * (len(ex.solution_answer) - 1)))
        assert ex.check(partial).status == "not attempted"


@pytest.mark.parametrize("exercise_id", IDS)
def test_random_wrong_answer_is_rejected(exercise_id):
    ex = by_id(exercise_id)
    rng = random.Random(exercise_id)
    if ex.kind == "choice":
        named = {m.answer: m for m in ex.mistakes}
        for letter, (_, explanation) in ex.choices.items():
            if letter != ex.solution_answer:
                result = ex.check(letter.upper())  # letters in either case
                assert not result.correct and explanation in result.message, result.message
                assert letter not in named or named[letter].name in result.message
        assert ex.check("zz").status == "not quite"
        return
    if ex.kind == "function":

        def wrong(*args):
            out = ex.reference(*args).contiguous().clone()
            flat = out.view(-1)
            flat[rng.randrange(flat.numel())] += 1
            return out

        result = ex.check(wrong)
        assert not result.correct and "differ" in result.message, result.message
        assert not ex.check(lambda *args: 1 / 0).correct  # an exception is reported, not raised
        return
    for _ in range(5):
        result = ex.check(perturb(ex.solution_answer, rng))
        assert not result.correct and result.status == "not quite", result.message


@pytest.mark.parametrize("exercise_id", IDS)
def test_every_exercise_is_complete(exercise_id, capsys):
    ex = by_id(exercise_id)
    assert ex.hints and ex.solution_text and ex.why and ex.section
    for level in range(1, len(ex.hints) + 1):
        ex.hint(level)
        assert capsys.readouterr().out.startswith(f"{exercise_id} · Hint {level} of {len(ex.hints)}: ")
    ex.hint(len(ex.hints) + 1)  # past the last hint: one friendly line, no traceback
    assert capsys.readouterr().out.startswith(f"{exercise_id} · There are {len(ex.hints)} hints: hint(1) to ")
    ex.solution()
    assert capsys.readouterr().out.startswith(f"{exercise_id} · Solution: ")
    if ex.kind == "choice":
        assert len(ex.choices) >= 3 and all(text and why for text, why in ex.choices.values())
    if ex.kind == "function":
        assert len(ex.cases) >= 3, "function exercises are checked on several shapes"
    for m in ex.mistakes:
        assert m.name and m.why and m.section


def test_messages_are_stable_text():
    """No memory addresses or long float reprs in what a starter cell or a check prints."""
    for ex in EXERCISES:
        for answer in [____, ex.solution_answer, *[m.answer for m in ex.mistakes]]:
            message = ex.check(answer).message
            assert "0x" not in message and not re.search(r"\d\.\d{5,}", message), message


def test_patchify_reference_is_the_conv_weight_layout():
    from swin_tutor.core.patches import PatchEmbed
    from swin_tutor.exercises.nb01 import patchify_reference

    torch.manual_seed(0)
    embed, image = PatchEmbed(patch_size=4, embed_dim=8), torch.rand(1, 3, 12, 20)
    conv = embed.proj(image).permute(0, 2, 3, 1).reshape(1, -1, 8)
    linear = patchify_reference(image, 4) @ embed.proj.weight.flatten(1).T + embed.proj.bias
    assert torch.allclose(conv, linear, atol=1e-6)


def test_register_refuses_incomplete_exercises():
    base = dict(answer=1, why="w", hints=["h"], solution="s", section="x")
    with pytest.raises(ValueError, match="needs hints"):
        register(value("99.1", "t", **{**base, "hints": []}))
    with pytest.raises(ValueError, match="twice"):
        register(value(IDS[0], "t", **base))
    with pytest.raises(ValueError, match="id must look like"):
        register(value("3.2", "t", **base))
    with pytest.raises(ValueError, match="explanation per choice"):
        register(choice("99.2", "t", choices={"a": ("x", ""), "b": ("y", "z")}, **{**base, "answer": "a"}))
    with pytest.raises(TypeError, match="solution"):
        value("99.3", "t", answer=1, why="w", hints=["h"], section="x")
    assert exercise("99.9").check(1).status == "unknown id"  # one printed line, no traceback
    assert Mistake(1, "n", "w", "s").name == "n"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_exercise_cells(path):
    """Every exercise("NN.k") in a notebook exists and belongs to it; each notebook has >= 3 starter cells
    whose stored output is the "not attempted yet" line (the student's first run looks the same)."""
    number = path.name[:2]
    starters = []
    for cell in code_cells(path):
        refs = REF.findall("".join(cell["source"]))
        for ref in refs:
            assert ref in IDS, f"{path.name} refers to exercise {ref}, which is not registered"
            assert ref.startswith(number + "."), f"{path.name} uses exercise {ref} of another notebook"
        if refs and ".check(" in "".join(cell["source"]):
            starters.append(cell)
            assert stdout(cell) == starter_line(refs[0]) + "\n"
    assert len(starters) >= 3, f"{path.name}: expected at least three exercise starter cells, found {len(starters)}"
    registered = [i for i in IDS if i.startswith(number + ".")]
    assert len(registered) >= 3
