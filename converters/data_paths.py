"""Where the labelled test sets (accuracy gate) and the calibration sets (int8) live.

Never derived from the package's own location: an installed edgeocr has no ``../shared`` beside it.
The caller passes the folder (``--gate-data`` / ``--calibration-data``) or sets ``EDGEOCR_DATA``
(the Makefile points it at ``../shared/data``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

from edgeocr.errors import ConfigError, InputError

DATA_ENV = "EDGEOCR_DATA"
# Calibration sets (training images only) inside the data folder.
DET_CALIB_SUBDIR = Path("icdar2015_train_calib") / "images"
REC_CALIB_SUBDIR = Path("icdar2015_rec_train_calib")


def resolve_data_root(explicit: Optional[Union[str, Path]], option: str) -> Path:
    """``explicit`` or ``$EDGEOCR_DATA``; a clear error naming ``option`` when neither is set."""
    value = explicit or os.environ.get(DATA_ENV)
    if not value:
        raise ConfigError(f"quantized variants need labelled data: pass {option} DIR or set {DATA_ENV}")
    root = Path(value)
    if not root.is_dir():
        raise InputError(f"data folder for {option} does not exist", root)
    return root
