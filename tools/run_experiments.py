"""Train the mechanism experiments of notebook 10 from fixed seeds; write small JSON results.

Usage: OMP_NUM_THREADS=2 TQDM_DISABLE=1 .venv/bin/python tools/run_experiments.py [NAME ...]
NAME is any of: shift, shift_anywhere, position, transfer, norm, errata, digits_no_shift (default: all).
Each experiment writes swin_tutor/lab/results/nb10_<NAME>.json (curves, accuracies, seconds, threads);
notebook 10 loads them read-only. Every model but the last is a TokenStack (swin_tutor.lab.mechanisms) trained by
swin_tutor.train.loop.fit with the settings below; data from swin_tutor.lab.tasks (train seed 0, test seed 1).
digits_no_shift trains the digits model of notebook 09 with every block unshifted, with the recipe of its
shipped weights (tools/make_weights.py: TrainConfig defaults, 15 epochs, seed 0).
"""

from __future__ import annotations

import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from swin_tutor.lab.experiments import activation_rms_per_block, train_stack, window_transfer  # noqa: E402
from swin_tutor.lab.mechanisms import build_stack, unshifted, with_window  # noqa: E402
from swin_tutor.lab.tasks import relative_position_task, two_window_colour_task  # noqa: E402
from swin_tutor.train.loop import TrainConfig  # noqa: E402

OUT = ROOT / "swin_tutor" / "lab" / "results"
N_TRAIN, N_TEST = 2048, 1000
BASE = TrainConfig(
    epochs=12, batch_size=64, lr=3e-3, weight_decay=0.05, warmup_epochs=1.0, label_smoothing=0.0,
    clip_grad=5.0, seed=0, augment=False, device="cpu",
)  # fmt: skip


def _colour(**kw):
    return two_window_colour_task(N_TRAIN, 0, **kw), two_window_colour_task(N_TEST, 1, **kw)


def _relpos(**kw):
    return relative_position_task(N_TRAIN, 0, **kw), relative_position_task(N_TEST, 1, **kw)


def _run(variants: dict, data, config=BASE) -> dict:
    train, test = data
    out = {}
    for name, kw in variants.items():
        out[name] = train_stack(build_stack(seed=0, **kw), train, test, config)
        print(f"  {name}: test {out[name]['test_acc']:.3f} in {out[name]['seconds']:.0f} s", flush=True)
    return out


def shift() -> dict:
    """Dots within 2 pixels of the border their two windows share."""
    variants = {"no shift": {"shift": "none"}, "shifted windows": {}, "global attention": {"window": 8}}
    return {"task": "same colour, near_border=2", "runs": _run(variants, _colour(near_border=2))}


def shift_anywhere() -> dict:
    """Dots anywhere in their two windows (needs two hops through the shifted windows)."""
    variants = {"shifted windows": {}, "global attention": {"window": 8}}
    return {"task": "same colour, dots anywhere", "runs": _run(variants, _colour())}


def position() -> dict:
    variants = {
        "no position bias": {"position": "none"},
        "per-head table": {},
        "one shared table": {"position": "shared"},
    }
    return {"task": "red left of blue, same window", "runs": _run(variants, _relpos())}


def transfer() -> dict:
    """Train at window 4 on 8x8 maps (dots in one 4x4 block: offsets up to 3); test at window 8 on 16x16 maps,
    with the dots in one 4x4 block (offsets seen in training) and in one 8x8 block (offsets up to 7, never seen);
    then one epoch of fine-tuning at window 8 on 16x16 maps with 8x8 blocks."""
    train, test = _relpos()
    big_seen = relative_position_task(N_TEST, 1, size=16, window=8, block=4)
    big_new = relative_position_task(N_TEST, 1, size=16, window=8, block=8)
    big_train = relative_position_task(N_TRAIN, 0, size=16, window=8, block=8)
    tune = replace(BASE, epochs=1, lr=5e-4, warmup_epochs=0.0)
    runs = {}
    for name, kw in {"v1 bicubic table": {}, "v2 CPB linear": {"version": 2, "cpb_coords": "linear"},
                     "v2 CPB log": {"version": 2}}.items():  # fmt: skip
        model = build_stack(seed=0, **kw)
        run = train_stack(model, train, test, BASE)
        run["window 8, 16x16, seen offsets"] = window_transfer(model, big_seen, (8,), size=16)[8]
        run["window 8, 16x16, new offsets"] = window_transfer(model, big_new, (8,), size=16)[8]
        tuned = train_stack(with_window(model, 8, size=16), big_train, big_new, tune)
        run["window 8, 16x16, new offsets, fine-tuned 1 epoch"] = tuned["test_acc"]
        print(f"  {name}: {run['test_acc']:.3f} -> seen {run['window 8, 16x16, seen offsets']:.3f}, "
              f"new {run['window 8, 16x16, new offsets']:.3f}, tuned {tuned['test_acc']:.3f}", flush=True)  # fmt: skip
        runs[name] = run
    return {
        "task": "red left of blue; train 8x8 maps, window 4, 4x4 blocks; test 16x16 maps, window 8, 4x4 or 8x8 blocks",
        "runs": runs,
    }


def norm() -> dict:
    """A deep narrow stack (12 blocks) without gradient clipping: the 2x2 design (pre-norm / res-post-norm x
    dot product / scaled cosine) at a base rate and at a 4x higher rate."""
    train, test = _relpos()
    probe = test.tensors[0][:256]
    variants = {
        "pre-norm, dot": {},
        "pre-norm, cosine": {"version": 2, "norm_placement": "pre"},
        "res-post-norm, dot": {"norm_placement": "res_post"},
        "res-post-norm, cosine": {"version": 2},
    }
    runs = {}
    for lr in (3e-3, 1.2e-2):
        config = replace(BASE, lr=lr, clip_grad=0.0, epochs=8)
        for name, kw in variants.items():
            model = build_stack(seed=0, depth=12, **kw)
            run = train_stack(model, train, test, config)
            run["activation_rms"] = activation_rms_per_block(model, probe)
            runs[f"{name}, lr {lr:g}"] = run
            print(f"  {name} lr {lr:g}: {run['test_acc']:.3f}, rms last/first "
                  f"{run['activation_rms'][-1] / run['activation_rms'][0]:.1f}", flush=True)  # fmt: skip
    return {"task": "red left of blue, depth 12, no clipping", "runs": runs}


def errata() -> dict:
    """tau = 0.01 (one fixed temperature) vs the learned per-head scale; shifting a map that equals the window."""
    runs = _run({"v2 learned scale": {"version": 2}, "v2 tau = 0.01": {"version": 2, "tau": 0.01}}, _relpos())
    small = _relpos(size=4)
    runs.update(
        _run({"4x4 map, clamp rule": {"size": 4}, "4x4 map, shifted anyway": {"size": 4, "forced_shift": True}}, small)
    )
    return {"task": "red left of blue (8x8, and 4x4 with window 4)", "runs": runs}


def digits_no_shift() -> dict:
    """The digits model of notebook 09 with every block unshifted, trained with its shipped weights' recipe."""
    from swin_tutor.train.data import digits_datasets
    from swin_tutor.train.digits_model import tiny_swin
    from swin_tutor.train.loop import TrainConfig as Recipe

    train, test = digits_datasets(size=32, seed=0)
    torch.manual_seed(0)
    config = Recipe(epochs=15, seed=0, device="cpu")  # tools/make_weights.py: the defaults, 15 epochs
    run = train_stack(unshifted(tiny_swin(1)), train, test, config)
    print(f"  v1 without shift: test {run['test_acc']:.4f} in {run['seconds']:.0f} s", flush=True)
    return {"task": "scikit-learn digits, 32x32, tiny_swin(1) unshifted", "runs": {"v1 without shift": run},
            "recipe": config.to_dict()}  # fmt: skip


EXPERIMENTS = {f.__name__: f for f in (shift, shift_anywhere, position, transfer, norm, errata, digits_no_shift)}

if __name__ == "__main__":
    names = sys.argv[1:] or list(EXPERIMENTS)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        print(f"{name}:", flush=True)
        start = time.perf_counter()
        result = EXPERIMENTS[name]()
        result.update(
            config=BASE.to_dict(), n_train=N_TRAIN, n_test=N_TEST, threads=torch.get_num_threads(),
            torch=torch.__version__, machine=platform.machine(), seconds=time.perf_counter() - start,
            note="seconds measured on a shared 2-core machine with other jobs running",
        )  # fmt: skip
        (OUT / f"nb10_{name}.json").write_text(json.dumps(result, indent=1) + "\n")
