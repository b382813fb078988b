"""Searchable PDF: each page image with an invisible text layer (render mode 3) on its lines.

Built with reportlab. The text layer uses a TrueType CJK font found on the system (Debian
``fonts-wqy-microhei`` preferred, see :mod:`shizi.export.fonts`), embedded as a subset with a
ToUnicode map, so ``pdftotext`` returns the recognised text. Without such a font, reportlab's
built-in ``STSong-Light`` CID font is used (not embedded; text extraction then needs poppler-data).
Lines are written in reading order, each scaled horizontally to its box.
"""

from __future__ import annotations

import io
import math
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from ..document import Document, Page
from ..errors import ShiziError
from .fonts import find_cjk_font

_FONT_LOCK = threading.Lock()
_FONT_NAME: str | None = None


def _font() -> str:
    global _FONT_NAME
    with _FONT_LOCK:
        if _FONT_NAME is None:
            from reportlab.pdfbase import pdfmetrics

            path = find_cjk_font(truetype_only=True)
            if path:
                from reportlab.pdfbase.ttfonts import TTFont

                kw = {"subfontIndex": 0} if path.lower().endswith(".ttc") else {}
                pdfmetrics.registerFont(TTFont("ShiziCJK", path, **kw))
                _FONT_NAME = "ShiziCJK"
            else:
                from reportlab.pdfbase.cidfonts import UnicodeCIDFont

                pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
                _FONT_NAME = "STSong-Light"
        return _FONT_NAME


def to_pdf(
    doc: Document,
    out: str | Path | io.BytesIO | None = None,
    *,
    dpi: float | None = None,
    images: list[np.ndarray | None] | None = None,
    jpeg_quality: int = 80,
) -> bytes:
    """Write a searchable PDF of ``doc``; returns its bytes (also written to ``out`` when given).

    Page images come from ``images`` or ``Page.image``; a page without an image gets a white background.
    ``dpi`` converts page pixels to PDF points; by default each page's own (``Page.dpi``, the dpi a
    PDF page was rasterised at, so the output keeps the input's page size), else 200.
    """
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    font = _font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pageCompression=1)
    c.setCreator("shizi")
    if doc.source:
        c.setTitle(str(doc.source))
    for pi, page in enumerate(doc.pages):
        k = 72.0 / float(dpi or page.dpi or 200)
        img = images[pi] if images is not None and pi < len(images) else page.image
        pw, ph = page.width * k, page.height * k
        c.setPageSize((pw, ph))
        if img is not None:
            jb = io.BytesIO()
            Image.fromarray(np.asarray(img, dtype=np.uint8)).convert("RGB").save(
                jb, "JPEG", quality=jpeg_quality
            )
            jb.seek(0)
            c.drawImage(ImageReader(jb), 0, 0, width=pw, height=ph)
        _text_layer(c, page, font, k, ph)
        c.showPage()
    c.save()
    data = buf.getvalue()
    if out is not None:
        if isinstance(out, io.BytesIO):
            out.write(data)
        else:
            try:
                Path(out).write_bytes(data)
            except OSError as e:
                raise ShiziError(f"cannot write {out}: {e}") from None
    return data


def _text_layer(c, page: Page, font: str, k: float, ph: float) -> None:

    for block in page.blocks:
        # pdftotext joins lines into one block only when their baselines are close relative to the
        # font size; so the (invisible) font is sized to the block's line pitch where that is larger.
        tops = sorted(min(p[1] for p in ln.polygon) for ln in block.lines if ln.polygon and not ln.vertical)
        pitches = [b - a for a, b in zip(tops, tops[1:], strict=False) if b > a]
        pitch = float(np.median(pitches)) if pitches else 0.0
        for line in block.lines:
            _line_text(c, line, font, k, ph, pitch)


def _line_text(c, line, font: str, k: float, ph: float, pitch: float) -> None:
    """Write one line's text invisibly (render mode 3), scaled to the line's box."""
    from reportlab.pdfbase import pdfmetrics

    from ..geometry import quad_of

    text = line.text
    if not text.strip() or not line.polygon:
        return
    pts = np.asarray(line.polygon, dtype=np.float64).reshape(-1, 2)
    if line.vertical:
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        length, thick, angle = (y1 - y0), (x1 - x0), -90.0
        ox, oy = (x0 + x1) / 2 - 0.35 * thick, y0  # runs downwards from the top, centred
    else:
        tl, tr, br, bl = quad_of(pts)
        length = float(np.linalg.norm(tr - tl))
        thick = float(np.linalg.norm(bl - tl))
        angle = -math.degrees(math.atan2(tr[1] - tl[1], tr[0] - tl[0]))
        if abs(angle) < 5.0:  # near-horizontal (a slightly skewed scan): axis-aligned, cleaner extraction
            cx, cy = pts.mean(0)
            angle, ox, oy = 0.0, cx - length / 2, cy + 0.3 * thick
        else:
            ox, oy = bl + (tl - bl) * 0.2
    em = thick if line.vertical else max(thick, min(pitch / 1.3, 2.0 * thick))
    size = max(1.0, em * k)
    width = pdfmetrics.stringWidth(text, font, size)
    if width <= 0:
        return
    a = math.radians(angle)
    t = c.beginText()
    t.setTextRenderMode(3)
    t.setFont(font, size)
    t.setHorizScale(100.0 * (length * k) / width)
    t.setTextTransform(math.cos(a), math.sin(a), -math.sin(a), math.cos(a), float(ox) * k, ph - float(oy) * k)
    t.textOut(text)
    c.drawText(t)
