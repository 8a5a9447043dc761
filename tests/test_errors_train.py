"""Error catalogue, training: bad settings, bad data and bad command lines are refused before the first
step, and an interrupted run keeps what it finished."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch.utils.data import Subset, TensorDataset

from swin_tutor.checkpoints.export import read_metadata
from swin_tutor.checkpoints.loading import load_checkpoint
from swin_tutor.train.cli import build_parser, main, partial_path
from swin_tutor.train.digits_model import tiny_swin
from swin_tutor.train.loop import TrainConfig, fit

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("field", "value", "error", "words"),
    [
        (
            "lr",
            NAN,
            ValueError,
            "TrainConfig.lr (the peak learning rate, e.g. 1e-3) must be a finite number in (0, inf)",
        ),
        ("lr", INF, ValueError, "must be a finite number in (0, inf), got inf"),
        ("lr", 0, ValueError, "TrainConfig.lr (the peak learning rate, e.g. 1e-3) must be in (0, inf), got 0"),
        ("lr", -1e-3, ValueError, "must be in (0, inf), got -0.001"),
        (
            "lr",
            "0.01",
            TypeError,
            "TrainConfig.lr (the peak learning rate, e.g. 1e-3) must be a number, got str",
        ),
        ("lr", None, TypeError, "must be a number, got NoneType"),
        ("lr", True, TypeError, "must be a number, got bool"),
        ("weight_decay", NAN, ValueError, "TrainConfig.weight_decay"),
        ("weight_decay", -0.1, ValueError, "must be in [0, inf), got -0.1"),
        ("warmup_epochs", NAN, ValueError, "TrainConfig.warmup_epochs (epochs of linear warm-up) must be a finite"),
        ("warmup_epochs", -1, ValueError, "warmup_epochs"),
        (
            "min_lr_ratio",
            -1,
            ValueError,
            "min_lr_ratio (where the cosine ends, as a share of lr) must be in [0, 1], got -1",
        ),
        ("min_lr_ratio", 1.5, ValueError, "must be in [0, 1], got 1.5"),
        ("min_lr_ratio", NAN, ValueError, "min_lr_ratio"),
        (
            "label_smoothing",
            1.0,
            ValueError,
            "label_smoothing (share of the target spread over all classes) must be in",
        ),
        ("label_smoothing", -0.1, ValueError, "label_smoothing"),
        ("clip_grad", NAN, ValueError, "clip_grad"),
        ("clip_grad", -1.0, ValueError, "clip_grad"),
        ("epochs", 0, ValueError, "TrainConfig.epochs (passes over the training set) must be in [1, inf), got 0"),
        ("epochs", 2.5, TypeError, "TrainConfig.epochs (passes over the training set) must be an int, got float 2.5"),
        ("epochs", "3", TypeError, "must be an int, got str '3'"),
        ("batch_size", 0, ValueError, "batch_size"),
        ("batch_size", 64.0, TypeError, "batch_size (images per step and process) must be an int, got float"),
        ("seed", -1, ValueError, "TrainConfig.seed (the random seed) must be in [0, 4.29497e+09], got -1"),
        ("seed", 0.5, TypeError, "seed"),
        ("max_shift", -2, ValueError, "max_shift"),
        ("augment", "yes", TypeError, "TrainConfig.augment must be True or False, got str"),
        ("use_checkpoint", 1, TypeError, "TrainConfig.use_checkpoint must be True or False, got int"),
        ("precision", "fp8", ValueError, "TrainConfig.precision must be None (the device's default) or one of"),
        ("device", "gpu", ValueError, "TrainConfig.device must be None (CUDA when there is one) or a device such as"),
    ],
)
def test_bad_settings_are_refused_when_the_config_is_made(field, value, error, words):
    with pytest.raises(error) as err:
        TrainConfig(**{field: value})
    assert words in str(err.value)


def test_a_setting_changed_after_the_config_is_checked_again_by_fit():
    config = TrainConfig(epochs=1)
    config.lr = NAN
    train = TensorDataset(torch.zeros(4, 1, 32, 32), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="TrainConfig.lr"):
        fit(tiny_swin(1), train, None, config, progress=False)


def _data(labels, n=None):
    labels = torch.as_tensor(labels)
    return TensorDataset(torch.zeros(len(labels) if n is None else n, 1, 32, 32), labels)


@pytest.mark.parametrize(
    ("train", "test", "error", "words"),
    [
        (_data([], 0), None, ValueError, "train_set is empty (0 examples): nothing to train on"),
        (_data([0, 1]), _data([], 0), ValueError, "test_set is empty (0 examples)"),
        (Subset(_data([0, 1, 2]), []), None, ValueError, "train_set is empty"),
        (
            _data([0, 10]),
            None,
            ValueError,
            "train_set holds the label 10, but the model has 10 classes: labels must be in",
        ),
        (_data([0, -1]), None, ValueError, "holds the label -1"),
        (_data([3, 1]), _data([12, 1]), ValueError, "test_set holds the label 12"),
        (Subset(_data([0, 1, 10]), [2]), None, ValueError, "holds the label 10"),
        (_data([0.0, 1.0]), None, TypeError, "must be integer class indices (torch.long), got torch.float32"),
    ],
)
def test_bad_data_is_refused_before_the_first_step(train, test, error, words):
    model = tiny_swin(1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(error) as err:
        fit(model, train, test, TrainConfig(epochs=1), progress=False)
    assert words in str(err.value)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


class _PairList(torch.utils.data.Dataset):
    """A dataset that is not a TensorDataset: its labels are seen batch by batch."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return torch.zeros(1, 32, 32), (11 if i == 3 else 0)


def test_a_bad_label_in_another_kind_of_dataset_is_caught_before_its_step():
    with pytest.raises(ValueError, match="a batch holds the label 11"):
        fit(tiny_swin(1), _PairList(), None, TrainConfig(epochs=1, batch_size=4), progress=False)


def test_ctrl_c_in_fit_leaves_the_model_in_eval_mode(capsys):
    model = tiny_swin(1)
    train = _data([0, 1, 2, 3] * 4)

    def stop(epoch, history):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(model, train, None, TrainConfig(epochs=3, batch_size=8), progress=False, on_epoch=stop)
    assert not model.training
    assert "fit interrupted in epoch 2 of 3: 1 finished epoch(s)" in capsys.readouterr().out


# -- the command line ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--out", "digits.pth"], "--out must end in .safetensors, got 'digits.pth'"),
        (["--subset", "-5"], "--subset must be >= 0, got -5"),
        (["--threads", "-1"], "--threads must be >= 0"),
        (["--size", "4"], "--size must be >= 8"),
        (["--lr", "nan"], "TrainConfig.lr"),
        (["--lr", "0"], "TrainConfig.lr"),
        (["--warmup-epochs", "inf"], "TrainConfig.warmup_epochs"),
        (["--min-lr-ratio", "-1"], "TrainConfig.min_lr_ratio"),
        (["--weight-decay", "nan"], "TrainConfig.weight_decay"),
        (["--epochs", "0"], "TrainConfig.epochs"),
        (["--device", "gpu"], "TrainConfig.device"),
        (["--lr", "fast"], "invalid float value: 'fast'"),
        (["--epochs", "2.5"], "invalid int value: '2.5'"),
        (["--precision", "fp8"], "invalid choice: 'fp8'"),
    ],
)
def test_bad_arguments_stop_the_command_line_before_training(argv, words, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2 and words in capsys.readouterr().err


def test_the_output_path_is_checked_before_training(tmp_path, capsys):
    (tmp_path / "run.safetensors").write_text("an earlier run")
    (tmp_path / "a_file").write_text("x")
    for argv, words in [
        (["--out", str(tmp_path / "run.safetensors")], "already exist(s); pass --overwrite"),
        (["--out", str(tmp_path)], "is a folder: give a file path inside it"),
        (["--out", str(tmp_path / "a_file" / "x.safetensors")], "cannot write into"),
    ]:
        with pytest.raises(SystemExit):
            main(argv)
        assert words in capsys.readouterr().err
    assert (tmp_path / "run.safetensors").read_text() == "an earlier run"


def test_help_shows_the_defaults():
    text = build_parser().format_help()
    assert "(default: 30)" in text and "(default: 0.002)" in text and "--overwrite" in text


def test_partial_path():
    assert partial_path(Path("build/digits.safetensors")) == Path("build/digits.partial.safetensors")


@pytest.mark.slow
def test_ctrl_c_keeps_the_last_finished_epoch(tmp_path):
    """A run sent SIGINT after its first epoch exits with 130 and keeps that epoch in <out>.partial.safetensors."""
    out = tmp_path / "digits.safetensors"
    argv = ["--epochs", "500", "--subset", "64", "--size", "16", "--threads", "1", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.Popen(
        [sys.executable, "-m", "swin_tutor.train", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    seen = []
    deadline = time.monotonic() + 120
    for line in run.stdout:
        seen.append(line)
        if line.startswith("epoch") or time.monotonic() > deadline:
            break
    run.send_signal(signal.SIGINT)
    rest, _ = run.communicate(timeout=60)
    assert run.returncode == 130, "".join(seen) + rest
    assert "interrupted: kept epoch" in rest and str(partial_path(out)) in rest
    assert not out.exists()
    done = read_metadata(partial_path(out))["epochs_done"]
    assert done >= 1
    load_checkpoint(tiny_swin(1, img_size=16), partial_path(out))  # it loads
