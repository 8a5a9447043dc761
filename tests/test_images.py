"""swin_tutor.lesson.images (read_image, make_test_card) and the plot helpers in swin_tutor.plot."""

from __future__ import annotations

from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest
import torch

from swin_tutor.lesson.images import make_test_card, read_image
from swin_tutor.plot.axes import tensor_to_numpy_image


def _write_png(path: Path, array: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), array), f"cv2 could not write {path}"
    return path


@pytest.fixture
def red_png(tmp_path: Path) -> Path:
    """A 20x30 8-bit image: pure red (RGB) in the top-left 10x10 block, pure blue elsewhere."""
    bgr = np.zeros((20, 30, 3), np.uint8)
    bgr[:, :, 0] = 255  # blue everywhere (cv2 stores BGR)
    bgr[:10, :10] = (0, 0, 255)  # red block
    return _write_png(tmp_path / "red.png", bgr)


@pytest.fixture
def agg():
    """Draw on the non-interactive Agg backend; close every figure afterwards."""
    import matplotlib.pyplot as plt

    previous = matplotlib.get_backend()
    plt.switch_backend("Agg")
    yield plt
    plt.close("all")
    plt.switch_backend(previous)


# ---------------------------------------------------------------- read_image


def test_read_image_shape_dtype_range(red_png: Path):
    image = read_image(red_png, size=None)
    assert image.shape == (1, 3, 20, 30)
    assert image.dtype == torch.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert image.is_contiguous()


def test_read_image_is_rgb_not_bgr(red_png: Path):
    image = read_image(red_png, size=None)[0]
    red, blue = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 1.0])
    assert torch.equal(image[:, :10, :10], red[:, None, None].expand(3, 10, 10))
    assert torch.equal(image[:, 10:, 10:], blue[:, None, None].expand(3, 10, 20))


def test_read_image_size_int_and_pair(red_png: Path):
    assert read_image(red_png, size=16).shape == (1, 3, 16, 16)
    # (H, W), not cv2.resize's (W, H)
    assert read_image(red_png, size=(100, 150)).shape == (1, 3, 100, 150)
    assert read_image(red_png, size=[12, 8]).shape == (1, 3, 12, 8)
    assert read_image(red_png).shape == (1, 3, 224, 224)  # the default


def test_read_image_size_none_keeps_file_size(red_png: Path):
    assert read_image(red_png, size=None).shape[-2:] == (20, 30)
    assert read_image(red_png, size=(20, 30)).shape[-2:] == (20, 30)


def test_read_image_resized_stays_in_range(red_png: Path):
    image = read_image(red_png, size=(7, 11))
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_read_image_accepts_str_path(red_png: Path):
    assert torch.equal(read_image(str(red_png), size=None), read_image(red_png, size=None))


def test_missing_file_raises_file_not_found_naming_the_path(tmp_path: Path):
    missing = tmp_path / "missing.png"
    assert cv2.imread(str(missing)) is None  # what read_image protects against
    with pytest.raises(FileNotFoundError, match="missing.png"):
        read_image(missing)


def test_directory_is_not_an_image(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path)


def test_not_an_image_raises_value_error_naming_the_path(tmp_path: Path):
    fake = tmp_path / "notes.png"
    fake.write_text("this is text, not a PNG\n")
    with pytest.raises(ValueError, match="notes.png"):
        read_image(fake)


def test_grayscale_gives_three_equal_channels(tmp_path: Path):
    gray = np.arange(12 * 16, dtype=np.uint8).reshape(12, 16)
    image = read_image(_write_png(tmp_path / "gray.png", gray), size=None)
    assert image.shape == (1, 3, 12, 16)
    assert torch.equal(image[0, 0], image[0, 1]) and torch.equal(image[0, 1], image[0, 2])
    assert torch.allclose(image[0, 0], torch.from_numpy(gray).float() / 255.0)


def test_rgba_drops_alpha(tmp_path: Path):
    bgra = np.zeros((8, 8, 4), np.uint8)
    bgra[..., 1] = 255  # green
    bgra[..., 3] = np.arange(8, dtype=np.uint8)[None, :] * 30  # varying alpha must not matter
    image = read_image(_write_png(tmp_path / "rgba.png", bgra), size=None)
    assert image.shape == (1, 3, 8, 8)
    assert torch.equal(image[0], torch.tensor([0.0, 1.0, 0.0])[:, None, None].expand(3, 8, 8))


def test_16_bit_png_is_scaled_to_unit_range(tmp_path: Path):
    bgr = np.zeros((4, 6, 3), np.uint16)
    bgr[..., 2] = 65535  # red at full 16-bit scale
    bgr[..., 1] = 32768  # green about half
    image = read_image(_write_png(tmp_path / "deep.png", bgr), size=None)
    assert image.dtype == torch.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert torch.allclose(image[0, 0], torch.ones(4, 6))
    assert torch.allclose(image[0, 1], torch.full((4, 6), 32768 / 65535))
    assert torch.equal(image[0, 2], torch.zeros(4, 6))


BAD_SIZES = [0, -1, (1, 2, 3), "224", 2.5, True, (0, 4), (4, -2), (4.0, 4), (True, 4)]


@pytest.mark.parametrize("size", BAD_SIZES)
def test_bad_size_raises_value_error_mentioning_size(red_png: Path, size):
    with pytest.raises(ValueError, match="size"):
        read_image(red_png, size=size)


def test_sample_images_load():
    root = Path(__file__).resolve().parents[1] / "images"
    for name in ("chelsea.png", "coffee.png"):
        image = read_image(root / name)
        assert image.shape == (1, 3, 224, 224)
        assert 0.05 < float(image.mean()) < 0.95


# ---------------------------------------------------------------- make_test_card


def test_test_card_shapes_and_ids():
    image, ids = make_test_card()
    assert image.shape == (1, 3, 32, 32) and image.dtype == torch.float32
    assert ids.shape == (8, 8) and ids.dtype == torch.long
    assert torch.equal(ids.flatten(), torch.arange(64))
    image, ids = make_test_card(grid=(2, 3), patch_size=5)
    assert image.shape == (1, 3, 10, 15)
    assert ids.tolist() == [[0, 1, 2], [3, 4, 5]]


def _patch_colours(image: torch.Tensor, p: int) -> torch.Tensor:
    """(1, 3, R*p, C*p) -> (R, C, 3) colour of each patch; checks each patch is one flat colour."""
    _, c, h, w = image.shape
    patches = image[0].reshape(c, h // p, p, w // p, p).permute(1, 3, 0, 2, 4)  # (R, C, 3, p, p)
    first = patches[..., :1, :1]
    assert torch.equal(patches, first.expand_as(patches)), "a patch is not a single colour"
    return first[..., 0, 0]


@pytest.mark.parametrize("grid,p", [(8, 4), ((3, 5), 2), (14, 1)])
def test_test_card_every_patch_distinct(grid, p):
    image, ids = make_test_card(grid=grid, patch_size=p)
    assert image.min() >= 0.0 and image.max() <= 1.0
    colours = _patch_colours(image, p).reshape(-1, 3)
    assert len({tuple(c.tolist()) for c in colours}) == ids.numel()


def test_test_card_neighbours_differ():
    image, _ = make_test_card(grid=8, patch_size=4)
    colours = _patch_colours(image, 4)  # (8, 8, 3)
    assert (colours[1:] != colours[:-1]).any(-1).all()  # vertical neighbours
    assert (colours[:, 1:] != colours[:, :-1]).any(-1).all()  # horizontal neighbours


BAD_CARDS = [{"grid": 0}, {"grid": (2, 2, 2)}, {"patch_size": 0}, {"patch_size": 2.0}]


@pytest.mark.parametrize("bad", BAD_CARDS)
def test_test_card_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        make_test_card(**bad)


# ---------------------------------------------------------------- tensor_to_numpy_image


def test_tensor_to_numpy_image_layouts():
    image, _ = make_test_card(grid=4, patch_size=2)
    expected = image[0].permute(1, 2, 0).numpy()
    for form in (image, image[0], image[0].permute(1, 2, 0), image.numpy()[0]):
        out = tensor_to_numpy_image(form)
        assert out.shape == (8, 8, 3)
        np.testing.assert_array_equal(out, expected)
    with pytest.raises(ValueError):
        tensor_to_numpy_image(torch.zeros(2, 3, 4, 4))


# ---------------------------------------------------------------- plotting


def test_plot_helpers_return_axes(agg):
    from matplotlib.axes import Axes

    from swin_tutor.plot import axes as plotting
    from swin_tutor.plot import tokens

    plt = agg
    image, ids = make_test_card()
    fig, axes = plotting.subplots(3, 2, size=2.0)
    assert len(axes) == 6 and all(isinstance(a, Axes) for a in axes)
    assert plotting.show_image(image, axes[0], title="card") is axes[0]
    assert tokens.show_patch_grid(image, 4, axes[1], title="patches") is axes[1]
    assert tokens.show_windows(image, 8, 4, axes[2], title="windows") is axes[2]
    assert plotting.show_int_table(ids, axes[3], title="ids") is axes[3]
    heat = plotting.show_heatmap(torch.randn(5, 7), axes[4], title="heat", vmin=-1, vmax=1)
    assert heat is axes[4]
    assert plotting.draw_grid(axes[5], 4, 32, 32, offset=2) is axes[5]
    plotting.titles_row(axes[:2], ["a", "b"])
    assert axes[0].get_title() == "a"
    fig.canvas.draw()  # everything actually renders
    plt.close(fig)


def test_plot_helpers_default_to_current_axes(agg):
    from swin_tutor.plot import axes as plotting

    plt = agg
    image, ids = make_test_card(grid=4)
    plt.figure()
    assert plotting.show_image(image) is plt.gca()
    plt.figure()
    assert plotting.show_int_table(ids.numpy()) is plt.gca()
    plt.figure()
    assert plotting.show_heatmap(np.eye(3), colorbar=False) is plt.gca()


def test_feature_pca_rgb_range_and_shape():
    from swin_tutor.plot.features import feature_pca_rgb

    torch.manual_seed(0)
    features = torch.randn(1, 6, 5, 16)
    rgb = feature_pca_rgb(features)
    assert rgb.shape == (6, 5, 3)
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0
    np.testing.assert_allclose(rgb.min(axis=(0, 1)), 0.0, atol=1e-6)
    np.testing.assert_allclose(rgb.max(axis=(0, 1)), 1.0, atol=1e-6)
    assert feature_pca_rgb(features[0]).shape == (6, 5, 3)


def test_feature_pca_rgb_constant_features_do_not_divide_by_zero():
    from swin_tutor.plot.features import feature_pca_rgb

    rgb = feature_pca_rgb(torch.ones(4, 4, 8))
    assert rgb.shape == (4, 4, 3) and np.isfinite(rgb).all()
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0


def test_feature_norm():
    from swin_tutor.plot.features import feature_norm

    features = torch.zeros(1, 2, 3, 4)
    features[0, 1, 2] = torch.tensor([3.0, 4.0, 0.0, 0.0])
    norm = feature_norm(features)
    assert norm.shape == (2, 3)
    assert norm[1, 2] == pytest.approx(5.0) and norm.sum() == pytest.approx(5.0)


def test_show_patch_ids_writes_one_number_per_patch(agg):
    from swin_tutor.plot.tokens import show_patch_ids

    image, ids = make_test_card(grid=(2, 3), patch_size=4)
    fig, ax = agg.subplots()
    assert show_patch_ids(image, 4, ids, ax, title="ids") is ax
    assert sorted(int(t.get_text()) for t in ax.texts) == list(range(6))
    agg.figure()
    ax2 = show_patch_ids(image, 4)  # default: row-major numbering, on the current Axes
    assert ax2 is not ax
    assert [t.get_text() for t in ax2.texts] == [str(k) for k in range(6)]
    with pytest.raises(ValueError, match="ids"):
        show_patch_ids(image, 4, ids.T)


def test_notebook_plot_helpers_render(agg):
    """The helpers notebooks 02, 03 and 07 added: each draws on the given Axes and renders."""
    from swin_tutor.core.masks import region_labels
    from swin_tutor.plot import axes as plotting
    from swin_tutor.plot import diagrams, features, tokens

    image, ids = make_test_card(grid=8, patch_size=4)
    fig, axes = plotting.subplots(3, 2, size=2.0)
    assert tokens.show_gather_order(ids[:4, :4], axes[0], title="gather") is axes[0]
    assert tokens.show_channel_blocks([0, 4, 1, -1], dim=2, ax=axes[1], title="blocks") is axes[1]
    torch.manual_seed(0)
    assert features.show_pca_map(torch.randn(1, 8, 8, 16), axes[2], size_px=32, grid=True) is axes[2]
    labels = region_labels(8, 8, 4, 2)
    assert tokens.show_region_labels(labels, axes[3], window_size=4, image=image) is axes[3]
    for ax, placement in zip(axes[4:], ("pre", "res_post"), strict=True):
        assert diagrams.draw_norm_placement(ax, placement, title=placement) is ax
    fig.canvas.draw()
    agg.close(fig)


def test_to_numpy_and_finish_axes(agg):
    from swin_tutor.plot.axes import finish_axes, to_numpy

    ints = torch.arange(6).reshape(2, 3)
    assert to_numpy(ints).dtype == np.int64 and to_numpy(ints, float32=True).dtype == np.float32
    halves = torch.ones(2, 2, dtype=torch.float16, requires_grad=True)
    assert to_numpy(halves, float32=True).dtype == np.float32  # detached and cast
    np.testing.assert_array_equal(to_numpy([[1, 2]]), np.array([[1, 2]]))
    fig, ax = agg.subplots()
    ax.plot([0, 5], [0, 5])
    assert finish_axes(ax, "t", height=4, width=6) is ax
    assert ax.get_title() == "t" and list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    assert ax.get_xlim() == (-0.5, 5.5) and ax.get_ylim() == (3.5, -0.5)  # row 0 on top
    agg.close(fig)
