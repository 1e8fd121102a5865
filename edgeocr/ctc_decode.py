"""CTC greedy decoding with PaddleOCR's character list (``CTCLabelDecode``, PaddleOCR 2.7.3).

Class 0 is the CTC blank, classes 1..N are the dictionary lines in file order, and with
``use_space_char`` the last class is a space. Decoding takes the arg-max per time step, removes
repeats, drops blanks, and scores a line as the mean probability of the kept steps (0 if none).
"""
from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import List, Optional, Tuple, Union

import numpy as np

from .errors import InputError, ModelFormatError

log = logging.getLogger(__name__)

BLANK = "blank"
_BOM = "\ufeff"


def load_character_list(dict_path: Union[str, Path], use_space_char: bool) -> List[str]:
    """``["blank", *dictionary lines, (" ")]`` exactly as ``BaseRecLabelDecode`` builds it."""
    path = Path(dict_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the recognizer dictionary: {exc.strerror}", path) from None
    chars = []
    for lineno, line in enumerate(io.BytesIO(raw).readlines(), 1):  # split on b"\n" only, like PaddleOCR
        try:
            chars.append(line.decode("utf-8").strip("\n").strip("\r\n"))
        except UnicodeDecodeError as exc:
            raise InputError(f"the recognizer dictionary is not UTF-8 (line {lineno}: {exc.reason})", path) from None
    if chars and chars[0].startswith(_BOM):
        # A UTF-8 BOM (Windows editors add one) would become part of entry 1 and shift nothing but
        # silently break that character; strip it and say so.
        chars[0] = chars[0][len(_BOM):]
        log.warning("%s: the dictionary starts with a UTF-8 BOM; stripped it (save the file without BOM)", path)
    seen = {}
    for i, c in enumerate(chars, 1):
        if c in seen:
            log.warning("%s: dictionary entry %r on line %d repeats line %d; the recognizer can never output "
                        "the later one", path, c, i, seen[c])
            break
        seen[c] = i
    if use_space_char:
        chars.append(" ")
    return [BLANK] + chars


class CTCDecoder:
    """Greedy CTC decoder over a fixed character list."""

    def __init__(self, characters: List[str], dictionary: Optional[Union[str, Path]] = None) -> None:
        self.characters = characters
        self.dictionary = dictionary
        self._lookup = np.array(characters, dtype=object)

    @property
    def num_classes(self) -> int:
        return len(self.characters)

    def __call__(self, probs: np.ndarray) -> List[Tuple[str, float]]:
        """``[N, T, C]`` float32 softmax -> ``(text, score)`` per row; score is a Python float."""
        if probs.ndim != 3 or probs.shape[2] != self.num_classes:
            classes = probs.shape[2] if probs.ndim == 3 else None
            raise ModelFormatError(
                f"has {self.num_classes - 2} entries (+ blank + space = {self.num_classes} classes) but the "
                f"recognizer outputs {classes} classes (shape {list(probs.shape)}); use the dictionary the rec "
                "model was trained with", self.dictionary)
        idx = probs.argmax(axis=2)
        # The probability at the arg-max is the max: one pass over [N, T, C] instead of two.
        prob = np.take_along_axis(probs, idx[:, :, np.newaxis], axis=2)[:, :, 0]
        results = []
        for row_idx, row_prob in zip(idx, prob):
            keep = np.ones(len(row_idx), dtype=bool)
            keep[1:] = row_idx[1:] != row_idx[:-1]
            keep &= row_idx != 0
            text = "".join(self._lookup[row_idx[keep]])
            conf = row_prob[keep]
            score = np.mean(conf).tolist() if len(conf) else 0.0
            results.append((text, float(score)))
        return results
