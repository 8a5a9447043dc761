"""swin_tutor.train.data: the bundled digits, their split and the translation augmentation."""

from __future__ import annotations

import pytest
import torch

from swin_tutor.train.data import BACKGROUND, denormalize, digits_datasets, load_digits_tensors, random_translate


def test_digits_tensors_shapes_scale_and_labels():
    images, labels = load_digits_tensors(32)
    assert images.shape == (1797, 1, 32, 32) and images.dtype == torch.float32
    assert labels.dtype == torch.long and set(labels.tolist()) == set(range(10))
    ink = denormalize(images)
    assert ink.min() >= -1e-6 and ink.max() <= 1 + 1e-6
    assert abs(float(images.mean())) < 0.01 and abs(float(images.std()) - 1) < 0.01  # the documented constants
    assert torch.allclose(images[0, 0, 0, 0], torch.tensor(BACKGROUND))  # corners are empty


def test_split_is_fixed_stratified_and_disjoint():
    train, test = digits_datasets(seed=0)
    train2, test2 = digits_datasets(seed=0)
    assert len(train) == 1437 and len(test) == 360
    assert torch.equal(train.tensors[0], train2.tensors[0]) and torch.equal(test.tensors[1], test2.tensors[1])
    counts = torch.bincount(test.tensors[1], minlength=10)
    assert counts.min() >= 34 and counts.max() <= 37  # every class about 20%
    _, labels = load_digits_tensors(32)
    both = torch.bincount(train.tensors[1], minlength=10) + counts
    assert torch.equal(both, torch.bincount(labels, minlength=10))  # together: the whole set, once
    _, other = digits_datasets(seed=1)
    assert not torch.equal(other.tensors[1], test.tensors[1])


def test_random_translate_moves_content_and_fills_background():
    x = torch.full((1, 1, 8, 8), BACKGROUND)
    x[0, 0, 3, 3] = 5.0
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        y = random_translate(x, 2, gen)
        (r, c) = torch.nonzero(y[0, 0] == 5.0).tolist()[0]
        assert abs(r - 3) <= 2 and abs(c - 3) <= 2
        assert int((y == 5.0).sum()) == 1 and torch.all((y == 5.0) | (y == BACKGROUND))
    assert torch.equal(random_translate(x, 0), x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        load_digits_tensors(4)
    with pytest.raises(ValueError, match="test_fraction"):
        digits_datasets(test_fraction=1.5)
    with pytest.raises(ValueError, match="max_shift"):
        random_translate(torch.zeros(1, 1, 4, 4), 2)
    with pytest.raises(ValueError, match="B, C, H, W"):
        random_translate(torch.zeros(4, 4), 1)
