"""One validation layer for every command line option, run by click before any work starts.

Why a module of its own: ``ocr``, ``convert``, ``eval``, ``bench``, ``report``, ``models`` and
``device`` all take thread counts, input paths, output paths and comma lists. Checking them in one
place gives every command the same one-line errors (option, value, valid range) and closes whole
classes of hostile input at once: a FIFO that blocks ``read()`` forever, a 300-character file name,
a folder where a file is expected, ``--out`` equal to (or inside, or around) an input that
``--force`` would delete, a list naming one entry twice, ``--threads 1024`` on 2 cores.

Everything here raises :class:`click.BadParameter` (shown by the CLI as one line, exit 2) or
:class:`~edgeocr.errors.ConfigError` (for checks across several options, exit 1).
"""
from __future__ import annotations

import logging
import math
import os
import stat
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence, Tuple, Type

import click

from .errors import ConfigError
from .stage_params import field_range

log = logging.getLogger(__name__)

# More threads than this many per core only add contention (and `--threads 1024` made onnxruntime
# spin for minutes, deaf to Ctrl-C); above one per core we warn.
MAX_THREADS_PER_CORE = 4
# POSIX NAME_MAX on every filesystem we meet (ext4, f2fs on phones, tmpfs).
NAME_MAX = 255


def usable_cores() -> int:
    """Cores this process may run on (affinity mask, e.g. taskset), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def check_threads(value: int, name: str = "--threads") -> int:
    """``1 <= value <= MAX_THREADS_PER_CORE * cores``; warns above the core count."""
    cores = usable_cores()
    top = MAX_THREADS_PER_CORE * cores
    if not 1 <= value <= top:
        raise click.BadParameter(f"{value} is out of range; valid: 1..{top} ({MAX_THREADS_PER_CORE} x {cores} cores)",
                                 param_hint=f"'{name}'")
    if value > cores:
        log.warning("%s %d is more than the %d cores here: threads will compete, expect slower runs", name, value, cores)
    return value


class ThreadCount(click.ParamType):
    """An inference thread count: an integer in ``1..4 x cores``."""

    name = "threads"

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            n = value
        else:
            try:
                n = int(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not an integer", param, ctx)
        return check_threads(n, _flag(param))


class ThreadList(click.ParamType):
    """A comma list of thread counts (``1,2,4``), each in ``1..4 x cores``, no duplicates."""

    name = "threads,..."

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> Tuple[int, ...]:
        if isinstance(value, tuple):
            return value
        items = split_list(str(value), _flag(param))
        out = []
        for item in items:
            try:
                out.append(int(item))
            except ValueError:
                self.fail(f"{item!r} in {value!r} is not an integer; expected e.g. 1,2", param, ctx)
        return tuple(check_threads(n, _flag(param)) for n in out)


class CommaList(click.ParamType):
    """``a,b,c`` -> ``("a", "b", "c")``: no empty list, no duplicates, optionally from ``choices``."""

    name = "list"

    def __init__(self, choices: Optional[Sequence[str]] = None, extra: Sequence[str] = ()) -> None:
        self.choices = tuple(choices) if choices is not None else None
        self.extra = tuple(extra)  # accepted alone, e.g. "all"

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> Tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        items = split_list(str(value), _flag(param))
        if self.choices is not None:
            if len(items) == 1 and items[0] in self.extra:
                return items
            unknown = [i for i in items if i not in self.choices]
            if unknown:
                self.fail(f"unknown {', '.join(map(repr, unknown))}; valid: {', '.join(self.choices + self.extra)}",
                          param, ctx)
        return items


def split_list(text: str, name: str) -> Tuple[str, ...]:
    """Split a comma list; an empty list or an entry given twice is a one-line error naming ``name``."""
    items = tuple(t.strip() for t in text.split(",") if t.strip())
    if not items:
        raise click.BadParameter(f"{text!r} is an empty list", param_hint=f"'{name}'")
    seen = set()
    for item in items:
        if item in seen:
            raise click.BadParameter(f"{item!r} is given twice in {text!r}", param_hint=f"'{name}'")
        seen.add(item)
    return items


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange that also refuses nan and inf (``nan < x`` is False, so a range alone lets it in)."""

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


def param_range_type(cls: Type[Any], field: str, kind: type) -> click.ParamType:
    """A click int/float range for field ``field`` of a stage_params class (the range defined once there)."""
    rng = field_range(cls, field)
    if rng is None:
        return click.INT if kind is int else click.FLOAT
    if kind is int:
        return click.IntRange(int(rng.lo) + (1 if rng.lo_open else 0), int(rng.hi))
    return FiniteFloatRange(rng.lo, rng.hi, min_open=rng.lo_open)


def seconds_type(max_s: float = 7 * 24 * 3600.0) -> click.FloatRange:
    """A duration in seconds: ``0 < s <= max_s`` (0 or negative would mean "stop at once")."""
    return FiniteFloatRange(0.0, max_s, min_open=True)


# ----------------------------------------------------------------------------------------------
# Paths
# ----------------------------------------------------------------------------------------------


def describe_special(mode: int) -> Optional[str]:
    """``"a named pipe (FIFO)"`` etc. for non-regular, non-directory files, else None."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO); reading it could block forever"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return None


def check_name_lengths(path: Path) -> Optional[str]:
    """A problem with the length of a path component, or None."""
    for part in path.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            return f"has a file name of {len(os.fsencode(part))} bytes; the limit is {NAME_MAX}"
    return None


def check_input_path(path: Path, kind: str = "any", readable: bool = True) -> Optional[str]:
    """Why ``path`` cannot be read as a ``kind`` ("file", "dir", "any"), or None if it can."""
    if str(path) == "":
        return "is an empty path"
    problem = check_name_lengths(path)
    if problem:
        return problem
    try:
        st = path.stat()
    except FileNotFoundError:
        return "does not exist"
    except NotADirectoryError:
        return "does not exist (a part of the path is a file, not a folder)"
    except PermissionError:
        return "cannot be accessed (permission denied on a parent folder)"
    except OSError as exc:
        return f"cannot be accessed ({exc.strerror or exc})"
    special = describe_special(st.st_mode)
    if special:
        return f"is {special}, not a regular file or folder"
    is_dir = stat.S_ISDIR(st.st_mode)
    if kind == "file" and is_dir:
        return "is a folder, expected a file"
    if kind == "dir" and not is_dir:
        return "is a file, expected a folder"
    if readable and not os.access(path, os.R_OK | (os.X_OK if is_dir else 0)):
        return "is not readable (permission denied)"
    return None


def check_output_path(path: Path, kind: str = "file") -> Optional[str]:
    """Why ``path`` cannot be written as a ``kind`` ("file" or "dir"), or None if it can.

    The path may not exist yet; its nearest existing ancestor must be a writable folder.
    """
    if str(path).strip() == "":
        return "is an empty path"
    problem = check_name_lengths(path)
    if problem:
        return problem
    if path.name in ("", ".", ".."):
        return "names no file or folder of its own ('.' or '..'); give a new folder name"
    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        return "cannot be created: a part of the path is a file, not a folder"
    except OSError as exc:
        return f"cannot be accessed ({exc.strerror or exc})"
    if st is not None:
        special = describe_special(st.st_mode)
        if special:
            return f"is {special}; refusing to write to it"
        if kind == "file" and stat.S_ISDIR(st.st_mode):
            return "is a folder, expected a file name"
        if kind == "dir" and not stat.S_ISDIR(st.st_mode):
            return "is a file, expected a folder"
        if not os.access(path, os.W_OK):
            return "is not writable (permission denied or read-only file system)"
    parent = _nearest_existing(path.parent)
    if not parent.is_dir():
        return f"cannot be created: {parent} is a file, not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot be created: {parent} is not writable (permission denied or read-only file system)"
    return None


def _nearest_existing(path: Path) -> Path:
    path = path if str(path) else Path(".")
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


class InputPath(click.ParamType):
    """An existing, readable path of the right kind that is not a FIFO, device or socket."""

    name = "path"

    def __init__(self, kind: str = "any") -> None:
        self.kind = kind
        self.name = {"file": "file", "dir": "dir"}.get(kind, "path")

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> Path:
        if str(value).strip() == "":
            self.fail("'' is an empty path", param, ctx)
        path = Path(os.path.expanduser(str(value)))
        problem = check_input_path(path, self.kind)
        if problem:
            self.fail(f"{str(value)!r} {problem}", param, ctx)
        return path


class OutputPath(click.ParamType):
    """A path edgeocr may create or replace: right kind if it exists, writable folder above it."""

    def __init__(self, kind: str = "file") -> None:
        self.kind = kind
        self.name = "dir" if kind == "dir" else "file"

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> Path:
        if str(value).strip() == "":
            self.fail("'' is an empty path", param, ctx)
        path = Path(os.path.expanduser(str(value)))
        problem = check_output_path(path, self.kind)
        if problem:
            self.fail(f"{str(value)!r} {problem}", param, ctx)
        return path


def _resolve(path: Path) -> Path:
    return Path(os.path.realpath(os.path.expanduser(str(path)) or "."))


def check_separate(out: Tuple[str, Optional[Path]], inputs: Iterable[Tuple[str, Optional[Path]]],
                   replaces_folder: bool = False) -> None:
    """``out`` must not be, be inside, or contain any input (``--force`` would delete the input).

    With ``replaces_folder`` (``convert --out``: the whole folder is replaced) an output that is or
    contains the working directory or the home folder is refused too. Names both options and paths
    in a :class:`ConfigError`.
    """
    out_name, out_path = out
    if out_path is None:
        return
    o = _resolve(out_path)
    for name, where in (("the current folder", Path.cwd()), ("your home folder", Path.home())) if replaces_folder else ():
        if o == _resolve(where) or _inside(_resolve(where), o):
            raise ConfigError(f"{out_name} {out_path} is or contains {name} ({where}); choose a new folder for the output")
    for name, path in inputs:
        if path is None:
            continue
        i = _resolve(path)
        if o == i:
            raise ConfigError(f"{out_name} {out_path} is the same path as {name} {path}; choose another output")
        if _inside(o, i):
            raise ConfigError(f"{out_name} {out_path} is inside {name} {path}; choose an output outside it")
        if _inside(i, o):
            raise ConfigError(f"{out_name} {out_path} contains {name} {path}; replacing it would delete that input")


def _inside(child: Path, parent: Path) -> bool:
    return parent in child.parents


def check_unique_paths(name: str, paths: Sequence[Path]) -> None:
    """The same file given twice in a list argument is a :class:`ConfigError` naming it."""
    seen = {}
    for p in paths:
        key = _resolve(p)
        if key in seen:
            raise ConfigError(f"{name}: {p} is given twice (same file as {seen[key]})")
        seen[key] = p


def _flag(param: Optional[click.Parameter]) -> str:
    if param is None:
        return "value"
    opts = getattr(param, "opts", None) or [param.name or "value"]
    return max(opts, key=len)
