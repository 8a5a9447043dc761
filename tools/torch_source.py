"""Which PyTorch build `make setup` installs: print the extra pip arguments for the lock's install.

Usage (the Makefile's setup does this; TORCH=cpu is the default, TORCH=cuda the switch):

    .venv/bin/python tools/torch_source.py --torch cpu     # prints e.g. "--extra-index-url https://..."

PyPI's Linux wheel of torch is the CUDA build: with its nvidia-* dependencies (cuDNN, NCCL, cuSPARSELt,
...) and triton several GB. PyTorch's own CPU index has the CPU build (about 200 MB). The decision asks
only the pip source already configured, with ``pip install --dry-run --report``: where that source
already gives a CPU build (a ``+cpu`` version, or no nvidia-* package among what it would install:
macOS, Windows, a mirror of CPU wheels), nothing is added and no other host is contacted. Only where it
would give the CUDA build is PyTorch's CPU index added (``--extra-index-url``: its ``2.13.0+cpu``
sorts above PyPI's ``2.13.0``, and every other package still comes from the configured source).
With ``--torch cuda`` nothing is added and nothing is asked: the configured source's build is installed.
Messages go to stderr; stdout carries only the arguments (none, or one option and its URL).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CHOICES = ("cpu", "cuda")


def locked_torch(lock: Path = LOCK) -> str:
    """The torch version requirements.lock pins (``torch==X.Y.Z``)."""
    found = re.search(r"^torch==([^\s#]+)", lock.read_text(), re.M)
    if not found:
        raise ValueError(f"{lock}: no 'torch==<version>' line, expected the lock to pin torch")
    return found.group(1)


def _name(item: dict) -> str:
    return re.sub(r"[-_.]+", "-", item.get("metadata", {}).get("name", "")).lower()


def build_of(report: dict) -> str:
    """'cpu', 'cuda' or 'none' (torch not among what the report installs), from a ``pip install --dry-run
    --report`` report (its JSON as a dict)."""
    if not isinstance(report, dict) or not isinstance(report.get("install"), list):
        raise ValueError(f"report must be pip's --report JSON with an 'install' list, got {type(report).__name__}")
    items = report["install"]
    torch = [item for item in items if _name(item) == "torch"]
    if not torch:
        return "none"
    version = str(torch[0].get("metadata", {}).get("version", ""))
    local = version.partition("+")[2]
    if local.startswith("cpu"):
        return "cpu"
    if local.startswith(("cu", "rocm")) or any(_name(item).startswith("nvidia-") for item in items):
        return "cuda"
    return "cpu"  # macOS, Windows: the wheel without a local version is the CPU (or MPS) build


def pip_arguments(report: dict | None, torch: str = "cpu") -> list[str]:
    """The extra arguments for ``pip install -r requirements.lock``: none, or PyTorch's CPU index where the
    configured source (``report``, its dry run) would install the CUDA build and ``torch`` is 'cpu'."""
    if torch not in CHOICES:
        raise ValueError(f"torch must be one of {CHOICES}, got {torch!r}")
    if torch == "cuda" or report is None:
        return []
    return ["--extra-index-url", CPU_INDEX] if build_of(report) == "cuda" else []


def dry_run(version: str, run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> dict | None:
    """What the configured pip source would install for ``torch==version`` (pip's report), or None when
    pip cannot say (offline, an old pip): then nothing is added and the real install speaks for itself."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
        command += ["--report", str(path), f"torch=={version}"]
        done = run(command, capture_output=True, text=True)
        if done.returncode != 0 or not path.exists():
            print(f"torch_source: pip's dry run failed ({done.returncode}): {done.stderr[-500:]}", file=sys.stderr)
            return None
        return json.loads(path.read_text())


def describe(report: dict | None, arguments: Sequence[str], torch: str) -> str:
    """One line for the person installing: which build, from where, roughly how large."""
    if torch == "cuda":
        return "PyTorch: the CUDA build from the configured pip source (TORCH=cuda; on Linux several GB)."
    build = "unknown" if report is None else build_of(report)
    if arguments:
        return (
            "PyTorch: the configured pip source would install the CUDA build (several GB with its nvidia-* "
            f"packages); installing the CPU build from {CPU_INDEX} instead (about 200 MB). "
            "For the CUDA build: make clean, then make lab TORCH=cuda."
        )
    return f"PyTorch: the configured pip source gives the {build} build; installing it from there."


def main(argv: Sequence[str] | None = None, run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch", choices=CHOICES, default="cpu", help="which build to install (default: %(default)s)")
    parser.add_argument("--lock", type=Path, default=LOCK, help="the lock pinning torch (default: %(default)s)")
    args = parser.parse_args(argv)
    report = None if args.torch == "cuda" else dry_run(locked_torch(args.lock), run)
    arguments = pip_arguments(report, args.torch)
    print(describe(report, arguments, args.torch), file=sys.stderr)
    print(" ".join(arguments))
    return 0


if __name__ == "__main__":
    sys.exit(main())
