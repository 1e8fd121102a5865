"""Dataset readers: one case per format rule, plus auto-detection on the real developer data."""
import json
import math
from pathlib import Path

import pytest

from edgeocr.benchmarks.datasets import (
    load_dataset,
    parse_gt_txt_line,
    parse_icdar2015_line,
    parse_msra_line,
    parse_paddle_det_line,
    parse_paddle_rec_line,
    rotated_rect_corners,
    sniff_label_file,
)
from edgeocr.errors import DatasetError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def test_icdar2015_line_commas_bom_and_dont_care():
    r = parse_icdar2015_line("\ufeff377,117,463,117,465,130,378,130,$8,888\r\n")
    assert r.points == [(377, 117), (463, 117), (465, 130), (378, 130)]
    assert r.text == "$8,888" and not r.ignore
    assert parse_icdar2015_line("1,2,3,4,5,6,7,8,###").ignore
    assert parse_icdar2015_line("   \n") is None
    with pytest.raises(ValueError):
        parse_icdar2015_line("1,2,3")


def test_msra_rotated_rect_about_its_centre():
    r = parse_msra_line("0 1 10 20 40 10 0")
    assert r.ignore  # difficult = don't care
    assert r.points == [(10, 20), (50, 20), (50, 30), (10, 30)]
    # Quarter turn about the centre (30, 25): the 40x10 box becomes 10x40, corners clockwise.
    pts = rotated_rect_corners(10, 20, 40, 10, math.pi / 2)
    assert [c for p in pts for c in p] == pytest.approx([35, 5, 35, 45, 25, 45, 25, 5])
    assert not parse_msra_line("1 0 610 285 177 109 -0.076043\r").ignore
    with pytest.raises(ValueError):
        parse_msra_line("0 0 1 2 3")


def test_paddle_det_rec_and_gt_txt_lines():
    path, regions = parse_paddle_det_line(
        'imgs/a.jpg\t[{"transcription": "Hi", "points": [[1, 2], [3, 2], [3, 4], [1, 4]]},'
        ' {"transcription": "###", "points": [[5, 5], [6, 5], [6, 6], [5, 6]]}]')
    assert path == "imgs/a.jpg" and [r.text for r in regions] == ["Hi", "###"]
    assert [r.ignore for r in regions] == [False, True] and regions[0].points[1] == (3, 2)
    assert parse_paddle_rec_line("test/word_1.png\tAT HIGH\n") == ("test/word_1.png", "AT HIGH")
    assert parse_gt_txt_line("images/word_293.png Fashi  g") == ("images/word_293.png", "Fashi  g")
    with pytest.raises(ValueError):
        parse_gt_txt_line("test/x.png\tlabel")  # a TAB means PaddleOCR format, not gt.txt
    with pytest.raises(ValueError):
        parse_paddle_rec_line("no-tab-here")


@pytest.mark.parametrize("name, fmt, kind, samples, tasks", [
    ("icdar2015_det", "icdar2015", "det", 250, ("det", "e2e")),
    ("msra_td500", "msra-td500", "det", 100, ("det",)),
    ("icdar2015_rec", "gt-txt", "rec", 1000, ("rec",)),
    ("iiit5k_rec", "paddle-rec", "rec", 1500, ("rec",)),
])
def test_autodetect_real_developer_data(name, fmt, kind, samples, tasks):
    ds = load_dataset(DATA / name)
    assert (ds.format, ds.kind, len(ds.samples), ds.tasks) == (fmt, kind, samples, tasks)
    assert all(s.image.is_file() for s in ds.samples)


def test_real_counts_match_the_readmes():
    ic = load_dataset(DATA / "icdar2015_det").summary()
    assert (ic["regions"], ic["dont_care"]) == (2759, 1715)  # README: 2759 boxes, 1715 "###"
    td = load_dataset(DATA / "msra_td500").summary()
    assert (td["regions"], td["dont_care"]) == (339, 42)  # README: 339 lines, 42 difficult
    ic_samples = load_dataset(DATA / "icdar2015_det").samples
    assert ic_samples[0].image.name == "img_1.jpg" and ic_samples[9].image.name == "img_10.jpg"


def test_icdar_rec_label_choice():
    # gt.txt keeps the official transcription (word_289: "$8,888"); rec_gt_test.txt truncates it.
    gt = {s.image.name: s.label for s in load_dataset(DATA / "icdar2015_rec").samples}
    paddle = {s.image.name: s.label for s in load_dataset(DATA / "icdar2015_rec" / "rec_gt_test.txt").samples}
    assert gt["word_289.png"] == "$8,888" and paddle["word_289.png"] == "$8"
    assert gt["word_171.png"] == "AT HIGH"


def test_paddle_det_label_file(tmp_path):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.jpg").write_bytes(b"")
    item = [{"transcription": "Hi", "points": [[1, 2], [3, 2], [3, 4], [1, 4]]}]
    (tmp_path / "label.txt").write_text("imgs/a.jpg\t" + json.dumps(item) + "\n\n", encoding="utf-8")
    assert sniff_label_file(tmp_path / "label.txt") == "paddle-det"
    ds = load_dataset(tmp_path)
    assert (ds.format, ds.kind, ds.tasks, len(ds.samples)) == ("paddle-det", "det", ("det", "e2e"), 1)


@pytest.mark.parametrize("transcriptions, tasks", [(["###"], ("det", "e2e")), (["###", "Hi"], ("det", "e2e")),
                                                    ([""], ("det",))])
def test_paddle_det_e2e_needs_transcriptions_not_care_regions(tmp_path, transcriptions, tasks):
    """A subset holding only don't-care regions (one ICDAR 2015 image staged for a device run) stays an e2e set;
    a file without transcriptions does not become one."""
    (tmp_path / "a.jpg").write_bytes(b"")
    items = [{"transcription": t, "points": [[1, 2], [3, 2], [3, 4], [1, 4]]} for t in transcriptions]
    (tmp_path / "label.txt").write_text("a.jpg\t" + json.dumps(items) + "\n", encoding="utf-8")
    assert load_dataset(tmp_path).tasks == tasks


def test_unknown_folder_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("just some words\nnothing here\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="matches no dataset format"):
        load_dataset(tmp_path)
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "missing")
    with pytest.raises(DatasetError, match="not a label file"):
        load_dataset(tmp_path / "notes.txt")


def test_missing_image_and_bad_line_name_the_file(tmp_path):
    (tmp_path / "labels.txt").write_text("test/nope.png\tWORD\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="nope.png"):
        load_dataset(tmp_path)
    gt_dir = tmp_path / "ic"
    gt_dir.mkdir()
    (gt_dir / "img_1.jpg").write_bytes(b"")
    (gt_dir / "gt_img_1.txt").write_text("1,2,3\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="gt_img_1.txt: line 1"):
        load_dataset(gt_dir)
