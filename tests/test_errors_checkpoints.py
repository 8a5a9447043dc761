"""Error catalogue, checkpoints: what a new user gets wrong when reading, saving and exporting weights.

Each case: the bad input, the exception type, and words the message must contain (the path, what the
file is, what to do).
"""

from __future__ import annotations

import json
import os
import stat
import zipfile

import pytest
import torch
from safetensors.torch import save_file

from swin_tutor.checkpoints.export import EXPORT_MARKER, export_hf, read_metadata, save_checkpoint
from swin_tutor.checkpoints.files import CheckpointError, read_checkpoint
from swin_tutor.checkpoints.loading import load_checkpoint
from swin_tutor.checkpoints.sniff import sniff_checkpoint
from swin_tutor.train.digits_model import tiny_swin


def _model(version: int = 2, **kw):
    torch.manual_seed(0)
    return tiny_swin(version, **kw).eval()


# -- what a file really is -------------------------------------------------------------------------
HTML = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n"
LFS = b"version https://git-lfs.github.com/spec/v1\noid sha256:4a5b\nsize 114575640\n"


def _zip_of(path, names):
    with zipfile.ZipFile(path, "w") as z:
        for n in names:
            z.writestr(n, "x")


@pytest.mark.parametrize(
    ("content", "kind", "words"),
    [
        (HTML, "html", ["is an HTML page, not a checkpoint", "download"]),
        (b"\n  <html lang='en'><body>error</body></html>", "html", ["HTML page"]),
        (b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>", "xml", ["XML document"]),
        (LFS, "lfs", ["Git LFS pointer", "git lfs pull"]),
        (b"", "empty", ["empty file (0 bytes)"]),
        (b"model weights go here\n", "text", ["text file", "model weights go here"]),
        (bytes(range(7, 250)) * 4, "unknown", ["does not begin like a torch.save file"]),
        (b"\x1f\x8b\x08\x00" + bytes(64), "gzip", ["gzip-compressed", "decompress"]),
        (b"\x93NUMPY\x01\x00" + bytes(32), "numpy", ["NumPy", "numpy.load"]),
        (b"\x89HDF\r\n\x1a\n" + bytes(32), "hdf5", ["HDF5"]),
        (b"PK\x03\x04" + bytes(20), "damaged-zip", ["damaged or truncated zip"]),
    ],
)
@pytest.mark.parametrize("name", ["swin_tiny_patch4_window7_224.pth", "weights.bin", "model.safetensors"])
def test_a_failed_download_is_named_not_unpickled(tmp_path, content, kind, words, name):
    path = tmp_path / name
    path.write_bytes(content)
    if kind == "unknown" and name.endswith(".safetensors"):
        words = ["not a readable safetensors file"]  # random bytes under that name: a damaged header
    assert sniff_checkpoint(str(path)) == kind
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(_model(), path)
    message = str(err.value)
    assert name in message and all(w in message for w in words), message
    assert "weights_only=False" not in message  # the unsafe advice only for a real pickle


def test_a_zip_that_is_not_a_torch_archive(tmp_path):
    _zip_of(tmp_path / "weights.pth", ["swin/readme.txt", "swin/model.pth"])
    with pytest.raises(CheckpointError, match=r"weights.pth' is a zip archive but not a PyTorch checkpoint.*extract"):
        read_checkpoint(tmp_path / "weights.pth")


def test_a_real_pickle_with_objects_gets_the_weights_only_advice(tmp_path):
    torch.save({"model": {"w": torch.zeros(1)}, "when": _Obj()}, tmp_path / "objects.pth")
    assert sniff_checkpoint(str(tmp_path / "objects.pth")) == "torch-zip"
    with pytest.raises(CheckpointError, match=r"objects.pth.*Python objects.*arbitrary code.*weights_only=False"):
        read_checkpoint(tmp_path / "objects.pth")


class _Obj:
    pass


def test_legacy_pickle_is_sniffed_as_pickle(tmp_path):
    torch.save({"w": torch.zeros(2)}, tmp_path / "old.pth", _use_new_zipfile_serialization=False)
    assert sniff_checkpoint(str(tmp_path / "old.pth")) == "pickle"
    assert set(read_checkpoint(tmp_path / "old.pth")) == {"w"}


# -- loading ---------------------------------------------------------------------------------------
def test_swapped_arguments_say_the_order(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "m.safetensors")
    for first, second in ((path, _model()), (str(path), _model())):
        with pytest.raises(TypeError, match=r"model comes first, then the checkpoint.*swap"):
            load_checkpoint(first, second)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got str"):
        load_checkpoint("m.safetensors", "m.safetensors")
    with pytest.raises(TypeError, match="checkpoint must be a file or folder path.*got int"):
        load_checkpoint(_model(), 3)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got NoneType"):
        read_checkpoint(None)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_are_refused_naming_the_tensor(tmp_path, value):
    model = _model()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["layers.1.blocks.0.mlp.fc1.weight"][0, 0] = value
    save_file(state, str(tmp_path / "diverged.safetensors"))
    with pytest.raises(CheckpointError, match=r"diverged.safetensors.*NaN or infinite.*layers.1.blocks.0.mlp.fc1"):
        load_checkpoint(_model(), tmp_path / "diverged.safetensors")
    with pytest.raises(CheckpointError, match=r"given state dict.*\(1 of 4096 values\)"):
        load_checkpoint(_model(), state)


@pytest.mark.parametrize(
    ("index", "words"),
    [
        ("{not json", "is damaged: not a JSON object"),
        ("[1, 2]", "is damaged"),
        ('{"metadata": {}}', "expected a 'weight_map'"),
        ('{"weight_map": {"a": 3}}', "expected a 'weight_map'"),
        ('{"weight_map": {"a": "model-00001-of-00002.safetensors"}}', "lists shard files that are not in the folder"),
    ],
)
def test_a_damaged_shard_index(tmp_path, index, words):
    (tmp_path / "model.safetensors.index.json").write_text(index)
    with pytest.raises(CheckpointError, match="model.safetensors.index.json") as err:
        read_checkpoint(tmp_path)
    assert words in str(err.value)


# -- saving ----------------------------------------------------------------------------------------
def test_save_checkpoint_bad_targets(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"is a folder: pass a file path such as .*model.safetensors"):
        save_checkpoint(_model(), tmp_path)
    with pytest.raises(ValueError, match=r"must end in .safetensors, got .*m.pth"):
        save_checkpoint(_model(), tmp_path / "m.pth")
    with pytest.raises(TypeError, match="SwinTransformer or SwinTransformerV2, got Linear"):
        save_checkpoint(torch.nn.Linear(2, 2), tmp_path / "m.safetensors")


@pytest.mark.parametrize(
    ("metadata", "error", "words"),
    [
        ({"mean": torch.tensor([0.3])}, TypeError, "metadata['mean'] cannot be stored as JSON"),
        ({"best": float("nan")}, TypeError, "metadata['best'] cannot be stored as JSON"),
        ({"when": object()}, TypeError, "metadata['when']"),
        ({1: "a"}, TypeError, "dict with str keys"),
        (["a"], TypeError, "dict with str keys, got list"),
    ],
)
def test_metadata_that_json_cannot_hold(tmp_path, metadata, error, words):
    with pytest.raises(error) as err:
        save_checkpoint(_model(), tmp_path / "m.safetensors", metadata=metadata)
    assert words in str(err.value)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_read_metadata_on_the_wrong_file(tmp_path):
    torch.save({"w": torch.zeros(1)}, tmp_path / "m.pth")
    with pytest.raises(CheckpointError, match=r"read_metadata reads .safetensors.*m.pth.*torch-zip"):
        read_metadata(tmp_path / "m.pth")
    with pytest.raises(FileNotFoundError, match="no file at .*missing.safetensors"):
        read_metadata(tmp_path / "missing.safetensors")


def test_checkpoints_are_atomic_and_follow_the_umask(tmp_path, monkeypatch):
    old = os.umask(0o022)
    try:
        path = save_checkpoint(_model(), tmp_path / "m.safetensors", metadata={"run": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    import safetensors.torch

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(_model(), path, metadata={"run": 2})
    assert read_metadata(path)["run"] == 1 and [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


# -- export_hf -------------------------------------------------------------------------------------
def test_export_refuses_bad_targets(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="writes a folder, but .*file' is a file"):
        export_hf(_model(), tmp_path / "file")
    other = tmp_path / "theirs"
    other.mkdir()
    (other / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(FileExistsError, match=r"did not make and it is not empty.*config.json.*overwrite=True"):
        export_hf(_model(), other)
    assert json.loads((other / "config.json").read_text()) == {"model_type": "bert"}
    export_hf(_model(), other, overwrite=True)
    assert (other / EXPORT_MARKER).is_file()
    export_hf(_model(), other)  # a folder export_hf made is replaced without overwrite=True


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        (dict(labels=["a"] * 10), ValueError, "labels must be distinct"),
        (dict(labels=["zero", "one", "zero"] + [str(i) for i in range(3, 10)]), ValueError, "repeated: ['zero']"),
        (dict(labels=["a", "b"]), ValueError, "labels must be 10 non-empty strings"),
        (dict(labels=[str(i) for i in range(9)] + [""]), ValueError, "non-empty strings"),
        (dict(mean=0.3), ValueError, "pass both mean= and std="),
        (dict(mean=0.3, std=0.0), ValueError, "std must be > 0"),
        (dict(mean=float("nan"), std=0.3), ValueError, "mean must be one finite number"),
        (dict(mean=[0.1, 0.2], std=0.3), ValueError, "mean must be one finite number or 1"),
        (dict(resample="cubic"), ValueError, "resample must be one of"),
    ],
)
def test_export_refuses_bad_arguments(tmp_path, kwargs, error, words):
    with pytest.raises(error) as err:
        export_hf(_model(), tmp_path / "hf", **kwargs)
    assert words in str(err.value)
    assert not (tmp_path / "hf").exists()


def test_export_of_a_compiled_model_says_orig_mod(tmp_path):
    from torch._dynamo.eval_frame import OptimizedModule

    compiled = OptimizedModule(_model(), lambda *a: None)  # what torch.compile returns, without compiling
    with pytest.raises(TypeError, match=r"compiled wrapper.*OptimizedModule.*model._orig_mod"):
        export_hf(compiled, tmp_path / "hf")
    with pytest.raises(TypeError, match=r"model._orig_mod"):
        save_checkpoint(compiled, tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="no classifier head"):
        export_hf(_model(num_classes=0), tmp_path / "hf")


def test_an_interrupted_export_keeps_the_earlier_one(tmp_path, monkeypatch):
    from transformers import Swinv2ForImageClassification

    folder = export_hf(_model(), tmp_path / "hf", labels=[f"digit {i}" for i in range(10)])
    before = sorted(p.name for p in folder.iterdir())

    def disk_full(self, *args, **kwargs):
        (args[0] / "config.json").write_text("{half")  # a half-written file in the new folder
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Swinv2ForImageClassification, "save_pretrained", disk_full)
    with pytest.raises(OSError, match="No space"):
        export_hf(_model(), folder, labels=[f"new {i}" for i in range(10)])
    monkeypatch.undo()
    assert sorted(p.name for p in folder.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir()] == ["hf"]  # no temporary folder left behind
    again = Swinv2ForImageClassification.from_pretrained(folder)
    assert again.config.id2label[3] == "digit 3"
