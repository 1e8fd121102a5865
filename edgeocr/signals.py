"""SIGTERM (``kill``, ``timeout``, systemd, CI cancel) takes the same cleanup path as Ctrl-C.

Python's default SIGTERM action kills the process without unwinding, so ``atomic_dir`` /
``atomic_file`` never remove their temp files. :func:`handle_sigterm` turns SIGTERM into
:class:`Terminated`, a :class:`KeyboardInterrupt`: every ``except BaseException`` /
``finally`` cleanup that works for Ctrl-C works for SIGTERM too, and the CLI exits 143 (128 + 15)
as a shell expects. kill -9 cannot be caught: :mod:`edgeocr.stale` removes what it leaves behind.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Iterator

EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated(f"received signal {signum}")


def reassert_handlers() -> None:
    """Re-install Python's SIGTERM/SIGINT handlers at the C level.

    Paddle Inference installs its own C signal handlers (``sigaction``) when it creates a predictor,
    behind Python's back: SIGTERM then prints "FatalError: Termination signal" and kills the process
    (-15) with the temp folders still there. Called after every backend is created.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        handler = signal.getsignal(signum)
        if callable(handler):
            signal.signal(signum, handler)


@contextlib.contextmanager
def handle_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
