"""The PP-OCRv2 models edgeocr knows: official download URL and sha256 of every extracted file.

A plain dict readable on one screen (like onnxruntime's quantization ``registry.py``). Checksums are
those of the official PaddleOCR release archives' contents (see ``shared/models/SOURCES.md``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

OFFICIAL_BASE = "https://paddleocr.bj.bcebos.com"


@dataclass(frozen=True)
class ModelEntry:
    """One downloadable model (a tar of a Paddle inference dir) or a single file (dictionary)."""

    name: str
    url: str
    files: Dict[str, Tuple[int, str]]  # relative file name -> (size in bytes, sha256)
    kind: str  # "det" | "rec" | "cls" | "dict"
    archive: bool = True  # a .tar holding <name>/<file>; False: the URL is the file itself

    @property
    def archive_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


REGISTRY: Dict[str, ModelEntry] = {
    "ch_PP-OCRv2_det_infer": ModelEntry(
        "ch_PP-OCRv2_det_infer", f"{OFFICIAL_BASE}/PP-OCRv2/chinese/ch_PP-OCRv2_det_infer.tar",
        {"inference.pdmodel": (1127086, "4211628528fb99032cd42654e1d5c5bbb427954703e44869ec35e89334c4bb57"),
         "inference.pdiparams": (2296317, "e3ea67f672a00088ad73929bd807ab720f6a311be0e9816ecdd42ec28a8a322f")},
        kind="det",
    ),
    "ch_PP-OCRv2_rec_infer": ModelEntry(
        "ch_PP-OCRv2_rec_infer", f"{OFFICIAL_BASE}/PP-OCRv2/chinese/ch_PP-OCRv2_rec_infer.tar",
        {"inference.pdmodel": (706501, "03ef9dd9245ccb95c2c84808c80f5f78200c6d0a04e51ea39795b39c7f85eafc"),
         "inference.pdiparams": (8313762, "1b42a64573a8af8f69ebdcd3336888e11074872b56dc159356180a8699baa110")},
        kind="rec",
    ),
    "ch_ppocr_mobile_v2.0_cls_infer": ModelEntry(
        "ch_ppocr_mobile_v2.0_cls_infer", f"{OFFICIAL_BASE}/dygraph_v2.0/ch/ch_ppocr_mobile_v2.0_cls_infer.tar",
        {"inference.pdmodel": (1624487, "3c4337ec61722a20b1dca2e5bfaffc313c0592bc89ad6e0d45168224186f6683"),
         "inference.pdiparams": (539978, "d1efda1b80e174b4fcb168a035ac96c1af4938892bd86a55f300a6027105d08c")},
        kind="cls",
    ),
    "ch_PP-OCRv2_det_slim_quant_infer": ModelEntry(
        "ch_PP-OCRv2_det_slim_quant_infer", f"{OFFICIAL_BASE}/PP-OCRv2/chinese/ch_PP-OCRv2_det_slim_quant_infer.tar",
        {"inference.pdmodel": (1740852, "dfb8dbefdd4426addc573a9fed9259d83cc3fa98866ae251690f375b64f45c22"),
         "inference.pdiparams": (2325992, "cf0aaf1a055bf929f184a0b3e19a15bb7141769214794aa4aeaee561c56f7337")},
        kind="det",
    ),
    "ppocr_keys_v1.txt": ModelEntry(
        "ppocr_keys_v1.txt",
        "https://raw.githubusercontent.com/PaddlePaddle/PaddleOCR/release/2.7/ppocr/utils/ppocr_keys_v1.txt",
        {"ppocr_keys_v1.txt": (26249, "28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7")},
        kind="dict",
        archive=False,
    ),
}

# What `edgeocr convert` uses by default: the PP-OCRv2 system (det + rec) and the v2.0 angle classifier.
DEFAULT_SYSTEM = {
    "det": "ch_PP-OCRv2_det_infer",
    "rec": "ch_PP-OCRv2_rec_infer",
    "cls": "ch_ppocr_mobile_v2.0_cls_infer",
    "dict": "ppocr_keys_v1.txt",
}
