"""Load any image a user throws at ``edgeocr ocr`` as the ``[h, w, 3]`` uint8 BGR array the
pipeline expects, or fail with one :class:`~edgeocr.errors.InputError` naming the file.

Decoding follows PaddleOCR 2.7.3's ``check_img`` so parity holds: ``cv2.imdecode`` with
``IMREAD_UNCHANGED`` (no EXIF auto-rotation), grey -> BGR, and transparent pixels blended onto
white with ``alpha_to_color``'s arithmetic. Beyond PaddleOCR, 16-bit images are reduced to 8 bit
(PaddleOCR would feed 0..65535 values to a model trained on 0..255) and truncated JPEGs, which
OpenCV silently decodes with a grey bottom, are rejected.

Resource limit: an image's pixel count is read from its header (Pillow's lazy ``Image.open``, no
pixel data decoded) and refused above ``max_pixels`` (default :data:`MAX_IMAGE_PIXELS`, Pillow's own
default): an 875 KB PNG can declare 30000 x 30000 pixels and take 3.6 GB to decode, which kills a
2-4 GB board. EXIF orientation is ignored, as PaddleOCR does.
"""
from __future__ import annotations

from pathlib import Path
import io
import warnings
from typing import Optional, Tuple, Union

import cv2
import numpy as np

from .errors import InputError

# Pillow's Image.MAX_IMAGE_PIXELS (~ 1024 * 1024 * 1024 // 4 // 3): the decompression-bomb limit.
MAX_IMAGE_PIXELS = 89_478_485
# Transparent pixels become this colour (RGB), PaddleOCR's ``alpha_color`` default.
ALPHA_COLOR: Tuple[int, int, int] = (255, 255, 255)
_JPEG_SOI = b"\xff\xd8\xff"
_JPEG_EOI = b"\xff\xd9"
# A complete JPEG has its end-of-image marker at the end, up to a little trailing padding/data.
_JPEG_EOI_TAIL = 1024


def read_image(path: Union[str, Path], max_pixels: Optional[int] = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Read ``path`` -> ``[h, w, 3]`` uint8 BGR. Raises :class:`InputError` naming the file.

    ``max_pixels``: refuse images declaring more pixels (None: no limit).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InputError("is a directory without image files (.jpg, .png, .bmp, .tif, .webp)", path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None
    if not data:
        raise InputError("is empty (0 bytes)", path)
    return decode_image(data, path, max_pixels)


def header_size(data: bytes) -> Optional[Tuple[int, int]]:
    """``(width, height)`` from the image header without decoding pixels; None if Pillow cannot tell."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            old, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # we apply our own limit below
            try:
                with Image.open(io.BytesIO(data)) as im:
                    return im.size
            finally:
                Image.MAX_IMAGE_PIXELS = old
    except Exception:  # noqa: BLE001 - not a format Pillow knows, or a broken header: OpenCV decides
        return None


def check_pixels(width: int, height: int, max_pixels: Optional[int], name: Union[str, Path, None]) -> None:
    """One :class:`InputError` when ``width * height`` is over ``max_pixels``."""
    if max_pixels and width * height > max_pixels:
        raise InputError(
            f"declares {width}x{height} = {width * height / 1e6:.1f} Mpx, over the limit of {max_pixels / 1e6:.1f} Mpx "
            f"(decoding would take ~{width * height * 3 / 1e9:.1f} GB); raise --max-image-pixels if it is genuine",
            name,
        )


def decode_image(data: bytes, name: Union[str, Path, None] = None,
                 max_pixels: Optional[int] = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode encoded image bytes -> ``[h, w, 3]`` uint8 BGR (see :func:`to_bgr`)."""
    size = header_size(data) if max_pixels else None
    if size is not None:
        check_pixels(size[0], size[1], max_pixels, name)
    if data.startswith(_JPEG_SOI) and _JPEG_EOI not in data[-_JPEG_EOI_TAIL:]:
        raise InputError("is a truncated JPEG (no end-of-image marker); re-export or re-download it", name)
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise InputError(
            "is not an image OpenCV can decode (not an image, truncated, or an unsupported format); "
            "use JPEG, PNG, BMP, TIFF or WebP",
            name,
        )
    if max_pixels:  # formats Pillow cannot read: checked after decoding, still before any model runs
        check_pixels(img.shape[1], img.shape[0], max_pixels, name)
    return to_bgr(img, name)


def to_bgr(img: np.ndarray, name: Union[str, Path, None] = None) -> np.ndarray:
    """Normalize a decoded or user-given array to ``[h, w, 3]`` uint8 BGR.

    Accepts ``[h, w]`` grey, ``[h, w, 1]`` grey, ``[h, w, 2]`` grey + alpha, ``[h, w, 3]`` BGR and
    ``[h, w, 4]`` BGRA, as uint8 or uint16 (uint16 keeps its high byte, as ``cv2.imread`` does for
    colour). Alpha is blended onto :data:`ALPHA_COLOR`.
    """
    if not isinstance(img, np.ndarray):
        raise InputError(f"expected a numpy image array, got {type(img).__name__}", name)
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise InputError(f"has pixel type {img.dtype}; only 8- and 16-bit integer images are supported", name)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (2, 3, 4)):
        raise InputError(f"has array shape {img.shape}; expected [h, w], [h, w, 3] or [h, w, 4]", name)
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise InputError(f"has no pixels (size {img.shape[1]}x{img.shape[0]})", name)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 2:
        img = np.dstack([img[:, :, 0], img[:, :, 0], img[:, :, 0], img[:, :, 1]])
    if img.shape[2] == 4:
        return alpha_to_color(img)
    return np.ascontiguousarray(img)


def alpha_to_color(img: np.ndarray, alpha_color: Tuple[int, int, int] = ALPHA_COLOR) -> np.ndarray:
    """``[h, w, 4]`` uint8 BGRA -> ``[h, w, 3]`` uint8 BGR over ``alpha_color`` (RGB), truncating
    like PaddleOCR's ``ppocr.utils.utility.alpha_to_color``."""
    b, g, r, a = cv2.split(img)
    alpha = a / 255
    r = (alpha_color[0] * (1 - alpha) + r * alpha).astype(np.uint8)
    g = (alpha_color[1] * (1 - alpha) + g * alpha).astype(np.uint8)
    b = (alpha_color[2] * (1 - alpha) + b * alpha).astype(np.uint8)
    return cv2.merge((b, g, r))
