"""The scene segmenter of notebook 12: shapes, IoU arithmetic, fit on per-pixel labels, the shipped weights."""

from __future__ import annotations

import math

import pytest
import torch

from swin_tutor.train.loop import TrainConfig, evaluate, fit
from swin_tutor.train.scenes import NUM_SCENE_CLASSES, make_scenes
from swin_tutor.train.segment import (
    SCENE_WEIGHTS,
    digit_hit_rates,
    iou_per_class,
    load_scene_segmenter,
    mean_iou,
    remove_shifts,
    scene_config,
    scene_record,
    scene_scores,
    tiny_segmenter,
    train_scene_segmenter,
)


def test_tiny_segmenter_shapes():
    model = tiny_segmenter().eval()
    assert model.backbone.channels == [16, 32, 64, 128] and model.backbone.strides == [4, 8, 16, 32]
    with torch.no_grad():
        assert model(torch.zeros(2, 1, 64, 64)).shape == (2, NUM_SCENE_CLASSES, 64, 64)
        assert model(torch.zeros(1, 1, 96, 160)).shape == (1, NUM_SCENE_CLASSES, 96, 160)
    stage4 = tiny_segmenter(out_indices=(3,))
    assert stage4.backbone.channels == [128] and stage4.head.in_channels == [128]


def test_iou_arithmetic():
    confusion = torch.tensor([[80, 2, 0], [3, 5, 0], [0, 0, 0]])
    iou = iou_per_class(confusion)
    assert math.isclose(float(iou[0]), 80 / 85, rel_tol=1e-6) and math.isclose(float(iou[1]), 0.5, rel_tol=1e-6)
    assert math.isnan(float(iou[2]))  # absent from labels and predictions: left out of the mean
    assert math.isclose(mean_iou(confusion), (80 / 85 + 0.5) / 2, rel_tol=1e-6)
    assert math.isclose(mean_iou(confusion, background=False), 0.5, rel_tol=1e-6)
    with pytest.raises(ValueError, match="square"):
        iou_per_class(torch.zeros(2, 3))


def test_perfect_predictions_score_one():
    scenes = make_scenes(4, seed=0)
    hits = digit_hit_rates(scenes.masks, scenes)
    assert len(hits) == sum(len(d) for d in scenes.digits) and bool((hits == 1).all())
    with pytest.raises(ValueError, match="predictions"):
        digit_hit_rates(scenes.masks[:2], scenes)


def test_evaluate_counts_pixels():
    class Oracle(torch.nn.Module):  # predicts the background everywhere
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            logits = torch.zeros(x.shape[0], NUM_SCENE_CLASSES, *x.shape[2:])
            logits[:, 0] = 1
            return logits + self.w

    scenes = make_scenes(3, seed=0)
    result = evaluate(Oracle(), scenes.dataset())
    background = float((scenes.masks == 0).float().mean())
    assert math.isclose(result.accuracy, background, rel_tol=1e-6)
    assert int(result.confusion.sum()) == scenes.masks.numel() and result.wrong.tolist() == [0, 1, 2]


def test_fit_trains_on_per_pixel_labels():
    scenes = make_scenes(32, seed=0)
    torch.manual_seed(0)
    model = tiny_segmenter()
    history = fit(model, scenes.dataset(), scenes.dataset(), scene_config(epochs=2, batch_size=16), progress=False)
    assert len(history.train_loss) == 2 and history.train_loss[1] < history.train_loss[0]
    assert 0.0 <= history.train_acc[-1] <= 1.0 and 0.0 <= history.test_acc[-1] <= 1.0  # pixel accuracies
    scores = scene_scores(model, scenes)
    assert set(scores) >= {"miou", "miou_digits", "iou", "hit_small", "hit_on_border"}
    assert len(scores["iou"]) == NUM_SCENE_CLASSES


def test_fit_refuses_augmentation_with_per_pixel_labels():
    scenes = make_scenes(4, seed=0)
    with pytest.raises(ValueError, match="augment"):
        fit(tiny_segmenter(), scenes.dataset(), None, TrainConfig(epochs=1, batch_size=4, device="cpu"), progress=False)


def test_remove_shifts_changes_the_output_and_keeps_the_weights():
    torch.manual_seed(0)
    model = tiny_segmenter().eval()
    x = make_scenes(1, seed=0).images
    with torch.no_grad():
        shifted = model(x)
        remove_shifts(model)
        plain = model(x)
    assert all(b.requested_shift_size == 0 for layer in model.backbone.layers for b in layer.blocks)
    assert not torch.allclose(shifted, plain)


@pytest.mark.skipif(not SCENE_WEIGHTS.is_file(), reason="no shipped scene weights (make weights)")
def test_shipped_weights_load_and_score():
    model = load_scene_segmenter()
    record = scene_record()
    assert not model.training and next(model.parameters()).dtype == torch.float32
    assert record["dtype"] == "float16" and set(record["comparisons"]) == {"stage4_only", "no_shift"}
    scores = scene_scores(model, make_scenes(100, split="test", seed=1))  # the first 100 of the recorded 400
    assert scores["miou"] >= record["scores_stored"]["miou"] - 0.08


@pytest.mark.slow
def test_retraining_reaches_the_recorded_score():
    """make weights again (the shipped recipe, seed 0, one thread): the recorded mIoU, within 0.03."""
    record = scene_record()
    torch.set_num_threads(1)
    _, again = train_scene_segmenter(seed=0, progress=False)
    assert again["scores"]["miou"] >= record["scores"]["miou"] - 0.03


def test_per_pixel_labels_out_of_range_are_named():
    """A scene mask with a label the segmenter has no class for fails with the label named (the
    ignore index -100 is allowed)."""
    import pytest

    from swin_tutor.train.checks import check_batch_labels

    masks = torch.zeros(2, 8, 8, dtype=torch.long)
    masks[0, 0, 0] = -100
    check_batch_labels(masks, 11)
    masks[1, 3, 3] = 11
    with pytest.raises(ValueError, match="holds the label 11, but the model has 11 classes"):
        check_batch_labels(masks, 11)
