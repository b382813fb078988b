"""hOCR output (ocr_page / ocr_carea, ocr_header, ocr_footer, ocr_pageno or ocr_table per block /
ocr_par / ocr_line / ocrx_word with bbox and x_wconf), in reading order."""

from __future__ import annotations

from html import escape

from ..document import Document

#: block kinds (shizi.layout) that hOCR has an element for; other blocks are ``ocr_carea``
_BLOCK_CLASS = {"header": "ocr_header", "footer": "ocr_footer", "page_number": "ocr_pageno",
                "table": "ocr_table"}


def _bbox(poly) -> str:
    if not poly:
        return "bbox 0 0 0 0"
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    return f"bbox {int(min(xs))} {int(min(ys))} {int(round(max(xs)))} {int(round(max(ys)))}"


def to_hocr(doc: Document, title: str = "shizi") -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="zh" lang="zh">',
        "<head>",
        f"<title>{escape(title)}</title>",
        '<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
        '<meta name="ocr-system" content="shizi"/>',
        '<meta name="ocr-capabilities" content="ocr_page ocr_carea ocr_header ocr_footer ocr_pageno '
        'ocr_table ocr_par ocr_line ocrx_word"/>',
        "</head>",
        "<body>",
    ]
    src = escape(doc.source or "", quote=True)
    for p in doc.pages:
        out.append(
            f"<div class='ocr_page' id='page_{p.index + 1}' "
            f"title='image \"{src}\"; bbox 0 0 {p.width} {p.height}; ppageno {p.index}"
            + (f"; textangle {p.rotation}" if p.rotation else "") + "'>"
        )
        for bi, b in enumerate(p.blocks):
            cls = _BLOCK_CLASS.get(b.kind, "ocr_carea")
            out.append(f"<div class='{cls}' id='block_{p.index + 1}_{bi + 1}' title='{_bbox(b.polygon)}'>")
            out.append(f"<p class='ocr_par' id='par_{p.index + 1}_{bi + 1}' title='{_bbox(b.polygon)}'>")
            for li, ln in enumerate(b.lines):
                lid = f"line_{p.index + 1}_{bi + 1}_{li + 1}"
                out.append(
                    f"<span class='ocr_line' id='{lid}' title='{_bbox(ln.polygon)}; "
                    f"x_wconf {int(round(ln.confidence * 100))}'>"
                )
                words = ln.words or []
                if not words:
                    out.append(escape(ln.text))
                for wi, w in enumerate(words):
                    out.append(
                        f"<span class='ocrx_word' id='word_{lid}_{wi + 1}' "
                        f"title='{_bbox(w.polygon or ln.polygon)}; "
                        f"x_wconf {int(round(w.confidence * 100))}'>{escape(w.text)}</span>"
                    )
                out.append("</span>")
            out.append("</p>")
            out.append("</div>")
        out.append("</div>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
