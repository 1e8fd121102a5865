"""How predicted and expected texts are normalised before comparison (PaddleOCR ``RecMetric``).

Standard library only, so ``edgeocr eval`` can import it on a board without rapidfuzz.
"""
from __future__ import annotations

import string
from dataclasses import dataclass

_ALNUM = set(string.digits + string.ascii_letters)


@dataclass(frozen=True)
class TextNorm:
    """How prediction and label are normalised before comparison (PaddleOCR defaults)."""

    ignore_space: bool = True
    is_filter: bool = False
    case_insensitive: bool = False

    def __call__(self, text: str) -> str:
        if self.ignore_space:
            text = text.replace(" ", "")
        if self.is_filter:
            text = "".join(c for c in text if c in _ALNUM).lower()
        if self.case_insensitive:
            text = text.lower()
        return text

    def describe(self) -> str:
        parts = ["spaces removed" if self.ignore_space else "spaces kept"]
        if self.is_filter:
            parts.append("ASCII alphanumerics only, lower-cased (is_filter)")
        elif self.case_insensitive:
            parts.append("case-insensitive")
        else:
            parts.append("case-sensitive")
        return ", ".join(parts)
