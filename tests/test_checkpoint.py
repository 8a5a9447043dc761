"""Checkpoint loading: official, timm and Hugging Face layouts, heads, window changes and errors.

Every checkpoint is made here from small random-weight models (no downloads): Hugging Face twins
saved with save_pretrained / torch.save, and official / timm dicts made by renaming our own keys.
"""

from __future__ import annotations

import re

import pytest
import torch
from helpers import small_swin
from safetensors.torch import save_file

from swin_tutor.checkpoints.files import CheckpointError, read_checkpoint
from swin_tutor.checkpoints.keys import REBUILT_BUFFERS, convert_hf_state_dict, detect_format
from swin_tutor.checkpoints.loading import LoadReport, load_checkpoint, official_checkpoint
from swin_tutor.core.model import SwinTransformer
from swin_tutor.core.position_bias import resize_relative_position_bias_table
from swin_tutor.lesson.reference import make_hf_reference, perturb_

# Hugging Face v1 builds its bias tables before clamping the window, so the last stage map must be
# at least the window: 128 px / patch 4 = maps 32, 16, 8, 4 for window 4.
IMG, WINDOW = 128, 4
FEATURES = 16 * 8


def small(version: int = 1, num_classes: int = 10, seed: int = 0, **kw) -> SwinTransformer:
    torch.manual_seed(seed)
    kw = {"img_size": IMG, "window_size": WINDOW, "num_classes": num_classes, **kw}
    return small_swin(version=version, **kw).eval()


def randomised(version: int = 1, num_classes: int = 10, seed: int = 0, **kw) -> SwinTransformer:
    """A small model with every parameter perturbed (v2's zero-initialised post-norms included)."""
    return perturb_(small(version, num_classes, seed, **kw), seed=seed + 100, scale=0.05)


def logits(model, x) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(x)


@pytest.fixture(scope="module")
def x() -> torch.Tensor:
    return torch.randn(1, 3, 128, 128, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module", params=[1, 2], ids=["v1", "v2"])
def hf_twin(request, x):
    """(version, Hugging Face model, its logits on x) with seeded random weights."""
    version = request.param
    reference, _ = make_hf_reference(small(version), seed=version)
    with torch.no_grad():
        expected = reference(pixel_values=x).logits
    return version, reference, expected


# -- Hugging Face ----------------------------------------------------------------------------------
def test_hf_save_pretrained_safetensors(hf_twin, x, tmp_path):
    version, reference, expected = hf_twin
    reference.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    # the weights file, or the folder save_pretrained wrote
    for source in (tmp_path / "model.safetensors", tmp_path):
        model = small(version, seed=7)
        report = load_checkpoint(model, source)
        assert report.format == "hf" and report.head == "loaded"
        assert report.missing == [] and report.unexpected == []
        assert report.loaded == len(model.state_dict())
        assert torch.allclose(logits(model, x), expected, atol=1e-5, rtol=0)


def test_hf_bin_and_dict(hf_twin, x, tmp_path):
    version, reference, expected = hf_twin
    torch.save(reference.state_dict(), tmp_path / "pytorch_model.bin")
    model = small(version, seed=7)
    assert load_checkpoint(model, tmp_path / "pytorch_model.bin").format == "hf"
    assert torch.allclose(logits(model, x), expected, atol=1e-5, rtol=0)
    from_dict = small(version, seed=8)
    load_checkpoint(from_dict, reference.state_dict())
    assert torch.equal(logits(from_dict, x), logits(model, x))


_NEW_TO_OLD = [
    (".attention.q_proj.", ".attention.self.query."),
    (".attention.k_proj.", ".attention.self.key."),
    (".attention.v_proj.", ".attention.self.value."),
    (".attention.o_proj.", ".attention.output.dense."),
    (
        ".attention.relative_position_bias.relative_position_bias_table",
        ".attention.self.relative_position_bias_table",
    ),
    (".mlp.fc1.", ".intermediate.dense."),
    (".mlp.fc2.", ".output.dense."),
]


def _rename(state: dict, pairs) -> dict:
    out = {}
    for key, value in state.items():
        for old, new in pairs:
            key = key.replace(old, new)
        out[key] = value
    return out


def test_hf_old_and_new_names_load_identically(hf_twin, x):
    """transformers 5.x names (q_proj, o_proj, mlp.fc1) and the older ones (attention.self.query,
    attention.output.dense, intermediate.dense, output.dense) give the same model."""
    version, reference, expected = hf_twin
    current = reference.state_dict()
    old = _rename(current, _NEW_TO_OLD)
    new = _rename(old, [(b, a) for a, b in _NEW_TO_OLD])
    assert any(".attention.self.query." in k for k in old)
    assert any(".attention.q_proj." in k for k in new)
    assert any(".intermediate.dense." in k for k in old) and any(".mlp.fc1." in k for k in new)
    # older files also stored the index buffers; they are dropped and reported
    n = WINDOW**2
    prefix = reference.base_model_prefix  # "swin" or "swinv2"
    old[f"{prefix}.encoder.layers.0.blocks.0.attention.self.relative_position_index"] = torch.zeros(
        n, n, dtype=torch.long
    )
    results = []
    for state in (old, new):
        model = small(version, seed=7)
        report = load_checkpoint(model, state)
        assert report.missing == [] and report.unexpected == []
        results.append(logits(model, x))
    assert torch.equal(results[0], results[1])
    assert torch.allclose(results[0], expected, atol=1e-5, rtol=0)
    assert len(load_checkpoint(small(version), old).dropped_buffers) == 1


# -- official and timm -----------------------------------------------------------------------------
def _official_dict(model) -> dict:
    """An official file's content: the state dict plus the buffers the official code saves."""
    state = dict(model.state_dict())
    for name, buffer in model.named_buffers():
        if name.rsplit(".", 1)[-1] in REBUILT_BUFFERS:
            state[name] = buffer.clone()
    return {"model": state}


@pytest.mark.parametrize("version", [1, 2])
def test_official_file_loads_strictly(version, x, tmp_path):
    source = randomised(version)
    content = _official_dict(source)
    buffers = [k for k in content["model"] if k.rsplit(".", 1)[-1] in REBUILT_BUFFERS]
    expected_names = {"relative_position_index", "attn_mask"} | ({"relative_coords_table"} if version == 2 else set())
    assert {k.rsplit(".", 1)[-1] for k in buffers} == expected_names
    assert content["model"].keys() == official_checkpoint(source)["model"].keys()
    torch.save(content, tmp_path / "swin_official.pth")

    model = small(version, seed=5)
    report = load_checkpoint(model, tmp_path / "swin_official.pth", strict=True)
    assert report.format == "official" and report.dropped_buffers == sorted(buffers)
    assert report.loaded == len(model.state_dict()) and report.resized == []
    assert torch.equal(logits(model, x), logits(source, x))
    assert "tensors loaded:" in report.summary() and "format: official" in report.summary()


def _timm_dict(official: dict) -> dict:
    out = {}
    for key, value in official.items():
        match = re.match(r"^layers\.(\d+)\.downsample\.(.*)$", key)
        if match:
            key = f"layers.{int(match.group(1)) + 1}.downsample.{match.group(2)}"
        out[re.sub(r"^head\.", "head.fc.", key)] = value
    return out


@pytest.mark.parametrize("version", [1, 2])
def test_timm_layout_loads_identically(version, x):
    source = randomised(version)
    timm = _timm_dict(_official_dict(source)["model"])
    assert "layers.3.downsample.reduction.weight" in timm and "layers.0.downsample.reduction.weight" not in timm
    assert detect_format(timm) == "timm"
    model = small(version, seed=5)
    assert load_checkpoint(model, {"state_dict": timm}).format == "timm"
    assert torch.equal(logits(model, x), logits(source, x))
    # a headless timm backbone is recognised by where it merges
    headless = {k: v for k, v in timm.items() if not k.startswith("head.")}
    assert detect_format(headless) == "timm"


# -- the classifier head ---------------------------------------------------------------------------
def test_head_with_other_class_count():
    ten = randomised(num_classes=10).state_dict()
    model = small(num_classes=1000, seed=3)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(model, ten)
    message = str(err.value)
    assert f"(10, {FEATURES})" in message and f"(1000, {FEATURES})" in message
    assert "reset_head=True" in message and "head_indices" in message

    own_head = model.head.weight.clone()
    report = load_checkpoint(model, ten, reset_head=True)
    assert report.head.startswith("reset") and report.missing == []
    assert torch.equal(model.head.weight, own_head)
    assert torch.equal(model.patch_embed.proj.weight, ten["patch_embed.proj.weight"])
    assert report.loaded == len(ten) - 2

    picked = [7, 0, 3]
    three = small(num_classes=3, seed=3)
    report = load_checkpoint(three, ten, head_indices=picked)
    assert report.head == "mapped (3 of the checkpoint's 10 classes)"
    assert torch.equal(three.head.weight, ten["head.weight"][picked])
    assert torch.equal(three.head.bias, ten["head.bias"][picked])
    with pytest.raises(CheckpointError, match="0..9"):
        load_checkpoint(small(num_classes=3), ten, head_indices=[1, 2, 10])


def test_reset_head_for_headless_checkpoints_and_models():
    state = randomised(num_classes=10).state_dict()
    headless = {k: v for k, v in state.items() if not k.startswith("head.")}
    with pytest.raises(CheckpointError, match="2 missing"):
        load_checkpoint(small(num_classes=10), headless)
    assert load_checkpoint(small(num_classes=10), headless, reset_head=True).head.startswith("reset")
    backbone = small(num_classes=0)
    with pytest.raises(CheckpointError, match="2 unexpected"):
        load_checkpoint(backbone, state)
    assert load_checkpoint(backbone, state, reset_head=True).unexpected == []
    assert load_checkpoint(small(num_classes=0), headless).head.startswith("none")


# -- errors ----------------------------------------------------------------------------------------
def test_missing_and_unexpected_keys_are_listed():
    state = randomised().state_dict()
    dropped = list(state)[:12]  # listed in the model's order
    broken = {k: v for k, v in state.items() if k not in dropped}
    extra = [f"extra.module{i}.weight" for i in range(12)]
    broken.update({k: torch.zeros(1) for k in extra})
    model = small(seed=4)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(model, broken)
    message = str(err.value)
    assert "12 missing key(s)" in message and "12 unexpected key(s)" in message
    assert all(repr(k) in message for k in dropped[:10]) and repr(dropped[10]) not in message
    assert all(repr(k) in message for k in extra[:10]) and repr(extra[10]) not in message
    report = load_checkpoint(model, broken, strict=False)
    assert report.missing == dropped and report.unexpected == extra
    assert report.loaded == len(state) - 12
    assert "left out (strict=False): 12 missing, 12 unexpected" in report.summary()


def test_shape_mismatch_names_both_shapes():
    wide = randomised(embed_dim=32).state_dict()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(small(), wide, strict=False)  # shapes must match even when not strict
    message = str(err.value)
    assert "patch_embed.proj.weight: checkpoint (32, 3, 4, 4) vs model (16, 3, 4, 4)" in message
    assert "... and" in message and "right variant" in message


def test_unrecognised_formats_and_non_state_dicts():
    with pytest.raises(CheckpointError, match="unrecognised checkpoint format"):
        load_checkpoint(small(), {"backbone.conv1.weight": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(small(), {})
    with pytest.raises(CheckpointError, match="not tensors"):
        load_checkpoint(small(), {"epoch": 3, "weights": torch.zeros(1)})


def test_files_that_are_not_checkpoints(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_checkpoint(small(), tmp_path / "swin_tiny_patch4_window7_224.pth")
    (tmp_path / "notes.pth").write_text("these are not weights\n")
    with pytest.raises(CheckpointError, match="notes.pth' is a text file .*, not a checkpoint"):
        read_checkpoint(tmp_path / "notes.pth")
    (tmp_path / "truncated.pth").write_bytes(b"")
    with pytest.raises(CheckpointError, match="truncated.pth' is an empty file"):
        read_checkpoint(tmp_path / "truncated.pth")
    (tmp_path / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        read_checkpoint(tmp_path / "broken.safetensors")
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    with pytest.raises(CheckpointError, match="holds a list"):
        read_checkpoint(tmp_path / "list.pth")
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(CheckpointError, match="folder without model weights"):
        read_checkpoint(tmp_path / "empty_folder")


def test_safetensors_detected_by_content(tmp_path, x):
    source = randomised()
    save_file(dict(source.state_dict()), str(tmp_path / "weights.bin"))  # a safetensors file with a .bin name
    model = small(seed=9)
    load_checkpoint(model, tmp_path / "weights.bin")
    assert torch.equal(logits(model, x), logits(source, x))


class Payload:
    """Unpickling this opens (creates) a file: a stand-in for code a malicious pickle would run."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


class Config:
    """A harmless custom class, as training checkpoints often pickle (configs, optimisers)."""

    def __init__(self) -> None:
        self.lr = 0.001


def test_pickle_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "payload_ran"
    state = small().state_dict()
    torch.save({"model": state, "extra": Payload(str(marker))}, tmp_path / "malicious.pth")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(small(), tmp_path / "malicious.pth")
    message = str(err.value)
    assert "refused" in message and "weights_only" in message and re.search(r"asks for [\w.]*open", message)
    assert not marker.exists()  # nothing ran
    # control: the payload is real, an unrestricted load does run it
    torch.load(tmp_path / "malicious.pth", weights_only=False)
    assert marker.exists()

    torch.save({"model": state, "config": Config()}, tmp_path / "with_config.pth")
    with pytest.raises(CheckpointError, match=r"refused.*Config"):
        read_checkpoint(tmp_path / "with_config.pth")
    model = small(seed=4)  # the advice in the message works for a trusted file
    load_checkpoint(model, torch.load(tmp_path / "with_config.pth", weights_only=False))
    assert torch.equal(model.patch_embed.proj.weight, state["patch_embed.proj.weight"])


# -- windows ---------------------------------------------------------------------------------------
TINY = dict(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8), drop_path_rate=0.0, num_classes=0)


def test_v1_window_change_resizes_bias_tables():
    torch.manual_seed(0)
    w7 = perturb_(SwinTransformer(img_size=224, window_size=7, **TINY), seed=1)
    w12 = SwinTransformer(img_size=384, window_size=12, **TINY)
    report = load_checkpoint(w12, official_checkpoint(w7))
    tables = [k for k in w12.state_dict() if k.endswith("relative_position_bias_table")]
    assert report.resized == tables and len(tables) == 8
    state7, state12 = w7.state_dict(), w12.state_dict()
    for key in tables:
        assert state7[key].shape[0] == 13 * 13 and state12[key].shape[0] == 23 * 23
        assert torch.equal(state12[key], resize_relative_position_bias_table(state7[key], 7, 12))
    assert torch.equal(state12["layers.2.blocks.1.mlp.fc1.weight"], state7["layers.2.blocks.1.mlp.fc1.weight"])
    # heads must still agree
    other_heads = SwinTransformer(img_size=384, window_size=12, **{**TINY, "num_heads": (2, 2, 4, 8)})
    with pytest.raises(CheckpointError, match="heads"):
        load_checkpoint(other_heads, official_checkpoint(w7))


def test_v2_window_change_needs_no_resizing():
    source = randomised(2)
    bigger = small(2, window_size=8, pretrained_window_sizes=(4, 4, 4, 4))
    report = load_checkpoint(bigger, official_checkpoint(source))
    assert report.resized == [] and report.missing == []
    assert torch.equal(
        bigger.state_dict()["layers.0.blocks.0.attn.cpb_mlp.0.weight"],
        source.state_dict()["layers.0.blocks.0.attn.cpb_mlp.0.weight"],
    )


def test_convert_hf_state_dict_drops_buffers_and_decoder():
    state = {
        "swin.embeddings.mask_token": torch.zeros(1, 1, 16),
        "swin.encoder.layers.0.blocks.0.attention.self.relative_position_index": torch.zeros(4, 4),
        "decoder.0.weight": torch.zeros(3),
        "swin.layernorm.weight": torch.ones(3),
    }
    assert convert_hf_state_dict(state).keys() == {"norm.weight"}


def test_load_report_summary_lists_what_happened():
    report = LoadReport("hf", 3, dropped_buffers=["a.relative_position_index"], missing=["head.bias"])
    assert report.summary().splitlines() == [
        "format: hf",
        "tensors loaded: 3",
        "rebuilt buffers dropped: 1",
        "bias tables resized: 0",
        "head: loaded",
        "left out (strict=False): 1 missing, 0 unexpected",
    ]
    assert "left out" not in LoadReport("official", 3).summary()  # the line appears only when keys were left out
