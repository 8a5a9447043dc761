"""The synthetic tasks of notebook 10: labels are what the task says, classes balanced, seeded."""

from __future__ import annotations

import pytest
import torch

from swin_tutor.lab.tasks import relative_position_task, task_labels, two_window_colour_task


def _dots(image: torch.Tensor) -> list[tuple[int, int, int]]:
    """(channel, row, col) of every lit pixel of a (3, H, W) image."""
    return [tuple(int(v) for v in idx) for idx in torch.nonzero(image)]


@pytest.mark.parametrize("size,window", [(8, 4), (12, 4), (16, 8)])
def test_same_colour_labels_balance_and_windows(size, window):
    images, labels = two_window_colour_task(400, seed=3, size=size, window=window).tensors
    assert images.shape == (400, 3, size, size) and labels.dtype == torch.long
    assert int(labels.sum()) == 200  # exactly balanced
    assert torch.equal(task_labels(images, "same_colour"), labels)
    for image, label in zip(images[:100], labels[:100], strict=True):
        dots = _dots(image)
        assert len(dots) == 2
        (ca, ya, xa), (cb, yb, xb) = dots
        wa, wb = (ya // window, xa // window), (yb // window, xb // window)
        # neighbouring windows: one step right or one step down (in either order of the two dots)
        assert abs(wa[0] - wb[0]) + abs(wa[1] - wb[1]) == 1
        assert int(label) == int(ca == cb)


def test_same_colour_uses_every_colour_and_both_directions():
    images, _ = two_window_colour_task(600, seed=0).tensors
    assert (images.sum(dim=(0, 2, 3)) > 0).all()  # red, green and blue all occur
    rows = torch.nonzero(images.sum(dim=1))  # (2N, 3): sample, row, col
    per_sample = rows.view(-1, 2, 3)
    same_row = (per_sample[:, 0, 1] // 4 == per_sample[:, 1, 1] // 4).float().mean()
    assert 0.3 < float(same_row) < 0.7  # neighbours to the right and below both occur


def test_relative_position_labels_and_same_window():
    images, labels = relative_position_task(400, seed=1).tensors
    assert int(labels.sum()) == 200
    assert torch.equal(task_labels(images, "red_left_of_blue"), labels)
    for image in images[:100]:
        red = torch.nonzero(image[0])[0]
        blue = torch.nonzero(image[2])[0]
        assert torch.equal(red // 4, blue // 4)  # the same 4x4 window
        assert int(red[1]) != int(blue[1])  # never the same column
    assert images[:, 1].sum() == 0  # no green


def test_relative_position_mirror_flips_the_label():
    images, labels = relative_position_task(200, seed=2).tensors
    assert torch.equal(task_labels(images.flip(-1), "red_left_of_blue"), 1 - labels)


def test_relative_position_block_larger_than_window():
    images, labels = relative_position_task(200, seed=2, size=16, window=4, block=8).tensors
    assert torch.equal(task_labels(images, "red_left_of_blue"), labels)
    cols = torch.nonzero(images.sum(dim=(1, 2)))[:, 1].view(-1, 2)
    assert int((cols[:, 0] - cols[:, 1]).abs().max()) > 3  # offsets beyond one 4-wide window occur


def test_seeded_and_different_seeds_differ():
    a = two_window_colour_task(100, seed=5).tensors
    b = two_window_colour_task(100, seed=5).tensors
    c = two_window_colour_task(100, seed=6).tensors
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0])
    assert torch.equal(relative_position_task(50, 9).tensors[0], relative_position_task(50, 9).tensors[0])


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: two_window_colour_task(7), "even"),
        (lambda: two_window_colour_task(10, size=8, window=3), "divide"),
        (lambda: two_window_colour_task(10, size=4, window=4), "windows per side"),
        (lambda: two_window_colour_task(10, colours=4), "colours"),
        (lambda: relative_position_task(0), "even"),
        (lambda: task_labels(torch.zeros(2, 1, 8, 8), "same_colour"), "images"),
        (lambda: task_labels(torch.zeros(2, 3, 8, 8), "parity"), "task"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_near_border_keeps_both_dots_next_to_the_shared_border():
    images, labels = two_window_colour_task(300, seed=4, near_border=2).tensors
    assert torch.equal(task_labels(images, "same_colour"), labels) and int(labels.sum()) == 150
    for image in images[:100]:
        (_, y1, x1), (_, y2, x2) = _dots(image)
        side_by_side = y1 // 4 == y2 // 4
        (ya, xa), (yb, xb) = sorted([(y1, x1), (y2, x2)], key=lambda d: d[1] if side_by_side else d[0])
        if side_by_side:  # side by side: columns 2-3 of the left window, 4-5 of the right one
            assert xa % 4 >= 2 and xb % 4 <= 1
        else:  # one above the other
            assert ya % 4 >= 2 and yb % 4 <= 1
    with pytest.raises(ValueError, match="near_border"):
        two_window_colour_task(10, near_border=5)
