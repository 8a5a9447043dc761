"""One process or many: what :func:`swin_tutor.train.loop.fit` needs to know to run under torchrun.

``torchrun --nproc_per_node=N`` starts N copies of a script and tells each one its place through
environment variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``).
:func:`distributed_setup` reads them, joins the process group (NCCL between GPUs, gloo on CPU) and
picks the device: GPU ``LOCAL_RANK`` when there are GPUs, else the CPU. A plain ``python`` run is
rank 0 of a world of 1 and no process group is started.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

__all__ = ["distributed_setup", "is_main_process"]


def distributed_setup(device: str | None = None) -> tuple[int, int, torch.device]:
    """(rank, world size, device); joins the process group when torchrun started us and nobody has yet."""
    if dist.is_available() and not dist.is_initialized() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("nccl" if torch.cuda.is_available() and device != "cpu" else "gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_available() and dist.is_initialized() else (0, 1)
    if device is not None:
        return rank, world, torch.device(device)
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", rank)) % torch.cuda.device_count()
        torch.cuda.set_device(local)
        return rank, world, torch.device("cuda", local)
    return rank, world, torch.device("cpu")


def is_main_process() -> bool:
    """True on rank 0 (and in a plain, single-process run): the one process that prints and saves."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0
