"""Readers for the labelled text datasets edgeocr evaluates on, and auto-detection of their format.

Formats (see each folder's README in ``../shared/data``):

* ``icdar2015`` — a folder of ``gt_img_N.txt`` files (``x1,y1,...,x4,y4,transcription`` per line,
  UTF-8 with optional BOM, transcription = everything after the 8th comma, so ``split(',', 8)``;
  ``###`` = don't care) next to a folder of ``img_N.jpg``.
* ``msra-td500`` — ``IMG_XXXX.gt`` files (``index difficult x y w h angle``: an axis-aligned
  rectangle rotated by ``angle`` radians about its centre; ``difficult`` = don't care) next to
  ``IMG_XXXX.JPG``. No transcriptions: detection only.
* ``paddle-det`` — PaddleOCR det label file: ``path<TAB>[{"transcription": .., "points": [[x, y], ..]}]``.
* ``paddle-rec`` — PaddleOCR rec label file: ``path<TAB>label``.
* ``gt-txt`` — ``path label with spaces`` (one space after the path; the label runs to the end).

A dataset is either a detection set (:class:`DetSample`: an image and its text regions) or a
recognition set (:class:`RecSample`: a word crop and its label).
"""
from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from edgeocr.errors import DatasetError

log = logging.getLogger(__name__)

DONT_CARE = "###"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".JPG", ".JPEG", ".PNG", ".BMP")
FORMATS = ("icdar2015", "msra-td500", "paddle-det", "paddle-rec", "gt-txt")
# When a folder holds several label files that parse, the first format in this order wins:
# gt.txt keeps the official transcriptions (ICDAR 2015 rec README: rec_gt_test.txt drops spaces and
# truncates at commas); pass the label file itself as the dataset to choose another one.
LABEL_FILE_PRIORITY = ("paddle-det", "gt-txt", "paddle-rec")

Point = Tuple[float, float]


@dataclass
class TextRegion:
    """One annotated text region: polygon in image pixels (x right, y down), text, don't-care flag."""

    points: List[Point]
    text: str = ""
    ignore: bool = False


@dataclass
class DetSample:
    """An image with its annotated regions (for det and e2e evaluation)."""

    image: Path
    regions: List[TextRegion]

    @property
    def name(self) -> str:
        return self.image.name


@dataclass
class RecSample:
    """A cropped word image and its label (for rec evaluation)."""

    image: Path
    label: str

    @property
    def name(self) -> str:
        return self.image.name


@dataclass
class Dataset:
    """A loaded dataset: what it is, where it came from, its samples in a stable order.

    ``kind`` is ``"det"`` (samples are :class:`DetSample`) or ``"rec"`` (:class:`RecSample`).
    ``has_text`` says whether det regions carry transcriptions (needed for the e2e task).
    """

    name: str
    root: Path
    format: str
    kind: str
    samples: List[Union[DetSample, RecSample]]
    has_text: bool = False
    label_file: Optional[Path] = None
    notes: List[str] = field(default_factory=list)

    @property
    def tasks(self) -> Tuple[str, ...]:
        """Tasks this dataset can be evaluated on."""
        if self.kind == "rec":
            return ("rec",)
        return ("det", "e2e") if self.has_text else ("det",)

    def summary(self) -> Dict[str, object]:
        """JSON-friendly description stored in every eval result."""
        out: Dict[str, object] = {
            "name": self.name,
            "root": str(self.root),
            "format": self.format,
            "kind": self.kind,
            "samples": len(self.samples),
            "label_file": str(self.label_file) if self.label_file else None,
        }
        if self.kind == "det":
            regions = [r for s in self.samples for r in s.regions]  # type: ignore[union-attr]
            out["regions"] = len(regions)
            out["dont_care"] = sum(r.ignore for r in regions)
        if self.notes:
            out["notes"] = list(self.notes)
        return out


# ---------------------------------------------------------------------------------------------
# Line parsers (one line -> one region / sample), kept small so the unit tests can hit each rule.
# ---------------------------------------------------------------------------------------------


def parse_icdar2015_line(line: str) -> Optional[TextRegion]:
    """``x1,y1,...,x4,y4,transcription`` -> region; blank line -> None.

    The transcription may contain commas (``$8,888``), hence ``split(',', 8)``; ``###`` marks a
    don't-care region. A leading BOM is stripped (training GT files carry one).
    """
    line = line.lstrip("\ufeff").rstrip("\r\n")
    if not line.strip():
        return None
    parts = line.split(",", 8)
    if len(parts) < 8:
        raise ValueError(f"expected 8 coordinates and a transcription, got {len(parts)} fields")
    coords = [float(v) for v in parts[:8]]
    text = parts[8] if len(parts) == 9 else ""
    points = [(coords[i], coords[i + 1]) for i in range(0, 8, 2)]
    return TextRegion(points=points, text=text, ignore=text == DONT_CARE)


def rotated_rect_corners(x: float, y: float, w: float, h: float, angle: float) -> List[Point]:
    """Corners (clockwise from top-left, before rotation) of rectangle ``x, y, w, h`` rotated by
    ``angle`` radians about its centre, in image coordinates (y down; positive angle turns the
    x axis towards the y axis, i.e. clockwise on screen — OpenCV ``boxPoints`` convention).
    """
    cx, cy = x + w / 2.0, y + h / 2.0
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    corners = []
    for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
        corners.append((cx + dx * cos_a - dy * sin_a, cy + dx * sin_a + dy * cos_a))
    return corners


def parse_msra_line(line: str) -> Optional[TextRegion]:
    """``index difficult x y w h angle`` -> region (difficult lines are don't care); blank -> None."""
    parts = line.split()
    if not parts:
        return None
    if len(parts) != 7:
        raise ValueError(f"expected 7 fields (index difficult x y w h angle), got {len(parts)}")
    _, difficult, x, y, w, h, angle = parts
    points = rotated_rect_corners(float(x), float(y), float(w), float(h), float(angle))
    return TextRegion(points=points, text="", ignore=int(difficult) == 1)


def parse_paddle_det_line(line: str) -> Tuple[str, List[TextRegion]]:
    """``path<TAB>[{"transcription": .., "points": [[x, y], ..]}, ..]`` -> (path, regions)."""
    path, sep, payload = line.rstrip("\r\n").partition("\t")
    if not sep:
        raise ValueError("no TAB between image path and JSON annotation")
    items = json.loads(payload)
    if not isinstance(items, list):
        raise ValueError("annotation is not a JSON list")
    regions = []
    for item in items:
        text = str(item.get("transcription", ""))
        points = [(float(p[0]), float(p[1])) for p in item["points"]]
        regions.append(TextRegion(points=points, text=text, ignore=text in (DONT_CARE, "*")))
    return path, regions


def parse_paddle_rec_line(line: str) -> Tuple[str, str]:
    """``path<TAB>label`` -> (path, label); the label keeps inner spaces."""
    path, sep, label = line.rstrip("\r\n").partition("\t")
    if not sep or not path:
        raise ValueError("no TAB between image path and label")
    return path, label


def parse_gt_txt_line(line: str) -> Tuple[str, str]:
    """``path label with spaces`` -> (path, label): split on the FIRST space only."""
    line = line.rstrip("\r\n")
    if "\t" in line:
        raise ValueError("TAB found: this is a PaddleOCR label file, not the space-separated form")
    path, sep, label = line.partition(" ")
    if not sep or not path:
        raise ValueError("no space between image path and label")
    return path, label


# ---------------------------------------------------------------------------------------------
# Folder / file readers
# ---------------------------------------------------------------------------------------------


def _read_lines(path: Path) -> List[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot be read ({exc.strerror or exc})", path) from None
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DatasetError(f"line {line}: is not UTF-8 text ({exc.reason} at byte {exc.start}); label files must be "
                           "UTF-8 (re-save it, e.g. iconv -f GBK -t UTF-8)", path) from None


class _ImageResolver:
    """Finds the image a label line names: as given, relative to the label file's folder, or by
    basename in that folder or one of its direct subfolders (``gt.txt`` says ``images/word_1.png``
    but the crop is in ``test/``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._index: Optional[Dict[str, Path]] = None

    def __call__(self, rel: str, label_file: Path) -> Path:
        direct = self.root / rel
        if direct.is_file():
            return direct
        if self._index is None:
            self._index = {}
            for folder in [self.root] + sorted(p for p in self.root.iterdir() if p.is_dir()):
                for p in sorted(folder.iterdir()):
                    if p.suffix in IMAGE_SUFFIXES:
                        self._index.setdefault(p.name, p)
        found = self._index.get(Path(rel).name)
        if found is None:
            raise DatasetError(f"image {rel!r} named in the labels was not found under {self.root}", label_file)
        return found


def read_icdar2015(root: Path) -> Dataset:
    """ICDAR 2015 localisation GT: ``gt_img_N.txt`` + ``img_N.jpg`` (GT and images may sit in
    ``root`` or any direct subfolder). Samples are ordered by N."""
    gt_files = _find_files(root, "gt_img_*.txt")
    images = {p.stem: p for p in _find_images(root) if p.stem.startswith("img_")}
    samples = []
    for gt in sorted(gt_files, key=natural_key):
        stem = gt.stem[len("gt_"):]
        if stem not in images:
            raise DatasetError(f"has no image {stem}.jpg next to it under {root}", gt)
        samples.append(DetSample(image=images[stem], regions=_parse_gt_file(gt, parse_icdar2015_line)))
    return Dataset(name=root.name, root=root, format="icdar2015", kind="det", samples=samples, has_text=True)


def _parse_gt_file(gt: Path, parse_line: Callable[[str], Optional[TextRegion]]) -> List[TextRegion]:
    """Regions of one GT file; a malformed line is a DatasetError naming the file and line number."""
    regions = []
    for lineno, line in enumerate(_read_lines(gt), 1):
        try:
            region = parse_line(line)
        except ValueError as exc:
            raise DatasetError(f"line {lineno}: {exc}", gt) from None
        if region is not None:
            regions.append(region)
    return regions


def read_msra_td500(root: Path) -> Dataset:
    """MSRA-TD500: ``IMG_XXXX.gt`` beside ``IMG_XXXX.JPG`` (in ``root`` or a direct subfolder)."""
    images = {p.stem: p for p in _find_images(root)}
    samples = []
    for gt in sorted(_find_files(root, "*.gt"), key=natural_key):
        if gt.stem not in images:
            raise DatasetError(f"has no image {gt.stem}.JPG next to it", gt)
        samples.append(DetSample(image=images[gt.stem], regions=_parse_gt_file(gt, parse_msra_line)))
    return Dataset(name=root.name, root=root, format="msra-td500", kind="det", samples=samples, has_text=False)


def read_label_file(path: Path, fmt: str, name: Optional[str] = None) -> Dataset:
    """Read a ``paddle-det``, ``paddle-rec`` or ``gt-txt`` label file; image paths are resolved
    against the file's folder. Blank lines are skipped; any other bad line is a :class:`DatasetError`."""
    resolver = _ImageResolver(path.parent)
    samples: List[Union[DetSample, RecSample]] = []
    for lineno, line in enumerate(_read_lines(path), 1):
        if not line.strip():
            continue
        try:
            if fmt == "paddle-det":
                rel, regions = parse_paddle_det_line(line)
                samples.append(DetSample(image=resolver(rel, path), regions=regions))
            elif fmt == "paddle-rec":
                rel, label = parse_paddle_rec_line(line)
                samples.append(RecSample(image=resolver(rel, path), label=label))
            elif fmt == "gt-txt":
                rel, label = parse_gt_txt_line(line)
                samples.append(RecSample(image=resolver(rel, path), label=label))
            else:
                raise DatasetError(f"unknown label format {fmt!r}; valid: paddle-det, paddle-rec, gt-txt", path)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise DatasetError(f"line {lineno}: not {fmt} format ({str(exc)[:160]})", path) from None
    kind = "det" if fmt == "paddle-det" else "rec"
    # A "###" transcription is text too (a don't-care mark): a subset whose images hold only don't-care regions
    # (a one-image device run of ICDAR 2015) is still an e2e set, as the full set it came from is.
    has_text = kind == "det" and any(r.text for s in samples for r in s.regions)  # type: ignore[union-attr]
    ds_name = name or (path.parent.name if path.parent.name else path.stem)
    return Dataset(name=ds_name, root=path.parent, format=fmt, kind=kind, samples=samples,
                   has_text=has_text, label_file=path)


def sniff_label_file(path: Path, max_lines: int = 20) -> Optional[str]:
    """Which label format ``path`` follows, decided by its first non-blank line, or None.

    Only the first line decides: a bad line further down is then reported by
    :func:`read_label_file` with its number, instead of the file silently matching a looser format
    (a det ``Label.txt`` with bad JSON on line 2 used to be read as a *rec* set). A det payload is
    recognized by its JSON list even when that line is malformed. Raises :class:`DatasetError` for a
    file that is not UTF-8 text.
    """
    lines = [ln for ln in _read_lines(path) if ln.strip()][:max_lines]
    if not lines:
        return None
    first = lines[0]
    rel, sep, payload = first.partition("\t")
    if sep and Path(rel).suffix in IMAGE_SUFFIXES and payload.lstrip().startswith("[{"):
        return "paddle-det"
    for fmt, parser in (("paddle-det", parse_paddle_det_line), ("paddle-rec", parse_paddle_rec_line),
                        ("gt-txt", parse_gt_txt_line)):
        try:
            rel, _ = parser(first)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            continue
        if Path(rel).suffix in IMAGE_SUFFIXES:
            return fmt
    return None


def load_dataset(path: Union[str, Path], fmt: Optional[str] = None) -> Dataset:
    """Load a dataset folder or label file, detecting its format unless ``fmt`` is given.

    Detection order for a folder: ICDAR 2015 GT files, MSRA-TD500 ``.gt`` files, then label files
    (``*.txt`` in the folder, :data:`LABEL_FILE_PRIORITY`). A folder that matches none raises a
    :class:`DatasetError` listing the formats we read.
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError("does not exist", path)
    if fmt is not None and fmt not in FORMATS:
        raise DatasetError(f"unknown dataset format {fmt!r}; valid formats: {', '.join(FORMATS)}", path)
    if path.is_file():
        fmt = fmt or sniff_label_file(path)
        if fmt not in ("paddle-det", "paddle-rec", "gt-txt"):
            raise DatasetError(
                "is not a label file we can read; expected 'path<TAB>label' (PaddleOCR rec), "
                "'path<TAB>[{\"transcription\",\"points\"}]' (PaddleOCR det) or 'path label' (gt.txt)",
                path,
            )
        return read_label_file(path, fmt)
    if fmt == "icdar2015" or (fmt is None and _find_files(path, "gt_img_*.txt")):
        return _non_empty(read_icdar2015(path))
    if fmt == "msra-td500" or (fmt is None and _find_files(path, "*.gt")):
        return _non_empty(read_msra_td500(path))
    candidates = []
    unreadable: List[DatasetError] = []
    for txt in sorted(path.glob("*.txt")):
        try:
            found = sniff_label_file(txt)
        except DatasetError as exc:
            unreadable.append(exc)
            continue
        if found and (fmt is None or found == fmt):
            candidates.append((LABEL_FILE_PRIORITY.index(found), txt.name, txt, found))
    if candidates:
        candidates.sort()
        _, _, chosen, found = candidates[0]
        ds = read_label_file(chosen, found, name=path.name)
        ds.root = path
        if len(candidates) > 1:
            others = ", ".join(c[1] for c in candidates[1:])
            ds.notes.append(f"labels from {chosen.name} ({found}); also found {others}: pass that file to use it")
        return _non_empty(ds)
    if unreadable:
        raise unreadable[0]  # e.g. a GBK label file: say so, with the line, instead of "no format"
    raise DatasetError(
        "matches no dataset format we read: expected ICDAR 2015 (gt_img_N.txt + img_N.jpg), "
        "MSRA-TD500 (IMG_X.gt + IMG_X.JPG), or a label file (*.txt: PaddleOCR det/rec 'path<TAB>...', "
        "or 'path label')",
        path,
    )


def _non_empty(ds: Dataset) -> Dataset:
    if not ds.samples:
        raise DatasetError(f"holds no samples ({ds.format} format detected)", ds.root)
    return ds


def _find_files(root: Path, pattern: str) -> List[Path]:
    found = list(root.glob(pattern))
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        found.extend(child.glob(pattern))
    return found


def _find_images(root: Path) -> List[Path]:
    out = []
    for folder in [root] + sorted(p for p in root.iterdir() if p.is_dir()):
        out.extend(p for p in sorted(folder.iterdir()) if p.suffix in IMAGE_SUFFIXES)
    return out


def natural_key(path: Path) -> Tuple:
    """``img_2`` before ``img_10``."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name))


def limit_samples(samples: Sequence, limit: Optional[int]) -> List:
    """The first ``limit`` samples (all when None); order is the dataset's stable order."""
    if limit is not None and limit < 1:
        raise DatasetError(f"--limit {limit} must be >= 1")
    return list(samples if limit is None else samples[:limit])
