"""Output formats: text, JSON (result model), JSONL records, hOCR, ALTO, searchable PDF, overlay PNG.

:func:`render` is the one dispatcher the CLI and the service use: ``render(doc, fmt)`` gives the
document in any of :data:`FORMATS` as bytes.
"""

from __future__ import annotations

from ..document import Document
from .hocr import to_hocr
from .json import jsonl_error, jsonl_record, to_json, to_jsonl_line
from .text import to_text

#: output formats of :func:`render`
FORMATS = ("text", "json", "jsonl", "hocr", "alto", "pdf")
#: file name extension of each format
EXTENSIONS = {"text": ".txt", "json": ".json", "jsonl": ".jsonl", "hocr": ".hocr", "alto": ".alto.xml",
              "pdf": ".pdf"}
#: HTTP media type of each format
MEDIA_TYPES = {
    "text": "text/plain; charset=utf-8",
    "json": "application/json",
    "jsonl": "application/json",
    "hocr": "application/xhtml+xml; charset=utf-8",
    "alto": "application/xml; charset=utf-8",
    "pdf": "application/pdf",
}


def to_pdf(*args, **kwargs) -> bytes:
    """Searchable PDF (see :func:`shizi.export.pdf.to_pdf`)."""
    from .pdf import to_pdf as _to_pdf

    return _to_pdf(*args, **kwargs)


def render(doc: Document, fmt: str, *, name: str | None = None, dpi: float | None = None) -> bytes:
    """``doc`` in output format ``fmt`` (one of :data:`FORMATS`), as bytes (UTF-8 for the text formats).

    ``name`` is the input's name written into the output (``jsonl``'s ``file``, hOCR's title; default
    ``doc.source``); ``dpi`` converts page pixels to PDF points (default: each page's ``Page.dpi``, the
    dpi a PDF input was read at, else 200).
    ``json`` is the whole result model, ``jsonl`` the one-line per-file record, each ending in a newline.
    """
    name = name if name is not None else (doc.source or "")
    if fmt == "text":
        return to_text(doc).encode("utf-8")
    if fmt == "json":
        return (to_json(doc) + "\n").encode("utf-8")
    if fmt == "jsonl":
        return (to_jsonl_line(jsonl_record(doc, name)) + "\n").encode("utf-8")
    if fmt == "hocr":
        return to_hocr(doc, title=name or "shizi").encode("utf-8")
    if fmt == "alto":
        from .alto import to_alto

        return to_alto(doc, title=name or None).encode("utf-8")
    if fmt == "pdf":
        return to_pdf(doc, dpi=dpi)
    raise ValueError(f"unknown output format {fmt!r} (one of: {', '.join(FORMATS)})")


__all__ = ["FORMATS", "EXTENSIONS", "MEDIA_TYPES", "render", "to_text", "to_json", "jsonl_record",
           "jsonl_error", "to_jsonl_line", "to_hocr", "to_pdf"]
