"""Paddle-Lite predictor, usable in-process or as a tiny worker process.

This file must stay importable by Python 3.7 with only numpy and ``paddlelite`` installed: on this
host it runs inside the per-version Lite environment (the ``paddlelite`` wheels are cp37-cp310),
where the edgeocr package itself is not installed. It moves tensors only; every pre/post-processing
step stays in the main process.

Worker protocol on stdin/stdout, one frame = 8-byte little-endian length + payload:
  start:    worker -> {"ok": true, "version", "inputs", "outputs"}                (JSON frame)
  request:  main   -> {"cmd": "run", "inputs": [names]} + one .npy frame per input
  response: worker -> {"ok": true, "outputs": [names]} + one .npy frame per output
            or       {"ok": false, "error": "..."}
  stop:     main closes stdin.
"""
import io
import json
import struct
import sys

import numpy as np

NB_HEADER_BYTES = 18  # uint16 format version + NUL-terminated "vX.Y" Paddle-Lite version


def read_nb_version(path):
    """Raw Paddle-Lite version string in a ``.nb`` header (e.g. "v2.12", "v2.13-rc"), or None."""
    with open(path, "rb") as fh:
        head = fh.read(NB_HEADER_BYTES)
    text = head[2:].split(b"\0", 1)[0]
    try:
        version = text.decode("ascii")
    except UnicodeDecodeError:
        return None
    return version if version.startswith("v") and len(version) > 1 else None


class LitePredictor(object):
    """``paddlelite.lite`` LightPredictor for one ``.nb`` file (MobileConfig has no thread setting).

    A predictor is only trusted for the input shape it first ran. Measured here with Paddle-Lite
    2.12's x86 runtime on PP-OCRv2: after a 512x896 det input, a 352x352 one aborts the process
    ("double free or corruption"); after a rec batch of width 320, a width-512 batch returns wrong
    probabilities (max abs diff 0.5) while a fresh predictor matches Paddle to 2e-6. So we keep one
    predictor per input shape (LRU, ``MAX_PREDICTORS``); creating one costs ~35 ms.
    """

    MAX_PREDICTORS = 4

    def __init__(self, model_path):
        self.model_path = str(model_path)
        self._predictors = []  # [(shape key, predictor)], most recently used last
        self.created = 0
        probe = self._create()
        self.version = probe.get_version()
        self.input_names = list(probe.get_input_names())
        self.output_names = list(probe.get_output_names())
        self._probe = probe  # reused for the first shape that runs

    def _create(self):
        from paddlelite import lite

        config = lite.MobileConfig()
        config.set_model_from_file(self.model_path)
        self.created += 1
        return lite.create_paddle_predictor(config)

    def _predictor_for(self, key):
        for i, (k, predictor) in enumerate(self._predictors):
            if k == key:
                self._predictors.append(self._predictors.pop(i))
                return predictor
        if self._probe is not None:
            predictor, self._probe = self._probe, None
        else:
            predictor = self._create()
        self._predictors.append((key, predictor))
        if len(self._predictors) > self.MAX_PREDICTORS:
            self._predictors.pop(0)
        return predictor

    def run(self, feeds):
        key = tuple((name, tuple(value.shape)) for name, value in sorted(feeds.items()))
        predictor = self._predictor_for(key)
        for name, value in feeds.items():
            predictor.get_input_by_name(name).from_numpy(np.ascontiguousarray(value, dtype=np.float32))
        predictor.run()
        # copy: the output tensor's memory is reused by the next run
        return dict((name, np.array(predictor.get_output_by_name(name).numpy(), copy=True)) for name in self.output_names)


def write_frame(stream, payload):
    stream.write(struct.pack("<Q", len(payload)))
    stream.write(payload)


def read_frame(stream):
    head = stream.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack("<Q", head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("truncated frame")
    return data


def array_to_bytes(array):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def bytes_to_array(data):
    return np.load(io.BytesIO(data), allow_pickle=False)


def _send_json(out, obj):
    write_frame(out, json.dumps(obj).encode("utf-8"))
    out.flush()


def main(argv):
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    # Paddle-Lite logs to stdout; keep the protocol channel clean by pointing fd 1 at stderr.
    import os

    proto_fd = os.dup(1)
    os.dup2(2, 1)
    out = os.fdopen(proto_fd, "wb")
    try:
        predictor = LitePredictor(argv[1])
    except Exception as exc:  # report any load failure to the parent as one line
        _send_json(out, {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)})
        return 1
    _send_json(out, {"ok": True, "version": predictor.version, "inputs": predictor.input_names,
                     "outputs": predictor.output_names})
    while True:
        frame = read_frame(inp)
        if frame is None:
            return 0
        request = json.loads(frame.decode("utf-8"))
        feeds = dict((name, bytes_to_array(read_frame(inp))) for name in request["inputs"])
        try:
            outputs = predictor.run(feeds)
        except Exception as exc:
            _send_json(out, {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)})
            continue
        write_frame(out, json.dumps({"ok": True, "outputs": list(outputs)}).encode("utf-8"))
        for value in outputs.values():
            write_frame(out, array_to_bytes(value))
        out.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
