"""Recognition metric rules (PaddleOCR ``RecMetric``)."""
import pytest

from edgeocr.benchmarks.rec_metrics import TextNorm, compare, rec_metrics


def test_spaces_are_removed_before_comparison():
    assert compare("AT HIGH", "ATHIGH")[0]
    assert compare("50% OFF", "50%OFF")[0]
    assert not compare("AT HIGH", "ATHIGH", TextNorm(ignore_space=False))[0]


def test_case_sensitive_by_default():
    assert not compare("joint", "JOINT")[0]
    assert compare("joint", "JOINT", TextNorm(case_insensitive=True))[0]


def test_is_filter_keeps_ascii_alphanumerics_lowercased():
    norm = TextNorm(is_filter=True)
    assert norm("B1,") == "b1"
    assert compare("$8,888", "8888", norm)[0]
    assert compare("Café!", "caf", norm)[0]  # é is not ASCII: dropped
    assert not compare("$8,888", "8888")[0]


def test_acc_and_norm_edit_dis():
    m = rec_metrics([("abcd", "abce"), ("xy", "xy"), ("", "ab")])
    # distances: 1/4, 0, 2/2 -> mean 1.25/3
    assert m.correct == 1 and m.total == 3
    assert m.acc == pytest.approx(1 / 3)
    assert m.norm_edit_dis == pytest.approx(1 - 1.25 / 3)


def test_norm_edit_dis_is_computed_on_normalised_strings():
    m = rec_metrics([("A B", "AB")])
    assert m.acc == 1.0 and m.norm_edit_dis == 1.0


def test_empty_set_and_description():
    m = rec_metrics([])
    assert (m.acc, m.norm_edit_dis, m.total) == (0.0, 0.0, 0)
    assert "case-sensitive" in m.normalization
    assert "is_filter" in TextNorm(is_filter=True).describe()
