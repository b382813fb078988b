"""ALTO XML 4.4 output (https://www.loc.gov/standards/alto/), in pixels.

``Description`` names the unit (pixel), the source file and one ``Processing`` step (shizi's version
and the models that read the document). Each page is a ``Page`` with a ``PrintSpace`` holding the
blocks in reading order (each ``TextBlock`` also names the next one with ``IDNEXT``; ``ROTATION`` is
the page's turn, counter-clockwise as ALTO counts it; vertical blocks and lines have
``BASEDIRECTION="ttb"``). A ``TextLine`` has its ``BASELINE`` (the bottom edge of a horizontal line,
the centre line of a vertical one) and its words as ``String``s: a Latin run or one CJK character each,
with ``WC`` the word confidence as a float in 0–1 and ``CC`` one digit per character (0 sure … 9
unsure, as ALTO defines it), and a ``Glyph`` with box and ``GC`` for every character. ``SP`` stands
between Strings where the line's text has a space.
"""

from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET

from ..document import Document, Line

NS = "http://www.loc.gov/standards/alto/ns-v4#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{NS} http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"


def _box(poly) -> dict[str, str]:
    if not poly:
        return {}
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    x0, y0 = max(0.0, min(xs)), max(0.0, min(ys))
    return {"HPOS": _num(x0), "VPOS": _num(y0), "WIDTH": _num(max(xs) - x0), "HEIGHT": _num(max(ys) - y0)}


def _num(v: float) -> str:
    return f"{round(float(v), 1):g}"


def _conf(c: float) -> str:
    return f"{min(1.0, max(0.0, float(c))):.3f}".rstrip("0").rstrip(".") or "0"


def _baseline(line: Line) -> str | None:
    pts = line.polygon
    if len(pts) != 4:
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        if not pts:
            return None
        pts = [(min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys))]
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = pts  # clockwise from top-left
    if line.vertical:  # the centre line, top to bottom
        a, b = ((x0 + x1) / 2, (y0 + y1) / 2), ((x3 + x2) / 2, (y3 + y2) / 2)
    else:  # the bottom edge, left to right
        a, b = (x3, y3), (x2, y2)
    return f"{_num(a[0])},{_num(a[1])} {_num(b[0])},{_num(b[1])}"


def _line(parent: ET.Element, line: Line, lid: str) -> None:
    attrs = {"ID": lid, **_box(line.polygon)}
    base = _baseline(line)
    if base:
        attrs["BASELINE"] = base
    if line.vertical:
        attrs["BASEDIRECTION"] = "ttb"
    el = ET.SubElement(parent, f"{{{NS}}}TextLine", attrs)
    words = [(w, spaced) for w, spaced in line.spaced_words() if w.text.strip()]
    if not words:  # a line without word detail: one String
        ET.SubElement(el, f"{{{NS}}}String", {"ID": f"{lid}_s1", "CONTENT": line.text, **_box(line.polygon),
                                               "WC": _conf(line.confidence)})
        return
    prev = None
    for k, (w, spaced) in enumerate(words):
        if prev is not None and spaced:
            sp = {}
            a, b = _box(prev.polygon), _box(w.polygon)
            if a and b and not line.vertical:
                right = float(a["HPOS"]) + float(a["WIDTH"])
                sp = {"HPOS": _num(right), "VPOS": a["VPOS"],
                      "WIDTH": _num(max(0.0, float(b["HPOS"]) - right)), "HEIGHT": a["HEIGHT"]}
            ET.SubElement(el, f"{{{NS}}}SP", sp)
        sid = f"{lid}_s{k + 1}"
        attrs = {"ID": sid, "CONTENT": w.text, **_box(w.polygon or line.polygon), "WC": _conf(w.confidence)}
        chars = [c for c in w.chars if c.text and not c.text.isspace()]
        if chars and "".join(c.text for c in chars) == w.text:
            attrs["CC"] = " ".join(str(round((1.0 - min(1.0, max(0.0, c.confidence))) * 9)) for c in chars)
        s = ET.SubElement(el, f"{{{NS}}}String", attrs)
        if chars and "".join(c.text for c in chars) == w.text and all(len(c.text) == 1 for c in chars):
            for j, c in enumerate(chars):
                ET.SubElement(s, f"{{{NS}}}Glyph", {"ID": f"{sid}_g{j + 1}", "CONTENT": c.text,
                                                     "GC": _conf(c.confidence), **_box(c.polygon)})
        prev = w


def to_alto(doc: Document, title: str | None = None, models: dict[str, str] | None = None) -> str:
    """``doc`` as an ALTO 4.4 document (a string). ``models``: task → model name, written into the
    processing step (default: ``doc.models``)."""
    from .. import __version__

    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(f"{{{NS}}}alto", {f"{{{XSI}}}schemaLocation": SCHEMA_LOCATION, "SCHEMAVERSION": "4.4"})
    desc = ET.SubElement(root, f"{{{NS}}}Description")
    ET.SubElement(desc, f"{{{NS}}}MeasurementUnit").text = "pixel"
    src = title if title is not None else doc.source
    if src:
        info = ET.SubElement(desc, f"{{{NS}}}sourceImageInformation")
        ET.SubElement(info, f"{{{NS}}}fileName").text = str(src)
    proc = ET.SubElement(desc, f"{{{NS}}}Processing", {"ID": "shizi_ocr"})
    ET.SubElement(proc, f"{{{NS}}}processingCategory").text = "contentGeneration"
    ET.SubElement(proc, f"{{{NS}}}processingDateTime").text = (
        _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat())
    models = models if models is not None else doc.models
    if models:
        ET.SubElement(proc, f"{{{NS}}}processingStepSettings").text = "; ".join(
            f"{task}: {name}" for task, name in models.items())
    sw = ET.SubElement(proc, f"{{{NS}}}processingSoftware")
    ET.SubElement(sw, f"{{{NS}}}softwareName").text = "shizi"
    ET.SubElement(sw, f"{{{NS}}}softwareVersion").text = __version__
    ET.SubElement(sw, f"{{{NS}}}applicationDescription").text = (
        "shizi (识字): offline OCR for Chinese and English; DB / CTPN detection, CRNN-CTC recognition, ONNX")
    layout = ET.SubElement(root, f"{{{NS}}}Layout")
    for p in doc.pages:
        pn = p.index + 1
        page_attrs = {"ID": f"p{pn}", "PHYSICAL_IMG_NR": str(pn), "WIDTH": str(p.width),
                      "HEIGHT": str(p.height), "PROCESSING": "shizi_ocr"}
        page = ET.SubElement(layout, f"{{{NS}}}Page", page_attrs)
        space = ET.SubElement(page, f"{{{NS}}}PrintSpace", {"ID": f"p{pn}_ps", "HPOS": "0", "VPOS": "0",
                                                             "WIDTH": str(p.width), "HEIGHT": str(p.height)})
        for bi, b in enumerate(p.blocks):
            bid = f"p{pn}_b{bi + 1}"
            attrs = {"ID": bid, **_box(b.polygon)}
            if p.rotation:
                attrs["ROTATION"] = str(p.rotation)
            if bi + 1 < len(p.blocks):
                attrs["IDNEXT"] = f"p{pn}_b{bi + 2}"
            if b.direction == "vertical":
                attrs["BASEDIRECTION"] = "ttb"
            block = ET.SubElement(space, f"{{{NS}}}TextBlock", attrs)
            for li, ln in enumerate(b.lines):
                _line(block, ln, f"{bid}_l{li + 1}")
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
