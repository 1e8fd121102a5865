"""Paired bootstrap confidence interval of an accuracy drop (issue 10).

The fp32 parent and the quantized candidate are scored on the *same* samples, so the interval is computed on
resamples of sample indices applied to both models at once: per-sample noise common to both (hard images, bad
labels) cancels and the interval is much tighter than two independent intervals. Resampling whole images (det)
keeps the pooled H-mean definition (counts summed over the resampled images, as PaddleOCR pools them).

Numpy only, seeded: the same inputs always give the same interval.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from edgeocr.errors import ConfigError

DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 20260
CONFIDENCE = 0.95

# per-sample values [n, k] summed over a resample -> metric in percent, vectorized over resamples ([B, k] -> [B])
MetricFn = Callable[[np.ndarray], np.ndarray]


def hmean_from_sums(sums: np.ndarray) -> np.ndarray:
    """Det H-mean (percent) from pooled ``(matched, gt_care, det_care)`` sums: 2PR/(P+R) = 2m/(g+d)."""
    sums = np.atleast_2d(sums).astype(np.float64)
    denom = sums[:, 1] + sums[:, 2]
    return np.where(denom > 0, 200.0 * sums[:, 0] / np.maximum(denom, 1e-12), 0.0)


def accuracy_from_sums(sums: np.ndarray) -> np.ndarray:
    """Accuracy (percent) from pooled ``(correct, total)`` sums."""
    sums = np.atleast_2d(sums).astype(np.float64)
    return np.where(sums[:, 1] > 0, 100.0 * sums[:, 0] / np.maximum(sums[:, 1], 1e-12), 0.0)


@dataclass(frozen=True)
class PairedDrop:
    """``parent - candidate`` in points with its bootstrap interval (positive = the candidate is worse)."""

    parent: float
    candidate: float
    drop: float
    ci_low: float
    ci_high: float
    resamples: int
    confidence: float = CONFIDENCE

    def over_budget(self, budget: float) -> bool:
        """Reject when the point estimate exceeds ``budget`` or the whole interval lies above it."""
        return self.drop > budget + 1e-9 or self.ci_low > budget + 1e-9


def paired_drop(parent: np.ndarray, candidate: np.ndarray, metric: MetricFn, resamples: int = DEFAULT_RESAMPLES,
                seed: int = DEFAULT_SEED, confidence: float = CONFIDENCE) -> PairedDrop:
    """Drop of ``metric`` from ``parent`` to ``candidate`` (per-sample count rows ``[n, k]``, same order) and its
    paired percentile-bootstrap interval."""
    parent, candidate = np.asarray(parent, np.float64), np.asarray(candidate, np.float64)
    if parent.shape != candidate.shape or parent.ndim != 2 or len(parent) == 0:
        raise ConfigError(f"paired bootstrap needs two equal, non-empty [n, k] arrays; got {parent.shape} and "
                          f"{candidate.shape}")
    if resamples < 100 or not 0.5 < confidence < 1.0:
        raise ConfigError(f"resamples={resamples} must be >= 100 and confidence={confidence} within (0.5, 1)")
    p_full, c_full = float(metric(parent.sum(0))[0]), float(metric(candidate.sum(0))[0])
    rng = np.random.default_rng(seed)
    n = len(parent)
    drops = np.empty(resamples)
    chunk = max(1, 2_000_000 // n)  # bounded memory: chunk x n indices at a time
    for beg in range(0, resamples, chunk):
        b = min(chunk, resamples - beg)
        # how often each sample is drawn in each resample; both models get the same draw
        counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(b)]).astype(np.float64)
        drops[beg:beg + b] = metric(counts @ parent) - metric(counts @ candidate)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(drops, [alpha, 1.0 - alpha])
    return PairedDrop(parent=round(p_full, 4), candidate=round(c_full, 4), drop=round(p_full - c_full, 4),
                      ci_low=round(float(lo), 4), ci_high=round(float(hi), 4), resamples=resamples,
                      confidence=confidence)
