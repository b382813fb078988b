"""Outputs (text, JSON, JSONL, hOCR, searchable PDF checked with pdftotext) and the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image

from conftest import two_column_page
from shizi import Block, Document, Line, Page
from shizi.cli import main
from shizi.export import jsonl_record, to_hocr, to_json, to_pdf, to_text

pdftotext = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(pdftotext is None, reason="pdftotext (poppler-utils) not installed")


def _box(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _hand_document() -> Document:
    """A two-column page with known Chinese/English text."""
    img = np.full((600, 1000, 3), 255, np.uint8)
    left = [
        Line("识字是一个离线系统", 0.9, _box(40, 100, 440, 140)),
        Line("Hello shizi OCR", 0.8, _box(40, 160, 400, 200)),
    ]
    right = [
        Line("第二栏的第一行", 0.95, _box(560, 100, 900, 140)),
        Line("最后一行 end", 0.7, _box(560, 160, 860, 200)),
    ]
    title = [Line("标题 Title", 0.99, _box(40, 20, 500, 70))]
    page = Page(0, 1000, 600, [Block(title), Block(left), Block(right)], image=img)
    return Document([page], source="hand.png")


def _pdftotext(path: Path, *args: str) -> str:
    return subprocess.run(
        [pdftotext, *args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@needs_pdftotext
def test_searchable_pdf_text_in_reading_order(tmp_path: Path):
    doc = _hand_document()
    out = tmp_path / "hand.pdf"
    to_pdf(doc, out)
    expected = [ln.text for ln in doc.lines]
    got = [t.strip() for t in _pdftotext(out).split("\n") if t.strip()]
    assert got == expected
    raw = [t.strip() for t in _pdftotext(out, "-raw").split("\n") if t.strip()]
    assert raw == expected
    # the page image is there and the text layer is invisible: rendering shows only the white page
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(out))
    rendered = pdf[0].render(scale=1).to_numpy()
    assert rendered.min() > 200
    pdf.close()


def test_text_json_hocr():
    doc = _hand_document()
    text = to_text(doc)
    # a paragraph's lines run together: no space after CJK text, one between Latin words
    assert text.startswith("标题 Title\n\n识字是一个离线系统Hello shizi OCR\n\n第二栏")
    assert json.loads(to_json(doc))["pages"][0]["blocks"][1]["lines"][1]["text"] == "Hello shizi OCR"
    rec = jsonl_record(doc, "hand.png")
    assert rec["file"] == "hand.png"
    assert set(rec["pages"][0]) == {"index", "width", "height", "rotation", "blocks", "lines"}
    assert set(rec["pages"][0]["lines"][0]) == {"text", "confidence", "polygon", "block"}
    assert [ln["block"] for ln in rec["pages"][0]["lines"]] == [0, 1, 1, 2, 2]
    assert rec["pages"][0]["blocks"][0] == {"kind": "paragraph", "direction": "horizontal"}
    hocr = to_hocr(doc)
    root = ElementTree.fromstring(hocr.split("\n", 2)[2])  # skip XML declaration and doctype
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    lines = root.findall(".//h:span[@class='ocr_line']", ns)
    assert len(lines) == 5 and "bbox 40 100 440 140" in lines[1].get("title")
    areas = root.findall(".//h:div[@class='ocr_carea']", ns)
    assert len(areas) == 3
    doc.pages[0].blocks[-1].kind = "page_number"  # a page number is hOCR's ocr_pageno
    root = ElementTree.fromstring(to_hocr(doc).split("\n", 2)[2])
    assert len(root.findall(".//h:div[@class='ocr_pageno']", ns)) == 1


# ----------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_files(tmp_path: Path):
    img, order = two_column_page()
    good = tmp_path / "page.png"
    Image.fromarray(img).save(good)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"")
    return good, bad, order


def _models(tiny_models) -> list[str]:
    det, rec = tiny_models
    return ["--det", str(det), "--rec", str(rec), "--no-orient"]


def test_cli_jsonl_and_exit_codes(tiny_models, cli_files, capsys):
    good, bad, order = cli_files
    assert main(["read", "-f", "jsonl", *_models(tiny_models), str(good), str(bad), str(good)]) == 1
    out, err = capsys.readouterr()
    recs = [json.loads(x) for x in out.splitlines()]
    assert [r["file"] for r in recs] == [str(good), str(bad), str(good)]
    assert recs[1] == {"file": str(bad), "error": "empty file (0 bytes)"}
    page = recs[0]["pages"][0]
    assert (page["index"], page["width"], page["height"]) == (0, 640, 420)
    assert [len(ln["text"]) for ln in page["lines"]] == order
    assert len(page["lines"][0]["polygon"]) == 4
    assert f"{bad}: empty file (0 bytes)" in err

    assert main(["read", *_models(tiny_models), str(good)]) == 0
    out, _ = capsys.readouterr()
    assert out == "中" * 7 + "\n\n" + "中" * 23 + "\n\n" + "中" * 16 + "\n"  # title, left, right column


def test_cli_usage_errors(tiny_models, cli_files, capsys):
    good, _, _ = cli_files
    with pytest.raises(SystemExit) as e:
        main(["read", "-f", "nope", str(good)])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["read", "-f", "pdf", *_models(tiny_models), str(good)])  # pdf needs -o
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main([])
    assert e.value.code == 2
    assert main(["read", "--det", "no-such-model", "--rec", "x", str(good)]) == 2
    assert "unknown model" in capsys.readouterr().err


def test_cli_outputs_to_directory(tiny_models, cli_files, tmp_path: Path, capsys):
    good, bad, _ = cli_files
    second = tmp_path / "second.png"
    shutil.copy(good, second)
    out_dir = tmp_path / "out"
    for fmt in ("json", "hocr", "text"):
        rc = main(
            ["read", "-f", fmt, "-o", str(out_dir) + "/", *_models(tiny_models), str(good), str(second)]
        )
        assert rc == 0
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["page.hocr", "page.json", "page.txt", "second.hocr", "second.json", "second.txt"]
    assert (
        Document.from_dict(json.loads((out_dir / "page.json").read_text()))
        .text()
        .startswith("中中中中中中中")
    )


def test_cli_line_mode(tiny_models, tmp_path: Path, capsys):
    img = np.full((32, 160, 3), 255, np.uint8)
    img[6:26, 10:40] = 0
    img[6:26, 60:90] = 0
    p = tmp_path / "line.png"
    Image.fromarray(img).save(p)
    _, rec = tiny_models
    assert main(["read", "--mode", "line", "--rec", str(rec), str(p)]) == 0
    assert capsys.readouterr().out == "中中\n"


@needs_pdftotext
def test_cli_pdf_roundtrip_with_pdftotext(tiny_models, cli_files, tmp_path: Path, capsys):
    good, _, order = cli_files
    out = tmp_path / "page.pdf"
    overlay = tmp_path / "overlay.png"
    assert (
        main(
            ["read", "-f", "pdf", "-o", str(out), "--overlay", str(overlay), *_models(tiny_models), str(good)]
        )
        == 0
    )
    lines = [t.strip() for t in _pdftotext(out).split("\n") if t.strip()]
    assert [len(t) for t in lines] == order and set("".join(lines)) == {"中"}
    assert Image.open(overlay).size == (1280, 420)
    # and reading that PDF back (rasterised by pypdfium2) works through the CLI
    assert main(["read", "-f", "jsonl", *_models(tiny_models), str(out)]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert [len(ln["text"]) for ln in rec["pages"][0]["lines"]] == order


def test_cli_models_lists_installed(tiny_models, monkeypatch, capsys):
    monkeypatch.setenv("SHIZI_MODEL_PATH", str(tiny_models[0].parent))
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "tiny-det" in out and "tiny-rec" in out and "note=test model" in out
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= {"tiny-det", "tiny-rec"}


def test_cli_refuses_outputs_that_would_overwrite_or_break(tiny_models, cli_files, tmp_path: Path, capsys):
    """Two inputs named alike into one folder, several hOCR documents on stdout and an overlay into a
    missing folder are usage errors (exit 2) before anything is read or written."""
    good, _, _ = cli_files
    (tmp_path / "b").mkdir()
    twin = tmp_path / "b" / good.name
    shutil.copy(good, twin)
    out_dir = tmp_path / "out"
    for argv in (["-o", str(out_dir) + "/", str(good), str(twin)],
                 ["--overlay", str(tmp_path / "ov"), str(good), str(twin)],
                 ["-f", "hocr", str(good), str(twin)],
                 ["--overlay", str(tmp_path / "missing" / "o.png"), str(good)]):
        with pytest.raises(SystemExit) as e:
            main(["read", *_models(tiny_models), *argv])
        assert e.value.code == 2
    err = capsys.readouterr().err
    assert "would write the same output" in err and "one document per input" in err
    assert "does not exist" in err
    assert not out_dir.exists() and not (tmp_path / "ov").exists()


@pytest.mark.parametrize("dpi", [100, 150])
def test_searchable_pdf_of_a_pdf_keeps_its_page_size(tmp_path: Path, tiny_models, dpi):
    """Pages remember the dpi a PDF was rasterised at, so to_pdf (API, CLI, service) keeps the input's
    page size in points whatever dpi it was read at."""
    import pypdfium2 as pdfium
    from reportlab.pdfgen import canvas

    from shizi.reader import Reader

    src = tmp_path / "in.pdf"
    c = canvas.Canvas(str(src), pagesize=(300, 200))
    c.rect(40, 100, 150, 14, fill=1)
    c.showPage()
    c.save()
    det, rec = tiny_models
    doc = Reader(detector=det, recognizer=rec, orient=False).read(src, dpi=dpi)
    assert doc.pages[0].dpi == dpi and abs(doc.pages[0].width - 300 * dpi / 72) <= 1
    out = tmp_path / "out.pdf"
    to_pdf(doc, out)
    w, h = pdfium.PdfDocument(str(out))[0].get_size()
    assert abs(w - 300) < 1 and abs(h - 200) < 1
    assert Reader(detector=det, recognizer=rec, orient=False).read(np.asarray(Image.new("RGB", (50, 40)))
                                                                   ).pages[0].dpi is None
