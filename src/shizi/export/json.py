"""JSON output: the result model (``Document.to_dict()``) and the stable per-file JSONL record."""

from __future__ import annotations

import json as _json

from ..document import Document


def to_json(doc: Document, indent: int | None = 2) -> str:
    return _json.dumps(doc.to_dict(), ensure_ascii=False, indent=indent)


def jsonl_record(doc: Document, file: str) -> dict:
    """The benchmark-stable record: ``{"file", "pages": [{"index", "width", "height", "rotation",
    "blocks": [{"kind", "direction"}], "lines": [{"text", "confidence", "polygon", "block"}]}]}`` with
    lines in reading order, each naming its block (an index into ``blocks``)."""
    return {
        "file": file,
        "pages": [
            {
                "index": p.index,
                "width": p.width,
                "height": p.height,
                "rotation": p.rotation,
                "blocks": [{"kind": b.kind, "direction": b.direction} for b in p.blocks],
                "lines": [
                    {
                        "text": ln.text,
                        "confidence": round(float(ln.confidence), 4),
                        "polygon": [[round(float(x), 1), round(float(y), 1)] for x, y in ln.polygon],
                        "block": k,
                    }
                    for k, b in enumerate(p.blocks)
                    for ln in b.lines
                ],
            }
            for p in doc.pages
        ],
    }


def jsonl_error(file: str, error: str) -> dict:
    return {"file": file, "error": error}


def to_jsonl_line(record: dict) -> str:
    return _json.dumps(record, ensure_ascii=False, separators=(",", ":"))
