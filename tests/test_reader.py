"""Pipeline, registry, result model and thread safety, with the tiny test models."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import shizi
from conftest import draw_line, two_column_page
from shizi import Document, InputError, ModelError
from shizi.document import Char, build_words
from shizi.geometry import order_quad
from shizi.layout import Layout
from shizi.reader import Reader
from shizi.recognition import ctc_greedy_decode
from shizi.recognition.crops import map_points


def test_two_column_page_reading_order(tiny_reader):
    img, order = two_column_page()
    doc = tiny_reader.read(img)
    page = doc.pages[0]
    assert (page.width, page.height) == (640, 420)
    assert [len(ln.text) for ln in page.lines] == order
    assert [len(b.lines) for b in page.blocks] == [1, 3, 3]
    assert doc.text().split("\n\n")[1] == "中" * 23  # a paragraph's lines joined: no spaces in CJK
    for ln in page.lines:
        assert 0.5 < ln.confidence <= 1.0
        assert len(ln.chars) == len(ln.text)
        assert all(len(c.polygon) == 4 for c in ln.chars)
    # the stages one by one: detect_lines, then line_crop for each polygon
    polys, scores = tiny_reader.detect_lines(img)
    assert len(polys) == len(scores) == len(order)
    crops = [tiny_reader.line_crop(img, p).images[0] for p in polys]
    texts = sorted(len(r.text) for r in tiny_reader.recognizer.recognize(crops))
    assert texts == sorted(order)


def test_char_positions_in_page_pixels(tiny_reader):
    img = np.full((100, 300, 3), 255, np.uint8)
    draw_line(img, 50, 40, 3, piece_w=30, gap=12)  # pieces at x 50-80, 92-122, 134-164
    (line,) = tiny_reader.read(img).pages[0].lines
    assert line.text == "中中中"
    centres = [np.mean([p[0] for p in c.polygon]) for c in line.chars]
    for got, want in zip(centres, (65, 107, 149), strict=True):
        assert abs(got - want) < 12
    ys = [p[1] for c in line.chars for p in c.polygon]
    assert min(ys) > 25 and max(ys) < 75


def test_line_mode_and_vertical_line(tiny_reader):
    img = np.full((30, 200, 3), 255, np.uint8)
    draw_line(img, 10, 5, 4, piece_w=25, gap=15)
    doc = tiny_reader.read(img, mode="line")
    assert doc.text() == "中中中中"
    vert = np.ascontiguousarray(np.rot90(img, k=-1))  # tall image: a vertical line
    line = tiny_reader.read(vert, mode="line").pages[0].lines[0]
    assert line.text == "中中中中" and line.vertical
    # chars go top to bottom in page pixels
    cy = [np.mean([p[1] for p in c.polygon]) for c in line.chars]
    assert cy == sorted(cy) and all(0 <= y <= vert.shape[0] for y in cy)


def test_empty_page_and_blank_line(tiny_reader):
    blank = np.full((64, 64, 3), 255, np.uint8)
    assert tiny_reader.read(blank).text() == ""
    assert tiny_reader.read(blank, mode="line").pages[0].lines == []


def test_reader_shared_by_threads(tiny_reader):
    pages = []
    for k in range(6):
        img = np.full((160, 400, 3), 255, np.uint8)
        for row in range(3):
            draw_line(img, 20, 20 + 45 * row, 1 + (k + row) % 5)
        pages.append(img)
    expected = [tiny_reader.read(p).to_dict() for p in pages]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda p: tiny_reader.read(p).to_dict(), pages * 3))
    assert got == expected * 3
    results = list(tiny_reader.read_many(pages + [b"not an image"], workers=3))
    assert [r.to_dict() for _, r in results[:-1]] == expected
    assert isinstance(results[-1][1], InputError)


def test_document_round_trip(tiny_reader):
    img, _ = two_column_page()
    doc = tiny_reader.read(img, name="two.png")
    d = doc.to_dict()
    again = Document.from_dict(json.loads(json.dumps(d)))
    assert again.to_dict() == d
    assert again.text() == doc.text() and again.source == "two.png"


def test_render_png(tiny_reader, tmp_path: Path):
    img, _ = two_column_page()
    doc = tiny_reader.read(img)
    out = tmp_path / "overlay.png"
    im = doc.render(0, path=out)
    assert out.stat().st_size > 0 and im.size == (1280, 420)
    arr = np.asarray(im)
    assert (arr[:, 640:] < 128).any()  # text drawn on the right half


def test_build_words_latin_runs_and_cjk():
    chars = [Char(c, 0.9, [(i, 0), (i + 1, 0), (i + 1, 1), (i, 1)]) for i, c in enumerate("识字 OCR v2.0 好")]
    words = build_words("识字 OCR v2.0 好", chars)
    assert [w.text for w in words] == ["识", "字", "OCR", "v2.0", "好"]
    assert words[2].polygon[0] == (3, 0) and words[2].polygon[2] == (6, 1)


def test_ctc_greedy_decode():
    charset = ["a", "b", " "]
    steps = [1, 1, 0, 1, 2, 2, 0, 3, 0]
    probs = np.full((len(steps), 4), 0.05, np.float32)
    for t, k in enumerate(steps):
        probs[t, k] = 0.85
    probs[1, 1] = 0.95
    r = ctc_greedy_decode(probs, charset, stride=4)
    assert r.text == "aab "
    assert r.char_confidences[0] == pytest.approx(0.95)
    assert r.char_x[0] == pytest.approx(4.0) and r.char_spans[2] == (16, 24)
    assert ctc_greedy_decode(np.zeros((0, 4)), charset).text == ""
    # a class beyond the charset (a model exported with a longer charset) is dropped, not misread
    wide = np.zeros((3, 5), np.float32)
    wide[[0, 1, 2], [1, 4, 2]] = 1.0
    r = ctc_greedy_decode(wide, charset, stride=4)
    assert r.text == "ab" and r.char_spans == [(0, 4), (8, 12)]


def _band(h=40, w=200, top=10, bottom=30, ink=20, paper=235):
    g = np.full((h, w), paper, np.uint8)
    g[top:bottom, 10 : w - 10 : 3] = ink  # glyph-like vertical strokes
    return g


def test_ink_rows_trims_to_the_text_band_with_margin():
    from shizi.recognition.crops import ink_rows

    assert ink_rows(_band(), margin=0.2) == (6, 34)  # 20 rows of ink, 4 rows either side
    assert ink_rows(_band(), margin=0.0) == (10, 30)
    assert ink_rows(255 - _band(), margin=0.0) == (10, 30)  # light text on a dark ground
    bled = _band()
    bled[0:4, 10:190:3] = 20  # the next line's descenders at the crop's top edge
    assert ink_rows(bled, margin=0.0) == (10, 30)
    two = _band(top=6, bottom=14)  # a glyph with a gap inside it (二): both bars stay
    two[22:30, 10:190:3] = 20
    assert ink_rows(two, margin=0.0) == (6, 30)
    assert ink_rows(_band(top=19, bottom=21), margin=0.0, min_keep=0.45) == (11, 29)  # a dash: no sliver
    assert ink_rows(np.full((40, 200), 128, np.uint8), margin=0.2) == (0, 40)  # no ink: whole
    assert ink_rows(_band(ink=225, paper=235), margin=0.2) == (0, 40)  # too faint to trust: whole
    specks = np.full((40, 200), 235, np.uint8)
    specks[np.arange(0, 40, 3), np.arange(0, 200, 15)[:14]] = 0  # scattered dots, no row of ink
    assert ink_rows(specks, margin=0.2) == (0, 40)


def test_line_crop_takes_page_beyond_the_polygon_ends():
    img = np.full((60, 300, 3), 255, np.uint8)
    img[20:40, 226:234] = 0  # the last glyph's ink, mostly outside the detector's polygon
    poly = np.array([[50, 20], [230, 20], [230, 40], [50, 40]], float)
    lc = Reader.line_crop(img, poly, side_pad=0.5)
    crop, m_inv = lc.images[0], lc.m_inv
    assert not lc.vertical and crop.shape[1] == 180 + 2 * 10  # half a thickness (20 px) at either end
    band = crop[3:-3]  # the polygon's rows (the crop adds 8 % above and below)
    assert (band[:, -14:-6] < 128).all() and (band[:, -5:] > 128).all()  # the whole glyph, then paper
    assert np.allclose(map_points(m_inv, np.array([[10.0, crop.shape[0] / 2]])), [[50, 30]], atol=0.5)
    tight = Reader.line_crop(img, poly, side_pad=0.0).images[0]
    assert tight.shape[1] == 180 and (tight[3:-3, -4:] < 128).all()  # cut through the glyph
    # a vertical line gets its margin at the top and bottom of the upright column
    col = np.array([[100, 10], [120, 10], [120, 190], [100, 190]], float)
    lc = Reader.line_crop(np.full((200, 300, 3), 255, np.uint8), col, vertical=True, side_pad=0.5)
    upright = lc.column.crop
    assert lc.vertical and upright.shape[0] == 180 + 2 * 10
    assert np.allclose(map_points(lc.m_inv, np.array([[upright.shape[1] / 2, 10.0]])), [[110, 10]], atol=1.5)


def test_layout_single_column_blocks_and_rows():
    def box(x0, y0, x1, y1):
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)

    polys = [box(10, 100, 400, 120), box(10, 10, 400, 30), box(10, 40, 200, 60), box(250, 42, 400, 60)]
    blocks = Layout().arrange(polys)
    assert [b.lines for b in blocks] == [[1, 2, 3], [0]]  # same row left to right; a far line: new block
    vertical = [box(300, 10, 320, 200), box(340, 10, 360, 200)]
    (block,) = Layout().arrange(vertical)
    assert block.lines == [1, 0] and block.direction == "vertical"  # right to left


def test_order_quad():
    q = order_quad(np.array([[10, 10], [0, 10], [0, 0], [10, 0]]))
    assert q.tolist() == [[0, 0], [10, 0], [10, 10], [0, 10]]
    # a thin column leaning 3 degrees: its top corners stay its top (sorting by x paired them wrongly)
    col = np.array([[929.4, 734.2], [961.5, 130.2], [948.4, 734.5], [980.8, 130.2]])
    assert np.allclose(order_quad(col), [[961.5, 130.2], [980.8, 130.2], [948.4, 734.5], [929.4, 734.2]])
    assert order_quad(np.array([[0, 64], [6, 72], [82, 8], [76, 0]])).tolist() == [[0, 64], [76, 0], [82, 8],
                                                                                  [6, 72]]


# ----------------------------------------------------------------------------- registry


def test_registry_lookup_and_defaults(tiny_models, monkeypatch):
    det, rec = tiny_models
    monkeypatch.setenv("SHIZI_MODEL_PATH", str(det.parent))
    names = {m.name for m in shizi.list_models()}
    assert {"tiny-det", "tiny-rec"} <= names
    info = shizi.load_model("tiny-rec")
    assert info.task == "recognition" and info.charset() == ["中", "A"] and info.size_bytes > 0
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        shizi.load_model("nope")
    with pytest.raises(ModelError, match="is a detection model, not recognition"):
        shizi.load_model("tiny-det", task="recognition")


def test_sha256_mismatch(tiny_models, tmp_path):
    bad = tmp_path / "bad-rec"
    shutil.copytree(tiny_models[1], bad)
    with open(bad / "model.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelError, match="sha256 mismatch"):
        shizi.load_model(bad)


def test_no_model_installed(monkeypatch, tmp_path):
    import shizi.models as registry

    monkeypatch.setattr(registry, "PACKAGE_DIR", tmp_path)
    monkeypatch.delenv("SHIZI_MODEL_PATH", raising=False)
    with pytest.raises(ModelError, match="no detection model installed"):
        shizi.Reader()
    with pytest.raises(ModelError, match="no recognition model installed"):
        shizi.Reader(detector=False)


def test_import_and_read_do_not_import_torch(tiny_models, tmp_path):
    det, rec = tiny_models
    code = (
        "import sys, numpy as np, shizi, shizi.cli, shizi.export.pdf\n"
        "from shizi import Reader\n"
        f"r = Reader(detector={str(det)!r}, recognizer={str(rec)!r})\n"
        "img = np.full((64, 200, 3), 255, np.uint8); img[20:40, 20:60] = 0\n"
        "doc = r.read(img); shizi.export.pdf.to_pdf(doc)\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "print(doc.text())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "中"


@pytest.mark.parametrize("option", ["threads", "batch_size", "dpi", "max_pixels", "max_pages", "max_bytes"])
def test_reader_options_are_checked_where_they_enter(option):
    import shizi

    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=option):
            shizi.Reader(detector=False, recognizer=False, **{option: bad})
