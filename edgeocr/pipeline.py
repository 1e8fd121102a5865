"""The slim runtime: ``OCR(bundle_dir)(image)`` -> text lines in reading order.

det -> sort -> crop -> cls -> rec -> drop low scores, as PaddleOCR 2.7.3's ``TextSystem`` does,
with every parameter read from the bundle manifest (``edgeocr.stage_params``) and any of them
overridable by keyword. The stages are shared by every backend: a backend only maps input tensors
to output tensors (``edgeocr.backends.base.Backend``), so onnxruntime, Paddle-Lite and Paddle
Inference give the same post-processing (issue 3).

Overrides use PaddleOCR-style names: ``det_<field>`` for :class:`DetParams`, ``cls_<field>`` for
:class:`ClsParams`, ``rec_<field>`` for :class:`RecParams` and bare :class:`PipelineParams` fields
(``drop_score``), e.g. ``OCR(bundle, det_box_thresh=0.5, rec_batch_size=8)``.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .backends.base import Backend, create_backend
from .box_sort import sort_order
from .cls_stage import ClsOutput, classify
from .crop import crop_boxes
from .ctc_decode import CTCDecoder, load_character_list
from .det_postprocess import db_postprocess
from .det_preprocess import det_preprocess
from .errors import ChecksumError, ConfigError, InputError, ModelFormatError
from .hashing import sha256_file
from .image_io import MAX_IMAGE_PIXELS, read_image, to_bgr
from .manifest import Bundle, load_bundle
from .rec_preprocess import rec_batches
from .stage_params import ClsParams, DetParams, PipelineParams, RecParams, params_from_dict, params_to_dict

log = logging.getLogger(__name__)

ImageLike = Union[np.ndarray, str, Path]

# Override prefix -> (stage, params class). Pipeline fields take no prefix.
_PREFIXES: Dict[str, Tuple[str, type]] = {"det_": ("det", DetParams), "cls_": ("cls", ClsParams), "rec_": ("rec", RecParams)}


@dataclass
class TextLine:
    """One recognized line: ``box`` is 4 ``[x, y]`` float pixel corners (TL, TR, BR, BL) of the input image."""

    box: List[List[float]]
    text: str
    score: float

    def to_dict(self) -> Dict[str, Any]:
        return {"box": self.box, "text": self.text, "score": self.score}


@dataclass
class StageTimings:
    """Wall-clock seconds per stage of one image.

    ``det``/``cls``/``rec`` include their pre/post-processing; ``crop`` is the perspective crops;
    ``total`` is end to end (after image decoding). ``infer`` is the part spent inside the backend
    (all stages), so ``total - infer`` is pre/post-processing and glue.
    """

    det: float = 0.0
    cls: float = 0.0
    rec: float = 0.0
    crop: float = 0.0
    total: float = 0.0
    infer: float = 0.0
    det_infer: float = 0.0
    cls_infer: float = 0.0
    rec_infer: float = 0.0

    @property
    def prepost(self) -> float:
        """Seconds outside the backends: pre/post-processing, crops, sorting."""
        return max(self.total - self.infer, 0.0)

    def to_dict(self) -> Dict[str, float]:
        return {**dataclasses.asdict(self), "prepost": self.prepost}


@dataclass
class OCRResult:
    """Result of one image: lines in reading order, timings, and the image size ``(h, w)``."""

    lines: List[TextLine]
    timings: StageTimings
    image_size: Tuple[int, int]
    source: Optional[str] = None

    @property
    def texts(self) -> List[str]:
        return [line.text for line in self.lines]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "source": self.source,
            "image_size": list(self.image_size),
            "lines": [line.to_dict() for line in self.lines],
            "timings": self.timings.to_dict(),
        }


@dataclass
class DetOutput:
    """Detected boxes ``[K, 4, 2]`` float32 (TL, TR, BR, BL) in reading order; ``elapse`` seconds."""

    boxes: np.ndarray
    elapse: float = 0.0
    infer: float = 0.0


@dataclass
class RecOutput:
    """``texts[i] = (text, score)`` for crop ``i`` (input order); ``elapse`` seconds."""

    texts: List[Tuple[str, float]]
    elapse: float = 0.0
    infer: float = 0.0


# What each stage's output looks like; a model in the wrong slot (det.onnx replaced by the cls model,
# or a manifest edited to point at another file) fails this check with one line naming the file.
_OUTPUT_CHECKS: Dict[str, Tuple[Callable[[Tuple[int, ...]], bool], str]] = {
    "det": (lambda s: len(s) == 4 and s[1] == 1, "[N, 1, H, W]"),
    "cls": (lambda s: len(s) == 2 and s[1] == 2, "[N, 2]"),
    "rec": (lambda s: len(s) == 3, "[N, T, classes]"),
}


class _TimedModel:
    """A backend as a ``[batch] -> output`` callable that adds up its own inference time.

    ``stage`` and ``path`` name the model when it rejects its input or returns another stage's
    output shape (a model in the wrong slot), instead of a backend traceback.
    """

    def __init__(self, backend: Backend, stage: str = "", path: Optional[Path] = None) -> None:
        self.backend = backend
        self.stage = stage
        self.path = path
        self.seconds = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        try:
            out = self.backend.run_single(x)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - every backend raises its own types on a bad model/input
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise ModelFormatError(
                f"the {self.stage} model rejected a {self.stage} input of shape {list(x.shape)} ({first}); "
                f"is this file really the {self.stage} model?", self.path) from None
        self.seconds += time.perf_counter() - t0
        check = _OUTPUT_CHECKS.get(self.stage)
        if check is not None and not check[0](tuple(out.shape)):
            raise ModelFormatError(
                f"returned shape {list(out.shape)}, not a {self.stage} model's {check[1]}; is this file really the "
                f"{self.stage} model (another stage's model in its slot)?", self.path)
        return out

    def take(self) -> float:
        """Seconds accumulated since the last call, then reset."""
        seconds, self.seconds = self.seconds, 0.0
        return seconds


def detect_boxes(img: np.ndarray, run_det: Callable[[np.ndarray], np.ndarray], params: DetParams) -> np.ndarray:
    """DB text boxes of a ``[h, w, 3]`` uint8 BGR image: preprocess, ``run_det`` (``[1, 3, H', W']`` fp32 ->
    ``[1, 1, H', W']`` probability map), post-process. ``[K, 4, 2]`` float32 in contour order (not reading
    order). Shared by the pipeline, the parity check and int8 calibration so all cut the same boxes."""
    det_in = det_preprocess(img, params)
    return db_postprocess(run_det(det_in.tensor), det_in.src_hw, params)


def split_overrides(overrides: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """``{"det_box_thresh": .5, "drop_score": .3}`` -> ``{"det": {"box_thresh": .5}, "pipeline": {...}}``."""
    pipeline_fields = {f.name for f in dataclasses.fields(PipelineParams)}
    split: Dict[str, Dict[str, Any]] = {"det": {}, "cls": {}, "rec": {}, "pipeline": {}}
    valid = sorted(pipeline_fields)
    for prefix, (stage, cls) in _PREFIXES.items():
        valid += [prefix + f.name for f in dataclasses.fields(cls)]
    for key, value in overrides.items():
        if key in pipeline_fields:
            split["pipeline"][key] = value
            continue
        for prefix, (stage, cls) in _PREFIXES.items():
            name = key[len(prefix):]
            if key.startswith(prefix) and name in {f.name for f in dataclasses.fields(cls)}:
                split[stage][name] = value
                break
        else:
            raise ConfigError(f"unknown OCR parameter {key!r}; valid parameters: {', '.join(valid)}")
    return split


def check_dictionary(bundle: Bundle, decoder: CTCDecoder) -> None:
    """The dictionary file's entries must equal what the manifest and the recognizer's class count say.

    One line naming the dictionary and both counts (not "check --rec"): the recognizer has
    ``entries + 2`` classes (CTC blank + dictionary + space).
    """
    m = bundle.manifest
    rec_classes = m.stages["rec"].outputs[0].shape[-1] if m.stages["rec"].outputs else None
    file_entries = decoder.num_classes - 1 - (1 if m.dictionary.use_space_char else 0)
    if isinstance(rec_classes, int) and rec_classes > 0 and rec_classes != decoder.num_classes:
        raise InputError(
            f"has {file_entries} entries but the recognizer has {rec_classes} classes, i.e. needs "
            f"{rec_classes - 1 - (1 if m.dictionary.use_space_char else 0)} entries (classes = CTC blank + entries"
            f"{' + space' if m.dictionary.use_space_char else ''}); use the dictionary the model was trained with",
            bundle.dictionary_path)
    if file_entries != m.dictionary.entries:
        raise InputError(f"has {file_entries} entries but manifest.json says {m.dictionary.entries}",
                         bundle.dictionary_path)


class OCR:
    """PP-OCRv2 text detection + recognition from a bundle made by ``edgeocr convert``.

    ``backend``: ``None`` uses the manifest's backend (onnxruntime for ONNX bundles, paddle-lite for
    ``.nb``). ``threads``: inference threads (None: the backend's default). ``use_cls``: run the
    180-degree classifier (None: the manifest's ``pipeline.use_cls``). ``verify``: check the
    bundle's sha256s on load. ``backend_options``: extra keyword arguments for
    :func:`~edgeocr.backends.base.create_backend` (e.g. ``graph_opt``). ``source_models``: with
    ``backend="paddle"``, the folder holding the original Paddle model dirs the bundle was converted
    from (checked against the sha256s in the manifest): the pipeline then runs the Paddle originals
    as the host-side reference. ``max_image_pixels``: refuse image files declaring more pixels
    (header check before decoding; None: no limit). ``overrides``: parameter overrides, see the
    module docstring.
    """

    def __init__(
        self,
        bundle_dir: Union[str, Path],
        backend: Optional[str] = None,
        threads: Optional[int] = None,
        use_cls: Optional[bool] = None,
        verify: bool = True,
        backend_options: Optional[Mapping[str, Any]] = None,
        source_models: Optional[Union[str, Path]] = None,
        max_image_pixels: Optional[int] = MAX_IMAGE_PIXELS,
        **overrides: Any,
    ) -> None:
        self.max_image_pixels = max_image_pixels
        self.bundle: Bundle = load_bundle(bundle_dir, verify=verify)
        manifest = self.bundle.manifest
        split = split_overrides(overrides)
        if use_cls is not None:
            split["pipeline"]["use_cls"] = use_cls
        self.det_params: DetParams = params_from_dict(DetParams, manifest.stages["det"].params, split["det"])
        self.cls_params: ClsParams = params_from_dict(ClsParams, manifest.stages["cls"].params, split["cls"])
        self.rec_params: RecParams = params_from_dict(RecParams, manifest.stages["rec"].params, split["rec"])
        self.pipeline_params: PipelineParams = params_from_dict(PipelineParams, manifest.pipeline, split["pipeline"])
        self.backend_name = backend or manifest.backend
        self.threads = threads
        self.decoder = CTCDecoder(load_character_list(self.bundle.dictionary_path, self.rec_params.use_space_char),
                                  dictionary=self.bundle.dictionary_path)
        check_dictionary(self.bundle, self.decoder)
        options = dict(backend_options or {})
        if self.backend_name == "paddle-lite":
            # A .nb runs correctly only on the Lite version and target (arm/x86) that wrote it.
            if manifest.lite_version:
                options.setdefault("lite_version", manifest.lite_version)
            if manifest.target:
                options.setdefault("target", manifest.target)
        elif self.backend_name == "onnxruntime" and manifest.ort_session_config:
            # e.g. {"session.disable_quant_qdq": "1"}: fold weight-only DequantizeLinear at load (else ~0.6x speed).
            options.setdefault("session_config", manifest.ort_session_config)
        self._models: Dict[str, _TimedModel] = {}
        stages = ("det", "cls", "rec") if self.pipeline_params.use_cls else ("det", "rec")
        paths = {stage: self._model_path(stage, source_models) for stage in stages}
        try:
            for stage in stages:
                self._models[stage] = _TimedModel(
                    create_backend(self.backend_name, paths[stage], threads=threads, **options), stage, paths[stage]
                )
        except BaseException:
            self.close()
            raise
        log.info("OCR ready: %s", self.describe())

    def _model_path(self, stage: str, source_models: Optional[Union[str, Path]]) -> Path:
        """The file (or, for Paddle Inference, the source model dir) the backend of ``stage`` loads."""
        if self.backend_name != "paddle":
            if source_models is not None:
                raise ConfigError("source_models is only used with backend='paddle'")
            return self.bundle.stage_path(stage)
        if source_models is None:
            raise ConfigError(
                "backend 'paddle' runs the original Paddle models: pass source_models=DIR (CLI: --source-models DIR), "
                "the folder holding the model dirs this bundle was converted from"
            )
        source = self.bundle.manifest.stages[stage].source
        model_dir = Path(source_models) / source.get("dir", "")
        if not source.get("dir") or not model_dir.is_dir():
            raise InputError(f"has no Paddle model dir for stage {stage!r} (manifest source: {source})", model_dir)
        for name, digest in source.get("sha256", {}).items():
            if not (model_dir / name).is_file() or sha256_file(model_dir / name) != digest:
                raise ChecksumError(f"is not the model this bundle was converted from (sha256 of {name} differs)",
                                    model_dir)
        return model_dir

    # -- stages --------------------------------------------------------------------------------

    def detect(self, img: np.ndarray) -> DetOutput:
        """Text boxes of a ``[h, w, 3]`` uint8 BGR image, in reading order."""
        model = self._models["det"]
        t0 = time.perf_counter()
        model.take()
        boxes = detect_boxes(img, model, self.det_params)
        boxes = boxes[sort_order(boxes)] if len(boxes) else boxes
        return DetOutput(boxes=boxes, elapse=time.perf_counter() - t0, infer=model.take())

    def crop(self, img: np.ndarray, boxes: Sequence[np.ndarray]) -> List[np.ndarray]:
        """Upright ``[h', w', 3]`` uint8 BGR crops of ``boxes`` (see :mod:`edgeocr.crop`)."""
        return crop_boxes(img, boxes)

    def classify(self, crops: Sequence[np.ndarray]) -> ClsOutput:
        """Orientation of each crop; crops labelled "180" with enough confidence come back rotated."""
        model = self._models.get("cls")
        if model is None:
            raise ConfigError("the classifier was not loaded (use_cls=False); create OCR with use_cls=True")
        t0 = time.perf_counter()
        model.take()
        out = classify(crops, model, self.cls_params)
        out.elapse = time.perf_counter() - t0
        out.infer = model.take()
        return out

    def recognize(self, crops: Sequence[np.ndarray]) -> RecOutput:
        """``(text, score)`` for each ``[h, w, 3]`` uint8 BGR text-line crop, in input order."""
        model = self._models["rec"]
        t0 = time.perf_counter()
        model.take()
        texts: List[Tuple[str, float]] = [("", 0.0)] * len(crops)
        for idx, batch in rec_batches(crops, self.rec_params):
            for k, decoded in zip(idx, self.decoder(model(batch))):
                texts[k] = decoded
        return RecOutput(texts=texts, elapse=time.perf_counter() - t0, infer=model.take())

    # -- end to end ----------------------------------------------------------------------------

    def __call__(self, image: ImageLike) -> OCRResult:
        """Read the text of ``image`` (a path, or a numpy array: BGR, BGRA or grey, 8 or 16 bit)."""
        source = None
        if isinstance(image, (str, Path)):
            source = str(image)
            img = read_image(image, max_pixels=self.max_image_pixels)
        else:
            img = to_bgr(image)
        timings = StageTimings()
        t0 = time.perf_counter()
        det = self.detect(img)
        timings.det, timings.det_infer = det.elapse, det.infer
        t1 = time.perf_counter()
        crops = self.crop(img, det.boxes)
        timings.crop = time.perf_counter() - t1
        if self.pipeline_params.use_cls and crops:
            cls_out = self.classify(crops)
            crops = cls_out.crops
            timings.cls, timings.cls_infer = cls_out.elapse, cls_out.infer
        rec = self.recognize(crops)
        timings.rec, timings.rec_infer = rec.elapse, rec.infer
        lines = [
            TextLine(box=box.tolist(), text=text, score=score)
            for box, (text, score) in zip(det.boxes, rec.texts)
            if score >= self.pipeline_params.drop_score
        ]
        timings.total = time.perf_counter() - t0
        timings.infer = timings.det_infer + timings.cls_infer + timings.rec_infer
        return OCRResult(lines=lines, timings=timings, image_size=(img.shape[0], img.shape[1]), source=source)

    # -- bookkeeping ---------------------------------------------------------------------------

    def params(self) -> Dict[str, Any]:
        """The effective parameters (manifest + overrides), JSON-friendly."""
        return {
            "det": params_to_dict(self.det_params),
            "cls": params_to_dict(self.cls_params),
            "rec": params_to_dict(self.rec_params),
            "pipeline": params_to_dict(self.pipeline_params),
        }

    def describe(self) -> Dict[str, Any]:
        """What runs: bundle, variant, backend per stage (as the backend reports it), parameters."""
        m = self.bundle.manifest
        return {
            "bundle": str(self.bundle.root),
            "variant": m.variant,
            "format": m.format,
            "precision": m.precision,
            "backend": self.backend_name,
            "threads": self.threads,
            "stages": {stage: model.backend.describe() for stage, model in self._models.items()},
            "params": self.params(),
        }

    def close(self) -> None:
        """Release every backend (sessions, Paddle-Lite worker processes)."""
        for model in self._models.values():
            model.backend.close()
        self._models = {}

    def __enter__(self) -> "OCR":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
