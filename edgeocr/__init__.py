"""edgeocr: PP-OCRv2 on ARM phones and boards — convert, verify, run, benchmark.

The runtime entry point is :class:`edgeocr.OCR` (imported lazily so that ``import edgeocr`` stays
cheap on a board).
"""
from typing import Any

__version__ = "0.1.0"
__all__ = ["OCR", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "OCR":
        from .pipeline import OCR

        return OCR
    raise AttributeError(name)
