"""JSON output: the result model (``Document.to_dict()``) and the stable per-file JSONL record."""

from __future__ import annotations

import json as _json

from ..document import Document


def to_json(doc: Document, indent: int | None = 2) -> str:
    return _json.dumps(doc.to_dict(), ensure_ascii=False, indent=indent)


def jsonl_record(doc: Document, file: str) -> dict:
    """The benchmark-stable record: ``{"file", "pages": [{"index", "width", "height", "rotation",
    "lines": [{"text", "confidence", "polygon"}]}]}`` with lines in reading order."""
    return {
        "file": file,
        "pages": [
            {
                "index": p.index,
                "width": p.width,
                "height": p.height,
                "rotation": p.rotation,
                "lines": [
                    {
                        "text": ln.text,
                        "confidence": round(float(ln.confidence), 4),
                        "polygon": [[round(float(x), 1), round(float(y), 1)] for x, y in ln.polygon],
                    }
                    for ln in p.lines
                ],
            }
            for p in doc.pages
        ],
    }


def jsonl_error(file: str, error: str) -> dict:
    return {"file": file, "error": error}


def to_jsonl_line(record: dict) -> str:
    return _json.dumps(record, ensure_ascii=False, separators=(",", ":"))
