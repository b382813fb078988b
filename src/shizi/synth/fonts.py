"""Fonts for rendering: Debian CJK and Latin font packages, each face with its character coverage."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

# Faces to use from collections: (file glob, family names to keep; empty = all faces)
CJK_FONTS = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc", ("Noto Sans CJK SC", "Noto Sans CJK TC")),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-*.ttc", ("Noto Serif CJK SC", "Noto Serif CJK TC")),
    ("/usr/share/fonts/truetype/wqy/wqy-*.ttc", ()),
    ("/usr/share/fonts/truetype/arphic/u*.ttc", ()),
    ("/usr/share/fonts/truetype/arphic-gbsn00lp/*.ttf", ()),
    ("/usr/share/fonts/truetype/arphic-gkai00mp/*.ttf", ()),
    ("/usr/share/fonts/truetype/lxgw-wenkai/*.ttf", ()),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", ()),
]
LATIN_FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVu*.ttf",
    "/usr/share/fonts/truetype/liberation2/*.ttf",
]
# extra search root so that a training kit can carry subset fonts
KIT_FONTS = "kit/fonts/*.[ot]t[fc]"


@dataclass(frozen=True)
class Face:
    path: str
    index: int
    name: str
    cjk: bool
    coverage: frozenset[str]

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        return _load(self.path, self.index, size)


# FreeType keeps a glyph cache per face and size; CJK faces grow it by megabytes, so only a few
# faces stay open (loading one takes ~2 ms).
@lru_cache(maxsize=24)
def _load(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size=size, index=index)


def _faces_in(path: str, keep: tuple[str, ...], cjk: bool) -> list[Face]:
    from fontTools.ttLib import TTCollection, TTFont

    if path.lower().endswith(".ttc"):
        fonts = TTCollection(path, lazy=True).fonts
    else:
        fonts = [TTFont(path, lazy=True)]
    out = []
    for i, f in enumerate(fonts):
        family = f["name"].getBestFamilyName() or ""
        sub = f["name"].getBestSubFamilyName() or ""
        if keep and not any(family.startswith(k) for k in keep):
            continue
        if "Mono" in family and cjk and keep:
            continue
        cmap = f.getBestCmap() or {}
        cov = frozenset(chr(c) for c in cmap if c >= 0x20)
        out.append(Face(path, i, f"{family} {sub}".strip(), cjk, cov))
    return out


@lru_cache(maxsize=1)
def all_faces() -> tuple[Face, ...]:
    """Every usable installed face (CJK first). Raises if no CJK font is installed."""
    faces: list[Face] = []
    for pattern, keep in CJK_FONTS:
        for p in sorted(glob.glob(pattern)):
            faces += _faces_in(p, keep, True)
    for p in sorted(glob.glob(KIT_FONTS)):
        faces += _faces_in(p, (), True)
    for pattern in LATIN_FONTS:
        for p in sorted(glob.glob(pattern)):
            if "Math" in p:
                continue
            faces += _faces_in(p, (), False)
    if not any(f.cjk for f in faces):
        raise RuntimeError("no CJK font found: install fonts-noto-cjk (apt-get install fonts-noto-cjk)")
    return tuple(faces)


def font_summary() -> str:
    """One line naming how many faces the renderer found, for training logs: a machine without the
    recipe's font packages (``scripts/setup.sh --train``) renders from fewer faces without failing."""
    faces = all_faces()
    cjk = sorted({Path(f.path).name for f in faces if f.cjk})
    n_cjk = sum(f.cjk for f in faces)
    return (f"fonts: {n_cjk} CJK faces in {len(cjk)} files ({', '.join(cjk)}), "
            f"{len(faces) - n_cjk} Latin faces")


@lru_cache(maxsize=1)
def upright_latin_faces() -> tuple[Face, ...]:
    """Latin faces without italics: the faces documents set English runs in."""
    return tuple(f for f in all_faces() if not f.cjk and "Oblique" not in f.name and "Italic" not in f.name)


def faces_covering(text: str) -> list[Face]:
    need = set(text) - {" "}
    return [f for f in all_faces() if need <= f.coverage]


class FontPair:
    """A CJK face for Han and CJK punctuation and, optionally, a Latin face for ASCII runs, as documents
    set mixed Chinese and English text; both share one baseline and line box.

    ``latin_first`` routes every character the Latin face has to it, as a browser or word processor
    does when the Latin font comes first in the font list: curly quotes, dashes and ellipses then
    come out narrow and proportional (“/usr”, —) beside full-width Han."""

    def __init__(self, cjk: Face, latin: Face | None, size: int, latin_first: bool = False):
        self.cjk, self.latin, self.size = cjk, latin, size
        self.latin_first = latin_first and latin is not None
        self.fc = cjk.font(size)
        self.fl = latin.font(size) if latin else None
        a1, d1 = self.fc.getmetrics()
        if self.fl is not None:
            a2, d2 = self.fl.getmetrics()
            self.ascent, self.descent = max(a1, a2), max(d1, d2)
        else:
            self.ascent, self.descent = a1, d1
        self._w: dict[str, float] = {}

    @property
    def height(self) -> int:
        return self.ascent + self.descent

    def _latin_has(self, ch: str) -> bool:
        if ch.isascii():
            return True
        # never full-width forms or CJK punctuation, even where a Latin face has them
        return self.latin_first and ch < "\u2e80" and ch in self.latin.coverage  # type: ignore[union-attr]

    def font_of(self, ch: str) -> ImageFont.FreeTypeFont:
        return self.fl if self.fl is not None and self._latin_has(ch) else self.fc

    def clean(self, text: str) -> str:
        lat = self.latin.coverage if self.latin else frozenset()
        cjk = self.cjk.coverage
        return "".join(c for c in text if c == " " or c in cjk or (c in lat and self._latin_has(c)))

    def width(self, ch: str) -> float:
        w = self._w.get(ch)
        if w is None:
            w = self._w[ch] = self.font_of(ch).getlength(ch)
        return w

    def runs(self, text: str) -> list[tuple[str, ImageFont.FreeTypeFont]]:
        out: list[tuple[str, ImageFont.FreeTypeFont]] = []
        for ch in text:
            f = self.font_of(ch)
            if out and out[-1][1] is f:
                out[-1] = (out[-1][0] + ch, f)
            else:
                out.append((ch, f))
        return out

    def text_width(self, text: str) -> float:
        return sum(f.getlength(t) for t, f in self.runs(text))
