"""Notebook set-up and deterministic reporting: what every notebook calls first and last.

Stored outputs are a regression test, so what a notebook prints must be the same on every CPU:
shapes, integers, booleans, and floats rounded to a few significant digits, never raw tensors.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["setup_notebook", "fmt", "report_match"]


def setup_notebook(seed: int = 0, threads: int | None = None) -> None:
    """Seed every generator, fix print options (and the thread count when ``threads`` or
    OMP_NUM_THREADS says so), and make plots small PNGs."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_printoptions(precision=4, sci_mode=False, linewidth=120)
    threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0"))
    if threads > 0:  # otherwise torch's own default (all cores); printed outputs do not depend on it
        torch.set_num_threads(threads)
    try:  # OpenCV logs warnings with a timestamp to stderr (nbval compares stderr): keep errors only
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except (ImportError, AttributeError):
        pass
    try:
        import matplotlib as mpl

        # Legible when presented: 12-pt text (at 72 dpi, 100% zoom shows it at 12 px and up).
        mpl.rcParams.update(
            {
                "figure.dpi": 72,
                "savefig.dpi": 72,
                "image.interpolation": "nearest",
                "font.size": 12,
                "axes.titlesize": 12,
                "axes.labelsize": 12,
                "xtick.labelsize": 11,
                "ytick.labelsize": 11,
                "legend.fontsize": 11,
                "figure.titlesize": 14,
            }
        )
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            shell.run_line_magic("matplotlib", "inline")
            shell.run_line_magic("config", "InlineBackend.figure_formats = ['png']")
    except ImportError:  # plain Python: nothing to configure
        pass


def fmt(value: float, digits: int = 3) -> str:
    """A float rounded to ``digits`` significant digits, with -0 printed as 0 (stable across CPUs)."""
    value = float(value)
    text = f"{value:.{digits}g}"
    return "0" if float(text) == 0.0 else text


def report_match(name: str, ours: torch.Tensor, reference: torch.Tensor, atol: float = 1e-5) -> bool:
    """Print and return whether ``ours`` equals ``reference`` to ``atol`` (shapes must agree too).

    Prints the bound, not the raw difference: the last bits differ between CPUs.
    """
    same_shape = tuple(ours.shape) == tuple(reference.shape)
    ok = same_shape and bool(torch.allclose(ours.float(), reference.float(), atol=atol, rtol=0.0))
    shape = f"shape {tuple(ours.shape)}" if same_shape else f"shapes {tuple(ours.shape)} vs {tuple(reference.shape)}"
    print(f"{name}: {shape}, max |ours - reference| <= {atol:g}: {ok}")
    return ok
