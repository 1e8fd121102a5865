"""Installing edgeocr must not put generic top-level `converters` / `benchmarks` modules into
site-packages; they ship as edgeocr.converters and edgeocr.benchmarks (setup.cfg package_dir)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_maps_converters_and_benchmarks_under_edgeocr(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = tmp_path.glob("edgeocr-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names}
    assert top_level <= {"edgeocr", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}, top_level
    for required in ("edgeocr/converters/convert.py", "edgeocr/backends/lite_worker.py", "edgeocr/benchmarks/__init__.py",
                     "edgeocr/manifest.schema.json"):
        assert required in names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    # The slim runtime needs only numpy + opencv + one backend (from an extra), plus jsonschema (manifest
    # schema on every load) and Pillow (image size from the header before decoding), see README.
    requires = [l for l in metadata.splitlines() if l.startswith("Requires-Dist:") and "extra ==" not in l]
    assert sorted(l.split()[1].split(";")[0] for l in requires) == [
        "Pillow", "click", "jsonschema", "numpy", "opencv-python-headless", "pyclipper", "tqdm"]


def test_installed_package_exposes_only_the_edgeocr_namespace() -> None:
    code = "import importlib.util as u; print(u.find_spec('converters'), u.find_spec('benchmarks'), u.find_spec('edgeocr.converters') is not None)"
    out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, check=True).stdout.split()
    assert out == ["None", "None", "True"]


def test_python_dash_m_edgeocr_help_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "edgeocr", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for command in ("convert", "models", "ocr", "eval", "bench", "report", "device"):
        assert command in proc.stdout
