"""Pre/post-processing parameters of PP-OCRv2, each default defined exactly once.

These are the values PP-OCRv2 was trained and evaluated with (PaddleOCR 2.7.3
``tools/infer/utility.py`` defaults and the PP-OCRv2 configs). ``edgeocr convert`` writes them into
every bundle manifest; the runtime reads them back from the manifest and lets callers override any
field with :func:`dataclasses.replace`. Nothing else in the code base may repeat these literals
(RapidOCR has three different ``box_thresh`` defaults; we want one).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple, Type, TypeVar

from .errors import ConfigError

T = TypeVar("T")

IMAGENET_MEAN = (0.485, 0.456, 0.406)


@dataclass(frozen=True)
class Range:
    """Valid values of a numeric parameter: ``lo <= v <= hi`` (``lo < v`` when ``lo_open``).

    Defined once here and used by the dataclass checks, the CLI options (click ranges) and
    ``manifest.schema.json`` (a test checks the schema says the same).
    """

    lo: float
    hi: float
    lo_open: bool = False

    def contains(self, value: float) -> bool:
        return (value > self.lo if self.lo_open else value >= self.lo) and value <= self.hi

    def describe(self) -> str:
        return f"{'(' if self.lo_open else '['}{_num(self.lo)}, {_num(self.hi)}]"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def ranged(default: Any, lo: float, hi: float, lo_open: bool = False) -> Any:
    """A dataclass field with a default and a :class:`Range` in its metadata."""
    return dataclasses.field(default=default, metadata={"range": Range(lo, hi, lo_open)})


def choice(default: str, valid: Tuple[str, ...]) -> Any:
    """A dataclass field with a default and its valid values in the metadata (CLI: click.Choice)."""
    return dataclasses.field(default=default, metadata={"choices": valid})


def field_range(cls: Type[Any], name: str) -> Optional[Range]:
    """The :class:`Range` of field ``name`` of params class ``cls`` (None if unbounded)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.metadata.get("range")
    return None
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class DetParams:
    """DB text detector (DetResizeForTest + NormalizeImage + DBPostProcess).

    Input to the model: ``[1, 3, H', W']`` fp32, H' and W' multiples of 32, BGR channel order as
    read by OpenCV (PaddleOCR normalizes the BGR image with ImageNet's RGB-ordered mean/std and
    the model was trained that way), ``(x / 255 - mean) / std``.
    Output: ``[1, 1, H', W']`` text probability map in [0, 1].
    """

    limit_side_len: int = ranged(960, 32, 8192)
    limit_type: str = choice("max", ("max", "min"))  # "max": shrink so the longer side <= limit; "min": grow the shorter side
    mean: Tuple[float, float, float] = IMAGENET_MEAN
    std: Tuple[float, float, float] = IMAGENET_STD
    color_order: str = "BGR"
    thresh: float = ranged(0.3, 0.0, 1.0)  # binarization threshold of the probability map
    box_thresh: float = ranged(0.6, 0.0, 1.0)  # boxes whose mean score is below this are dropped
    unclip_ratio: float = ranged(1.5, 0.0, 10.0, lo_open=True)  # DB's offset = area * ratio / perimeter
    max_candidates: int = ranged(1000, 1, 100000)
    min_size: int = ranged(3, 0, 10000)  # boxes whose short side is below this (pixels, map scale) are dropped
    score_mode: str = choice("fast", ("fast", "slow"))  # "fast": mean inside the bbox polygon; "slow": inside the contour
    use_dilation: bool = False
    box_type: str = "quad"

    def __post_init__(self) -> None:
        _choice("color_order", self.color_order, ("BGR", "RGB"))
        _choice("box_type", self.box_type, ("quad",))
        check_ranges(self, "det")


@dataclass(frozen=True)
class ClsParams:
    """Text-line orientation classifier (0 or 180 degrees).

    Input: ``[N, 3, 48, 192]`` fp32, BGR, ``(x / 255 - 0.5) / 0.5``, right-padded with zeros.
    Output: ``[N, 2]`` softmax over ``labels``.
    """

    image_shape: Tuple[int, int, int] = (3, 48, 192)
    labels: Tuple[str, ...] = ("0", "180")
    thresh: float = ranged(0.9, 0.0, 1.0)  # rotate a crop by 180 only when label "180" scores above this
    batch_size: int = ranged(6, 1, 1024)

    def __post_init__(self) -> None:
        check_ranges(self, "cls")


@dataclass(frozen=True)
class RecParams:
    """CRNN recognizer with CTC head.

    Input: ``[N, 3, 32, W]`` fp32, BGR, ``(x / 255 - 0.5) / 0.5``; every crop of a batch is resized
    to height 32 keeping its aspect ratio and right-padded with zeros to the batch width
    ``W = max(320, 32 * widest aspect ratio in the batch)`` (PaddleOCR 2.7.3 ``TextRecognizer``).
    Output: ``[N, T, C]`` softmax, C = 1 (CTC blank) + dictionary entries + 1 (space).
    """

    image_shape: Tuple[int, int, int] = (3, 32, 320)
    batch_size: int = ranged(6, 1, 1024)
    use_space_char: bool = True
    decoder: str = "ctc_greedy"

    def __post_init__(self) -> None:
        check_ranges(self, "rec")
        _choice("decoder", self.decoder, ("ctc_greedy",))


@dataclass(frozen=True)
class PipelineParams:
    """det -> cls -> rec glue (PaddleOCR ``TextSystem``)."""

    use_cls: bool = True
    drop_score: float = ranged(0.5, 0.0, 1.0)  # recognized lines scoring below this are dropped from the result

    def __post_init__(self) -> None:
        check_ranges(self, "")


STAGE_PARAMS: Dict[str, Type[Any]] = {"det": DetParams, "cls": ClsParams, "rec": RecParams}


def params_to_dict(params: Any) -> Dict[str, Any]:
    """JSON-friendly dict of a params dataclass (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(params).items()}


def params_from_dict(cls: Type[T], data: Mapping[str, Any], overrides: Mapping[str, Any] = ()) -> T:
    """Build ``cls`` from a manifest dict plus overrides; unknown keys are a :class:`ConfigError`."""
    merged = dict(data)
    merged.update(dict(overrides))
    names = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(merged) - set(names))
    if unknown:
        raise ConfigError(
            f"unknown {cls.__name__} field(s) {unknown}; valid fields: {sorted(names)}"
        )
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in merged.items()}
    return cls(**kwargs)  # type: ignore[call-arg]


def _choice(name: str, value: Any, valid: Tuple[Any, ...]) -> None:
    if value not in valid:
        raise ConfigError(f"{name}={value!r} is not supported; valid choices: {', '.join(map(str, valid))}")


def check_ranges(params: Any, stage: str) -> None:
    """Type and range of every numeric field, named like the override (``det_unclip_ratio``)."""
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        name = f"{stage}_{f.name}" if stage else f.name
        want = {"int": int, "float": (int, float), "bool": bool, "str": str}.get(str(f.type))
        if want is not None and (not isinstance(value, want) or (want is not bool and isinstance(value, bool))):
            raise ConfigError(f"{name}={value!r} must be of type {f.type}")
        valid = f.metadata.get("choices")
        if valid is not None and value not in valid:
            raise ConfigError(f"{name}={value!r} is not supported; valid choices: {', '.join(valid)}")
        rng = f.metadata.get("range")
        if rng is not None and not rng.contains(value):
            raise ConfigError(f"{name}={value} is out of range; valid: {rng.describe()}")
