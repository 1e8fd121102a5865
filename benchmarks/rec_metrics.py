"""Word recognition accuracy with PaddleOCR's ``RecMetric`` rules (``ppocr/metrics/rec_metric.py``).

* ``acc``: exact string match after normalisation; by default spaces are removed from both
  prediction and label (``ignore_space=True``) and the comparison is case-sensitive.
* ``is_filter=True``: keep only ASCII letters and digits and lower-case them (the usual IC15 /
  IIIT5K protocol). ``case_insensitive=True`` only lower-cases.
* ``norm_edit_dis`` = 1 - mean over samples of the normalized Levenshtein distance
  (rapidfuzz ``Levenshtein.normalized_distance``: distance / max(len(a), len(b))), computed on the
  normalised strings.
PaddleOCR divides by ``count + 1e-5``; we divide by ``count`` exactly (a 1e-8 difference) and
report 0 for an empty set.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict, Iterable, Tuple

from rapidfuzz.distance import Levenshtein

from .text_norm import TextNorm

__all__ = ["RecMetrics", "TextNorm", "compare", "rec_metrics"]


@dataclass
class RecMetrics:
    """Dataset-level recognition metrics (fractions in [0, 1])."""

    acc: float
    norm_edit_dis: float
    correct: int
    total: int
    normalization: str

    def to_dict(self) -> Dict[str, object]:
        return asdict(self)


def compare(pred: str, label: str, norm: TextNorm = TextNorm()) -> Tuple[bool, float]:
    """(exact match, normalized edit distance) of one prediction after normalisation."""
    p, t = norm(pred), norm(label)
    return p == t, Levenshtein.normalized_distance(p, t)


def rec_metrics(pairs: Iterable[Tuple[str, str]], norm: TextNorm = TextNorm()) -> RecMetrics:
    """``pairs`` = (prediction, label) per sample."""
    correct, total, dist = 0, 0, 0.0
    for pred, label in pairs:
        ok, d = compare(pred, label, norm)
        correct += ok
        dist += d
        total += 1
    acc = correct / total if total else 0.0
    ned = 1.0 - dist / total if total else 0.0
    return RecMetrics(acc=acc, norm_edit_dis=ned, correct=correct, total=total, normalization=norm.describe())
