"""PNG plots of eval/bench results (matplotlib, Agg backend): writer only, no measurement.

* ``latency_per_stage.png``: grouped bars, one panel per thread count, stages on x, one bar per
  variant (mean ms, whisker up to p90).
* ``accuracy_vs_size_latency.png``: two panels, accuracy (each dataset/task a marker series) against
  bundle size and against e2e latency at 1 thread.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import List, Optional

from edgeocr.atomic_io import atomic_file

from .report_collect import Collected, accuracy_keys, find_accuracy, find_latency
from .report_markdown import STAGE_ORDER, threads_of

LATENCY_PNG = "latency_per_stage.png"
TRADEOFF_PNG = "accuracy_vs_size_latency.png"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    with atomic_file(path, "wb") as fh:
        fh.write(buf.getvalue())


def plot_latency(c: Collected, path: Path) -> Optional[Path]:
    """Grouped bar chart of mean latency per stage; None when there is no bench result."""
    if not c.latency:
        return None
    plt = _plt()
    threads = threads_of(c)
    variants = [v for v in c.variants if any(r.variant == v for r in c.latency)]
    stages = [s for s in STAGE_ORDER if any(r.stage == s for r in c.latency)]
    fig, axes = plt.subplots(1, len(threads), figsize=(5.5 * len(threads), 4.2), squeeze=False, sharey=True)
    width = 0.8 / max(len(variants), 1)
    for ax, t in zip(axes[0], threads):
        for k, v in enumerate(variants):
            means, errs = [], []
            for s in stages:
                row = find_latency(c, v, s, t)
                mean = row.mean if row and row.mean is not None else 0.0
                p90 = row.p90 if row and row.p90 is not None else mean
                means.append(mean)
                errs.append(max(p90 - mean, 0.0))
            xs = [i + (k - (len(variants) - 1) / 2) * width for i in range(len(stages))]
            bars = ax.bar(xs, means, width, yerr=[[0] * len(errs), errs], capsize=3, label=v)
            for b, m, e in zip(bars, means, errs):
                if m:
                    ax.annotate(f"{m:.0f}", (b.get_x() + b.get_width() / 2, m + e), ha="center", va="bottom",
                                fontsize=7, xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(range(len(stages)))
        ax.set_xticklabels(stages)
        ax.set_title(f"{t} thread{'s' if t > 1 else ''}")
        ax.set_xlabel("stage")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("latency per image, ms (mean; whisker to p90)")
    axes[0][-1].legend(fontsize=8)
    fig.suptitle("Latency per stage and variant (lower is better)")
    _save(fig, path)
    plt.close(fig)
    return path


def plot_tradeoff(c: Collected, path: Path) -> Optional[Path]:
    """Accuracy vs bundle size and vs e2e latency (1 thread, else the lowest measured)."""
    keys = accuracy_keys(c)
    if not keys:
        return None
    plt = _plt()
    threads = threads_of(c)
    t = threads[0] if threads else None
    fig, (ax_size, ax_lat) = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    markers = "osD^v<>P*X"
    variants = c.variants
    for i, (ds, task) in enumerate(keys):
        xs_s, xs_l, ys, labels = [], [], [], []
        for v in variants:
            row = find_accuracy(c, v, ds, task)
            if row is None:
                continue
            size = c.sizes.get(v, {}).get("total")
            lat = find_latency(c, v, "e2e", t) if t is not None else None
            xs_s.append(size / 1e6 if size else None)
            xs_l.append(lat.mean if lat and lat.mean else None)
            ys.append(row.value * 100)
            labels.append(v)
        label = f"{ds} {task}"
        m = markers[i % len(markers)]
        for ax, xs in ((ax_size, xs_s), (ax_lat, xs_l)):
            pts = [(x, y, l) for x, y, l in zip(xs, ys, labels) if x is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], m + "-", label=label, alpha=0.8)
                _annotate(ax, pts)
    ax_size.set_xlabel("bundle size, MB (det + cls + rec + dictionary)")
    ax_size.set_ylabel("accuracy, % (det/e2e H-mean, rec accuracy)")
    ax_lat.set_xlabel(f"e2e latency per image, ms ({t} thread{'s' if t and t > 1 else ''})" if t else "e2e latency (not benchmarked)")
    for ax in (ax_size, ax_lat):
        ax.ticklabel_format(axis="x", useOffset=False, style="plain")
        ax.grid(alpha=0.3)
        ax.margins(x=0.25, y=0.1)
    handles, names = ax_size.get_legend_handles_labels()
    fig.legend(handles, names, fontsize=8, loc="lower center", ncol=min(len(names), 5), frameon=False)
    fig.suptitle("Accuracy vs size and latency (up and left is better)")
    fig.subplots_adjust(bottom=0.22)
    _save(fig, path)
    plt.close(fig)
    return path


def _annotate(ax, pts) -> None:
    """Label points; variants that land on the same spot share one label instead of overprinting."""
    groups: dict = {}
    for x, y, label in pts:
        groups.setdefault((round(x, 3), round(y, 2)), []).append(label)
    for (x, y), names in groups.items():
        ax.annotate(" = ".join(names), (x, y), fontsize=7, xytext=(4, 3), textcoords="offset points")


def write_plots(c: Collected, out_dir: Path) -> List[str]:
    """Write both plots into ``out_dir``; returns the file names written."""
    written = []
    for name, fn in ((LATENCY_PNG, plot_latency), (TRADEOFF_PNG, plot_tradeoff)):
        if fn(c, out_dir / name) is not None:
            written.append(name)
    return written
