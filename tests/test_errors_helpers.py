"""Error catalogue, helpers: photos, ImageNet names, exercises and experiments given what a new user gives them."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps
from torch.utils.data import Subset, TensorDataset

from swin_tutor.exercises import _timeout, all_exercises, exercise
from swin_tutor.exercises._compare import plain_text
from swin_tutor.lab.experiments import accuracy
from swin_tutor.lesson.imagenet import top_k
from swin_tutor.lesson.images import imagenet_normalize, read_image, resize_center_crop


# -- photos ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_as_pil_does(tmp_path, orientation):
    rng = np.random.default_rng(orientation)
    pixels = (rng.random((5, 7, 3)) * 255).astype(np.uint8)  # not square: a turn shows in the shape
    picture = Image.fromarray(pixels)
    exif = picture.getexif()
    exif[0x0112] = orientation
    path = tmp_path / "photo.png"
    picture.save(path, exif=exif)
    with Image.open(path) as img:
        want = np.asarray(ImageOps.exif_transpose(img).convert("RGB"), dtype=np.float32) / 255
    got = read_image(path, size=None)[0].permute(1, 2, 0).numpy()  # (H, W, 3)
    assert got.shape == want.shape and np.allclose(got, want)


def test_a_sideways_phone_jpeg_comes_out_upright(tmp_path):
    picture = Image.fromarray(np.zeros((40, 60, 3), dtype=np.uint8))  # stored 60 wide, 40 high
    exif = picture.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    picture.save(tmp_path / "phone.jpg", exif=exif)
    assert tuple(read_image(tmp_path / "phone.jpg", size=None).shape) == (1, 3, 60, 40)


@pytest.mark.parametrize(
    ("image", "words"),
    [
        (
            torch.full((1, 3, 4, 4), 255.0),
            "values go up to 255: imagenet_normalize expects RGB in [0, 1]; divide by",
        ),
        (torch.full((3, 4, 4), 2.0), "divide by 255"),
        (torch.full((1, 3, 4, 4), -2.1), "go down to -2.1: expected RGB in [0, 1] (is it normalised already?)"),
    ],
)
def test_imagenet_normalize_refuses_pixels_outside_0_1(image, words):
    with pytest.raises(ValueError) as err:
        imagenet_normalize(image)
    assert words in str(err.value)


@pytest.mark.parametrize("shape", [(1, 3, 0, 10), (1, 3, 10, 0), (0, 3, 10, 10)])
def test_resize_center_crop_refuses_an_empty_image(shape):
    with pytest.raises(ValueError, match=r"image is empty: shape"):
        resize_center_crop(torch.zeros(shape))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_top_k_refuses_non_finite_logits(bad):
    logits = torch.randn(1, 1000)
    logits[0, 3] = bad
    with pytest.raises(ValueError, match=r"logits hold 1 NaN or infinite values of 1000: no class can be named"):
        top_k(logits)


# -- exercises -------------------------------------------------------------------------------------
def _function_exercise():
    return next(ex for ex in all_exercises() if ex.kind == "function")


def _forever(*args):
    while True:
        time.sleep(0.01)


def test_check_stops_a_function_that_never_returns(monkeypatch, capsys):
    monkeypatch.setattr(_timeout, "TIME_LIMIT", 0.3)
    ex = _function_exercise()
    start = time.monotonic()
    result = ex.check(_forever)
    assert time.monotonic() - start < 5 and result.status == "not quite"
    assert "did not finish within 0.3 seconds and was stopped" in capsys.readouterr().out


def test_check_stops_waiting_off_the_main_thread(monkeypatch):
    monkeypatch.setattr(_timeout, "TIME_LIMIT", 0.3)
    ex, box = _function_exercise(), {}
    worker = threading.Thread(target=lambda: box.setdefault("result", ex.check(_forever)))
    worker.start()
    worker.join(10)
    assert "did not finish within 0.3 seconds" in box["result"].message


def test_the_time_limit_gives_back_someone_elses_alarm():
    import signal

    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        assert _timeout.call_with_time_limit(lambda x: x + 1, (1,), 0.2) == 2
        time.sleep(0.8)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert fired == [1]


@pytest.mark.parametrize("wrong", ["99.9", "3.2", "03.99", 3.2, "nb03"])
def test_an_unknown_exercise_id_prints_one_friendly_line(wrong, capsys):
    stand_in = exercise(wrong)
    stand_in.check(1)
    stand_in.hint(2)
    stand_in.solution()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"There is no exercise {wrong!r}") and "try one of" in lines[0]


@pytest.mark.parametrize("level", [0, 9, -1, "2", 1.5, True])
def test_a_hint_level_that_does_not_exist_prints_one_line(level, capsys):
    exercise("03.2").hint(level)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "There are" in out and 'exercise("03.2").solution()' in out


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        (r"The index, step by step: a $2\times2$ window", "The index, step by step: a 2×2 window"),
        (r"The official gather order $x_0, x_1, x_2, x_3$", "The official gather order x₀, x₁, x₂, x₃"),
        (r"-100 or $-\infty$?", "-100 or -∞?"),
        (r"The output is squashed: $16\,\sigma(\cdot)$", "The output is squashed: 16 σ(·)"),
        ("no maths here", "no maths here"),
    ],
)
def test_section_names_lose_their_latex(raw, plain):
    assert plain_text(raw) == plain


def test_no_feedback_line_prints_raw_latex():
    for ex in all_exercises():
        for m in ex.mistakes:
            line = ex._named(m)
            assert "$" not in line and "\\" not in line, line


# -- experiments -----------------------------------------------------------------------------------
def test_accuracy_takes_any_dataset():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    data = TensorDataset(torch.randn(10, 1, 2, 2), torch.randint(0, 3, (10,)))
    part = Subset(data, [1, 4, 7])
    assert accuracy(model, part) == accuracy(model, TensorDataset(*(t[[1, 4, 7]] for t in data.tensors)))
    with pytest.raises(ValueError, match="accuracy: the dataset is empty"):
        accuracy(model, Subset(data, []))
