"""Re-create the shipped digits weights (``make weights``): swin_tutor/train/weights/digits_swin_v{1,2}.*

Usage: python tools/make_weights.py [--versions 1 2] [--epochs N] [--out-dir swin_tutor/train/weights]
Trains the tiny Swin of notebook 09 (swin_tutor.train.digits_model.tiny_swin) on scikit-learn's digits from fixed
seeds with the settings below, one torch thread (the same arithmetic on every run of one machine),
and writes float16 safetensors (official key names) plus a JSON record: settings, seed, test accuracy
of the float32 model and of the stored float16 weights, seconds, thread count, torch version.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from swin_tutor.train.cli import build_parser, train_digits  # noqa: E402

EPOCHS = 15  # both versions: the same recipe (TrainConfig defaults otherwise)


def retrain(record: dict, out: Path) -> float:
    """Train again with the settings of a JSON record; returns the float32 test accuracy."""
    config = record["config"]
    argv = ["--version", str(record["version"]), "--size", str(record["size"]), "--threads", "1", "--half"]
    for name, value in config.items():
        if name == "augment":
            argv += [] if value else ["--no-augment"]
        elif name == "device":
            argv += ["--device", "cpu"]
        else:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return train_digits(build_parser().parse_args([*argv, "--out", str(out)]))["test_accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--out-dir", type=Path, default=ROOT / "swin_tutor" / "train" / "weights")
    args = parser.parse_args()
    for version in args.versions:
        out = args.out_dir / f"digits_swin_v{version}.safetensors"
        argv = ["--version", str(version), "--epochs", str(args.epochs), "--seed", "0", "--threads", "1"]
        train_digits(build_parser().parse_args([*argv, "--device", "cpu", "--half", "--out", str(out)]))


if __name__ == "__main__":
    main()
