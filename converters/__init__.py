"""Exporters from Paddle inference models to ONNX and Paddle-Lite, each verified for parity.

Installed as ``edgeocr.converters`` (setup.cfg ``package_dir``), never as a top-level ``converters``.
"""
