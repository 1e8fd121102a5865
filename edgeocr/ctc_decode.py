"""CTC greedy decoding with PaddleOCR's character list (``CTCLabelDecode``, PaddleOCR 2.7.3).

Class 0 is the CTC blank, classes 1..N are the dictionary lines in file order, and with
``use_space_char`` the last class is a space. Decoding takes the arg-max per time step, removes
repeats, drops blanks, and scores a line as the mean probability of the kept steps (0 if none).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import List, Tuple, Union

import numpy as np

from .errors import InputError

BLANK = "blank"


def load_character_list(dict_path: Union[str, Path], use_space_char: bool) -> List[str]:
    """``["blank", *dictionary lines, (" ")]`` exactly as ``BaseRecLabelDecode`` builds it."""
    path = Path(dict_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the recognizer dictionary: {exc.strerror}", path) from None
    chars = []
    for line in io.BytesIO(raw).readlines():  # split on b"\n" only, like PaddleOCR's readlines()
        try:
            chars.append(line.decode("utf-8").strip("\n").strip("\r\n"))
        except UnicodeDecodeError:
            raise InputError("the recognizer dictionary is not UTF-8", path) from None
    if use_space_char:
        chars.append(" ")
    return [BLANK] + chars


class CTCDecoder:
    """Greedy CTC decoder over a fixed character list."""

    def __init__(self, characters: List[str]) -> None:
        self.characters = characters
        self._lookup = np.array(characters, dtype=object)

    @property
    def num_classes(self) -> int:
        return len(self.characters)

    def __call__(self, probs: np.ndarray) -> List[Tuple[str, float]]:
        """``[N, T, C]`` float32 softmax -> ``(text, score)`` per row; score is a Python float."""
        if probs.ndim != 3 or probs.shape[2] != self.num_classes:
            raise InputError(
                f"recognizer output has shape {probs.shape}, expected [N, T, {self.num_classes}] for this "
                "dictionary; does the bundle's dictionary match its rec model?"
            )
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
