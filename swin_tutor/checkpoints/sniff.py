"""What a file really is, from its first bytes: a checkpoint, or a failed download that only has its name.

``torch.load`` on an HTML error page, a Git LFS pointer or random bytes fails with a message about
pickles; :func:`sniff_checkpoint` looks first and :func:`not_a_checkpoint` says in words what was found
("an HTML page: the download probably failed") before ``torch.load`` is asked.
"""

from __future__ import annotations

import os
import zipfile

__all__ = ["sniff_checkpoint", "not_a_checkpoint"]

_HEAD = 1024  # bytes read to decide

_REDOWNLOAD = "the download probably failed; download the file again (and check the URL)"


def sniff_checkpoint(path: str) -> str:
    """One word for what ``path`` holds, from its first bytes: "empty", "lfs", "html", "xml", "gzip",
    "numpy", "hdf5", "zip" (a zip that is not a PyTorch archive), "damaged-zip", "torch-zip" (what
    ``torch.save`` writes), "pickle" (a legacy ``torch.save`` file or a plain pickle), "text" or "unknown"."""
    with open(path, "rb") as f:
        head = f.read(_HEAD)
    if not head:
        return "empty"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"version https://git-lfs"):
        return "lfs"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text:
        return "html"
    if text.startswith(b"<?xml"):
        return "xml"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\x93NUMPY"):
        return "numpy"
    if head.startswith(b"\x89HDF"):
        return "hdf5"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError):
            return "damaged-zip"
        return "torch-zip" if any(n.endswith("data.pkl") for n in names) else "zip"
    if head[:1] == b"\x80" and 2 <= head[1] <= 5:  # pickle protocol 2..5 (legacy torch.save files too)
        return "pickle"
    try:  # a full head may end inside a multi-byte character: leave its last 3 bytes out
        decoded = (head[:-3] if len(head) == _HEAD else head).decode("utf-8")
    except UnicodeDecodeError:
        decoded = ""
    if decoded and all(c.isprintable() or c in "\r\n\t" for c in decoded):
        return "text"
    return "unknown"


def not_a_checkpoint(path: str, kind: str) -> str | None:
    """The message for a file of this ``kind`` that cannot be a checkpoint (None when it may be one)."""
    where = repr(os.fspath(path))
    if kind == "empty":
        return f"{where} is an empty file (0 bytes), not a checkpoint: {_REDOWNLOAD}"
    if kind == "lfs":
        return (
            f"{where} is a Git LFS pointer (a small text file that stands in for the real file), not a "
            "checkpoint: run 'git lfs pull' in the repository it came from, or download the file itself"
        )
    if kind in ("html", "xml"):
        page = "an HTML page" if kind == "html" else "an XML document (a server's error response?)"
        return f"{where} is {page}, not a checkpoint: {_REDOWNLOAD}"
    if kind == "gzip":
        return f"{where} is gzip-compressed, not a checkpoint itself: decompress it (gunzip / tar xzf) first"
    if kind == "numpy":
        return f"{where} is a NumPy .npy array, not a checkpoint: read it with numpy.load"
    if kind == "hdf5":
        return f"{where} is an HDF5 file (Keras/TensorFlow?), not a PyTorch checkpoint"
    if kind == "zip":
        return (
            f"{where} is a zip archive but not a PyTorch checkpoint (torch.save writes a zip with a data.pkl "
            "inside): if it holds a checkpoint, extract it and pass the file inside"
        )
    if kind == "damaged-zip":
        return f"{where} is a damaged or truncated zip archive (an interrupted download?): {_REDOWNLOAD}"
    if kind == "text":
        with open(path, encoding="utf-8", errors="replace") as f:
            first = next((line.strip() for line in f if line.strip()), "")[:60]
        return f"{where} is a text file (it begins {first!r}), not a checkpoint: {_REDOWNLOAD}"
    if kind == "unknown":
        return (
            f"{where} is not a checkpoint: it does not begin like a torch.save file (a zip archive or a pickle) "
            f"or a .safetensors file; a damaged or unfinished download? {_REDOWNLOAD}"
        )
    return None
