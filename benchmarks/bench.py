"""Benchmark: swin_tutor against the Hugging Face reference, side by side in one process.

    python benchmarks/bench.py                 # Swin-T and SwinV2-T, batch 1 and 8, table + JSON
    python benchmarks/bench.py --notebooks     # also time the whole notebook series (what make bench runs)

For each model and batch size both implementations get the same weights (make_hf_reference) and the
same input; after a warm-up their forward passes are interleaved (ours, theirs, ours, ...) so that
machine noise hits both alike, and the medians and their ratio are reported. The machine's matmul
throughput is measured in the same run, before every model and batch size (the median is the
ceiling), and each model's achieved GFLOP/s is given as a share of it (multiply-adds from torch's
flop counter, times 2). Peak memory is measured in a fresh process per model and implementation.

The notebook series is timed twice, each notebook in a fresh kernel: one after the other (a student
running them in turn), and two at a time with one torch thread each (how ``make test`` runs them on
two cores). Kernel start-up counts; the kernel's shutdown (Python tearing down torch and
transformers, 1-2 s) is reported separately. Timings are not asserted anywhere: machines are noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

SCRIPT = str(Path(__file__).resolve())  # the child processes run this file again with a hidden flag
MODELS = {
    "Swin-T": ("swin_t", dict(img_size=224, window_size=7)),
    "SwinV2-T": ("swinv2_t", dict(img_size=256, window_size=8)),
}


def _build(name: str, num_classes: int = 1000):
    import swin_tutor
    from swin_tutor.lesson.reference import make_hf_reference

    ctor, kwargs = MODELS[name]
    model = getattr(swin_tutor, ctor)(num_classes=num_classes, **kwargs)
    reference, model = make_hf_reference(model)
    return model, reference, kwargs["img_size"]


def matmul_gflops(n: int = 1024, repeats: int = 10) -> float:
    """Float32 matmul throughput of this machine (GFLOP/s, 2 FLOPs per multiply-add), median of runs."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def time_pair(ours, theirs, x: torch.Tensor, warmup: int = 2, repeats: int = 7) -> tuple[list[float], list[float]]:
    """Interleaved forward timings (seconds) of two callables on the same input."""
    with torch.inference_mode():
        for _ in range(warmup):
            ours(x)
            theirs(x)
        t_ours, t_theirs = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            ours(x)
            t_ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            theirs(x)
            t_theirs.append(time.perf_counter() - start)
    return t_ours, t_theirs


def _peak_memory_child(name: str, impl: str, batch: int, mode: str = "infer") -> None:
    """Run in a fresh process that builds only one implementation: print its peak resident memory (MiB)
    of one forward (``mode="infer"``, inference mode) or one training step (``"train"``: forward,
    cross-entropy, backward, AdamW), after a warm-up call that allocates lazy buffers and AdamW's state."""
    import swin_tutor
    from swin_tutor.checkpoints.export import hf_config_for

    ctor, kwargs = MODELS[name]
    model = getattr(swin_tutor, ctor)(**kwargs).eval()
    img = kwargs["img_size"]
    if impl == "hf":
        from transformers import SwinForImageClassification, Swinv2ForImageClassification

        cls = Swinv2ForImageClassification if model.version == 2 else SwinForImageClassification
        config = hf_config_for(model)
        del model
        net = cls(config).eval()
        forward = lambda x: net(pixel_values=x).logits  # noqa: E731
    else:
        net = model
        forward = net
    x = torch.rand(batch, 3, img, img)
    if mode == "train":
        net.train()
        y = torch.randint(0, 1000, (batch,))
        optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)

        def run_once(x: torch.Tensor) -> None:
            loss = torch.nn.functional.cross_entropy(forward(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        context = contextlib.nullcontext()
    else:
        run_once, context = forward, torch.inference_mode()
    with context:
        run_once(x)  # warm-up: lazily allocated buffers and caches (and AdamW's state)
        built = _status_mib("VmRSS")
        _reset_peak_rss()
        run_once(x)
    peak = _status_mib("VmHWM")
    print(json.dumps({"peak_mib": peak, "forward_mib": max(peak - built, 0.0)}))


def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS: now, VmHWM: peak), in MiB.

    Not ``ru_maxrss``: after fork + exec it still holds the parent's peak.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak_rss() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so the next peak is the forward pass's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_memory(name: str, impl: str, batch: int, mode: str = "infer") -> dict:
    """Peak resident memory (MiB) of a fresh process that builds one model and runs it, and the part
    of it added by one forward pass (or, ``mode="train"``, one training step) after a warm-up
    (``forward_mib``)."""
    if mode not in ("infer", "train"):
        raise ValueError(f"mode must be 'infer' or 'train', got {mode!r}")
    out = subprocess.run(
        [sys.executable, SCRIPT, "--_peak", name, impl, str(batch), mode],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(batches=(1, 8), repeats: int = 7, memory: bool = True) -> dict:
    from swin_tutor.core.flops import count_macs

    torch.manual_seed(0)
    ceilings = [matmul_gflops()]
    rows = []
    for name in MODELS:
        model, reference, img = _build(name)
        hf = lambda x, ref=reference: ref(pixel_values=x).logits  # noqa: E731
        for batch in batches:
            ceilings.append(matmul_gflops())  # sampled throughout the run, next to the models
            x = torch.rand(batch, 3, img, img)
            with torch.inference_mode():
                same = torch.allclose(model(x), hf(x), atol=1e-4)
            t_ours, t_hf = time_pair(model, hf, x, repeats=repeats)
            macs = count_macs(model, batch=batch)
            med_ours, med_hf = statistics.median(t_ours), statistics.median(t_hf)
            row = {
                "model": name,
                "batch": batch,
                "same_logits": same,
                "swin_tutor_s": med_ours,
                "hf_s": med_hf,
                "ratio": med_ours / med_hf,
                "gmacs": macs / 1e9,
                "swin_tutor_gflops": 2 * macs / med_ours / 1e9,
                "hf_gflops": 2 * macs / med_hf / 1e9,
            }
            if memory:
                for impl, key in (("swin_tutor", "swin_tutor"), ("hf", "hf")):
                    mem = peak_memory(name, impl, batch)
                    row[f"{key}_peak_mib"] = mem["peak_mib"]
                    row[f"{key}_forward_mib"] = mem["forward_mib"]
            rows.append(row)
            print(f"{name} batch {batch}: ratio {row['ratio']:.2f}x", file=sys.stderr, flush=True)
        del model, reference
    ceiling = statistics.median(ceilings)
    for row in rows:
        row["swin_tutor_share"] = row["swin_tutor_gflops"] / ceiling
        row["hf_share"] = row["hf_gflops"] / ceiling
    return {
        "machine": {
            "platform": platform.platform(),
            "cpu": cpu_name(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "torch_build": torch_build(),
        },
        "matmul_gflops": ceiling,
        "matmul_gflops_samples": ceilings,
        "rows": rows,
    }


def _time_notebook_child(path: str) -> None:
    """Run in a fresh process: execute one notebook in a fresh kernel, print its timings as JSON."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(Path(path).parent)}}
    )
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        ran = time.perf_counter()
    done = time.perf_counter()
    print(json.dumps({"run_s": ran - start, "shutdown_s": done - ran}))


def time_notebooks(folder: Path, parallel: int = 1, threads: int | None = None) -> dict:
    """Execute every notebook in a fresh kernel, ``parallel`` at a time, on a temporary copy (the repo
    is untouched). Returns each notebook's run time (kernel start to last output) and shutdown
    time, their sums, and the wall-clock time of the whole series."""
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    root = folder.resolve().parent
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)  # setup_notebook gives torch this many threads
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(root / "images", Path(tmp) / "images")
        work = Path(tmp) / "notebooks"
        shutil.copytree(folder, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        paths = sorted(work.glob("[0-9][0-9]_*.ipynb"))

        def one(path: Path) -> dict:
            out = subprocess.run(
                [sys.executable, SCRIPT, "--_notebook", str(path)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )
            return json.loads(out.stdout.strip().splitlines()[-1])

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            results = list(pool.map(one, paths))
        wall = time.perf_counter() - start
    times = {path.name: r for path, r in zip(paths, results, strict=True)}
    return {
        "parallel": parallel,
        "notebooks_s": {name: r["run_s"] for name, r in times.items()},
        "shutdown_s": {name: r["shutdown_s"] for name, r in times.items()},
        "total_s": sum(r["run_s"] for r in results),
        "total_with_shutdown_s": sum(r["run_s"] + r["shutdown_s"] for r in results),
        "wall_s": wall,
    }


def cpu_name() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux; what platform knows elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("model name", "Model", "Hardware")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def torch_build() -> str:
    """PyTorch's version and the CPU libraries it was built with (BLAS, oneDNN, the vector ISA in use)."""
    config = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=(\w+)", config)
    onednn = re.search(r"MKL-DNN (v[\d.]+)", config)
    isa = re.search(r"CPU capability usage: (\w+)", config)
    parts = [f"BLAS {blas.group(1)}" if blas else None, f"oneDNN {onednn.group(1)}" if onednn else None,
             f"CPU capability {isa.group(1)}" if isa else None]  # fmt: skip
    return f"torch {torch.__version__} ({', '.join(p for p in parts if p)})"


def machine_line() -> str:
    """One line naming what a table was measured on: CPU, thread count, PyTorch build."""
    return f"{cpu_name()}, {torch.get_num_threads()} thread(s), {torch_build()}"


def format_table(result: dict) -> str:
    machine = result["machine"]
    lines = [
        f"measured on: {machine.get('cpu', 'unknown CPU')}, {machine.get('torch_build') or machine.get('torch', '?')}",
        f"matmul ceiling: {result['matmul_gflops']:.1f} GFLOP/s on {machine['threads']} thread(s)",
        "",
        "| model | batch | swin_tutor (s) | HF (s) | ratio | swin_tutor GFLOP/s (% ceiling) "
        "| HF GFLOP/s (% ceiling) | peak MiB swin_tutor / HF (of it, forward) | same logits |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        mem = "-"
        if "hf_peak_mib" in r:
            mem = (
                f"{r['swin_tutor_peak_mib']:.0f} / {r['hf_peak_mib']:.0f} "
                f"(forward {r['swin_tutor_forward_mib']:.0f} / {r['hf_forward_mib']:.0f})"
            )
        lines.append(
            f"| {r['model']} | {r['batch']} | {r['swin_tutor_s']:.3f} | {r['hf_s']:.3f} | {r['ratio']:.2f}x | "
            f"{r['swin_tutor_gflops']:.1f} ({100 * r['swin_tutor_share']:.0f}%) | "
            f"{r['hf_gflops']:.1f} ({100 * r['hf_share']:.0f}%) | "
            f"{mem} | {r['same_logits']} |"
        )
    if "notebooks" in result:
        nb = result["notebooks"]
        lines += [
            "",
            f"notebook series, one after the other: {nb['total_s']:.1f} s in total "
            f"({nb['total_with_shutdown_s']:.1f} s with kernel shutdowns)",
        ]
        lines += [f"  {name}: {t:.1f} s" for name, t in nb["notebooks_s"].items()]
        if "notebooks_parallel" in result:
            par = result["notebooks_parallel"]
            lines.append(
                f"notebook series, {par['parallel']} at a time (as make test runs them): "
                f"{par['wall_s']:.1f} s wall clock"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-memory", action="store_true", help="skip the per-process peak-memory runs")
    parser.add_argument("--notebooks", action="store_true", help="also time the notebook series")
    parser.add_argument("--json", default="build/bench.json", help="where to write the JSON results")
    parser.add_argument("--_peak", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--_notebook", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._peak:
        name, impl, batch, mode = args._peak
        _peak_memory_child(name, impl, int(batch), mode)
        return
    if args._notebook:
        _time_notebook_child(args._notebook)
        return
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    result = run(tuple(args.batches), args.repeats, memory=not args.no_memory)
    if args.notebooks:
        folder = Path(__file__).resolve().parents[1] / "notebooks"
        result["notebooks"] = time_notebooks(folder)
        result["notebooks_parallel"] = time_notebooks(folder, parallel=2, threads=1)
    print(format_table(result))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
