"""Training a Swin, in one readable loop: AdamW, warm-up + cosine schedule, label smoothing, clipping.

``fit(model, train_set, test_set, config)`` trains and returns a per-epoch :class:`History`;
``evaluate(model, dataset)`` gives accuracy, confusion matrix and the misclassified examples.
``tiny_swin()`` (the small digits model of notebook 09) and ``load_digits_model()`` (the weights this
package ships) come from :mod:`swin_tutor.train.digits_model` and are importable from here too.

The same ``fit`` runs on one CPU, on a GPU (with autocast) and under
``torchrun --nproc_per_node=N`` (DistributedDataParallel, a DistributedSampler, gloo on CPU, NCCL
on CUDA; only rank 0 prints). ``batch_size`` is per process: N processes see N x batch_size images
per step. Command line: ``python -m swin_tutor.train --help`` (:mod:`swin_tutor.train.cli`).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from swin_tutor.train.checks import check_batch_labels, check_datasets, check_train_config
from swin_tutor.train.data import random_translate
from swin_tutor.train.digits_model import TINY_SWIN, WEIGHTS_DIR, load_digits_model, tiny_swin
from swin_tutor.train.distributed import distributed_setup
from swin_tutor.train.precision import choose_dtype
from swin_tutor.train.schedule import param_groups, warmup_cosine

__all__ = [
    "TrainConfig",
    "History",
    "Evaluation",
    "seed_everything",
    "fit",
    "evaluate",
    # the digits model of notebook 09 (defined in swin_tutor.train.digits_model), here so one import trains it
    "TINY_SWIN",
    "tiny_swin",
    "load_digits_model",
    "WEIGHTS_DIR",
]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every GPU)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


@dataclass
class TrainConfig:
    """Settings of one training run (the defaults train the digits model of notebook 09)."""

    epochs: int = 30
    batch_size: int = 64  # per process
    lr: float = 2e-3  # peak learning rate, after warm-up
    weight_decay: float = 0.05
    warmup_epochs: float = 2.0
    label_smoothing: float = 0.1
    clip_grad: float = 5.0  # max global gradient norm; 0 switches clipping off
    seed: int = 0
    augment: bool = True  # random translation by up to 2 pixels (swin_tutor.train.data.random_translate)
    device: str | None = None  # None: CUDA when there is one, else CPU
    max_shift: int = 2
    min_lr_ratio: float = 0.01  # the cosine ends at lr * min_lr_ratio
    precision: str | None = None  # None: autocast on CUDA, float32 on CPU; "fp32" | "bf16" | "fp16" | "auto"
    use_checkpoint: bool = False  # True: sets every stage's use_checkpoint (less memory, slower steps)

    def __post_init__(self) -> None:
        check_train_config(self)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class History:
    """Per-epoch records of :func:`fit` (``test_acc`` is empty without a test set); ``seconds``: wall time."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Evaluation:
    """``accuracy``; ``confusion`` (K, K) long, rows true class, columns predicted; ``predictions`` (N,);
    ``wrong``: indices (into the dataset) of the misclassified examples."""

    accuracy: float
    confusion: torch.Tensor
    predictions: torch.Tensor
    wrong: torch.Tensor


def fit(
    model: nn.Module,
    train_set: Dataset,
    test_set: Dataset | None = None,
    config: TrainConfig | None = None,
    progress: bool = True,
    on_epoch: Callable[[int, History], None] | None = None,
) -> History:
    """Train ``model`` in place on (image, label) pairs; returns the per-epoch :class:`History`.

    Labels may be per pixel (segmentation, notebook 12): (B, H, W) class maps with (B, K, H, W) logits,
    the same cross-entropy; accuracies then count pixels, and ``augment`` must be False.

    One step: (augment) -> forward (autocast on CUDA) -> label-smoothed cross-entropy -> backward ->
    clip the gradient norm -> AdamW step -> schedule step (warm-up + cosine, per step). After each
    epoch the test accuracy (model in eval mode: no drop-path, no augmentation). The model ends in
    eval mode. Under torchrun every process runs this with its share of the data.
    ``on_epoch(epoch, history)`` is called after each epoch, on rank 0 only (the CLI prints there).
    """
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    check_train_config(config)  # again: a field may have been changed since the config was made
    num_classes = getattr(model, "num_classes", None)
    check_datasets(train_set, test_set, num_classes)
    seed_everything(config.seed)
    rank, world, device = distributed_setup(config.device)
    model.to(device)
    for layer in getattr(model, "layers", ()) if config.use_checkpoint else ():
        layer.use_checkpoint = True
    net = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    sampler = DistributedSampler(train_set, world, rank, shuffle=True, seed=config.seed) if world > 1 else None
    loader = DataLoader(
        train_set,
        batch_size=config.batch_size,
        shuffle=sampler is None,
        sampler=sampler,
        drop_last=len(train_set) // world > config.batch_size,  # no tiny last batch (noisy steps)
        generator=torch.Generator().manual_seed(config.seed),
    )
    optimizer = torch.optim.AdamW(param_groups(model, config.weight_decay), lr=config.lr)
    steps, warmup = config.epochs * len(loader), round(config.warmup_epochs * len(loader))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: warmup_cosine(s, warmup, steps, config.min_lr_ratio)
    )
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    # swin_tutor.train.precision: "auto" is bf16 only where the device has bf16 units, else fp16 on CUDA, fp32 on CPU
    amp_dtype = choose_dtype(config.precision or ("auto" if device.type == "cuda" else "fp32"), device)
    use_amp = amp_dtype != torch.float32
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    augment_gen = torch.Generator().manual_seed(config.seed + 1000 * rank)

    from tqdm.auto import tqdm  # disabled by TQDM_DISABLE=1 (tests, make notebooks)

    history, start = History(), time.perf_counter()
    quiet = not progress or rank != 0 or os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true")
    bar = tqdm(total=steps, disable=quiet, desc="training", unit="step")  # an explicit disable= beats the env
    try:
        for epoch in range(config.epochs):
            if sampler is not None:
                sampler.set_epoch(epoch)
            net.train()
            totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, correct, seen
            for images, labels in loader:  # images (B, C, H, W), labels (B,)
                check_batch_labels(labels, num_classes)
                if config.augment and labels.dim() > 1:
                    raise ValueError(
                        "TrainConfig.augment=True moves the images but not per-pixel labels (B, H, W): "
                        "set augment=False for segmentation"
                    )
                if config.augment:
                    images = random_translate(images, config.max_shift, augment_gen)
                images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                    logits = net(images)  # (B, K), or (B, K, H, W) for per-pixel labels (B, H, W)
                    loss = criterion(logits.float(), labels)  # the mean over images (or pixels)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if config.clip_grad > 0:
                    scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                with torch.no_grad():
                    seen = labels.numel()  # images, or pixels for per-pixel labels
                    totals += torch.stack(
                        [loss.detach() * seen, (logits.argmax(1) == labels).sum(), torch.tensor(seen)]
                    ).to(totals)
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}")
            if world > 1:
                dist.all_reduce(totals)  # every process's sums
            history.train_loss.append(float(totals[0] / totals[2]))
            history.train_acc.append(float(totals[1] / totals[2]))
            history.lr.append(optimizer.param_groups[0]["lr"])
            if test_set is not None:
                history.test_acc.append(evaluate(model, test_set).accuracy)
            history.seconds = time.perf_counter() - start
            if on_epoch is not None and rank == 0:
                on_epoch(epoch, history)
    except KeyboardInterrupt:  # Ctrl-C: finished epochs stay in history; the model leaves training mode
        model.eval()
        bar.close()
        if rank == 0:
            print(
                f"fit interrupted in epoch {len(history.train_loss) + 1} of {config.epochs}: "
                f"{len(history.train_loss)} finished epoch(s) in the history; the model (now in eval mode) "
                "holds the weights of the last step",
                flush=True,
            )
        raise
    bar.close()
    history.seconds = time.perf_counter() - start
    model.eval()
    return history


@torch.no_grad()
def evaluate(model: nn.Module, dataset: Dataset, batch_size: int = 256) -> Evaluation:
    """Accuracy, confusion matrix and misclassified indices of ``model`` on ``dataset`` (in eval mode;
    the model's previous train/eval mode is restored). With per-pixel labels (H, W) accuracy and
    confusion count pixels, and ``wrong`` lists the examples with at least one wrong pixel."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    predictions, targets = [], []
    try:
        for images, labels in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            predictions.append(model(images.to(device)).argmax(1).cpu())
            targets.append(labels)
    finally:
        model.train(was_training)
    pred, true = torch.cat(predictions), torch.cat(targets)
    k = max(int(getattr(model, "num_classes", 0)), int(pred.max()) + 1, int(true.max()) + 1)
    confusion = torch.bincount((true * k + pred).flatten(), minlength=k * k).reshape(k, k)  # per pixel for (N, H, W)
    wrong = torch.nonzero((pred != true).reshape(len(true), -1).any(1)).flatten()  # examples with a wrong label
    return Evaluation(float((pred == true).float().mean()), confusion, pred, wrong)
