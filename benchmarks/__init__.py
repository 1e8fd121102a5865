"""Accuracy (``edgeocr eval``) and latency (``edgeocr bench``) harnesses, reports and plots.

Installed as ``edgeocr.benchmarks`` (setup.cfg ``package_dir``), never as a top-level ``benchmarks``.
"""
