"""Running a student's function under a time limit, so an endless loop cannot hang ``check()``.

On the main thread of a Unix process (a Jupyter kernel, a script, a pytest-xdist worker) a SIGALRM
timer interrupts the function itself; elsewhere the function runs in a daemon thread and ``check()``
stops waiting for it (it may go on in the background until the kernel restarts). An alarm already
set by someone else (pytest-timeout's signal method) is put back afterwards.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["TIME_LIMIT", "TimeLimitExceeded", "call_with_time_limit"]

TIME_LIMIT = 5.0  # seconds a student's function may take on one case


class TimeLimitExceeded(Exception):
    """The function did not return within the time limit."""


def _raise(signum: int, frame: object) -> None:
    raise TimeLimitExceeded


def call_with_time_limit(fn: Callable[..., Any], args: tuple, limit: float | None = None) -> Any:
    """``fn(*args)``, or :class:`TimeLimitExceeded` after ``limit`` seconds (default :data:`TIME_LIMIT`)."""
    limit = TIME_LIMIT if limit is None else limit
    if hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread():
        start = time.monotonic()
        previous = signal.signal(signal.SIGALRM, _raise)
        old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if old_delay:  # someone else's alarm: give it back what is left of its time
                left = max(old_delay - (time.monotonic() - start), 1e-3)
                signal.setitimer(signal.ITIMER_REAL, left, old_interval)
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as err:  # handed to the caller below
            box["error"] = err

    worker = threading.Thread(target=run, daemon=True, name="swin_tutor check")
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise TimeLimitExceeded
    if "error" in box:
        raise box["error"]
    return box["value"]
