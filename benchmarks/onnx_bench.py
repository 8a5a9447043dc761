"""Benchmark: ONNX Runtime (CPU, Python) beside swin_tutor eager and Hugging Face, on Swin-T and the digits models.

    python benchmarks/onnx_bench.py                  # Swin-T, SwinV2-T, digits v1/v2; batch 1 and 8; 1 thread
    python benchmarks/onnx_bench.py --threads 4 --models Swin-T --batches 1

Each model is exported with swin_tutor.checkpoints.onnx (logits only) and loaded in an
``onnxruntime.InferenceSession`` (CPU provider, all graph optimisations, ``intra_op_num_threads``
equal to torch's thread count). Swin-T and SwinV2-T get Hugging Face's implementation with the same
weights (benchmarks/bench.py's ``_build``); the digits models have no Hugging Face twin here. After a
warm-up the implementations run interleaved (swin_tutor, Hugging Face, ORT, swin_tutor, ...) so that
machine noise hits them alike; medians (ms) and ratios are printed with the machine line of bench.py,
and written to build/onnx_bench.json. Timings are not asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import _build, machine_line  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["Swin-T", "SwinV2-T", "digits v1", "digits v2"]


def _models(name: str):
    """(swin_tutor model, Hugging Face model or None, image size, channels)."""
    if name.startswith("digits"):
        from swin_tutor.train.digits_model import load_digits_model

        return load_digits_model(int(name[-1])), None, 32, 1
    model, reference, size = _build(name)
    return model.eval(), reference.eval(), size, 3


def _session(model, threads: int):
    import onnxruntime as ort

    from swin_tutor.checkpoints.onnx import export_onnx

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export_onnx(model, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def time_all(runners: dict, x: torch.Tensor, warmup: int, repeats: int) -> dict[str, float]:
    """Interleaved timings of every runner on the same input: median milliseconds each."""
    times: dict[str, list[float]] = {k: [] for k in runners}
    with torch.inference_mode():
        for _ in range(warmup):
            for run in runners.values():
                run(x)
        for _ in range(repeats):
            for key, run in runners.items():
                start = time.perf_counter()
                run(x)
                times[key].append(time.perf_counter() - start)
    return {k: 1000 * statistics.median(v) for k, v in times.items()}


def run(names=NAMES, batches=(1, 8), threads: int = 1, repeats: int = 7) -> dict:
    import onnxruntime as ort

    torch.set_num_threads(threads)
    result = {"machine": machine_line(), "onnxruntime": ort.__version__, "threads": threads, "rows": []}
    for name in names:
        model, reference, size, chans = _models(name)
        session = _session(model, threads)
        runners = {"swin_tutor": model, "ort": lambda x, s=session: s.run(None, {"x": x.numpy()})}
        if reference is not None:
            runners["hf"] = lambda x, r=reference: r(pixel_values=x)
        for batch in batches:
            torch.manual_seed(0)
            x = torch.randn(batch, chans, size, size)
            ms = time_all(runners, x, warmup=2, repeats=repeats if size > 32 else 10 * repeats)
            row = {"model": name, "batch": batch, **{f"{k}_ms": round(v, 3) for k, v in ms.items()}}
            row["ort_speedup_vs_swin_tutor"] = round(ms["swin_tutor"] / ms["ort"], 2)
            if "hf" in ms:
                row["ort_speedup_vs_hf"] = round(ms["hf"] / ms["ort"], 2)
            result["rows"].append(row)
            print(_format_row(row), flush=True)
    return result


def _format_row(row: dict) -> str:
    hf = f"{row['hf_ms']:9.2f}" if "hf_ms" in row else f"{'-':>9}"
    vs_hf = f"{row['ort_speedup_vs_hf']:6.2f}x" if "ort_speedup_vs_hf" in row else f"{'-':>7}"
    return (
        f"{row['model']:<10} {row['batch']:>5} {row['swin_tutor_ms']:12.2f} {hf} {row['ort_ms']:9.2f}"
        f" {row['ort_speedup_vs_swin_tutor']:11.2f}x {vs_hf}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=NAMES, choices=NAMES, metavar="NAME")
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"measured on: {machine_line()}")
    header = f"{'model':<10} {'batch':>5} {'swin_tutor':>12} {'HF':>9} {'ORT':>9} {'ORT vs ours':>12} {'vs HF':>7}"
    print(header + "  (ms, medians)")
    result = run(args.models, args.batches, args.threads, args.repeats)
    out = ROOT / "build" / "onnx_bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"onnxruntime {result['onnxruntime']}; written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
