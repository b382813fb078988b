"""Plain text output."""

from __future__ import annotations

from ..document import Document


def to_text(doc: Document) -> str:
    """The document's text in reading order (blocks separated by a blank line, pages by a form feed)."""
    t = doc.text()
    return t if t.endswith("\n") or not t else t + "\n"
