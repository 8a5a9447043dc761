"""The benchmark script's pieces work (timings themselves are never asserted: machines are noisy)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"  # a script, not part of the package
_spec = importlib.util.spec_from_file_location("bench", BENCH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_benchmark_lives_outside_the_package():
    assert importlib.util.find_spec("swin_tutor.bench") is None


def test_matmul_ceiling_is_measured():
    assert bench.matmul_gflops(n=128, repeats=2) > 0


def test_time_pair_interleaves_and_counts():
    calls = []
    ours = lambda x: calls.append("ours")  # noqa: E731
    theirs = lambda x: calls.append("theirs")  # noqa: E731
    t_ours, t_theirs = bench.time_pair(ours, theirs, torch.zeros(1), warmup=1, repeats=3)
    assert len(t_ours) == len(t_theirs) == 3
    assert calls == ["ours", "theirs"] * 4  # warm-up, then strictly alternating


def test_table_reports_ratio_share_and_memory():
    row = dict(
        model="Swin-T",
        batch=8,
        same_logits=True,
        swin_tutor_s=1.0,
        hf_s=1.25,
        ratio=0.8,
        gmacs=4.49,
        swin_tutor_gflops=72.0,
        hf_gflops=57.6,
        swin_tutor_share=0.8,
        hf_share=0.64,
        swin_tutor_peak_mib=400.0,
        hf_peak_mib=500.0,
        swin_tutor_forward_mib=40.0,
        hf_forward_mib=60.0,
    )
    result = {
        "machine": {"threads": 2},
        "matmul_gflops": 90.0,
        "rows": [row],
        "notebooks": {"notebooks_s": {"01_patchify.ipynb": 9.5}, "total_s": 9.5, "total_with_shutdown_s": 11.0},
        "notebooks_parallel": {"parallel": 2, "wall_s": 6.25},
    }
    table = bench.format_table(result)
    assert "| Swin-T | 8 | 1.000 | 1.250 | 0.80x | 72.0 (80%) | 57.6 (64%) | 400 / 500 (forward 40 / 60)" in table
    assert "one after the other: 9.5 s in total (11.0 s with kernel shutdowns)" in table
    assert "01_patchify.ipynb: 9.5 s" in table
    assert "2 at a time (as make test runs them): 6.2 s wall clock" in table


def test_notebook_series_is_timed_in_fresh_kernels(tmp_path):
    """Two tiny notebooks, two at a time, each in a kernel of its own: they run on a copy next to a
    copy of images/, with the thread count the caller asked for, and only numbered notebooks count."""
    import nbformat

    (tmp_path / "images").mkdir()
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("01_a.ipynb", "02_b.ipynb"):
        code = "import os\nassert os.path.isdir('../images')\nassert os.environ['OMP_NUM_THREADS'] == '3'"
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), folder / name)
    (folder / "notes.ipynb").write_text("not a numbered notebook: ignored")
    result = bench.time_notebooks(folder, parallel=2, threads=3)
    assert list(result["notebooks_s"]) == ["01_a.ipynb", "02_b.ipynb"]
    assert all(t > 0 for t in result["notebooks_s"].values())
    assert result["total_with_shutdown_s"] >= result["total_s"] > 0
    assert result["wall_s"] > 0
    assert sorted(p.name for p in folder.iterdir()) == ["01_a.ipynb", "02_b.ipynb", "notes.ipynb"]  # untouched


FLOOR = BENCH.with_name("floor.py")
_floor_spec = importlib.util.spec_from_file_location("floor", FLOOR)
floor = importlib.util.module_from_spec(_floor_spec)
_floor_spec.loader.exec_module(floor)


def _small_swin():
    from swin_tutor import SwinTransformer

    depths = (2, 2, 2, 2)
    model = SwinTransformer(
        img_size=32, patch_size=2, embed_dim=16, depths=depths, num_heads=(2, 4, 8, 16), window_size=4, num_classes=10
    )
    return model.eval(), sum(depths)


def test_gemm_floor_records_every_product_of_the_model():
    model, blocks = _small_swin()
    calls = floor.record_gemms(model, torch.rand(2, 3, 32, 32))
    names = [str(func) for func, _, _ in calls]
    # per block qkv, proj, fc1, fc2; three patch mergings; the head -- and two attention products per block
    assert names.count("aten.linear.default") == 4 * blocks + 3 + 1
    assert names.count("aten.matmul.default") == 2 * blocks
    first = calls[0][1][0]  # the first block's qkv input: (B * windows, tokens per window, C)
    assert first[0] == (2 * 16, 16, 16)
    assert floor.gemm_floor(calls, repeats=1) > 0


def test_op_breakdown_shares_sum_to_one():
    model, _ = _small_swin()
    shares = floor.op_breakdown(model, torch.rand(1, 3, 32, 32))
    assert set(shares) == {*floor.GROUPS, "other"}
    assert abs(sum(shares.values()) - 1) < 1e-6 and shares["matrix products"] > 0


def test_train_step_pair_steps_both_models():
    ours = torch.nn.Linear(4, 3)

    class HFLike(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 3)

        def forward(self, pixel_values):
            return type("Out", (), {"logits": self.fc(pixel_values)})()

    theirs = HFLike()
    before = ours.weight.clone(), theirs.fc.weight.clone()
    t_ours, t_theirs = floor.train_step_pair(ours, theirs, torch.rand(5, 4), torch.tensor([0, 1, 2, 0, 1]), repeats=2)
    assert t_ours > 0 and t_theirs > 0
    assert not torch.equal(before[0], ours.weight) and not torch.equal(before[1], theirs.fc.weight)


def test_machine_line_names_cpu_threads_and_torch_build():
    line = bench.machine_line()
    assert f"{torch.get_num_threads()} thread(s)" in line and f"torch {torch.__version__}" in line
    assert bench.cpu_name() in line and bench.cpu_name() != ""


def test_peak_memory_names_a_bad_mode():
    with pytest.raises(ValueError, match="mode must be 'infer' or 'train'"):
        bench.peak_memory("Swin-T", "swin_tutor", 1, mode="training")


@pytest.mark.slow
def test_training_peak_memory_is_measured_in_a_fresh_process():
    """One Swin-T training step at batch 1 in a child process: its peak covers the step (AdamW state
    included, allocated by the warm-up step before the peak is reset)."""
    mem = bench.peak_memory("Swin-T", "swin_tutor", 1, mode="train")
    assert mem["peak_mib"] > 28e6 * 4 * 3 / 2**20  # weights + gradients + two AdamW moments at least
    assert 0 < mem["forward_mib"] < mem["peak_mib"]
