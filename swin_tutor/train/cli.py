"""``python -m swin_tutor.train``: train the digits Swin from the command line, one line per epoch.

    python -m swin_tutor.train --version 1 --epochs 10 --out build/digits_v1.safetensors
    torchrun --nproc_per_node=2 -m swin_tutor.train --version 1 --epochs 10 --out build/digits_v1.safetensors

Writes an official-format safetensors checkpoint (``--out``) and, next to it, a JSON record of the
settings, the test accuracy, the time and the torch version. Only rank 0 prints and writes.

Every argument is checked before training starts (an ``--out`` that cannot be written fails in a
second, not after the last epoch); an existing ``--out`` is kept unless ``--overwrite`` is given. After
each epoch the weights so far go to ``<out>.partial.safetensors``: Ctrl-C keeps the last finished epoch
there (and says so); a run that finishes removes it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

import torch

from swin_tutor.checkpoints.atomic import atomic_write_text
from swin_tutor.checkpoints.export import save_checkpoint
from swin_tutor.train.data import DIGITS_MEAN, DIGITS_STD, digits_datasets
from swin_tutor.train.digits_model import tiny_swin
from swin_tutor.train.distributed import is_main_process
from swin_tutor.train.loop import TrainConfig, evaluate, fit
from swin_tutor.train.precision import PRECISIONS

__all__ = ["build_parser", "check_args", "format_epoch", "main", "partial_path", "train_digits"]

_NOT_NUMBERS = ("augment", "device", "precision", "use_checkpoint")  # TrainConfig fields with their own option
_HELP = {
    "epochs": "passes over the training set",
    "batch_size": "images per step and process",
    "lr": "peak learning rate, after warm-up",
    "weight_decay": "AdamW weight decay",
    "warmup_epochs": "epochs of linear warm-up",
    "label_smoothing": "label smoothing of the cross-entropy",
    "clip_grad": "max gradient norm (0: no clipping)",
    "seed": "random seed",
    "max_shift": "pixels of random translation",
    "min_lr_ratio": "the cosine ends at lr * this",
}


def format_epoch(epoch: int, epochs: int, history) -> str:
    """One line per epoch: loss, train and test accuracy, learning rate, time so far."""
    test = f" test acc {history.test_acc[-1]:.4f}" if history.test_acc else ""
    return (
        f"epoch {epoch + 1:>3}/{epochs}  loss {history.train_loss[-1]:.4f}  train acc {history.train_acc[-1]:.4f}"
        f"{test}  lr {history.lr[-1]:.2e}  {history.seconds:.1f} s"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m swin_tutor.train",
        description="Train the tiny Swin of notebook 09 on scikit-learn's digits; write a safetensors checkpoint.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    defaults = TrainConfig()
    parser.add_argument("--version", type=int, choices=(1, 2), default=1, help="Swin v1 or v2")
    for f in fields(TrainConfig):
        if f.name in _NOT_NUMBERS:
            continue
        kind = type(getattr(defaults, f.name))
        parser.add_argument(
            f"--{f.name.replace('_', '-')}", type=kind, default=getattr(defaults, f.name), help=_HELP.get(f.name, " ")
        )
    parser.add_argument("--no-augment", action="store_true", help="no random translation")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (None: CUDA when present)")
    parser.add_argument("--precision", choices=PRECISIONS, default=None, help="None: autocast on CUDA, fp32 on CPU")
    parser.add_argument("--use-checkpoint", action="store_true", help="activation checkpointing (less memory)")
    parser.add_argument("--size", type=int, default=32, help="image size the 8x8 digits are upsampled to")
    parser.add_argument("--subset", type=int, default=0, help="train on the first N training images only (0: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's choice)")
    parser.add_argument("--half", action="store_true", help="store the weights as float16 (half the file)")
    parser.add_argument("--out", type=Path, default=None, help="checkpoint path (.safetensors); JSON beside it")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file and its JSON")
    return parser


def partial_path(out: Path) -> Path:
    """Where the finished epochs of a run writing ``out`` are kept: ``<out>.partial.safetensors``."""
    return out.with_name(out.name.removesuffix(".safetensors") + ".partial.safetensors")


def check_args(args: argparse.Namespace) -> TrainConfig:
    """Check every argument before training (ValueError / TypeError naming it); returns the TrainConfig."""
    for name, low in (("size", 8), ("subset", 0), ("threads", 0)):
        value = getattr(args, name)
        if value < low:
            raise ValueError(f"--{name} must be >= {low}, got {value}")
    names = {f.name for f in fields(TrainConfig)} - {"augment"}
    config = TrainConfig(**{n: getattr(args, n) for n in names}, augment=not args.no_augment)
    tiny_swin(args.version, img_size=args.size)  # a size the model cannot take fails here, not after training
    out = args.out
    if out is None:
        return config
    if out.is_dir():
        example = str(out / "digits.safetensors")
        raise ValueError(f"--out {str(out)!r} is a folder: give a file path inside it, e.g. {example!r}")
    if out.suffix != ".safetensors":
        example = str(out.with_suffix(".safetensors"))
        raise ValueError(f"--out must end in .safetensors, got {str(out)!r} (e.g. {example!r})")
    try:  # make the folder and write a file there now: a run must not fail at its very end
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out.parent):
            pass
    except OSError as err:
        raise ValueError(f"--out {str(out)!r}: cannot write into {str(out.parent)!r} ({err.strerror})") from None
    taken = [str(p) for p in (out, out.with_suffix(".json")) if p.exists()]
    if taken and not args.overwrite:
        raise ValueError(f"--out: {taken} already exist(s); pass --overwrite to replace, or choose another path")
    return config


def train_digits(args: argparse.Namespace) -> dict:
    """Train as ``args`` say; returns the record that is also written next to the checkpoint."""
    config = check_args(args)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    train_set, test_set = digits_datasets(size=args.size, seed=0)
    if args.subset > 0:
        train_set = torch.utils.data.Subset(train_set, range(min(args.subset, len(train_set))))
    model = tiny_swin(args.version, img_size=args.size)
    metadata = {"training": config.to_dict(), "normalization": {"mean": [DIGITS_MEAN], "std": [DIGITS_STD]}}
    partial = None if args.out is None else partial_path(args.out)
    done = [0]  # finished epochs kept in partial

    def report(epoch: int, history) -> None:
        if partial is not None:  # first save, then print: the printed epoch is on disk
            save_checkpoint(model, partial, metadata={**metadata, "epochs_done": epoch + 1})
            done[0] = epoch + 1
        print(format_epoch(epoch, config.epochs, history), flush=True)

    try:
        history = fit(model, train_set, test_set, config, progress=False, on_epoch=report)
    except KeyboardInterrupt:
        if is_main_process():
            kept = f"kept epoch {done[0]} (the last finished) in {partial}" if done[0] else "nothing was saved"
            print(f"interrupted: {kept}", flush=True)
        raise
    result = evaluate(model, test_set)
    record = {
        "version": args.version,
        "size": args.size,
        "subset": args.subset,
        "config": config.to_dict(),
        "test_accuracy": result.accuracy,
        "test_errors": int(result.wrong.numel()),
        "test_examples": len(test_set),
        "seconds": round(history.seconds, 1),
        "threads": torch.get_num_threads(),
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "history": {"train_loss": history.train_loss, "train_acc": history.train_acc, "test_acc": history.test_acc},
    }
    if is_main_process():
        print(
            f"test accuracy {result.accuracy:.4f} ({result.wrong.numel()} of {len(test_set)} wrong) "
            f"in {history.seconds:.1f} s",
            flush=True,
        )
        if args.out is not None:
            dtype = torch.float16 if args.half else None
            record["dtype"] = "float16" if args.half else "float32"
            if args.half:  # what the stored (rounded) weights score, not only the float32 model
                model.load_state_dict(
                    {k: v.half().float() if v.is_floating_point() else v for k, v in model.state_dict().items()}
                )
                record["test_accuracy_stored"] = evaluate(model, test_set).accuracy
            save_checkpoint(model, args.out, metadata=metadata, dtype=dtype)
            atomic_write_text(args.out.with_suffix(".json"), json.dumps(record, indent=2, sort_keys=True) + "\n")
            if partial is not None and partial.exists():
                partial.unlink()
            print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)", flush=True)
    return record


def main(argv: list[str] | None = None) -> None:
    """Parse, check (a bad argument exits with status 2 and one line), train; Ctrl-C exits with 130."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_args(args)
    except (ValueError, TypeError) as err:
        parser.error(str(err))
    try:
        train_digits(args)
    except KeyboardInterrupt:
        sys.exit(130)
