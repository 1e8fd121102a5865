"""``edgeocr models pull``: fetch the official PP-OCRv2 models, verify them, cache them.

Sources, in order: ``--source`` / ``EDGEOCR_MODEL_SOURCE`` (a local folder holding either the
extracted model folders or their ``.tar`` archives, or an http(s)/file URL of a mirror with the same
file names), else the official PaddleOCR URLs. Every file's sha256 is checked against
:mod:`edgeocr.model_registry`; archives are extracted with tarfile's ``data`` filter (no member may
land outside the target), into a temp dir that is renamed into the cache only when complete.

Cache layout (``$EDGEOCR_HOME/models``) mirrors the release: ``<model>/inference.pdmodel``,
``<model>/inference.pdiparams``, ``ppocr_keys_v1.txt``.

A hostile or broken mirror cannot fill the disk or hang the pull: a download may not exceed the size
the registry knows for it (checked against Content-Length first, then while reading), must make
progress (at least :data:`STALL_MIN_BYTES` every :data:`STALL_WINDOW_S` seconds, so a server
trickling one byte every 10 s is given up on) and finish within :data:`DOWNLOAD_DEADLINE_S`; an HTML
page or a body shorter than its Content-Length is reported as such, with byte counts. Temp folders
carry a lock file (:mod:`edgeocr.stale`): those of a killed pull are removed by the next one.
"""
from __future__ import annotations

import http.client
import logging
import os
import shutil
import socket
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import click
from tqdm import tqdm

from .atomic_io import atomic_dir
from .errors import ChecksumError, ConfigError, InputError, SourceUnavailableError
from .hashing import sha256_file
from .home import edgeocr_home, home_subdir
from .stale import owned_tempdir, sweep
from .model_registry import REGISTRY, ModelEntry

log = logging.getLogger(__name__)

SOURCE_ENV = "EDGEOCR_MODEL_SOURCE"
DOWNLOAD_TIMEOUT_S = 30  # per read: no byte for this long = stalled
STALL_WINDOW_S = 30.0  # ... and at least STALL_MIN_BYTES per window (a 1-byte-per-10-s trickle fails)
STALL_MIN_BYTES = 16 * 1024
DOWNLOAD_DEADLINE_S = 900.0  # a whole file (the largest is 8.3 MB): ~9 KB/s at worst
# A tar holds the registered files plus headers and small .info files.
ARCHIVE_SLACK_BYTES = 1 << 20
PULL_TMP_PREFIX = "edgeocr.pull."


def models_dir() -> Path:
    """Where pulled models live: ``$EDGEOCR_HOME/models``."""
    return edgeocr_home() / "models"


def cached_path(entry: ModelEntry, root: Optional[Path] = None) -> Path:
    """Path of a pulled model folder (or the dictionary file) inside ``root`` (default: the cache)."""
    return (root or models_dir()) / entry.name


def is_cached(entry: ModelEntry, root: Optional[Path] = None) -> bool:
    """True when every registered file is present with the right size and sha256."""
    try:
        verify_files(entry, _files_dir(entry, cached_path(entry, root)))
    except (ChecksumError, InputError):
        return False
    return True


def verify_files(entry: ModelEntry, folder: Path) -> None:
    """Raise :class:`ChecksumError` / :class:`InputError` unless ``folder`` holds ``entry``'s exact files."""
    for name, (size, digest) in entry.files.items():
        path = folder / name
        if not path.is_file():
            raise InputError(f"missing (expected {size} bytes for {entry.name})", path)
        actual_size = path.stat().st_size
        if actual_size != size:
            raise ChecksumError(f"has {actual_size} bytes, expected {size} (truncated or wrong file?)", path)
        actual = sha256_file(path)
        if actual != digest:
            raise ChecksumError(f"sha256 {actual[:16]}… does not match the registry's {digest[:16]}…", path)


def pull(names: Iterable[str] = (), source: Optional[str] = None, force: bool = False) -> Dict[str, Path]:
    """Fetch ``names`` (default: all registered models) into the cache and return their paths."""
    wanted = list(names) or list(REGISTRY)
    unknown = [n for n in wanted if n not in REGISTRY]
    if unknown:
        raise ConfigError(f"unknown model(s) {unknown}; known: {', '.join(REGISTRY)}")
    source = source if source is not None else os.environ.get(SOURCE_ENV) or None
    root = home_subdir("models")
    sweep(root, PULL_TMP_PREFIX + "*")  # leftovers of a pull that was killed (kill -9)
    paths = {}
    for name in wanted:
        entry = REGISTRY[name]
        target = cached_path(entry)
        if not force and is_cached(entry):
            log.info("%s: cached and verified", name)
        else:
            _fetch(entry, source, target)
        paths[name] = target
    return paths


def _files_dir(entry: ModelEntry, path: Path) -> Path:
    return path if entry.archive else path.parent


def max_download_bytes(entry: ModelEntry) -> int:
    """The most bytes a download of ``entry`` may have: its files' sizes (+ tar overhead for archives)."""
    total = sum(size for size, _ in entry.files.values())
    return total + ARCHIVE_SLACK_BYTES + total // 10 if entry.archive else total


def _fetch(entry: ModelEntry, source: Optional[str], target: Path) -> None:
    with owned_tempdir(target.parent, prefix=PULL_TMP_PREFIX) as tmp:
        staging = Path(tmp) / "files"
        staging.mkdir()
        label = _acquire(entry, source, staging, Path(tmp))
        try:
            verify_files(entry, staging)
        except (ChecksumError, InputError) as exc:
            # Name what the user gave (archive, folder or URL), not the temp folder deleted below.
            member = Path(exc.path).name if exc.path else entry.name
            exc.path = f"{label} ({member})" if entry.archive else label
            raise
        if entry.archive:
            with atomic_dir(target, force=True) as out:
                for name in entry.files:
                    shutil.move(str(staging / name), str(out / name))
        else:
            os.replace(staging / entry.name, target)
    log.info("%s: pulled into %s", entry.name, target)


def _acquire(entry: ModelEntry, source: Optional[str], staging: Path, tmp: Path) -> str:
    """Put ``entry``'s files into ``staging`` from a folder, a mirror URL or the official URL.

    Returns what the files came from (folder, archive or URL), for error messages.
    """
    if source and not _is_url(source):
        src = Path(source).expanduser()
        if not src.is_dir():
            raise InputError("model source is not a directory or an http(s)/file URL", src)
        folder, archive = src / entry.name, src / entry.archive_name
        if entry.archive and folder.is_dir():
            for name in entry.files:
                if (folder / name).is_file():
                    shutil.copyfile(folder / name, staging / name)
            return str(folder)
        if not entry.archive and folder.is_file():
            shutil.copyfile(folder, staging / entry.name)
            return str(folder)
        if entry.archive and archive.is_file():
            _extract(entry, archive, staging)
            return str(archive)
        raise InputError(f"has neither {entry.name}/ nor {entry.archive_name}", src)
    if source:
        file_name = entry.archive_name if entry.archive else entry.name
        url = source.rstrip("/") + "/" + urllib.parse.quote(file_name)
    else:
        url = entry.url
    download = tmp / (entry.archive_name if entry.archive else entry.name)
    _download(url, download, max_download_bytes(entry))
    if entry.archive:
        _extract(entry, download, staging, label=url)
    else:
        os.replace(download, staging / entry.name)
    return url


def _is_url(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in ("http", "https", "file")


def _download(url: str, dest: Path, max_bytes: int) -> None:
    """Fetch ``url`` into ``dest``: at most ``max_bytes``, never stalled, complete. Errors name the URL."""
    got, length = 0, None
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp, open(dest, "wb") as fh:
            ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype in ("text/html", "application/xhtml+xml"):
                raise SourceUnavailableError(
                    f"answered with an HTML page ({ctype}), not the file; is the mirror URL right?", url)
            length = int(resp.headers.get("Content-Length") or 0) or None
            if length is not None and length > max_bytes:
                raise SourceUnavailableError(
                    f"announces {length} bytes, more than the {max_bytes} this file can have; refusing it", url)
            start = window_start = time.monotonic()
            window_bytes = 0
            with tqdm(total=length, unit="B", unit_scale=True, desc=dest.name, leave=False, disable=None) as bar:
                # read1: whatever arrived (up to 64 KiB); read(n) would wait for all n bytes, so a server
                # trickling one byte at a time would never reach the stall check below.
                read = getattr(resp, "read1", resp.read)
                for block in iter(lambda: read(1 << 16), b""):
                    got += len(block)
                    if got > max_bytes:
                        raise SourceUnavailableError(
                            f"sent more than {max_bytes} bytes, the most this file can have; stopped (a broken or "
                            "hostile mirror)", url)
                    fh.write(block)
                    bar.update(len(block))
                    now = time.monotonic()
                    window_bytes += len(block)
                    if now - start > DOWNLOAD_DEADLINE_S:
                        raise SourceUnavailableError(
                            f"download did not finish within {DOWNLOAD_DEADLINE_S:.0f} s ({got} bytes so far)", url)
                    if now - window_start >= STALL_WINDOW_S:
                        if window_bytes < STALL_MIN_BYTES:
                            raise SourceUnavailableError(
                                f"download stalled: {window_bytes} bytes in the last {now - window_start:.0f} s "
                                f"({got} bytes so far); the mirror is too slow or stuck", url)
                        window_start, window_bytes = now, 0
    except urllib.error.HTTPError as exc:
        raise SourceUnavailableError(f"download failed: HTTP {exc.code} {exc.reason}", url) from None
    except http.client.IncompleteRead as exc:
        raise SourceUnavailableError(
            f"download truncated ({got + len(exc.partial)} of {length or got + len(exc.partial) + (exc.expected or 0)} "
            "bytes): the connection closed early", url) from None
    except (socket.timeout, TimeoutError):
        raise SourceUnavailableError(
            f"download stalled: no data for {DOWNLOAD_TIMEOUT_S} s ({got} bytes so far)", url) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        if isinstance(exc, OSError) and exc.filename:  # a local write error (disk full...), not the network
            raise
        reason = getattr(exc, "reason", exc)
        raise SourceUnavailableError(
            f"cannot download ({reason}); without network pass --source DIR_OR_URL (a folder or mirror with the "
            f"model folders or .tar files) or set {SOURCE_ENV}",
            url,
        ) from None
    if length is not None and got < length:
        raise SourceUnavailableError(f"download truncated ({got} of {length} bytes): the connection closed early", url)


def _extract(entry: ModelEntry, archive: Path, staging: Path, label: Optional[str] = None) -> None:
    """Extract the registered files of ``entry`` from ``archive`` (members outside ``staging`` rejected).

    ``label`` names the archive in errors (the URL of a download, not its deleted temp path).
    """
    try:
        with tarfile.open(archive) as tar:
            members: List[tarfile.TarInfo] = []
            for member in tar.getmembers():
                base = os.path.basename(member.name)
                if base in entry.files and member.isfile():
                    member.name = base  # flatten "<model>/inference.pdmodel" into staging
                    members.append(member)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(staging, members=members, filter="data")
            else:  # Python < 3.8.17 without extraction filters: names were flattened above
                tar.extractall(staging, members=members)
    except (tarfile.TarError, EOFError) as exc:
        raise InputError(f"is not a readable tar archive ({exc})", label or archive) from None


@click.group("models")
def models_group() -> None:
    """Fetch and list the official PP-OCRv2 models (sha256-verified, cached in $EDGEOCR_HOME/models)."""


@models_group.command("pull")
@click.argument("names", nargs=-1)
@click.option(
    "--source",
    metavar="DIR_OR_URL",
    help=f"Folder with the model folders or .tar files, or an http(s)/file URL of a mirror. "
    f"Default: ${SOURCE_ENV}, else the official PaddleOCR URLs (needs network).",
)
@click.option("--force", is_flag=True, help="Download again even if the cache verifies.")
def pull_command(names: List[str], source: Optional[str], force: bool) -> None:
    """Pull NAMES (default: all of `edgeocr models list`) into the cache and verify their sha256."""
    for name, path in pull(names, source=source, force=force).items():
        click.echo(f"{name}\t{path}")


@models_group.command("list")
def list_command() -> None:
    """Show every registered model, whether it is cached (and verified), and its official URL."""
    for name, entry in REGISTRY.items():
        state = "cached" if is_cached(entry) else "missing"
        click.echo(f"{name:36s} {entry.kind:4s} {state:8s} {entry.url}")
