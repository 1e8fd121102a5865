"""PaddleOCR 2.7.3's own pipeline as the reference for edgeocr (issue 4 "done when", issue 3 parity).

Two halves in one file:

* :func:`main` runs INSIDE the oracle venv (``.venv-oracle``: paddleocr==2.7.3, paddlepaddle 2.6.2)
  as a subprocess, on the original PP-OCRv2 Paddle inference models (nothing is downloaded):

  - ``--mode det``: per image, the raw detector boxes of PaddleOCR's ``TextDetector`` (no
    recognition, no ``drop_score`` filter): exactly what ``edgeocr eval --task det`` scores.
  - ``--mode ocr``: per image, PaddleOCR's full ``TextSystem`` result, ``engine.ocr(path, cls=True)``
    (lines in PaddleOCR's reading order after its ``drop_score`` filter), as the runtime parity
    tests need it.

  Images are read as ``PaddleOCR.ocr()`` reads them (``check_img``: ``cv2.imdecode`` with
  ``IMREAD_UNCHANGED``, no EXIF rotation, grey -> BGR, then ``alpha_to_color``). Only the standard
  library is imported at module level so this file runs under any Python.
* :func:`run_oracle_det` / :func:`run_oracle_ocr` are called from the main environment (tests,
  ``run_all``): they start that subprocess and return its JSON, so both sides are scored by OUR
  metric code (:mod:`edgeocr.benchmarks.det_metrics`) on the same images.

Usage (oracle venv)::

    .venv-oracle/bin/python benchmarks/paddleocr_oracle.py --mode det --models ../shared/models --out det.json IMG...

Output: ``{"paddleocr": "2.7.3", "mode", "params", "images": {path: ...}}`` where ``...`` is
``[[[x, y] x4], ...]`` (det) or ``[{"box": [[x, y] x4], "text", "score"}, ...]`` (ocr); an image
PaddleOCR cannot read maps to ``null``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

# Repo root = parent of benchmarks/; the oracle venv lives there (Makefile ORACLE_VENV).
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ORACLE_PYTHON = Path(os.environ.get("EDGEOCR_ORACLE_PYTHON", REPO_ROOT / ".venv-oracle" / "bin" / "python"))


def _engine_params(models: str, use_cls: bool) -> Dict[str, Any]:
    return dict(
        det_model_dir=os.path.join(models, "ch_PP-OCRv2_det_infer"),
        rec_model_dir=os.path.join(models, "ch_PP-OCRv2_rec_infer"),
        cls_model_dir=os.path.join(models, "ch_ppocr_mobile_v2.0_cls_infer"),
        rec_char_dict_path=os.path.join(models, "ppocr_keys_v1.txt"),
        ocr_version="PP-OCRv2",
        rec_image_shape="3,32,320",
        use_angle_cls=use_cls,
        use_gpu=False,
        show_log=False,
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="PaddleOCR 2.7.3 det boxes / OCR lines as JSON (oracle venv only)")
    parser.add_argument("--mode", choices=("det", "ocr"), default="det",
                        help="det: raw detector boxes; ocr: full pipeline lines (default det)")
    parser.add_argument("--models", required=True, help="folder holding the PP-OCRv2 *_infer model dirs")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--no-cls", action="store_true", help="ocr mode: skip the angle classifier")
    parser.add_argument("--list", help="text file with one image path per line (instead of IMG...)")
    parser.add_argument("images", nargs="*")
    args = parser.parse_args(argv)
    images = list(args.images)
    if args.list:
        with open(args.list, encoding="utf-8") as fh:
            images += [ln.strip() for ln in fh if ln.strip()]

    import pyclipper  # noqa: F401  # must come before paddle (zlib symbol clash, CONTEXT.md)
    import logging

    from paddleocr import PaddleOCR
    from paddleocr.paddleocr import alpha_to_color, check_img

    use_cls = args.mode == "ocr" and not args.no_cls
    params = _engine_params(os.path.abspath(args.models), use_cls)
    engine = PaddleOCR(**params)
    logging.getLogger("ppocr").setLevel(logging.ERROR)
    results: Dict[str, Optional[List[Any]]] = {}
    for path in images:
        if args.mode == "ocr":
            pages = engine.ocr(path, cls=use_cls)
            if pages is None:
                results[path] = None
                continue
            page = pages[0] or []
            results[path] = [{"box": [[float(x), float(y)] for x, y in box], "text": text, "score": float(score)}
                             for box, (text, score) in page]
            continue
        # PaddleOCR.ocr(det=True, rec=False) crashes in 2.7.3 (`if not dt_boxes` on an array), so run
        # its TextDetector on the image exactly as ocr() prepares it (check_img + alpha_to_color).
        img = check_img(path)
        if img is None:
            results[path] = None
            continue
        img = alpha_to_color(img, (255, 255, 255))
        dt_boxes, _ = engine.text_detector(img)
        results[path] = [[[float(x), float(y)] for x, y in box] for box in (dt_boxes if dt_boxes is not None else [])]
    det_args = engine.args
    out = {
        "paddleocr": "2.7.3",
        "mode": args.mode,
        "params": {k: v for k, v in params.items() if not k.endswith(("_dir", "_path"))},
        "det_params": {k: getattr(det_args, k) for k in (
            "det_limit_side_len", "det_limit_type", "det_db_thresh", "det_db_box_thresh",
            "det_db_unclip_ratio", "use_dilation", "det_db_score_mode")},
        "images": results,
    }
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(out, fh, ensure_ascii=False, indent=1)
    os.replace(tmp, args.out)
    return 0


def _run(mode: str, images: Sequence[Path], models_dir: Path, oracle_python: Path, timeout: float,
         extra: Sequence[str] = ()) -> Dict[str, Any]:
    from edgeocr.errors import EdgeOCRError, ToolMissingError

    if not Path(oracle_python).is_file():
        raise ToolMissingError("oracle Python not found; run `make setup-oracle`", oracle_python)
    with tempfile.TemporaryDirectory(prefix="edgeocr.oracle.") as tmp:
        listing = Path(tmp) / "images.txt"
        listing.write_text("\n".join(str(p) for p in images) + "\n", encoding="utf-8")
        out = Path(tmp) / "oracle.json"
        cmd = [str(oracle_python), str(Path(__file__).resolve()), "--mode", mode, "--models", str(models_dir),
               "--out", str(out), "--list", str(listing), *extra]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            raise EdgeOCRError(f"PaddleOCR oracle failed (exit {proc.returncode}): {' | '.join(tail)}", oracle_python)
        return json.loads(out.read_text(encoding="utf-8"))


def run_oracle_det(images: Sequence[Path], models_dir: Path, oracle_python: Path = DEFAULT_ORACLE_PYTHON,
                   timeout: float = 3600.0) -> Dict[str, Any]:
    """Raw PaddleOCR det boxes: ``{"images": {str(path): [[[x, y] x4], ...] | None}, "det_params": ..}``.

    A missing oracle venv is an error (``make setup-oracle`` builds it), never a skip.
    """
    return _run("det", images, models_dir, oracle_python, timeout)


def run_oracle_ocr(images: Sequence[Path], models_dir: Path, oracle_python: Path = DEFAULT_ORACLE_PYTHON,
                   timeout: float = 3600.0, use_cls: bool = True) -> Dict[str, Any]:
    """PaddleOCR's full pipeline: ``{"images": {str(path): [{"box", "text", "score"}, ...] | None}, "params": ..}``."""
    return _run("ocr", images, models_dir, oracle_python, timeout, () if use_cls else ("--no-cls",))


if __name__ == "__main__":
    sys.exit(main())
