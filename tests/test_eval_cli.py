"""`shizi eval`: page sets score detection and page CER, line sets score recognition only."""

from __future__ import annotations

import json

import cv2

from conftest import TWO_COLUMNS, draw_line, two_column_page
from shizi.cli import main


def _page_set(tmp_path, drop_last_label: bool = False):
    img, order = two_column_page()
    cv2.imwrite(str(tmp_path / "p.png"), img)
    # reference boxes around the drawn bars (title: 7 x 60px bars; columns: 18px bars), text = one 中 per bar
    lines = [{"text": "中" * 7, "box": [34, 27, 40 + 7 * 72 - 6, 53]}]
    for x, counts in TWO_COLUMNS:
        for row, n in enumerate(counts):
            lines.append({"text": "中" * n, "box": [x - 6, 107 + row * 45, x + n * 30 - 6, 133 + row * 45]})
    if drop_last_label:
        lines = lines[:-1]
    (tmp_path / "labels.jsonl").write_text(json.dumps({"image": "p.png", "lines": lines}) + "\n")
    return tmp_path / "labels.jsonl"


def test_eval_page_set_scores_detection_and_cer(tiny_models, tmp_path, capsys):
    det, rec = tiny_models
    labels = _page_set(tmp_path)
    assert main(["eval", str(labels), "--det", str(det), "--rec", str(rec), "--no-orient", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["kind"] == "page" and res["n"] == 1
    assert res["hmean"] == 1.0 and res["cer"] == 0.0


def test_eval_counts_unlabeled_detections_as_false_positives(tiny_models, tmp_path, capsys):
    det, rec = tiny_models
    labels = _page_set(tmp_path, drop_last_label=True)
    main(["eval", str(labels), "--det", str(det), "--rec", str(rec), "--no-orient", "--json"])
    res = json.loads(capsys.readouterr().out)
    assert res["recall"] == 1.0 and res["precision"] < 1.0 and res["cer"] > 0


def test_eval_line_set_is_recognition_only(tiny_models, tmp_path, capsys):
    import numpy as np

    _, rec = tiny_models
    img = np.full((24, 200, 3), 255, np.uint8)
    draw_line(img, 4, 2, 3, piece_w=24, gap=16)
    cv2.imwrite(str(tmp_path / "l.png"), img)
    (tmp_path / "labels.jsonl").write_text(json.dumps({"image": "l.png", "text": "中中中中"}) + "\n")
    assert main(["eval", str(tmp_path / "labels.jsonl"), "--rec", str(rec)]) == 0
    out = capsys.readouterr().out
    assert "1 lines, CER 0.2500 (1/4)" in out
    # the decoder's extras off: the same reading of these clear bars
    assert main(["eval", str(tmp_path / "labels.jsonl"), "--rec", str(rec), "--no-lm", "--no-reread"]) == 0
    assert "1 lines, CER 0.2500 (1/4)" in capsys.readouterr().out
