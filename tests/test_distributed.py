"""fit under torchrun: 2 CPU processes (gloo), a DistributedSampler, identical weights at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

SCRIPT = textwrap.dedent(
    """
    import sys
    import torch
    import torch.distributed as dist
    from torch.utils.data import Subset
    from swin_tutor.train.data import digits_datasets
    from swin_tutor.train.loop import TrainConfig, fit
    from swin_tutor.train.digits_model import tiny_swin

    torch.set_num_threads(1)
    out = sys.argv[1]
    train, _ = digits_datasets()
    train = Subset(train, range(128))
    images = torch.stack([train[i][0] for i in range(len(train))])
    labels = torch.stack([train[i][1] for i in range(len(train))])
    torch.manual_seed(0)
    model = tiny_swin(1, embed_dim=12, num_heads=(1, 2, 4, 8))

    def loss():
        model.eval()
        with torch.no_grad():
            return float(torch.nn.functional.cross_entropy(model(images), labels))

    before = loss()
    config = TrainConfig(epochs=1, batch_size=16, lr=1e-3, warmup_epochs=0, label_smoothing=0.0, augment=False)
    history = fit(model, train, None, config, progress=False)
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.save({"state": model.state_dict(), "before": before, "after": loss(), "world": world,
                "history": history.train_loss}, f"{out}/rank{rank}.pt")
    dist.destroy_process_group()
    """
)


@pytest.mark.slow
def test_two_cpu_processes_end_with_identical_weights_and_lower_loss(tmp_path):
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script)]
    run = subprocess.run([*cmd, str(tmp_path)], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["world"] == r1["world"] == 2
    assert set(r0["state"]) == set(r1["state"])
    assert all(torch.equal(r0["state"][k], r1["state"][k]) for k in r0["state"])
    assert r0["history"] == r1["history"]  # the epoch loss is reduced over both processes
    assert r0["after"] < r0["before"]
