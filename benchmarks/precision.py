"""Precision, memory and speed: swin_tutor against Hugging Face at the same precision, side by side.

    python benchmarks/precision.py                       # Swin-T and SwinV2-T: inference, training, memory
    python benchmarks/precision.py --models Swin-T --batches 8 --repeats 3

For each model both implementations get the same weights (``bench._build``). Then, interleaved (ours,
theirs, ours, ...) and reported as medians and ratios:

- **inference** at each batch size in float32, bf16 under ``torch.autocast`` (float32 weights) and with
  bf16 weights (``model.to(torch.bfloat16)``, input cast too);
- **a training step** (forward, cross-entropy, backward, AdamW) at batch 8 in float32 and under bf16
  autocast, and ours with activation checkpointing (``use_checkpoint``);
- **memory**, counted not sampled: the peak of live tensor bytes of an inference forward and of a
  forward + backward (``swin_tutor.lab.memory``), ours, Hugging Face's and ours checkpointed (the same on
  every run: ``--no-memory`` skips them).

The machine line names the CPU, whether it has bf16 units (AVX512-BF16, AMX), the thread count and the
torch build: bf16 only pays where those units are. Nothing is asserted; machines are noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench.py beside this file

from bench import MODELS, _build, machine_line  # noqa: E402

from swin_tutor.lab.memory import checkpointing, peak_step_bytes  # noqa: E402
from swin_tutor.train.precision import BF16_FLAGS, bf16_flags, has_bf16_units  # noqa: E402

PRECISIONS = ("fp32", "bf16-autocast", "bf16-weights")


def precision_machine_line() -> str:
    """bench's machine line plus the bf16 units: ``... | bf16 units: avx512_bf16 (amx_bf16 absent)``."""
    present = bf16_flags()
    absent = [flag for flag in BF16_FLAGS if flag not in present]
    units = ", ".join(present) if present else "none"
    if absent:
        units += f" ({', '.join(absent)} absent)"
    return f"{machine_line()} | bf16 units: {units}; bf16 pays here: {has_bf16_units('cpu')}"


def _forward(net, hf: bool):
    return (lambda x: net(pixel_values=x).logits) if hf else net


def variants(model, reference, precision: str):
    """(ours, theirs, input cast) callables running in ``precision`` (a context is entered by the caller)."""
    if precision == "bf16-weights":
        ours, theirs = copy.deepcopy(model).to(torch.bfloat16), copy.deepcopy(reference).to(torch.bfloat16)
        return _forward(ours, False), _forward(theirs, True), torch.bfloat16
    return _forward(model, False), _forward(reference, True), torch.float32


def _context(precision: str):
    """bf16 autocast for ``"bf16-autocast"``; nothing otherwise (bf16 weights carry their dtype themselves)."""
    return torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16-autocast" else contextlib.nullcontext()


def interleaved(calls: list, warmup: int, repeats: int) -> list[float]:
    """Median seconds of each zero-argument callable, run round-robin (warm-up rounds first)."""
    for _ in range(warmup):
        for call in calls:
            call()
    times = [[] for _ in calls]
    for _ in range(repeats):
        for call, out in zip(calls, times, strict=True):
            start = time.perf_counter()
            call()
            out.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def inference_rows(name: str, model, reference, img: int, batches, repeats: int, memory: bool = True) -> list[dict]:
    rows = []
    for batch in batches:
        x = torch.rand(batch, 3, img, img)
        for precision in PRECISIONS:
            ours, theirs, dtype = variants(model, reference, precision)
            xs = x.to(dtype)
            with torch.inference_mode(), _context(precision):
                calls = [lambda f=f, xs=xs: f(xs) for f in (ours, theirs)]
                t_ours, t_hf = interleaved(calls, warmup=2, repeats=repeats)
                mem = [peak_step_bytes(call) if memory else float("nan") for call in calls]
            rows.append(dict(model=name, batch=batch, precision=precision, ours_s=t_ours, hf_s=t_hf,
                             ratio=t_ours / t_hf, ours_mib=mem[0] / 2**20, hf_mib=mem[1] / 2**20))  # fmt: skip
            print(f"{name} batch {batch} {precision}: {t_ours:.3f} vs {t_hf:.3f} s = {t_ours / t_hf:.2f}x", flush=True)
    return rows


def _step(net, hf: bool, x, y, precision: str):
    forward = _forward(net, hf)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)

    def step() -> None:
        with _context(precision):
            logits = forward(x)
        loss = torch.nn.functional.cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def training_rows(name: str, model, reference, img: int, batch: int, repeats: int, memory: bool = True) -> list[dict]:
    x, y = torch.rand(batch, 3, img, img), torch.randint(0, 1000, (batch,))
    model.train()
    reference.train()
    rows = []
    for precision in ("fp32", "bf16-autocast"):
        ours, theirs = _step(model, False, x, y, precision), _step(reference, True, x, y, precision)

        def ours_checkpointed(ours=ours) -> None:
            with checkpointing(model):
                ours()

        t_ours, t_hf, t_ck = interleaved([ours, theirs, ours_checkpointed], warmup=1, repeats=repeats)
        torch.manual_seed(0)
        mem = [peak_step_bytes(s) / 2**20 if memory else float("nan") for s in (ours, theirs, ours_checkpointed)]
        rows.append(dict(model=name, batch=batch, precision=precision, ours_s=t_ours, hf_s=t_hf, ratio=t_ours / t_hf,
                         checkpointed_s=t_ck, ours_mib=mem[0], hf_mib=mem[1], checkpointed_mib=mem[2]))  # fmt: skip
        print(
            f"{name} train batch {batch} {precision}: {t_ours:.3f} vs {t_hf:.3f} s = {t_ours / t_hf:.2f}x; "
            f"checkpointed {t_ck / t_ours:.2f}x the time, {mem[2] / mem[0]:.2f}x the memory",
            flush=True,
        )
    model.eval()
    reference.eval()
    return rows


def format_table(result: dict) -> str:
    lines = [f"measured on: {result['machine']}", "", "| model | batch | precision | swin_tutor (s) | HF (s) | ratio "
             "| peak tensor MiB swin_tutor / HF |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in result["inference"]:
        lines.append(f"| {r['model']} | {r['batch']} | {r['precision']} | {r['ours_s']:.3f} | {r['hf_s']:.3f} | "
                     f"{r['ratio']:.2f}x | {r['ours_mib']:.0f} / {r['hf_mib']:.0f} |")  # fmt: skip
    lines += ["", "| training step | batch | precision | swin_tutor (s) | HF (s) | ratio | peak MiB swin_tutor / HF "
              "| checkpointed: time, peak MiB |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in result["training"]:
        lines.append(
            f"| {r['model']} | {r['batch']} | {r['precision']} | {r['ours_s']:.3f} | {r['hf_s']:.3f} | "
            f"{r['ratio']:.2f}x | {r['ours_mib']:.0f} / {r['hf_mib']:.0f} | {r['checkpointed_s'] / r['ours_s']:.2f}x, "
            f"{r['checkpointed_mib']:.0f} ({100 * (1 - r['checkpointed_mib'] / r['ours_mib']):.0f}% less) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--train-batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-memory", dest="memory", action="store_false", help="skip the (slow) byte counts")
    parser.add_argument("--no-training", dest="training", action="store_false", help="inference only")
    parser.add_argument("--json", default="build/precision.json", help="where to write the JSON results")
    args = parser.parse_args(argv)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    torch.manual_seed(0)
    result = {"machine": precision_machine_line(), "inference": [], "training": []}
    print(f"measured on: {result['machine']}", flush=True)
    for name in args.models:
        model, reference, img = _build(name)
        result["inference"] += inference_rows(name, model, reference, img, args.batches, args.repeats, args.memory)
        if args.training:
            result["training"] += training_rows(
                name, model, reference, img, args.train_batch, args.repeats, args.memory
            )
        del model, reference
    print(format_table(result))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
