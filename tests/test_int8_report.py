"""The static int8 section of benchmarks/results/quantization.md (issue 10): the gate table shows how much of the
fp32 output each set keeps, and the weight-only contrast shows why the det interval is wide."""
from edgeocr.converters.int8_report import BEGIN, END, markdown, splice


def _row(dataset, drop, lo, hi, same, passed=True):
    return {"dataset": dataset, "samples": 250, "metric": "hmean", "parent": 43.0, "candidate": 43.0 - drop,
            "drop_pts": drop, "ci_low": lo, "ci_high": hi, "budget_pts": 0.5, "identical_share": same, "passed": passed}


def test_gate_section_shows_agreement_and_the_weight_only_contrast(tmp_path):
    data = {
        "onnxruntime": "1.x", "costs": {},
        "accuracy": {"full_test_sets": True, "numerics": "exact",
                     "rows": [_row("icdar2015_det", 0.83, -1.15, 2.87, 0.899, passed=False),
                              _row("icdar2015_rec+rot180", 0.65, -0.55, 1.8, None)]},
        "accuracy_int8w": {"rows": [_row("icdar2015_det", 0.16, -0.57, 0.92, 0.9695),
                                    _row("msra_td500", 0.08, -1.24, 1.16, 0.984)]},
    }
    md = markdown(data)
    assert md.startswith(BEGIN) and md.rstrip().endswith(END)
    assert "| icdar2015_det | 250 | hmean | 43.00 | 42.17 | +0.83 [-1.15, +2.87] | 0.5 | 89.9% | OVER |" in md
    assert "| icdar2015_rec+rot180 | 250 | hmean | 43.00 | 42.35 | +0.65 [-0.55, +1.80] | 0.5 |  | ok |" in md
    # the contrast lists only sets the static variant was gated on, with both interval widths
    assert "| icdar2015_det | +0.16 [-0.57, +0.92] | 1.49 (static: 4.02) | 97.0% |" in md
    assert "msra_td500 |" not in md.split("For contrast")[1]
    target = tmp_path / "quantization.md"
    target.write_text("# head\n\n" + BEGIN + "\nSTALE SECTION\n" + END + "\n\ntail\n", encoding="utf-8")
    splice(target, md)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# head") and text.rstrip().endswith("tail") and "STALE SECTION" not in text
    assert text.count(BEGIN) == 1
