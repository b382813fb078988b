"""Simplified / traditional output (OpenCC): by phrase, every character keeping its box."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import draw_line
from shizi.recognition import RecognitionResult
from shizi.script import convert_page


class FixedText:
    """A recognizer that reads every crop as ``text``, one character per 10 crop pixels."""

    def __init__(self, text: str) -> None:
        self.text = text

    def recognize(self, crops):
        n = len(self.text)
        return [RecognitionResult(self.text, 0.9, [0.9] * n, [5.0 + 10 * k for k in range(n)],
                                  [(10.0 * k, 10.0 * k + 8) for k in range(n)]) for _ in crops]


def _page_image() -> np.ndarray:
    img = np.full((120, 480, 3), 255, np.uint8)
    draw_line(img, 30, 40, 6, piece_w=18, gap=12)
    return img


@pytest.mark.parametrize(("printed", "script", "expected"), [
    ("头发 发展 OK", "traditional", "頭髮 發展 OK"),  # 发 by its word: 髮 in 头发, 發 in 发展
    ("頭髮與發展", "simplified", "头发与发展"),
    ("头发 发展", "as-printed", "头发 发展"),
])
def test_script_conversion_keeps_boxes(tiny_models, printed, script, expected):
    from shizi.reader import Reader

    det, _ = tiny_models
    reader = Reader(detector=det, recognizer=FixedText(printed), orient=False)
    plain = reader.read(_page_image()).pages[0]
    line = reader.read(_page_image(), script=script).pages[0].lines[0]
    assert line.text == expected
    assert [c.text for c in line.chars] == [ch for ch in expected if not ch.isspace()]
    assert [c.polygon for c in line.chars] == [c.polygon for c in plain.lines[0].chars]
    assert "".join(w.text for w in line.words) == expected.replace(" ", "")
    assert Reader(detector=det, recognizer=FixedText(printed), orient=False,
                  script=script).read(_page_image()).text() == expected


def test_script_is_checked_where_it_enters(tiny_models):
    from shizi.reader import Reader

    det, rec = tiny_models
    with pytest.raises(ValueError, match="script"):
        Reader(detector=det, recognizer=rec, script="pinyin")
    with pytest.raises(ValueError, match="script"):
        Reader(detector=det, recognizer=rec).read(_page_image(), script="zh-TW")


def test_a_page_read_back_from_json_converts_too(tiny_models):
    from shizi.document import Page
    from shizi.reader import Reader

    det, _ = tiny_models
    page = Reader(detector=det, recognizer=FixedText("发展"), orient=False).read(_page_image()).pages[0]
    d = page.to_dict()
    for w in d["blocks"][0]["lines"][0]["words"]:
        w["chars"] = []  # a result without character detail
    back = convert_page(Page.from_dict(d), "traditional")
    assert back.lines[0].text == "發展" and [w.text for w in back.lines[0].words] == ["發", "展"]
