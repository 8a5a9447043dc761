"""Saving and handing on: official-format safetensors checkpoints and Hugging Face folders."""

from __future__ import annotations

import json

import pytest
import torch

from swin_tutor.checkpoints.export import export_hf, read_metadata, save_checkpoint
from swin_tutor.checkpoints.keys import convert_hf_state_dict, detect_format
from swin_tutor.checkpoints.loading import load_checkpoint
from swin_tutor.lesson.reference import perturb_
from swin_tutor.train.digits_model import tiny_swin


def _model(version, **kw):
    torch.manual_seed(0)
    return perturb_(tiny_swin(version, **kw), seed=1).eval()  # non-trivial LayerNorms, biases, tables


@pytest.mark.parametrize("version", [1, 2])
def test_safetensors_round_trip_official_names(version, tmp_path):
    from safetensors.torch import load_file

    model = _model(version)
    path = save_checkpoint(model, tmp_path / "m.safetensors", metadata={"note": "x"})
    state = load_file(str(path))
    assert detect_format(state) == "official" and "layers.0.blocks.0.attn.qkv.weight" in state
    assert not any(k.endswith(("relative_position_index", "attn_mask")) for k in state)
    again = tiny_swin(version).eval()
    report = load_checkpoint(again, path)
    assert report.format == "official"
    x = torch.randn(3, 1, 32, 32)
    assert torch.equal(model(x), again(x))
    meta = read_metadata(path)
    assert meta["note"] == "x" and meta["model"]["version"] == version and meta["model"]["window_size"] == 4


def test_float16_checkpoint_is_half_the_size_and_close(tmp_path):
    model = _model(1)
    full = save_checkpoint(model, tmp_path / "a.safetensors")
    half = save_checkpoint(model, tmp_path / "b.safetensors", dtype=torch.float16)
    assert half.stat().st_size < 0.55 * full.stat().st_size
    again = tiny_swin(1).eval()
    load_checkpoint(again, half)
    assert next(again.parameters()).dtype == torch.float32
    x = torch.randn(2, 1, 32, 32)
    assert torch.allclose(model(x), again(x), atol=1e-2)


def test_save_checkpoint_bad_path(tmp_path):
    with pytest.raises(ValueError, match="safetensors"):
        save_checkpoint(_model(1), tmp_path / "m.pth")


def _hf_twin_of(model, folder):
    from transformers import SwinForImageClassification, Swinv2ForImageClassification

    cls = Swinv2ForImageClassification if model.version == 2 else SwinForImageClassification
    return cls.from_pretrained(folder).eval()


@pytest.mark.parametrize(
    "version, overrides",
    [(2, {}), (1, {"img_size": 64})],  # v1 at 32 has a 2x2 last stage that Hugging Face's v1 cannot run
)
def test_export_hf_loads_with_the_same_logits(version, overrides, tmp_path):
    model = _model(version, **overrides)
    folder = export_hf(model, tmp_path / "hf", rgb_input=False)  # one channel, as swin_tutor's model
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    config = json.loads((folder / "config.json").read_text())
    assert len(config["id2label"]) == 10 and config["model_type"] == ("swinv2" if version == 2 else "swin")
    reference = _hf_twin_of(model, folder)
    size = model.img_size[0]
    x = torch.randn(2, 1, size, size)
    with torch.no_grad():
        assert torch.allclose(reference(x).logits, model(x), atol=1e-5, rtol=0)
    # and the folder reads back into swin_tutor through load_checkpoint (HF -> official names)
    again = tiny_swin(version, **overrides).eval()
    assert load_checkpoint(again, folder).format == "hf"
    assert torch.equal(again(x), model(x))
    ours = {k: v for k, v in model.state_dict().items() if not k.endswith(("_index", "attn_mask", "coords_table"))}
    back = convert_hf_state_dict(reference.state_dict())
    assert set(back) == set(ours) and all(torch.equal(back[k], ours[k]) for k in ours)


def test_export_hf_refuses_what_hugging_face_v1_cannot_run(tmp_path):
    with pytest.raises(ValueError, match="smaller than the window"):
        export_hf(_model(1), tmp_path / "hf")


def test_export_hf_runs_in_a_transformers_pipeline_on_a_digit(tmp_path):
    """preprocessor_config.json (size, resampling, the digits' mean/std) lets pipeline() classify a PIL digit
    as swin_tutor does; the grey model goes out with three equal input channels (pipeline hands over RGB)."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits
    from transformers import pipeline

    from swin_tutor.train.data import normalize
    from swin_tutor.train.digits_model import load_digits_model

    model = load_digits_model(2)
    folder = export_hf(model, tmp_path / "hf")
    processor = json.loads((folder / "preprocessor_config.json").read_text())
    assert processor["size"] == {"height": 32, "width": 32} and processor["image_mean"] == [0.305] * 3
    assert processor["image_std"] == [0.324] * 3 and processor["resample"] == 2  # bilinear
    classify = pipeline("image-classification", model=str(folder), device="cpu")
    digits = load_digits()
    for i in (0, 7, 13):
        picture = Image.fromarray((digits.images[i] / 16 * 255).round().astype(np.uint8), mode="L")
        x = torch.tensor(digits.images[i], dtype=torch.float32)[None, None] / 16  # (1, 1, 8, 8) in [0, 1]
        x = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
        with torch.no_grad():
            ours = int(model(normalize(x)).argmax())
        assert classify(picture)[0]["label"] == str(ours) == str(digits.target[i])
    # the three-channel export reads back into the one-channel model (R, G, B summed)
    again = tiny_swin(2).eval()
    report = load_checkpoint(again, folder)
    assert report.channels == ["patch_embed.proj.weight"] and "RGB summed" in report.summary()
    x = torch.randn(2, 1, 32, 32)
    assert torch.allclose(again(x), model(x), atol=1e-5)
