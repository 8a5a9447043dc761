"""Reduced precision and memory: the dtype chooser, bf16 numerics against float32, checkpointing, the counters."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from swin_tutor.core.model import SwinTransformer, SwinTransformerV2
from swin_tutor.lab import memory
from swin_tutor.lab import precision as lab
from swin_tutor.train import precision

SMALL = dict(img_size=32, patch_size=2, embed_dim=16, depths=(2, 2, 2, 2), num_heads=(2, 4, 8, 16), window_size=4)


def _small(version: int, **kwargs):
    torch.manual_seed(0)
    cls = SwinTransformer if version == 1 else SwinTransformerV2
    return cls(num_classes=10, **SMALL, **kwargs).eval()


@pytest.fixture
def no_bf16_units(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2", "fma"}))


@pytest.fixture
def bf16_units(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    monkeypatch.setattr(precision.platform, "system", lambda: "Linux")
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True, raising=False)


# -- the chooser ----------------------------------------------------------------------------------
def test_auto_never_picks_bf16_without_bf16_units(no_bf16_units):
    assert not precision.has_bf16_units("cpu")
    assert precision.bf16_flags() == ()
    assert precision.choose_dtype("auto", "cpu") == torch.float32
    with precision.autocast("auto", "cpu") as dtype:
        assert dtype == torch.float32 and not torch.is_autocast_enabled("cpu")


def test_explicit_bf16_without_units_runs_but_warns(no_bf16_units):
    with pytest.warns(UserWarning, match="without AVX512-BF16 or AMX"):
        assert precision.choose_dtype("bf16", "cpu") == torch.bfloat16


def test_auto_picks_bf16_where_the_cpu_has_the_units(bf16_units):
    assert precision.bf16_flags() == ("avx512_bf16",)
    assert precision.choose_dtype("auto", "cpu") == torch.bfloat16
    with precision.autocast("auto", "cpu") as dtype:
        assert dtype == torch.bfloat16
        assert torch.nn.Linear(4, 2)(torch.rand(3, 4)).dtype == torch.bfloat16


def test_fp16_only_on_cuda_and_bad_names_are_named():
    with pytest.raises(ValueError, match="'fp16' runs on CUDA only"):
        precision.choose_dtype("fp16", "cpu")
    with pytest.raises(ValueError, match="precision must be one of .* got 'float8'"):
        precision.choose_dtype("float8")
    assert precision.choose_dtype("fp32", "cpu") == torch.float32


def test_cpu_flags_read_proc_cpuinfo():
    flags = precision.cpu_flags()
    assert isinstance(flags, frozenset)
    if Path("/proc/cpuinfo").is_file() and flags:
        assert "fpu" in flags or "sse2" in flags or "fp" in flags


def test_training_loop_takes_precision_and_checkpointing(no_bf16_units):
    from swin_tutor.train.loop import TrainConfig, fit

    images, labels = torch.rand(16, 3, 32, 32), torch.arange(16) % 10
    data = torch.utils.data.TensorDataset(images, labels)
    model = _small(1)
    config = TrainConfig(epochs=1, batch_size=8, device="cpu", precision="auto", use_checkpoint=True, augment=False)
    history = fit(model, data, None, config, progress=False)
    assert len(history.train_loss) == 1 and all(layer.use_checkpoint for layer in model.layers)


# -- numerics against float32 ------------------------------------------------------------------------
@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("how", ["autocast", "weights"])
def test_bf16_logits_agree_with_float32(version, how):
    """bf16 keeps about 3 significant digits: the logits of a small random Swin stay within 5% of the
    largest logit (measured: under 1%)."""
    error = lab.logit_error(_small(version), torch.rand(4, 3, 32, 32), "bf16", how)
    assert error["relative"] < 0.05
    assert lab.logit_error(_small(version), torch.rand(2, 3, 32, 32), "fp32")["max_abs"] == 0.0


@pytest.mark.slow  # 360 digits through two models, in bf16: 10-40 s on a shared 2-core machine
@pytest.mark.parametrize("version", [1, 2])
def test_shipped_digits_models_predict_the_same_in_bf16(version):
    from swin_tutor.train.data import digits_datasets
    from swin_tutor.train.digits_model import load_digits_model

    images, labels = digits_datasets()[1].tensors
    result = lab.prediction_agreement(load_digits_model(version), images, labels, "bf16")
    assert result["agree"] >= 0.98 and abs(result["accuracy"] - result["fp32_accuracy"]) <= 0.02


def test_masks_in_low_precision():
    fp32 = lab.mask_in_dtype("fp32", -100.0)
    assert fp32["subnormal"] and not fp32["zero"]  # e^-100 ~ 3.8e-44: below float32's smallest normal
    assert lab.mask_in_dtype("fp32", -1e4)["zero"]
    assert lab.mask_in_dtype("bf16", -100.0)["zero"]
    assert lab.mask_in_dtype("fp16", -1e4)["stored"] == -1e4
    overflow = lab.mask_in_dtype("fp16", -1e9)
    assert overflow["stored"] == float("-inf") and overflow["all_blocked_nan"]
    with pytest.raises(ValueError, match="dtype must be one of"):
        lab.mask_in_dtype("int8")


def test_dot_product_logits_break_where_cosine_logits_do_not():
    big = lab.attention_at_scale(300.0, "fp16")
    assert big["dot"]["nonfinite"] and not big["cosine"]["nonfinite"]
    bf16 = lab.attention_at_scale(10.0, "bf16")
    assert bf16["dot"]["weight_error"] > 0.1 and bf16["cosine"]["weight_error"] < 0.05
    assert bf16["cosine"]["max_logit"] <= 10.0  # cos in [-1, 1] times the initial scale 10


# -- memory and checkpointing ------------------------------------------------------------------------
@pytest.mark.parametrize("version", [1, 2])
def test_checkpointed_gradients_equal_the_plain_ones(version):
    plain, checkpointed = _small(version), _small(version, use_checkpoint=True)
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 32, 32)
    for model in (plain, checkpointed):
        model(x).logsumexp(1).sum().backward()
    for (name, p), q in zip(plain.named_parameters(), checkpointed.parameters(), strict=True):
        assert (p.grad - q.grad).abs().max() <= 1e-6, name


def test_checkpointing_context_restores_the_flag_and_saves_memory():
    model, x = _small(1), torch.rand(4, 3, 32, 32)

    def step():
        model(x).logsumexp(1).sum().backward()

    plain = memory.peak_step_bytes(step)
    with memory.checkpointing(model):
        assert all(layer.use_checkpoint for layer in model.layers)
        checkpointed = memory.peak_step_bytes(step)
    assert not any(layer.use_checkpoint for layer in model.layers)
    assert checkpointed < 0.8 * plain  # parameters' gradients (2.3 MB here) do not shrink


def test_saved_bytes_by_stage_are_deterministic_and_shrink_with_the_map():
    model, x = _small(2), torch.rand(2, 3, 32, 32)
    first, second = memory.saved_bytes_by_stage(model, x), memory.saved_bytes_by_stage(model, x)
    assert first == second and tuple(first) == memory.STAGES
    assert first["stage1"] > first["stage2"] > first["stage4"] > 0
    with torch.no_grad(), pytest.raises(RuntimeError, match="gradients enabled"):
        memory.saved_bytes_by_stage(model, x)


def test_live_tensor_bytes_count_allocation_and_release():
    counter = memory.LiveTensorBytes()
    with counter:
        a = torch.ones(1000)  # 4,000 bytes
        b = a * 2
        del a, b
    assert counter.peak >= 8000 and counter.live == 0


# -- the benchmark's machine line --------------------------------------------------------------------
_BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "precision.py"
_spec = importlib.util.spec_from_file_location("bench_precision", _BENCH)
bench_precision = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_precision)


def test_benchmark_machine_line_names_the_bf16_units(monkeypatch):
    line = bench_precision.precision_machine_line()
    assert f"{torch.get_num_threads()} thread(s)" in line and "bf16 units:" in line and "bf16 pays here:" in line
    monkeypatch.setattr(bench_precision, "bf16_flags", lambda: ())
    monkeypatch.setattr(bench_precision, "has_bf16_units", lambda device: False)
    line = bench_precision.precision_machine_line()
    assert "bf16 units: none (avx512_bf16, amx_bf16 absent); bf16 pays here: False" in line


def test_benchmark_interleaves_and_tabulates():
    calls = []
    medians = bench_precision.interleaved([lambda: calls.append("a"), lambda: calls.append("b")], 1, 2)
    assert calls == ["a", "b"] * 3 and len(medians) == 2
    row = dict(model="Swin-T", batch=8, precision="bf16-autocast", ours_s=0.2, hf_s=0.25, ratio=0.8)
    result = {
        "machine": "a CPU",
        "inference": [dict(row, ours_mib=100.0, hf_mib=120.0)],
        "training": [dict(row, ours_mib=900.0, hf_mib=1000.0, checkpointed_s=0.26, checkpointed_mib=450.0)],
    }
    table = bench_precision.format_table(result)
    assert "| Swin-T | 8 | bf16-autocast | 0.200 | 0.250 | 0.80x | 100 / 120 |" in table
    assert "| 900 / 1000 | 1.30x, 450 (50% less) |" in table
