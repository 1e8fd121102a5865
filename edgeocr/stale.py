"""Temp folders that say who owns them, so leftovers of a killed run are found and removed.

``kill -9`` (or a power cut, or the OOM killer) gives a process no chance to clean up: a
``.out.XXXX.partial/`` beside ``convert --out`` or an ``edgeocr.pull.XXXX/`` with a half-downloaded
tar under ``$EDGEOCR_HOME/models`` stays forever. Every such temp folder gets a lock file holding the
owner's PID and start time (:func:`owned_tempdir`); the next run calls :func:`sweep` on the same
parent and removes the folders whose owner is gone, with one log line each. A folder whose owner
still runs (a concurrent edgeocr) is left alone.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, List, Optional

log = logging.getLogger(__name__)

LOCK_NAME = ".edgeocr.lock"


def _start_time(pid: int) -> Optional[str]:
    """The process start time (clock ticks since boot, /proc/PID/stat field 22), None where unknown.

    Guards against PID reuse: a new process with the old PID has another start time.
    """
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return data.rsplit(")", 1)[-1].split()[19]


def write_lock(folder: Path) -> None:
    """Mark ``folder`` as owned by this process."""
    (folder / LOCK_NAME).write_text(f"{os.getpid()} {_start_time(os.getpid()) or '-'}\n")


def owner_alive(folder: Path) -> Optional[bool]:
    """True/False when ``folder``'s lock names a running/dead process; None without a readable lock."""
    try:
        pid_text, start = (folder / LOCK_NAME).read_text().split()[:2]
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's running process
    now = _start_time(pid)
    return not (start != "-" and now is not None and now != start)


@contextlib.contextmanager
def owned_tempdir(parent: Path, prefix: str, suffix: str = "") -> Iterator[Path]:
    """A temp folder in ``parent`` with a lock file; removed on exit (also on Ctrl-C / SIGTERM)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=str(parent)))
    try:
        write_lock(tmp)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sweep(parent: Path, pattern: str) -> List[Path]:
    """Remove folders ``parent/pattern`` whose owner process is gone; returns what was removed."""
    removed: List[Path] = []
    try:
        candidates = sorted(parent.glob(pattern))
    except OSError:
        return removed
    for folder in candidates:
        if not folder.is_dir() or folder.is_symlink() or owner_alive(folder) is not False:
            continue
        pid = (folder / LOCK_NAME).read_text().split()[0]
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            log.warning("removed %s, left behind by edgeocr process %s that no longer runs (killed?)", folder, pid)
            removed.append(folder)
    return removed
