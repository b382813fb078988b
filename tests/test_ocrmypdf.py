"""The OCRmyPDF plugin: the OcrElement tree, orientation / deskew conventions, and a 3-page scanned PDF
through the ``ocrmypdf`` command (the plugin found by its entry point) whose text layer matches
shizi's own reading."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ocrmypdf")

from shizi import ocrmypdf as plugin  # noqa: E402
from shizi.document import Block, Char, Line, Page, build_words  # noqa: E402
from shizi.orientation import Orientation  # noqa: E402

PROSE = [
    "识字把扫描件和照片里的文字变成可以搜索的文本。",
    "每一行都带着位置和置信度，页面按阅读顺序输出。",
    "它在普通的处理器上离线运行，不需要显卡。",
    "2023年2月26日，我们用三页扫描件检查文字层。",
    "双栏页面、竖排页面和旋转的页面也要读对。",
    "训练数据是合成的，字体和文本与测试集分开。",
]


def _line(text: str, x: float, y: float) -> Line:
    chars = [Char(ch, 0.9, [(x + 20 * k, y), (x + 20 * k + 18, y), (x + 20 * k + 18, y + 18),
                            (x + 20 * k, y + 18)]) for k, ch in enumerate(text)]
    return Line(text, 0.9, [(x, y), (x + 20 * len(text), y), (x + 20 * len(text), y + 20), (x, y + 20)],
                build_words(text, chars))


def test_page_tree_words_are_the_space_separated_runs():
    page = Page(0, 800, 100, [Block([_line("2023年2月 shizi 识字 OK", 10, 10)])])
    tree = plugin.page_tree(page, 200.0, 0)
    assert tree.ocr_class == "ocr_page" and tree.dpi == 200.0 and tree.bbox.right == 800
    (par,) = tree.children
    (line,) = par.children
    assert [w.text for w in line.children] == ["2023年2月", "shizi", "识字", "OK"]
    first = line.children[0]
    assert [c.text for c in first.children] == list("2023年2月") and first.bbox.left == 10
    assert first.children[4].bbox.left == 90 and first.language == "chi_sim"


def test_orientation_and_deskew_conventions(monkeypatch, tmp_path):
    from PIL import Image

    class Orienter:
        def orient(self, image):
            return Orientation(90, 0.9, (0.05, 0.9, 0.03, 0.02))  # shizi: turn 90 clockwise to read

    class FakeReader:
        orienter = Orienter()

        def detect_lines(self, image):  # lines whose right ends are 2 degrees lower
            t = np.tan(np.radians(2.0))
            return [np.array([[0, 10], [200, 10 + 200 * t], [200, 30 + 200 * t], [0, 30]])] * 3, [1.0] * 3

    monkeypatch.setattr(plugin, "_reader", lambda options=None: FakeReader())
    Image.new("RGB", (100, 100), "white").save(tmp_path / "p.png")
    o = plugin.ShiziOcrEngine.get_orientation(tmp_path / "p.png", None)
    assert o.angle == 270  # OCRmyPDF: the page is turned 270 clockwise (facing left)
    assert o.confidence >= 14  # above OCRmyPDF's default --rotate-pages-threshold
    # a positive angle is PIL's counter-clockwise rotate that levels the lines
    assert plugin.ShiziOcrEngine.get_deskew(tmp_path / "p.png", None) == pytest.approx(2.0)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils' pdftotext")
def test_ocrmypdf_text_layer_matches_shizi(tmp_path):
    from PIL import Image, ImageDraw
    from rapidfuzz.distance import Levenshtein
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    from shizi.export.fonts import find_cjk_font
    from shizi.reader import Reader

    font_path = find_cjk_font(truetype_only=True)
    if font_path is None:
        pytest.skip("no CJK font")
    from PIL import ImageFont

    font = ImageFont.truetype(font_path, 30)
    scan = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(scan))
    rng = np.random.default_rng(0)
    for k in range(3):
        im = Image.new("RGB", (1300, 700), "white")
        d = ImageDraw.Draw(im)
        for row in range(6):
            d.text((60, 60 + row * 95), PROSE[(row + 2 * k) % len(PROSE)], fill="black", font=font)
        a = np.asarray(im).astype(np.float32) + rng.normal(0, 12, (700, 1300, 1))  # scanner noise
        im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
        c.setPageSize((1300 * 72 / 200, 700 * 72 / 200))
        c.drawImage(ImageReader(im), 0, 0, width=1300 * 72 / 200, height=700 * 72 / 200)
        c.showPage()
    c.save()
    out = tmp_path / "out.pdf"
    ocrmypdf = Path(sys.executable).with_name("ocrmypdf")
    r = subprocess.run([str(ocrmypdf), "-q", "-l", "chi_sim+eng", "--output-type", "pdf", "-j", "2",
                        str(scan), str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    layer = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    own = Reader().read(scan).text()

    def squeeze(s: str) -> str:
        return re.sub(r"\s+", "", s)

    assert len(squeeze(own)) > 300
    cer = Levenshtein.distance(squeeze(layer), squeeze(own)) / len(squeeze(own))
    assert cer <= 0.01, (cer, layer[:300], own[:300])
    assert not re.search(r"[\u4e00-\u9fff][ \t]+[\u4e00-\u9fff]", layer)  # no space inside Chinese text
