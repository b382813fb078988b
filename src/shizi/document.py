"""The result model: Document → Page → Block → Line → Word → Char.

Every element has a polygon in page pixel coordinates (a list of ``(x, y)`` points, clockwise from
top-left), a text and a confidence in ``[0, 1]``. A Word is a run of Latin letters / digits, or a
single CJK character / symbol; its Chars carry the per-character positions from the recognizer.

``to_dict()`` / ``from_dict()`` round-trip; ``text()`` returns the text in reading order (a block's
lines joined into running text, blocks by a blank line, pages by a form feed); ``Document.render()``
draws boxes and text over a page.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

Point = tuple[float, float]


def _poly(p: Any) -> list[Point]:
    return [
        (round(float(x), 2), round(float(y), 2)) for x, y in np.asarray(p, dtype=np.float64).reshape(-1, 2)
    ]


def _bbox_poly(polys: list[list[Point]]) -> list[Point]:
    pts = [pt for p in polys for pt in p]
    if not pts:
        return []
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


@dataclass
class Char:
    text: str
    confidence: float
    polygon: list[Point]

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "polygon": [list(p) for p in self.polygon],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Char:
        return cls(d["text"], float(d["confidence"]), _poly(d["polygon"]) if d["polygon"] else [])


@dataclass
class Word:
    text: str
    confidence: float
    polygon: list[Point]
    chars: list[Char] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "polygon": [list(p) for p in self.polygon],
            "chars": [c.to_dict() for c in self.chars],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Word:
        return cls(
            d["text"],
            float(d["confidence"]),
            _poly(d["polygon"]) if d["polygon"] else [],
            [Char.from_dict(c) for c in d.get("chars", [])],
        )


@dataclass
class Line:
    text: str
    confidence: float
    polygon: list[Point]
    words: list[Word] = field(default_factory=list)
    vertical: bool = False

    @property
    def chars(self) -> list[Char]:
        return [c for w in self.words for c in w.chars]

    def spaced_words(self) -> list[tuple[Word, bool]]:
        """Each word with whether a space stands before it in the line's text (never for the first)."""
        out = []
        at = 0
        for w in self.words:
            found = self.text.find(w.text, at) if w.text else -1
            out.append((w, bool(out) and found > at and self.text[at:found].isspace()))
            at = found + len(w.text) if found >= 0 else at
        return out

    def to_dict(self) -> dict:
        d = {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "polygon": [list(p) for p in self.polygon],
            "words": [w.to_dict() for w in self.words],
        }
        if self.vertical:
            d["vertical"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Line:
        return cls(
            d["text"],
            float(d["confidence"]),
            _poly(d["polygon"]),
            [Word.from_dict(w) for w in d.get("words", [])],
            bool(d.get("vertical", False)),
        )


@dataclass
class Block:
    """Lines read together: a paragraph, heading, header, footer or page number (``kind``, from
    :mod:`shizi.layout`), set ``horizontal`` or ``vertical`` (``direction``)."""

    lines: list[Line]
    polygon: list[Point] = field(default_factory=list)
    kind: str = "paragraph"
    direction: str = "horizontal"

    def __post_init__(self) -> None:
        if not self.polygon:
            self.polygon = _bbox_poly([ln.polygon for ln in self.lines])

    def text(self) -> str:
        """The block's lines joined into running text (:func:`join_lines`)."""
        return join_lines([ln.text for ln in self.lines])

    @property
    def confidence(self) -> float:
        return float(np.mean([ln.confidence for ln in self.lines])) if self.lines else 0.0

    def to_dict(self) -> dict:
        return {"kind": self.kind, "direction": self.direction, "polygon": [list(p) for p in self.polygon],
                "lines": [ln.to_dict() for ln in self.lines]}

    @classmethod
    def from_dict(cls, d: dict) -> Block:
        return cls([Line.from_dict(ln) for ln in d["lines"]], _poly(d["polygon"]) if d["polygon"] else [],
                   d.get("kind", "paragraph"), d.get("direction", "horizontal"))


def _wide(ch: str) -> bool:
    """CJK text and full-width punctuation: written without spaces between lines."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def join_lines(texts: list[str]) -> str:
    """Lines of one paragraph as running text: no space where either side of the break is CJK or
    full-width, a line-break hyphen dropped between Latin letters (``infor-`` + ``mation``), else one
    space."""
    out = ""
    for t in (t.strip() for t in texts):
        if not t:
            continue
        if not out:
            out = t
        elif len(out) > 1 and out[-1] == "-" and out[-2].isalpha() and out[-2].isascii() and t[0].islower():
            out = out[:-1] + t
        elif _wide(out[-1]) or _wide(t[0]):
            out += t
        else:
            out += " " + t
    return out


@dataclass
class Page:
    index: int
    width: int
    height: int
    blocks: list[Block] = field(default_factory=list)
    #: the clockwise turn (0, 90, 180, 270) that brought the page's text upright for reading
    #: (:mod:`shizi.orientation`); polygons are in the coordinates of the page image as given
    rotation: int = 0
    image: np.ndarray | None = field(default=None, repr=False, compare=False)
    """The page image (RGB uint8) the result was read from; not serialised."""
    dpi: int | None = field(default=None, compare=False)
    """The resolution a PDF page was rasterised at (None for images); the searchable PDF keeps the
    page size with it. Not serialised."""

    @property
    def lines(self) -> list[Line]:
        return [ln for b in self.blocks for ln in b.lines]

    def text(self) -> str:
        return "\n\n".join(b.text() for b in self.blocks)

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "blocks": [b.to_dict() for b in self.blocks],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Page:
        blocks = [Block.from_dict(b) for b in d["blocks"]]
        rotation = int(d.get("rotation", 0))
        return cls(int(d["index"]), int(d["width"]), int(d["height"]), blocks, rotation=rotation)

    def map_polygons(self, fn) -> None:
        """Replace every polygon of the page (blocks, lines, words, chars) by ``fn(points [N, 2])``."""
        def mapped(polygon):
            return _poly(fn(np.asarray(polygon, np.float64))) if polygon else []

        for b in self.blocks:
            b.polygon = mapped(b.polygon)
            for ln in b.lines:
                ln.polygon = mapped(ln.polygon)
                for w in ln.words:
                    w.polygon = mapped(w.polygon)
                    for c in w.chars:
                        c.polygon = mapped(c.polygon)


@dataclass
class Document:
    pages: list[Page] = field(default_factory=list)
    source: str | None = None
    #: the models that read it, task -> name (``Reader.model_names()``); written into ALTO, not to_dict()
    models: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def lines(self) -> list[Line]:
        return [ln for p in self.pages for ln in p.lines]

    def text(self) -> str:
        return "\f".join(p.text() for p in self.pages)

    def to_dict(self) -> dict:
        return {"source": self.source, "pages": [p.to_dict() for p in self.pages]}

    @classmethod
    def from_dict(cls, d: dict) -> Document:
        return cls([Page.from_dict(p) for p in d["pages"]], d.get("source"))

    def render(self, page: int = 0, path: str | Path | None = None, image: np.ndarray | None = None):
        """Draw page ``page``: the image with line boxes on the left, the text at its place on the right.

        Returns a PIL image; also saves it as PNG when ``path`` is given.
        """
        from .export.overlay import render_page

        im = render_page(self.pages[page], image=image)
        if path is not None:
            im.save(str(path), format="PNG")
        return im


# ---------------------------------------------------------------- building lines from recognition


def _is_word_char(ch: str) -> bool:
    """Latin letters, digits and joiners build multi-character words; CJK characters stand alone."""
    if ch.isspace():
        return False
    if ch.isascii():
        return ch.isalnum() or ch in "'-_.@/:%&+#"
    cat = unicodedata.category(ch)
    if cat.startswith("L") or cat.startswith("N"):
        name = unicodedata.name(ch, "")
        return not ("CJK" in name or "HIRAGANA" in name or "KATAKANA" in name or "HANGUL" in name)
    return False


def build_words(text: str, chars: list[Char]) -> list[Word]:
    """Group the chars of a line into words: Latin/digit runs form one word, other symbols one each.

    ``chars`` aligns with ``text`` (one Char per character, spaces included).
    """
    words: list[Word] = []
    run: list[Char] = []

    def flush() -> None:
        if run:
            words.append(
                Word(
                    "".join(c.text for c in run),
                    float(np.mean([c.confidence for c in run])),
                    _bbox_poly([c.polygon for c in run]) if len(run) > 1 else run[0].polygon,
                    list(run),
                )
            )
            run.clear()

    for c in chars:
        if c.text.isspace():
            flush()
        elif _is_word_char(c.text):
            run.append(c)
        else:
            flush()
            words.append(Word(c.text, c.confidence, c.polygon, [c]))
    flush()
    return words
