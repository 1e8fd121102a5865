"""``edgeocr models pull``: fetch the official PP-OCRv2 models, verify them, cache them.

Sources, in order: ``--source`` / ``EDGEOCR_MODEL_SOURCE`` (a local folder holding either the
extracted model folders or their ``.tar`` archives, or an http(s)/file URL of a mirror with the same
file names), else the official PaddleOCR URLs. Every file's sha256 is checked against
:mod:`edgeocr.model_registry`; archives are extracted with tarfile's ``data`` filter (no member may
land outside the target), into a temp dir that is renamed into the cache only when complete.

Cache layout (``$EDGEOCR_HOME/models``) mirrors the release: ``<model>/inference.pdmodel``,
``<model>/inference.pdiparams``, ``ppocr_keys_v1.txt``.
"""
from __future__ import annotations

import http.client
import logging
import os
import shutil
import tarfile
import tempfile
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
from .home import edgeocr_home
from .model_registry import REGISTRY, ModelEntry

log = logging.getLogger(__name__)

SOURCE_ENV = "EDGEOCR_MODEL_SOURCE"
DOWNLOAD_TIMEOUT_S = 30


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
    root = models_dir()
    root.mkdir(parents=True, exist_ok=True)
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


def _fetch(entry: ModelEntry, source: Optional[str], target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="edgeocr.pull.", dir=str(target.parent)) as tmp:
        staging = Path(tmp) / "files"
        staging.mkdir()
        _acquire(entry, source, staging, Path(tmp))
        verify_files(entry, staging)
        if entry.archive:
            with atomic_dir(target, force=True) as out:
                for name in entry.files:
                    shutil.move(str(staging / name), str(out / name))
        else:
            os.replace(staging / entry.name, target)
    log.info("%s: pulled into %s", entry.name, target)


def _acquire(entry: ModelEntry, source: Optional[str], staging: Path, tmp: Path) -> None:
    """Put ``entry``'s files into ``staging`` from a folder, a mirror URL or the official URL."""
    if source and not _is_url(source):
        src = Path(source).expanduser()
        if not src.is_dir():
            raise InputError("model source is not a directory or an http(s)/file URL", src)
        folder, archive = src / entry.name, src / entry.archive_name
        if entry.archive and folder.is_dir():
            for name in entry.files:
                if (folder / name).is_file():
                    shutil.copyfile(folder / name, staging / name)
            return
        if not entry.archive and folder.is_file():
            shutil.copyfile(folder, staging / entry.name)
            return
        if entry.archive and archive.is_file():
            _extract(entry, archive, staging)
            return
        raise InputError(f"has neither {entry.name}/ nor {entry.archive_name}", src)
    if source:
        file_name = entry.archive_name if entry.archive else entry.name
        url = source.rstrip("/") + "/" + urllib.parse.quote(file_name)
    else:
        url = entry.url
    download = tmp / (entry.archive_name if entry.archive else entry.name)
    _download(url, download)
    if entry.archive:
        _extract(entry, download, staging)
    else:
        os.replace(download, staging / entry.name)


def _is_url(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in ("http", "https", "file")


def _download(url: str, dest: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp, open(dest, "wb") as fh:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, leave=False, disable=None) as bar:
                for block in iter(lambda: resp.read(1 << 16), b""):
                    fh.write(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as exc:
        raise SourceUnavailableError(f"download failed: HTTP {exc.code} {exc.reason}", url) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceUnavailableError(
            f"cannot download ({reason}); without network pass --source DIR_OR_URL (a folder or mirror with the "
            f"model folders or .tar files) or set {SOURCE_ENV}",
            url,
        ) from None


def _extract(entry: ModelEntry, archive: Path, staging: Path) -> None:
    """Extract the registered files of ``entry`` from ``archive`` (members outside ``staging`` rejected)."""
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
        raise InputError(f"is not a readable tar archive ({exc})", archive) from None


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
