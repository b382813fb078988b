"""Mutated inputs for the fuzz test (tests/test_fuzz.py) and its longer run (bench/fuzz.py).

:func:`seeds` makes one small valid page in each input format shizi reads (PNG, JPEG, TIFF with two
pages, PDF with two pages, WebP, BMP); :func:`mutate` applies a list of byte edits to one of them.
An edit is ``(op, position, value)`` with position a fraction of the length, so the same edits apply
to any seed: ``flip`` one byte, ``cut`` the rest, ``drop`` a run, ``insert`` a run of one byte,
``repeat`` a chunk (grows the file), ``header`` a big number written over 4 bytes near the start (sizes,
counts and offsets in image and PDF headers).
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

OPS = ("flip", "cut", "drop", "insert", "repeat", "header")


def page_image() -> np.ndarray:
    """A 200x120 page with three dark bars (lines of text to the tiny test models)."""
    img = np.full((120, 200, 3), 255, np.uint8)
    for k in range(3):
        img[20 + 32 * k : 36 + 32 * k, 20 : 40 + 40 * k] = 0
    return img


def seeds() -> dict[str, bytes]:
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = page_image()
    pil = Image.fromarray(img)
    out: dict[str, bytes] = {}
    for fmt, kw in (("PNG", {}), ("JPEG", {"quality": 90}), ("WEBP", {"quality": 80}), ("BMP", {})):
        b = io.BytesIO()
        pil.save(b, fmt, **kw)
        out[fmt.lower()] = b.getvalue()
    b = io.BytesIO()
    pil.save(b, "TIFF", save_all=True, append_images=[pil.rotate(180)])
    out["tiff"] = b.getvalue()
    b = io.BytesIO()
    c = canvas.Canvas(b, pagesize=(144, 86))
    for _ in range(2):
        c.drawImage(ImageReader(pil), 0, 0, width=144, height=86)
        c.setFont("Helvetica", 6)
        c.drawString(4, 4, "shizi fuzz")
        c.showPage()
    c.save()
    out["pdf"] = b.getvalue()
    return out


def mutate(data: bytes, edits: list[tuple[str, float, int]]) -> bytes:
    """``data`` with ``edits`` applied in order (see the module docstring)."""
    b = bytearray(data)
    for op, frac, value in edits:
        n = len(b)
        i = min(int(frac * n), max(0, n - 1))
        if op == "flip" and n:
            b[i] = value & 0xFF
        elif op == "cut":
            del b[i:]
        elif op == "drop":
            del b[i : i + 1 + value % 64]
        elif op == "insert":
            b[i:i] = bytes([value & 0xFF]) * (1 + value % 32)
        elif op == "repeat":
            chunk = b[i : i + 1 + value % 256]
            b[i:i] = chunk * (1 + value % 8)
        elif op == "header" and n >= 8:
            j = min(int(frac * 64), n - 4)
            b[j : j + 4] = struct.pack(">I", value & 0xFFFFFFFF)
    return bytes(b)


def read_and_export(reader, data: bytes) -> str:
    """Read ``data`` and render it in every output format: ``"ok"`` or the InputError's kind. Any
    other exception propagates (the property under test)."""
    from shizi.errors import InputError
    from shizi.export import FORMATS, render

    try:
        doc = reader.read(data)
    except InputError as e:
        assert e.kind, e
        return e.kind
    for fmt in FORMATS:
        out = render(doc, fmt, name="fuzz")
        assert isinstance(out, bytes) and (out or fmt == "text"), fmt  # a page may have no text
    return "ok"
