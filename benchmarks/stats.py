"""Statistics for ``edgeocr compare``: Mann-Whitney U for latency, paired bootstrap for accuracy.

Latency samples are skewed and heavy-tailed (a GC pause, a thermal throttle), so a t-test on means
would be fooled; Google benchmark's ``compare.py`` uses the Mann-Whitney U test on the per-run
samples, and so do we. ``scipy.stats.mannwhitneyu`` is used when scipy is installed; otherwise
:func:`mann_whitney_u` computes the same large-sample (normal approximation, tie- and
continuity-corrected) p-value as scipy's ``method="asymptotic"``.

Accuracy metrics here are ratios of sums over images (rec accuracy, det/e2e H-mean), so their
confidence interval comes from a paired bootstrap over the images both runs saw.
"""
from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .paired_bootstrap import accuracy_from_sums, hmean_from_sums, paired_drop


def rank_average(values: Sequence[float]) -> Tuple[np.ndarray, List[int]]:
    """1-based ranks with ties sharing their average rank; also the sizes of the tie groups."""
    arr = np.asarray(values, dtype=np.float64)
    order = np.argsort(arr, kind="mergesort")
    ranks = np.empty(len(arr), dtype=np.float64)
    ties = []
    i = 0
    while i < len(arr):
        j = i
        while j + 1 < len(arr) and arr[order[j + 1]] == arr[order[i]]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def mann_whitney_u(x: Sequence[float], y: Sequence[float], alternative: str = "greater") -> Tuple[float, float]:
    """(U of ``x``, p-value) for H1: ``x`` tends to be greater than ``y`` (``"less"``: smaller;
    ``"two-sided"``). Normal approximation with tie and continuity correction."""
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("Mann-Whitney U needs samples on both sides")
    ranks, ties = rank_average(list(x) + list(y))
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2.0)
    n = n1 + n2
    mu = n1 * n2 / 2.0
    tie_term = sum(t ** 3 - t for t in ties)
    var = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1)))
    if var <= 0:  # every value identical: no evidence either way
        return u1, 1.0
    sd = math.sqrt(var)
    if alternative == "greater":
        z = (u1 - mu - 0.5) / sd
        p = 0.5 * math.erfc(z / math.sqrt(2))
    elif alternative == "less":
        z = (u1 - mu + 0.5) / sd
        p = 0.5 * math.erfc(-z / math.sqrt(2))
    elif alternative == "two-sided":
        z = (abs(u1 - mu) - 0.5) / sd
        p = min(1.0, math.erfc(z / math.sqrt(2)))
    else:
        raise ValueError(f"alternative {alternative!r}: valid are greater, less, two-sided")
    return u1, p


def mann_whitney_p(x: Sequence[float], y: Sequence[float], alternative: str = "greater") -> Tuple[float, str]:
    """p-value of :func:`mann_whitney_u`, from scipy when it is installed; also names the implementation."""
    try:
        from scipy.stats import mannwhitneyu  # type: ignore[import-not-found]
    except ImportError:
        return mann_whitney_u(x, y, alternative)[1], "edgeocr (normal approximation)"
    return float(mannwhitneyu(x, y, alternative=alternative).pvalue), "scipy.stats.mannwhitneyu"


def paired_bootstrap(base: Dict[str, Sequence[float]], cand: Dict[str, Sequence[float]], task: str,
                     resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> Dict[str, float]:
    """Difference candidate - baseline of the task metric (a fraction) on the images both runs have, with its
    paired percentile-bootstrap interval.

    Per-image counts are ``[hits, gt, pred]``; the bootstrap itself is the accuracy gate's
    (:func:`edgeocr.benchmarks.paired_bootstrap.paired_drop`), so ``compare`` and ``convert`` judge a drop alike.
    """
    keys = sorted(set(base) & set(cand))
    if not keys:
        raise ValueError("the two runs share no image")
    a = np.asarray([base[k] for k in keys], dtype=np.float64)
    b = np.asarray([cand[k] for k in keys], dtype=np.float64)
    metric = accuracy_from_sums if task == "rec" else hmean_from_sums
    d = paired_drop(a, b, metric, resamples=resamples, seed=seed, confidence=confidence)
    # paired_drop speaks in points of parent - candidate; compare speaks in fractions of candidate - baseline
    return {"baseline": d.parent / 100, "candidate": d.candidate / 100, "diff": -d.drop / 100,
            "ci_low": -d.ci_high / 100, "ci_high": -d.ci_low / 100, "images": len(keys), "confidence": confidence}
