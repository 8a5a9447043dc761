"""The benchmark script's pieces work (timings themselves are never asserted: machines are noisy)."""

from __future__ import annotations

import torch

from swin_tutor import bench


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
        "notebooks": {"notebooks_s": {"01_patchify.ipynb": 9.5}, "total_s": 9.5},
    }
    table = bench.format_table(result)
    assert "| Swin-T | 8 | 1.000 | 1.250 | 0.80x | 72.0 (80%) | 57.6 (64%) | 400 / 500 (forward 40 / 60)" in table
    assert "notebook series: 9.5 s in total" in table
