"""Write files and directories so that a crash or Ctrl-C never leaves half of one behind.

Everything edgeocr writes goes to a temporary sibling first and is renamed into place at the end
(``os.replace`` is atomic on one filesystem), as ai-hub-models' ``download_model`` does.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator, Union

from .errors import InputError, OutputExistsError

PathLike = Union[str, Path]


@contextlib.contextmanager
def atomic_file(path: PathLike, mode: str = "w", encoding: str = "utf-8") -> Iterator[Any]:
    """Open a temp file beside ``path``; on success rename it to ``path``, on error delete it."""
    path = Path(path)
    _check_writable_parent(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
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
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=str(path.parent)))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700
    try:
        yield tmp
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
