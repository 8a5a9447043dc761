"""Re-create the shipped weights (``make weights``): swin_tutor/train/weights/digits_swin_v{1,2}.* and scene_segmenter.*

Usage: python tools/make_weights.py [--versions 1 2] [--epochs N] [--out-dir DIR] [--only digits|scenes]
Trains the tiny Swin of notebook 09 (swin_tutor.train.digits_model.tiny_swin) on scikit-learn's digits from fixed
seeds with the settings below, one torch thread (the same arithmetic on every run of one machine),
and writes float16 safetensors (official key names) plus a JSON record: settings, seed, test accuracy
of the float32 model and of the stored float16 weights, seconds, thread count, torch version.

The scene segmenter of notebook 12 (swin_tutor.train.segment.train_scene_segmenter): the same loop on
digit scenes, float16 safetensors plus a JSON record with its scores (float32 and stored float16) and two
comparison runs of the same recipe, kept as records only: the decoder on stage 4 alone, and no shifted windows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import json  # noqa: E402

import torch  # noqa: E402

from swin_tutor.train.cli import build_parser, train_digits  # noqa: E402
from swin_tutor.train.scenes import make_scenes  # noqa: E402
from swin_tutor.train.segment import scene_scores, train_scene_segmenter  # noqa: E402

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


def make_scene_weights(out_dir: Path, comparisons: bool = True) -> dict:
    """Train the shipped scene segmenter (and the comparison runs); write safetensors + JSON; return the record."""
    from safetensors.torch import save_file

    torch.set_num_threads(1)
    model, record = train_scene_segmenter(seed=0)
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    out = out_dir / "scene_segmenter.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(out))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    record["dtype"] = "float16"
    record["scores_stored"] = scene_scores(model, make_scenes(record["num_test"], split="test", seed=1))
    out.with_suffix(".json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    if comparisons:
        record["comparisons"] = {
            "stage4_only": train_scene_segmenter(seed=0, out_indices=(3,))[1],
            "no_shift": train_scene_segmenter(seed=0, shifts=False)[1],
        }
    out.with_suffix(".json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--out-dir", type=Path, default=ROOT / "swin_tutor" / "train" / "weights")
    parser.add_argument("--only", choices=["digits", "scenes"], default=None, help="one kind of weights only")
    args = parser.parse_args()
    if args.only != "digits":
        make_scene_weights(args.out_dir)
    if args.only == "scenes":
        return
    for version in args.versions:
        out = args.out_dir / f"digits_swin_v{version}.safetensors"
        argv = ["--version", str(version), "--epochs", str(args.epochs), "--seed", "0", "--threads", "1"]
        train_digits(build_parser().parse_args([*argv, "--device", "cpu", "--half", "--overwrite", "--out", str(out)]))


if __name__ == "__main__":
    main()
