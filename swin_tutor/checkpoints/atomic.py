"""Writing files and folders all or nothing: a temporary sibling, then one rename into place.

An interrupted write (Ctrl-C, a full disk, a crash) leaves the earlier file or folder as it was, never
half of a new one. New files get the permissions the umask gives (``0o666 & ~umask``), as ``open``
would, not the ``0o600`` of :func:`tempfile.mkstemp`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "atomic_folder", "check_replaceable", "umask_mode"]


def umask_mode(base: int = 0o666) -> int:
    """``base`` with the process's umask applied (what ``open(path, "w")`` would give a new file)."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Call ``write(temporary_path)``, then rename the result onto ``path`` (same folder, so one rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` all or nothing."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


@contextmanager
def atomic_folder(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a new empty folder beside ``target``; when the block ends without an error it replaces
    ``target`` (the old one is removed only after the new one is in place). On an error the
    temporary folder is removed and ``target`` is untouched."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield tmp
        os.chmod(tmp, umask_mode(0o777))
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
            os.replace(target, old / "previous")
        try:
            os.replace(tmp, target)
        except BaseException:
            if old is not None:  # put the earlier folder back
                os.replace(old / "previous", target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def check_replaceable(folder: Path, marker: str, overwrite: bool) -> None:
    """Refuse a ``folder`` that is a file, or a non-empty folder without our ``marker`` file (unless ``overwrite``)."""
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"export_hf writes a folder, but {str(folder)!r} is a file: pass a folder path")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / marker).is_file() and not overwrite:
        raise FileExistsError(
            f"{str(folder)!r} is a folder that export_hf did not make and it is not empty "
            f"({sorted(p.name for p in folder.iterdir())[:5]}): pass an empty or new folder, or "
            "overwrite=True to replace the whole folder and everything in it"
        )
