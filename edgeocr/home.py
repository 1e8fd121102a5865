"""Where edgeocr keeps caches: ``EDGEOCR_HOME`` (default ``~/.cache/edgeocr``).

Layout::

    $EDGEOCR_HOME/models/<name>/...        verified models from `edgeocr models pull`
    $EDGEOCR_HOME/lite-envs/<version>/     one small venv per Paddle-Lite version (paddle_lite_opt + runtime)
    $EDGEOCR_HOME/device-wheels/...        aarch64 wheels downloaded for `edgeocr device prepare`
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import InputError


def edgeocr_home() -> Path:
    """Return the cache root, honouring ``EDGEOCR_HOME``; it is created on first use by callers."""
    env = os.environ.get("EDGEOCR_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "edgeocr"


def home_subdir(*parts: str) -> Path:
    """``$EDGEOCR_HOME/<parts>``, created; one :class:`InputError` naming EDGEOCR_HOME if it cannot be.

    ``EDGEOCR_HOME`` pointing at a file or a read-only mount used to end in a traceback.
    """
    home = edgeocr_home()
    path = home.joinpath(*parts)
    where = f"EDGEOCR_HOME={os.environ['EDGEOCR_HOME']}" if os.environ.get("EDGEOCR_HOME") else "the cache folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"is not a folder ({where}); point EDGEOCR_HOME at a writable folder", path) from None
    except NotADirectoryError:
        raise InputError(f"cannot be created: a part of it is a file ({where}); point EDGEOCR_HOME at a folder",
                         path) from None
    except OSError as exc:
        raise InputError(f"cannot be created ({exc.strerror or exc}; {where}); point EDGEOCR_HOME at a writable "
                         "folder", path) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(f"is not writable ({where}); point EDGEOCR_HOME at a writable folder", path)
    return path
