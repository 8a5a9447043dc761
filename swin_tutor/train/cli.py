"""``python -m swin_tutor.train``: train the digits Swin from the command line, one line per epoch.

    python -m swin_tutor.train --version 1 --epochs 10 --out build/digits_v1.safetensors
    torchrun --nproc_per_node=2 -m swin_tutor.train --version 1 --epochs 10 --out build/digits_v1.safetensors

Writes an official-format safetensors checkpoint (``--out``) and, next to it, a JSON record of the
settings, the test accuracy, the time and the torch version. Only rank 0 prints and writes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from dataclasses import fields
from pathlib import Path

import torch

from swin_tutor.checkpoints.export import save_checkpoint
from swin_tutor.train.data import digits_datasets
from swin_tutor.train.digits_model import tiny_swin
from swin_tutor.train.distributed import is_main_process
from swin_tutor.train.loop import TrainConfig, evaluate, fit

__all__ = ["build_parser", "format_epoch", "main", "train_digits"]


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
    )
    defaults = TrainConfig()
    parser.add_argument("--version", type=int, choices=(1, 2), default=1, help="Swin v1 or v2 (default 1)")
    for f in fields(TrainConfig):
        if f.name in ("augment", "device"):
            continue
        kind = type(getattr(defaults, f.name))
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=getattr(defaults, f.name))
    parser.add_argument("--no-augment", action="store_true", help="no random translation")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA when present)")
    parser.add_argument("--size", type=int, default=32, help="image size the 8x8 digits are upsampled to")
    parser.add_argument("--subset", type=int, default=0, help="train on the first N training images only")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--half", action="store_true", help="store the weights as float16 (half the file)")
    parser.add_argument("--out", type=Path, default=None, help="checkpoint path (.safetensors); JSON beside it")
    return parser


def train_digits(args: argparse.Namespace) -> dict:
    """Train as ``args`` say; returns the record that is also written next to the checkpoint."""
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    names = {f.name for f in fields(TrainConfig)} - {"augment", "device"}
    config = TrainConfig(**{n: getattr(args, n) for n in names}, augment=not args.no_augment, device=args.device)
    train_set, test_set = digits_datasets(size=args.size, seed=0)
    if args.subset > 0:
        train_set = torch.utils.data.Subset(train_set, range(min(args.subset, len(train_set))))
    model = tiny_swin(args.version, img_size=args.size)

    def report(epoch: int, history) -> None:
        print(format_epoch(epoch, config.epochs, history), flush=True)

    history = fit(model, train_set, test_set, config, progress=False, on_epoch=report)
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
            save_checkpoint(model, args.out, metadata={"training": record["config"]}, dtype=dtype)
            args.out.with_suffix(".json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
            print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)", flush=True)
    return record


def main(argv: list[str] | None = None) -> None:
    train_digits(build_parser().parse_args(argv))
