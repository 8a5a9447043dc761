"""Where a Swin forward spends its time: the GEMM floor, the rest by op type, and training steps.

    python benchmarks/floor.py                  # Swin-T and SwinV2-T, batch 8: floor, breakdown, train step
    python benchmarks/floor.py --batches 1 8 --repeats 5

**GEMM floor.** Every matrix product a forward performs (each Linear, the two attention products,
the patch-embedding convolution's product is counted as a convolution and left out) is recorded with
its real shapes and strides by a dispatch mode, then replayed alone, back to back, on fresh tensors of
the same layout: the time the model would take if everything between the products were free. A
forward's time is reported as a multiple of that floor (1.0x would be perfect).

**The rest, by op type.** torch.profiler's self CPU time per aten op, grouped: matrix products,
norms, softmax, GELU, copies and gathers, element-wise, other.

**Training step.** forward + backward + AdamW step at the same weights, swin_tutor and Hugging Face
interleaved, medians; the peak memory of one step of each, in a fresh process; and the tiny digits
model's training images per second under ``swin_tutor.train``.
Nothing here is asserted: these are measurements, printed as ratios from one run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten
# the dispatch mode sees composite ops before they decompose: linear and matmul, and the GEMMs themselves
GEMMS = {
    aten.linear.default,
    aten.matmul.default,
    aten.mm.default,
    aten.addmm.default,
    aten.bmm.default,
    aten.baddbmm.default,
}
GROUPS = {  # profiler op name fragments -> group (first match wins)
    "matrix products": ("mm", "matmul", "linear", "bmm", "addmm", "baddbmm"),
    "norms": ("layer_norm", "native_layer_norm", "normalize", "norm"),
    "softmax": ("softmax",),
    "GELU": ("gelu",),
    "copies and gathers": ("copy_", "clone", "contiguous", "index", "gather", "cat", "roll", "pad", "constant_pad"),
    "element-wise": ("add", "mul", "div", "sub", "exp", "clamp", "sigmoid", "where", "masked_fill"),
}


class _RecordGemms(TorchDispatchMode):
    """Records (op, [(shape, stride, dtype) of each tensor argument], other args) of every GEMM."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func in GEMMS:
            spec = [(tuple(a.shape), a.stride(), a.dtype) if isinstance(a, torch.Tensor) else a for a in args]
            self.calls.append((func, spec, dict(kwargs or {})))
        return func(*args, **(kwargs or {}))


def record_gemms(model: torch.nn.Module, x: torch.Tensor) -> list[tuple]:
    """Every matrix product of ``model(x)`` (inference mode), in order, with shapes and strides."""
    recorder = _RecordGemms()
    with torch.inference_mode(), recorder:
        model(x)
    return recorder.calls


def _materialise(spec: list) -> list:
    return [torch.randn(s[0]).as_strided(s[0], s[1]) if isinstance(s, tuple) and len(s) == 3 else s for s in spec]


def gemm_floor(calls: list[tuple], repeats: int = 5) -> float:
    """Median seconds to run the recorded products alone, back to back (inputs made once, beforehand)."""
    replay = [(func, _materialise(spec), kwargs) for func, spec, kwargs in calls]
    times = []
    with torch.inference_mode():
        for func, args, kwargs in replay:  # warm-up
            func(*args, **kwargs)
        for _ in range(repeats):
            start = time.perf_counter()
            for func, args, kwargs in replay:
                func(*args, **kwargs)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def op_breakdown(model, x: torch.Tensor) -> dict[str, float]:
    """Share of the forward's self CPU time per op group (sums to 1)."""
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode():
        model(x)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            model(x)
    totals = dict.fromkeys([*GROUPS, "other"], 0.0)
    for event in prof.key_averages():
        name = event.key.removeprefix("aten::")
        if not event.key.startswith("aten::"):
            continue
        group = next((g for g, keys in GROUPS.items() if any(k == name or name.startswith(k) for k in keys)), "other")
        totals[group] += event.self_cpu_time_total
    whole = sum(totals.values()) or 1.0
    return {group: value / whole for group, value in totals.items()}


def train_step_pair(ours, theirs, x: torch.Tensor, y: torch.Tensor, repeats: int = 5) -> tuple[float, float]:
    """Median seconds of one training step (forward, cross-entropy, backward, AdamW) of each, interleaved."""
    steps = []
    for net, call in ((ours, lambda m, v: m(v)), (theirs, lambda m, v: m(pixel_values=v).logits)):
        net.train()
        optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)

        def step(net=net, call=call, optimizer=optimizer) -> None:
            loss = torch.nn.functional.cross_entropy(call(net, x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        steps.append(step)
    for step in steps:  # warm-up (AdamW state allocated)
        step()
    t_ours, t_theirs = [], []
    for _ in range(repeats):
        for step, out in zip(steps, (t_ours, t_theirs), strict=True):
            start = time.perf_counter()
            step()
            out.append(time.perf_counter() - start)
    return statistics.median(t_ours), statistics.median(t_theirs)


def tiny_images_per_second(epochs: int = 1) -> float:
    """Training throughput of the digits model of notebook 09 (``swin_tutor.train.loop.fit``, no test set)."""
    from swin_tutor.train.data import digits_datasets
    from swin_tutor.train.digits_model import tiny_swin
    from swin_tutor.train.loop import TrainConfig, fit

    train_set, _ = digits_datasets()
    history = fit(tiny_swin(1), train_set, None, TrainConfig(epochs=epochs, device="cpu"), progress=False)
    return epochs * len(train_set) / history.seconds


def main(argv: list[str] | None = None) -> None:
    from bench import MODELS, _build, machine_line, peak_memory, time_pair

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[8])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-memory", dest="memory", action="store_false", help="skip training peak memory")
    parser.add_argument("--compile", action="store_true", help="also time swin_tutor.compile_model (opt-in)")
    args = parser.parse_args(argv)
    print(f"measured on: {machine_line()}")
    for name in MODELS:
        model, reference, img = _build(name)
        hf = lambda v, ref=reference: ref(pixel_values=v).logits  # noqa: E731
        for batch in args.batches:
            x = torch.rand(batch, 3, img, img)
            # both implementations side by side, so that the machine's drift hits both alike:
            # the two floors alternately, then the two forwards interleaved (bench.time_pair)
            calls = record_gemms(model, x), record_gemms(hf, x)
            floors = [[], []]
            for _ in range(3):
                for side in (0, 1):
                    floors[side].append(gemm_floor(calls[side], args.repeats))
            floor, hf_floor = (statistics.median(f) for f in floors)
            t = [statistics.median(ts) for ts in time_pair(model, hf, x, repeats=args.repeats)]
            print(
                f"{name} batch {batch}: forward {t[0]:.3f} s = {t[0] / floor:.2f}x its GEMM floor ({floor:.3f} s); "
                f"Hugging Face {t[1]:.3f} s = {t[1] / hf_floor:.2f}x its floor ({hf_floor:.3f} s)"
            )
            for impl, net in (("swin_tutor", model), ("HF", hf)):
                shares = op_breakdown(net, x)
                print(f"  {impl:10s} " + ", ".join(f"{g} {100 * s:.0f}%" for g, s in shares.items()))
        x, y = torch.rand(8, 3, img, img), torch.randint(0, 1000, (8,))
        ours_s, hf_s = train_step_pair(model, reference, x, y, args.repeats)
        print(f"{name} training step, batch 8: {ours_s:.3f} s vs HF {hf_s:.3f} s = {ours_s / hf_s:.2f}x")
        if args.memory:  # each in a fresh process: a peak of this one would include everything above
            mem = {impl: peak_memory(name, impl, 8, mode="train") for impl in ("swin_tutor", "hf")}
            ours_mib, hf_mib = mem["swin_tutor"]["peak_mib"], mem["hf"]["peak_mib"]
            print(
                f"{name} training step, batch 8, peak memory: {ours_mib:.0f} MiB vs HF {hf_mib:.0f} MiB = "
                f"{ours_mib / hf_mib:.2f}x (the step itself: {mem['swin_tutor']['forward_mib']:.0f} vs "
                f"{mem['hf']['forward_mib']:.0f} MiB)"
            )
        if args.compile:  # in eval mode again: the training step above left both in train mode
            model.eval()
            reference.eval()
            compiled_forward(name, model, hf, img, args.batches, args.repeats)
    print(f"digits model (notebook 09): {tiny_images_per_second():.0f} training images/s")


def compiled_forward(name: str, model, hf, img: int, batches: list[int], repeats: int) -> None:
    """The opt-in compiled model: compile time (first call per batch size) and forward time next to
    the eager model's and Hugging Face's, interleaved in one loop (no_grad: see swin_tutor.core.compiled)."""
    from swin_tutor import compile_model

    if model.training:
        raise ValueError("compiled_forward times inference: put the model in eval mode first")

    compiled = compile_model(model)
    for batch in batches:
        x = torch.rand(batch, 3, img, img)
        with torch.no_grad():
            start = time.perf_counter()
            first = compiled(x)
            compile_s = time.perf_counter() - start
            eager = model(x)
            rel = float((first - eager).abs().max() / eager.abs().max())  # fused kernels round differently
            times = {"compiled": [], "eager": [], "HF": []}
            for _ in range(repeats):
                for key, f in (("compiled", compiled), ("eager", model), ("HF", hf)):
                    begin = time.perf_counter()
                    f(x)
                    times[key].append(time.perf_counter() - begin)
        t = {key: statistics.median(v) for key, v in times.items()}
        print(
            f"{name} batch {batch} compiled: first call (compile) {compile_s:.0f} s, max |diff| / max |logit| "
            f"{rel:.1e}; "
            f"forward {t['compiled']:.3f} s = {t['compiled'] / t['eager']:.2f}x eager, "
            f"{t['compiled'] / t['HF']:.2f}x Hugging Face"
        )


if __name__ == "__main__":
    main()
