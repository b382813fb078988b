"""ALTO 4.4 output: structure, confidences and positions.

The structure the ALTO 4.4 schema requires (element order, required attributes, value types) is
checked here element by element. The schema itself is not in the repository and no installable
package ships it: with ``SHIZI_ALTO_XSD=/path/to/alto-4-4.xsd`` (and lxml) the output is also
validated against it.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

import pytest

from shizi.document import Block, Char, Document, Line, Page, build_words
from shizi.export import render

NS = "{http://www.loc.gov/standards/alto/ns-v4#}"


def _line(text: str, x: float, y: float, conf: list[float], vertical: bool = False) -> Line:
    """A line of ``text`` with 20-px characters from (x, y) (down the page when ``vertical``)."""
    chars = []
    for k, ch in enumerate(text):
        cx, cy = (x, y + 20 * k) if vertical else (x + 20 * k, y)
        chars.append(Char(ch, conf[k], [(cx, cy), (cx + 18, cy), (cx + 18, cy + 18), (cx, cy + 18)]))
    n = len(text)
    w, h = (20, 20 * n) if vertical else (20 * n, 20)
    return Line(text, sum(conf) / n, [(x, y), (x + w, y), (x + w, y + h), (x, y + h)],
                build_words(text, chars), vertical)


def _doc() -> Document:
    zh = _line("识字OCR好", 10, 10, [0.99, 0.07, 0.95, 0.9, 0.8, 0.5])
    en = _line("an ASCII test", 10, 40, [0.9] * 13)
    col = _line("竖排", 300, 10, [0.96, 0.3], vertical=True)
    page = Page(0, 400, 200, [Block([zh, en]), Block([col], direction="vertical")], rotation=90)
    return Document([page, Page(1, 400, 200, [Block([_line("第二页", 10, 10, [0.9] * 3)])])],
                    source="scan.pdf", models={"detection": "db", "recognition": "crnn_lite"})


@pytest.fixture(scope="module")
def alto() -> ET.Element:
    return ET.fromstring(render(_doc(), "alto"))


def _children(el: ET.Element) -> list[str]:
    return [c.tag.replace(NS, "") for c in el]


def test_alto_structure_follows_the_schema(alto):
    assert alto.tag == NS + "alto" and alto.get("SCHEMAVERSION") == "4.4"
    assert _children(alto) == ["Description", "Layout"]
    desc = alto.find(NS + "Description")
    assert _children(desc) == ["MeasurementUnit", "sourceImageInformation", "Processing"]
    assert desc.find(NS + "MeasurementUnit").text == "pixel"
    proc = desc.find(NS + "Processing")
    assert _children(proc) == ["processingCategory", "processingDateTime", "processingStepSettings",
                               "processingSoftware"]
    assert "recognition: crnn_lite" in proc.find(NS + "processingStepSettings").text
    sw = proc.find(NS + "processingSoftware")
    assert _children(sw) == ["softwareName", "softwareVersion", "applicationDescription"]
    pages = alto.findall(f"{NS}Layout/{NS}Page")
    assert [(p.get("ID"), p.get("PHYSICAL_IMG_NR")) for p in pages] == [("p1", "1"), ("p2", "2")]
    assert all(_children(p) == ["PrintSpace"] and p.get("PROCESSING") == proc.get("ID") for p in pages)
    ids = [e.get("ID") for e in alto.iter() if e.get("ID")]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[A-Za-z_][\w.-]*", i) for i in ids)
    for line in alto.iter(NS + "TextLine"):
        kids = _children(line)
        assert kids[0] == "String" and kids[-1] == "String"  # (String, SP?)+
        assert all(a != "SP" or b == "String" for a, b in zip(kids, kids[1:], strict=False))
    for el in alto.iter():
        for attr in ("HPOS", "VPOS", "WIDTH", "HEIGHT", "WC", "GC", "ROTATION", "PHYSICAL_IMG_NR"):
            if el.get(attr) is not None:
                float(el.get(attr))


def test_blocks_in_reading_order_with_rotation_and_direction(alto):
    p1 = alto.find(f"{NS}Layout/{NS}Page")
    blocks = p1.findall(f"{NS}PrintSpace/{NS}TextBlock")
    assert [b.get("IDNEXT") for b in blocks] == [blocks[1].get("ID"), None]
    assert [b.get("ROTATION") for b in blocks] == ["90", "90"]
    assert [b.get("BASEDIRECTION") for b in blocks] == [None, "ttb"]
    col = blocks[1].find(NS + "TextLine")
    assert col.get("BASEDIRECTION") == "ttb" and col.get("BASELINE") == "310,10 310,50"  # centre line
    first = blocks[0].find(NS + "TextLine")
    assert first.get("BASELINE") == "10,30 130,30"  # the bottom edge, left to right


def test_strings_glyphs_confidences_and_spaces(alto):
    zh, en = alto.find(f"{NS}Layout/{NS}Page/{NS}PrintSpace/{NS}TextBlock").findall(NS + "TextLine")
    strings = zh.findall(NS + "String")
    assert [s.get("CONTENT") for s in strings] == ["识", "字", "OCR", "好"] and not zh.findall(NS + "SP")
    # WC is the confidence itself (0.07 stays 0.07, never "0.7"); CC one digit per character, 9 unsure
    assert strings[1].get("WC") == "0.07" and strings[1].get("CC") == "8"
    assert strings[0].get("WC") == "0.99" and strings[0].get("CC") == "0"
    assert strings[2].get("CC") == "0 1 2" and len(strings[2].findall(NS + "Glyph")) == 3
    g = strings[0].find(NS + "Glyph")
    assert (g.get("CONTENT"), g.get("GC"), g.get("HPOS"), g.get("WIDTH")) == ("识", "0.99", "10", "18")
    # Latin words are Strings with SP between them; the SP fills the gap between their boxes
    assert _children(en) == ["String", "SP", "String", "SP", "String"]
    assert [s.get("CONTENT") for s in en.findall(NS + "String")] == ["an", "ASCII", "test"]
    sp = en.find(NS + "SP")
    assert float(sp.get("HPOS")) == 48 and float(sp.get("WIDTH")) == 22  # "n" ends at 48, "A" starts at 70


def test_cli_and_service_formats_include_alto(tiny_models, tmp_path):
    from shizi.cli import main
    from shizi.service.app import FORMATS

    assert "alto" in FORMATS
    import numpy as np
    from PIL import Image

    from conftest import draw_line

    img = np.full((100, 300, 3), 255, np.uint8)
    draw_line(img, 20, 40, 4, piece_w=18, gap=12)
    Image.fromarray(img).save(tmp_path / "p.png")
    det, rec = tiny_models
    out = tmp_path / "p.xml"
    assert main(["read", str(tmp_path / "p.png"), "-f", "alto", "-o", str(out), "--det", str(det),
                 "--rec", str(rec), "--no-orient"]) == 0
    root = ET.fromstring(out.read_bytes())
    assert [s.get("CONTENT") for s in root.iter(NS + "String")] == ["中"] * 4
    assert str(rec.name) in root.find(f"{NS}Description/{NS}Processing/{NS}processingStepSettings").text


@pytest.mark.skipif(not os.environ.get("SHIZI_ALTO_XSD"), reason="set SHIZI_ALTO_XSD to the ALTO 4.4 schema")
def test_alto_validates_against_the_official_schema():
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.parse(os.environ["SHIZI_ALTO_XSD"]))
    doc = etree.fromstring(render(_doc(), "alto"))
    assert schema.validate(doc), schema.error_log
