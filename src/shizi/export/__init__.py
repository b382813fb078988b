"""Output formats: text, JSON (result model), JSONL records, hOCR, searchable PDF, overlay PNG."""

from __future__ import annotations

from .hocr import to_hocr
from .json import jsonl_error, jsonl_record, to_json, to_jsonl_line
from .text import to_text


def to_pdf(*args, **kwargs) -> bytes:
    """Searchable PDF (see :func:`shizi.export.pdf.to_pdf`)."""
    from .pdf import to_pdf as _to_pdf

    return _to_pdf(*args, **kwargs)


__all__ = ["to_text", "to_json", "jsonl_record", "jsonl_error", "to_jsonl_line", "to_hocr", "to_pdf"]
