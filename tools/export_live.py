"""Everything the "Swin live" page (site/live.md) loads, written into one folder (make site: build/site/live/).

- ``digits_v1.onnx``, ``digits_v2.onnx``: the two shipped digits models (swin_tutor.train.weights),
  exported with swin_tutor.checkpoints.onnx with every block's attention and position bias as
  outputs. Made here, not committed: float32, about 2.6 and 2.9 MB, and they follow the weights.
- ``live.json``: what the page draws around them, worked out by swin_tutor itself, so the page
  computes no geometry of its own: per block the token map, the window and shift after the clamp
  rule, the token order of shift + partition (``order[k]``: the map position of the k-th token of
  the windows) and each token's mask group (tokens of one window with different groups do not see
  each other); the normalisation of swin_tutor.train.data; one test digit per class (8x8, 0..16).
- ``ort/``: ONNX Runtime Web (WebAssembly build only), from the npm registry at the version
  pinned in site/live/package-lock.json, installed once into build/live-npm with ``npm ci``.
- ``live.js``, ``live.css``: the page's code, copied from site/live/.

Usage: python tools/export_live.py [OUT_DIR]   (default build/site/live)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "site" / "live"
NPM_DIR = ROOT / "build" / "live-npm"
ORT_FILES = ["ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]
PAGE_FILES = ["live.js", "live.css"]


def fetch_runtime(dest: Path) -> None:
    """``npm ci`` the pinned onnxruntime-web into build/live-npm (once), copy its WebAssembly build to dest."""
    lock = SOURCE / "package-lock.json"
    stamp = NPM_DIR / "package-lock.json"
    dist = NPM_DIR / "node_modules" / "onnxruntime-web" / "dist"
    if not (stamp.exists() and stamp.read_bytes() == lock.read_bytes() and (dist / ORT_FILES[-1]).exists()):
        npm = shutil.which("npm")
        if npm is None:
            sys.exit(
                "the live page needs onnxruntime-web from npm: install Node.js and npm (nodejs.org), then make site"
            )
        shutil.rmtree(NPM_DIR, ignore_errors=True)
        NPM_DIR.mkdir(parents=True)
        shutil.copy2(SOURCE / "package.json", NPM_DIR / "package.json")
        shutil.copy2(lock, stamp)
        cmd = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
        subprocess.run(cmd, cwd=NPM_DIR, check=True)
    (dest / "ort").mkdir(parents=True, exist_ok=True)
    for name in ORT_FILES:
        shutil.copy2(dist / name, dest / "ort" / name)
    shutil.copy2(NPM_DIR / "node_modules" / "onnxruntime-web" / "package.json", dest / "ort" / "package.json")


def block_facts(block, height: int, width: int) -> dict:
    """What the page draws of one block on an (H, W) token map: window, shift, order, mask groups."""
    g = block.geometry(height, width)
    n = g.window_size**2
    order = g.order.tolist()
    groups = [k - k % n for k in range(len(order))]  # unshifted: one group per window
    if g.mask is not None:  # the first key a query may see names its group
        first_open = (g.mask >= 0).int().argmax(-1)  # (nW, N)
        groups = [(k - k % n) + int(first_open[k // n, k % n]) for k in range(len(order))]
    by_position = [0] * len(order)
    for k, pos in enumerate(order):
        by_position[pos] = groups[k]
    return {
        "tokens": [height, width],
        "padded": list(g.padded_resolution),
        "window": g.window_size,
        "shift": g.shift_size,
        "heads": block.num_heads,
        "order": order,
        "group": by_position,
    }


def model_facts(model, version: int) -> dict:
    weights = json.loads((ROOT / "swin_tutor" / "train" / "weights" / f"digits_swin_v{version}.json").read_text())
    blocks = []
    for i, layer in enumerate(model.layers):
        h, w = layer.input_resolution
        for j, block in enumerate(layer.blocks):
            blocks.append({"stage": i, "block": j, **block_facts(block, h, w)})
    return {
        "file": f"digits_v{version}.onnx",
        "patch": model.patch_size,
        "test_accuracy": weights["test_accuracy"],
        "test_examples": weights["test_examples"],
        "blocks": blocks,
    }


def test_digits() -> list[dict]:
    """One digit per class from the fixed test split (swin_tutor.train.data), as the 8x8 0..16 originals."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    index = np.arange(len(digits.target))
    _, test_idx = train_test_split(index, test_size=0.2, random_state=0, stratify=digits.target, shuffle=True)
    chosen = {}
    for i in test_idx:
        chosen.setdefault(int(digits.target[i]), int(i))
    return [{"label": c, "pixels": digits.images[chosen[c]].astype(int).ravel().tolist()} for c in sorted(chosen)]


def export_models(dest: Path) -> None:
    import torch

    from swin_tutor.checkpoints.onnx import all_blocks, export_onnx
    from swin_tutor.train.data import DIGITS_MEAN, DIGITS_STD
    from swin_tutor.train.digits_model import load_digits_model

    torch.set_num_threads(1)
    facts = {"mean": DIGITS_MEAN, "std": DIGITS_STD, "size": 32, "models": {}, "digits": test_digits()}
    for version in (1, 2):
        model = load_digits_model(version)
        export_onnx(model, dest / f"digits_v{version}.onnx", all_blocks(model))
        facts["models"][f"v{version}"] = model_facts(model, version)
    (dest / "live.json").write_text(json.dumps(facts, separators=(",", ":")))


def main(dest: Path = ROOT / "build" / "site" / "live") -> None:
    dest.mkdir(parents=True, exist_ok=True)
    fetch_runtime(dest)
    export_models(dest)
    for name in PAGE_FILES:
        shutil.copy2(SOURCE / name, dest / name)
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file()) / 2**20
    print(f"live page: {size:.1f} MiB in {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT / "build" / "site" / "live")
