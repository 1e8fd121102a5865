"""Write files and directories so that a crash or Ctrl-C never leaves half of one behind.

Everything edgeocr writes goes to a temporary sibling first and is renamed into place at the end
(``os.replace`` is atomic on one filesystem), as ai-hub-models' ``download_model`` does.
Temp names carry the owner's PID (files) or a lock file (folders, :mod:`edgeocr.stale`), so the
leftovers of a killed run (kill -9) are removed by the next run that writes the same output.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator, Union

from . import stale
from .errors import InputError, OutputExistsError

PathLike = Union[str, Path]


@contextlib.contextmanager
def atomic_file(path: PathLike, mode: str = "w", encoding: str = "utf-8") -> Iterator[Any]:
    """Open a temp file beside ``path``; on success rename it to ``path``, on error delete it."""
    path = Path(path)
    _check_writable_parent(path)
    _sweep_files(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.pid{os.getpid()}-", suffix=".tmp", dir=str(path.parent))
    os.close(fd)
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding}
        with open(tmp, mode, **kwargs) as fh:
            yield fh
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: PathLike, data: Any) -> None:
    """Atomically write ``data`` as indented UTF-8 JSON (non-ASCII kept readable)."""
    with atomic_file(path) as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, sort_keys=False)
        fh.write("\n")


def write_text(path: PathLike, text: str) -> None:
    """Atomically write a text file."""
    with atomic_file(path) as fh:
        fh.write(text)


@contextlib.contextmanager
def atomic_dir(path: PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temp directory beside ``path``; on success it replaces ``path``.

    An existing ``path`` is an error unless ``force``; with ``force`` the old directory is only
    removed after the new one is complete, so an interrupted run keeps the previous output.
    """
    path = Path(path)
    if path.exists() and not force:
        raise OutputExistsError("already exists; pass --force to replace it", path)
    _check_writable_parent(path)
    sweep_partials(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=str(path.parent)))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700
    try:
        stale.write_lock(tmp)
        yield tmp
        (tmp / stale.LOCK_NAME).unlink()
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def sweep_partials(path: PathLike) -> None:
    """Remove ``.<name>.*.partial`` temp folders beside ``path`` left by dead processes."""
    path = Path(path)
    stale.sweep(path.parent if str(path.parent) else Path("."), f".{glob_escape(path.name)}.*.partial")


def glob_escape(name: str) -> str:
    """``name`` with glob metacharacters escaped (an output may be called ``out[1]``)."""
    import glob

    return glob.escape(name)


def _sweep_files(path: Path) -> None:
    """Remove ``.<name>.pidN-*.tmp`` files of :func:`atomic_file` whose process N is gone."""
    for tmp in path.parent.glob(f".{glob_escape(path.name)}.pid*-*.tmp"):
        try:
            pid = int(tmp.name[len(path.name) + 5:].split("-", 1)[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                tmp.unlink()
                stale.log.warning("removed %s, left behind by edgeocr process %d that no longer runs", tmp, pid)
        except (ValueError, OSError):
            continue


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_writable_parent(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create directory: {exc.strerror}", parent) from None
    if not os.access(parent, os.W_OK):
        raise InputError("directory is not writable", parent)
