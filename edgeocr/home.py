"""Where edgeocr keeps caches: ``EDGEOCR_HOME`` (default ``~/.cache/edgeocr``).

Layout::

    $EDGEOCR_HOME/models/<name>/...        verified models from `edgeocr models pull`
    $EDGEOCR_HOME/lite-envs/<version>/     one small venv per Paddle-Lite version (paddle_lite_opt + runtime)
    $EDGEOCR_HOME/device-wheels/...        aarch64 wheels downloaded for `edgeocr device prepare`
"""
from __future__ import annotations

import os
from pathlib import Path


def edgeocr_home() -> Path:
    """Return the cache root, honouring ``EDGEOCR_HOME``; it is created on first use by callers."""
    env = os.environ.get("EDGEOCR_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "edgeocr"
