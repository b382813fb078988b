"""Synthetic pages with exact text-line polygons, for detector training.

``render_page(seed, index)`` is deterministic per ``(seed, index)`` and returns a :class:`Page`: an RGB
uint8 image and one quad per text line (clockwise from top-left, page pixels). A line's quad is its
typographic box — ascent to descent of the fonts used on it, first to last glyph — the way the
evaluation sets label lines; geometric degradations (rotation, perspective) move the quads with the
pixels.

Kinds: documents (one to four columns with gutters down to 0.8 em, justified or ragged; headings,
indented paragraphs, lists, tables with rules, code blocks, figures, headers/footers, page numbers,
stamps), receipts/forms, screenshots, scene-like images (textures, rotated and perspective text,
vertical Chinese columns), vertical-rl pages, signs and number plates (large, bold, light-on-dark),
and phone photos of any paper kind (perspective, curl, colour casts, falloff, shadows, blur, moiré).
Text comes from :class:`shizi.synth.corpus.TextSampler` (never the evaluation sources).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageDraw

from shizi.synth import degrade
from shizi.synth.corpus import TextSampler
from shizi.synth.fonts import Face, FontPair, all_faces, upright_latin_faces

KIND_WEIGHTS = {"doc": 0.38, "receipt": 0.06, "screen": 0.08, "scene": 0.10, "photo": 0.22, "sign": 0.09,
                "vertical": 0.07}


@dataclass
class Page:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    quads: list[np.ndarray] = field(default_factory=list)  # each (4, 2) float32, TL TR BR BL
    texts: list[str] = field(default_factory=list)
    kind: str = "doc"
    #: per line: the block (paragraph, heading, table, ...) it belongs to, numbered in reading order,
    #: and that block's kind; the lines are in reading order (header first, footer last)
    blocks: list[int] = field(default_factory=list)
    block_kinds: list[str] = field(default_factory=list)


class _Canvas:
    """An RGB page being drawn, collecting line quads."""

    def __init__(self, w: int, h: int, bg: tuple[int, int, int]):
        self.img = Image.new("RGB", (w, h), bg)
        self.draw = ImageDraw.Draw(self.img)
        self.quads: list[np.ndarray] = []
        self.texts: list[str] = []
        self.blocks: list[int] = []  # per quad: block number and kind (see Page)
        self.block_kinds: list[str] = []
        self._block, self._kind = -1, "paragraph"

    def block(self, kind: str) -> None:
        """Start a new block of ``kind``: the lines drawn next belong to it."""
        self._block += 1
        self._kind = kind

    def _label(self, quad: np.ndarray, text: str) -> None:
        if self._block < 0:
            self.block("paragraph")
        self.quads.append(quad)
        self.texts.append(text)
        self.blocks.append(self._block)
        self.block_kinds.append(self._kind)

    def text(self, x: float, top: float, text: str, fonts: FontPair, fill, label: bool = True,
             tracking: float = 0.0, stroke: int = 0) -> float:
        """Draw ``text`` with its line box top at ``top``; returns the x after the last glyph.
        ``tracking`` adds that many pixels after every glyph (justified lines, letter-spaced signs);
        ``stroke`` thickens the glyphs by that many pixels (bold sign lettering)."""
        text = text.rstrip()
        lead = len(text) - len(text.lstrip())
        base = top + fonts.ascent
        cx = x
        x_first = None
        runs = fonts.runs(text) if not tracking else [(c, fonts.font_of(c)) for c in text]
        for i, (run, f) in enumerate(runs):
            self.draw.text((cx, base), run, font=f, fill=fill, anchor="ls", stroke_width=stroke,
                           stroke_fill=fill)
            if x_first is None:
                x_first = cx + (f.getlength(run[:lead]) if lead and i == 0 else 0.0)
            cx += f.getlength(run) + (tracking if i < len(runs) - 1 else 0.0)
        if label and text.strip():
            x0 = x_first if x_first is not None else x
            bot = top + fonts.height
            self._label(np.array([[x0, top], [cx, top], [cx, bot], [x0, bot]], np.float32),
                        text.strip())
        return cx

    def vtext(self, x: float, top: float, text: str, fonts: FontPair, fill, step: float,
              marks_top_right: bool = False) -> float:
        """Vertical Chinese as ``writing-mode: vertical-rl`` sets it: one glyph under the other, each in
        an em square ``step`` high, upright; brackets, dashes, colons and Latin runs turned a quarter
        turn clockwise, quotation marks drawn as the turned corner brackets CJK fonts use for them;
        ，。、 where horizontal text has them (zh-Hans fonts) or at the square's top right."""
        y = top
        for run in _vertical_runs(text):
            if run[0].isascii():  # a Latin run, sideways, as long as it is wide
                f = fonts.font_of(run[0])
                length = f.getlength(run)
                self._turned(run, f, x + fonts.size / 2, y + length / 2, fill)
                y += length
                continue
            ch = VERTICAL_QUOTES.get(run, run)
            cx, cy = x + fonts.size / 2, y + step / 2
            if ch in TURNED_IN_VERTICAL:
                self._turned(ch, fonts.fc, cx, cy, fill)
            else:
                if ch in MARKS and marks_top_right:
                    cx, cy = cx + 0.55 * fonts.size, cy - 0.55 * step
                self.draw.text((cx, cy), ch, font=fonts.fc, fill=fill, anchor="mm")
            y += step
        x1 = x + fonts.size
        self._label(np.array([[x, top], [x1, top], [x1, y], [x, y]], np.float32), text)
        return y

    def _turned(self, text: str, font, cx: float, cy: float, fill) -> None:
        """``text`` turned a quarter turn clockwise, centred at (cx, cy)."""
        w = int(np.ceil(font.getlength(text))) + 4
        a, d = font.getmetrics()
        layer = Image.new("L", (w, a + d + 4), 0)
        ImageDraw.Draw(layer).text((w / 2, (a + d + 4) / 2), text, font=font, fill=255, anchor="mm")
        layer = layer.transpose(Image.Transpose.ROTATE_270)
        if len(text) == 1 and layer.getbbox():  # a mark's ink centred in its square, as vertical forms are
            layer = layer.crop(layer.getbbox())
        self.img.paste(Image.new("RGB", layer.size, fill), (int(round(cx - layer.width / 2)),
                                                            int(round(cy - layer.height / 2))), layer)


#: what vertical-rl setting turns a quarter turn clockwise (full-width brackets, dashes, the ellipsis,
#: colons); Latin runs it turns too (``text-orientation: mixed``)
TURNED_IN_VERTICAL = frozenset("（）《》〈〉【】「」『』〔〕［］｛｝〖〗—…～－：；＜＞")
#: quotation marks as CJK fonts draw them in vertical text (the labels keep the quotation marks;
#: ``text_vertical_forms`` the drawn forms, as the evaluation sets do)
VERTICAL_QUOTES = {"“": "『", "”": "』", "‘": "「", "’": "」"}
MARKS = frozenset("，。、．")


def _vertical_runs(text: str) -> list[str]:
    """``text`` as single characters, and maximal Latin runs (spaces inside them included)."""
    out: list[str] = []
    for ch in text:
        if ch.isascii() and out and out[-1][0].isascii() and (ch != " " or out[-1][-1] != " "):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _faces(rng: random.Random) -> tuple[Face, Face | None]:
    cjk = [f for f in all_faces() if f.cjk]
    latin = upright_latin_faces()
    face = rng.choice(cjk)
    lat = rng.choice(latin) if latin and rng.random() < 0.5 else None
    return face, lat


def _fonts_for_height(face: Face, latin: Face | None, line_h: float) -> FontPair:
    """Fonts whose line box is about ``line_h`` pixels tall."""
    f = face.font(100)
    a, d = f.getmetrics()
    size = max(8, int(round(line_h * 100 / max(1, a + d))))
    return FontPair(face, latin, size)


def _line_height(rng: random.Random, lo: float = 16, hi: float = 60) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def _wrap(text: str, fonts: FontPair, width: float, first_indent: float) -> list[tuple[str, float]]:
    """Greedy line breaking by glyph advances; returns (line text, x offset) pairs."""
    lines: list[tuple[str, float]] = []
    cur, w, indent = "", 0.0, first_indent
    i = 0
    while i < len(text):
        ch = text[i]
        cw = fonts.width(ch)
        if w + cw > width - indent and cur:
            # don't break inside a Latin word when possible
            if ch.isascii() and ch.isalnum() and " " in cur[-20:]:
                k = cur.rfind(" ")
                rest = cur[k + 1 :]
                cur = cur[:k]
                i -= len(rest)
            lines.append((cur, indent))
            cur, w, indent = "", 0.0, 0.0
            if ch == " ":
                i += 1
                continue
            continue
        cur += ch
        w += cw
        i += 1
    if cur.strip():
        lines.append((cur, indent))
    return lines


def _ink(rng: random.Random, bg: tuple[int, int, int]) -> tuple[int, int, int]:
    lum = sum(bg) / 3
    if lum > 128:
        base = rng.randint(0, 70)
        if rng.random() < 0.15:
            return (rng.randint(0, 160), rng.randint(0, 100), rng.randint(0, 160))
        return (base, base, base + rng.randint(0, 20))
    v = rng.randint(190, 255)
    return (v, v, v - rng.randint(0, 30))


def _paper(rng: random.Random) -> tuple[int, int, int]:
    if rng.random() < 0.7:
        v = rng.randint(240, 255)
        return (v, v, v)
    v = rng.randint(215, 250)
    return (v, v - rng.randint(0, 10), v - rng.randint(0, 25))


# ------------------------------------------------------------------------------------- documents


def _doc(rng: random.Random, s: TextSampler) -> _Canvas:
    W = rng.randint(800, 1500)
    H = int(W * (rng.uniform(1.3, 1.45) if rng.random() < 0.6 else rng.uniform(0.4, 1.2)))
    bg = _paper(rng)
    cv = _Canvas(W, H, bg)
    ink = _ink(rng, bg)
    face, latin = _faces(rng)
    line_h = _line_height(rng, 16, 52)
    body = _fonts_for_height(face, latin, line_h)
    pitch = line_h * rng.uniform(1.0, 1.6)
    para_gap = line_h * rng.uniform(0.0, 0.9)
    mx = int(W * rng.uniform(0.03, 0.12))
    my = int(H * rng.uniform(0.02, 0.08))
    # 1-4 columns; gutters from 0.8 em (tight newspaper setting) to 4 em
    ncol = rng.choices([1, 2, 3, 4], weights=[0.45, 0.32, 0.15, 0.08])[0]
    gutter = body.size * rng.uniform(0.8, 4.0)
    while ncol > 1 and (W - 2 * mx - (ncol - 1) * gutter) / ncol < body.size * 8:
        ncol -= 1
    colw = (W - 2 * mx - (ncol - 1) * gutter) / ncol
    justify = rng.random() < 0.5
    indent_chars = rng.choice([0, 2, 2, 2])
    head_face = face if rng.random() < 0.7 else rng.choice([f for f in all_faces() if f.cjk])
    y_top, y_bot = my, H - my
    # header / footer
    if rng.random() < 0.25:
        small = _fonts_for_height(face, latin, max(14, line_h * rng.uniform(0.6, 0.9)))
        cv.block("header")
        cv.text(mx, y_top, s.line(4, 20), small, ink)
        if rng.random() < 0.5:
            cv.text(W - mx - small.text_width(t := s.line(2, 10)), y_top, t, small, ink)
        y_top += small.height + 4
        cv.draw.line([(mx, y_top), (W - mx, y_top)], fill=ink, width=1)
        y_top += line_h * 0.8
    if rng.random() < 0.4:
        small = _fonts_for_height(face, latin, max(14, line_h * rng.uniform(0.6, 0.9)))
        num = rng.choice([str(rng.randint(1, 400)), f"- {rng.randint(1, 400)} -",
                          f"第 {rng.randint(1, 99)} 页"])
        x = rng.choice([mx, (W - small.text_width(num)) / 2, W - mx - small.text_width(num)])
        y_bot -= small.height
        cv.block("page_number")
        cv.text(x, y_bot, num, small, ink)
        y_bot -= line_h
    for col in range(ncol):
        x0 = mx + col * (colw + gutter)
        y = y_top + (rng.uniform(0, line_h * 3) if col else 0)
        first = True
        while y < y_bot - line_h:
            r = rng.random()
            if first and rng.random() < 0.6 or r < 0.1:
                y = _heading(cv, rng, s, head_face, latin, line_h, x0, y, colw, ink, y_bot)
            elif r < 0.62:
                y = _paragraph(cv, rng, s, body, x0, y, colw, ink, pitch, indent_chars, y_bot, justify)
            elif r < 0.72:
                y = _list(cv, rng, s, body, x0, y, colw, ink, pitch, y_bot)
            elif r < 0.83:
                y = _table(cv, rng, s, face, latin, line_h, x0, y, colw, ink, y_bot)
            elif r < 0.89:
                y = _code(cv, rng, s, line_h, x0, y, colw, ink, y_bot)
            else:
                y = _figure(cv, rng, s, body, x0, y, colw, ink, y_bot)
            y += para_gap
            first = False
    if rng.random() < 0.08:
        _stamp(cv, rng, s, face, W, H)
    return cv


def _vertical(rng: random.Random, s: TextSampler) -> _Canvas:
    """A page set vertically (writing-mode vertical-rl): columns of upright Han glyphs, read top to
    bottom, the columns right to left, sometimes under a horizontal title. Not in ``KIND_WEIGHTS``:
    asked for by name (``render_page(..., kind="vertical")``)."""
    W = rng.randint(700, 1400)
    H = int(W * rng.uniform(0.7, 1.45))
    bg = _paper(rng)
    cv = _Canvas(W, H, bg)
    ink = _ink(rng, bg)
    face, _ = _faces(rng)
    fonts = _fonts_for_height(face, None, _line_height(rng, 18, 48))
    step = fonts.size * rng.uniform(1.0, 1.2)  # glyph pitch down a column
    pitch = fonts.size * rng.uniform(1.3, 2.0)  # column pitch, right to left
    mx, my = int(W * rng.uniform(0.04, 0.1)), int(H * rng.uniform(0.04, 0.1))
    top = my
    if rng.random() < 0.4:
        title = _fonts_for_height(face, None, fonts.height * rng.uniform(1.2, 1.8))
        text = title.clean(s.zh_sentence(rng.randint(4, 14))).strip()
        if text and title.text_width(text) < W - 2 * mx:
            cv.block("heading")
            cv.text((W - title.text_width(text)) / 2, top, text, title, ink)
            top += title.height + pitch
    rows = int((H - my - top) // step)
    x = W - mx - fonts.size
    marks_top_right = rng.random() < 0.4
    latin = rng.random() < 0.3  # a page with Latin words, set sideways
    while x > mx and rows >= 2:
        text = "".join(c for c in fonts.clean(s.zh_sentence(rng.randint(rows // 2, rows)))
                       if c != " " and not c.isascii())[:rows]
        if text and latin and rng.random() < 0.4:
            k = rng.randint(0, len(text))
            text = text[:k] + " " + fonts.clean(s.en_word()).strip() + " " + text[k:]
        start = top + (step * rng.randint(1, 2) if rng.random() < 0.2 else 0)  # a paragraph's indent
        text = _fit_column(text, fonts, step, H - my - start).strip()
        if text:
            cv.block("paragraph")
            cv.vtext(x, start, text, fonts, ink, step, marks_top_right)
        x -= pitch * (rng.uniform(1.5, 2.5) if rng.random() < 0.1 else 1.0)  # sometimes a blank column
    return cv


def _fit_column(text: str, fonts: FontPair, step: float, room: float) -> str:
    """The longest start of ``text`` that fits ``room`` pixels down a column (:meth:`_Canvas.vtext`)."""
    runs = _vertical_runs(text)
    used = 0.0
    for k, run in enumerate(runs):
        used += fonts.font_of(run[0]).getlength(run) if run[0].isascii() else step
        if used > room:
            return "".join(runs[:k])
    return text


def _heading(cv, rng, s, face, latin, line_h, x0, y, colw, ink, y_bot) -> float:
    hf = _fonts_for_height(face, latin, min(75, line_h * rng.uniform(1.05, 1.8)))
    y += line_h * rng.uniform(0.2, 1.0)
    if y + hf.height > y_bot:
        return y_bot
    num = rng.choice(["", "", f"{rng.randint(1, 12)}.{rng.randint(1, 9)}. ", f"{rng.randint(1, 12)}. ",
                      f"第{rng.choice('一二三四五六七八九十')}章 ",
                      f"{rng.randint(1, 9)}.{rng.randint(1, 9)}.{rng.randint(1, 9)}. "])
    text = hf.clean(num + s.line(2, 16))
    while text and hf.text_width(text) > colw:
        text = text[:-1]
    if not text.strip():
        return y
    x = x0 + (colw - hf.text_width(text)) / 2 if rng.random() < 0.3 else x0
    cv.block("heading")
    cv.text(x, y, text, hf, ink)
    return y + hf.height + line_h * rng.uniform(0.3, 0.9)


def _paragraph(cv, rng, s, fonts: FontPair, x0, y, colw, ink, pitch, indent_chars, y_bot,
               justify: bool = False) -> float:
    """A wrapped paragraph; ``justify`` spreads every line but the last to the column's width."""
    text = fonts.clean(s.paragraph(rng.randint(10, 260)))
    if not text.strip():
        return y
    indent = indent_chars * fonts.size
    lines = _wrap(text, fonts, colw, indent)
    cv.block("paragraph")
    for k, (line, off) in enumerate(lines):
        if y + fonts.height > y_bot:
            return y_bot
        line = line.rstrip()
        tracking = 0.0
        if justify and k < len(lines) - 1 and len(line) > 1:
            tracking = max(0.0, (colw - off - fonts.text_width(line)) / (len(line) - 1))
            tracking = min(tracking, fonts.size * 0.5)
        cv.text(x0 + off, y, line, fonts, ink, tracking=tracking)
        y += pitch
    return y


def _list(cv, rng, s, fonts: FontPair, x0, y, colw, ink, pitch, y_bot) -> float:
    style = rng.choice(["•", "-", "num", "paren", "·"])
    for k in range(rng.randint(2, 6)):
        mark = {"num": f"{k + 1}.", "paren": f"（{k + 1}）"}.get(style, style)
        text = fonts.clean(s.paragraph(rng.randint(4, 80)))
        ind = fonts.size * rng.choice([0, 1, 2])
        cv.block("list_item")
        for j, (line, _) in enumerate(_wrap(mark + " " + text, fonts, colw - ind - fonts.size, 0)):
            if y + fonts.height > y_bot:
                return y_bot
            cv.text(x0 + ind + (fonts.size * 1.5 if j else 0), y, line, fonts, ink)
            y += pitch
    return y


def _table(cv, rng, s, face, latin, line_h, x0, y, colw, ink, y_bot) -> float:
    fonts = _fonts_for_height(face, latin, line_h * rng.uniform(0.75, 1.0))
    ncols = rng.randint(2, 5)
    nrows = rng.randint(2, 8)
    pad = rng.uniform(3, 12)
    row_h = fonts.height + 2 * pad
    if y + row_h * 2 > y_bot:
        return y_bot
    weights = [rng.uniform(0.6, 1.6) for _ in range(ncols)]
    tw = colw * rng.uniform(0.7, 1.0)
    widths = [tw * w / sum(weights) for w in weights]
    grid = rng.random() < 0.6
    ys = [y]
    cv.block("table")
    for r in range(nrows):
        if y + row_h > y_bot:
            break
        cx = x0
        for c in range(ncols):
            t = s.number() if rng.random() < 0.35 and r else s.line(1, 10)
            t = fonts.clean(t)
            while t and fonts.text_width(t) > widths[c] - 2 * pad:
                t = t[:-1]
            if t.strip():
                cv.text(cx + pad, y + pad, t, fonts, ink)
            cx += widths[c]
        y += row_h
        ys.append(y)
    lw = rng.choice([1, 1, 2])
    for k, yy in enumerate(ys):
        if grid or k in (0, 1, len(ys) - 1):
            cv.draw.line([(x0, yy), (x0 + tw, yy)], fill=ink, width=lw)
    if grid:
        cx = x0
        for c in range(ncols + 1):
            cv.draw.line([(cx, ys[0]), (cx, ys[-1])], fill=ink, width=lw)
            if c < ncols:
                cx += widths[c]
    return y + line_h * 0.5


def _code(cv, rng, s, line_h, x0, y, colw, ink, y_bot) -> float:
    mono = [f for f in all_faces() if "Mono" in f.name and not f.cjk]
    if not mono:
        return y
    fonts = _fonts_for_height(rng.choice([f for f in all_faces() if f.cjk]), rng.choice(mono), line_h * 0.85)
    fonts.fc = fonts.fl  # ASCII only
    n = rng.randint(1, 6)
    h = n * fonts.height * 1.1 + 12
    if y + h > y_bot:
        return y_bot
    if rng.random() < 0.6:
        shade = tuple(max(0, c - rng.randint(8, 25)) for c in cv.img.getpixel((int(x0), int(y))))
        cv.draw.rectangle([x0, y, x0 + colw, y + h], fill=shade)
    yy = y + 6
    cv.block("code")
    for _ in range(n):
        raw = ("  " * rng.randint(0, 3)) + s.code() + " " + s.en_sentence(30)
        t = "".join(c for c in raw if c.isascii())
        while t and fonts.text_width(t) > colw - 12:
            t = t[:-1]
        if t.strip():
            cv.text(x0 + 6, yy, t, fonts, ink)
        yy += fonts.height * 1.1
    return y + h


def _figure(cv, rng, s, fonts, x0, y, colw, ink, y_bot) -> float:
    h = rng.uniform(0.15, 0.4) * colw
    if y + h + fonts.height > y_bot:
        return y_bot
    w = colw * rng.uniform(0.4, 0.9)
    fx = x0 + (colw - w) / 2
    patch = _texture(rng, int(w), int(h))
    cv.img.paste(Image.fromarray(patch), (int(fx), int(y)))
    y += h + 6
    cap = fonts.clean(rng.choice(["图", "Figure ", "表"]) + f"{rng.randint(1, 20)} " + s.line(2, 14))
    while cap and fonts.text_width(cap) > colw:
        cap = cap[:-1]
    if cap.strip():
        cv.block("caption")
        cv.text(x0 + (colw - fonts.text_width(cap)) / 2, y, cap, fonts, ink)
    return y + fonts.height


def _stamp(cv, rng, s, face, W, H):
    """A red seal: ring and text (not labelled: curved text is not a line)."""
    r = rng.randint(50, 110)
    cx, cy = rng.randint(r, max(r + 1, W - r)), rng.randint(r, max(r + 1, H - r))
    col = (rng.randint(180, 230), rng.randint(0, 60), rng.randint(0, 60))
    over = Image.new("RGBA", cv.img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(over)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=col + (170,), width=rng.randint(3, 6))
    f = face.font(max(10, r // 4))
    text = "".join(c for c in s.zh_sentence(8) if c in face.coverage)[:8]
    for i, ch in enumerate(text):
        a = math.pi * (1.2 - 1.4 * i / max(1, len(text) - 1))
        d.text((cx + 0.7 * r * math.cos(a), cy - 0.7 * r * math.sin(a)), ch, font=f, fill=col + (170,),
               anchor="mm")
    d.text((cx, cy), "★", font=f, fill=col + (170,), anchor="mm")
    cv.img.paste(over, (0, 0), over)


# ------------------------------------------------------------------------------ other page kinds


def _receipt(rng: random.Random, s: TextSampler) -> _Canvas:
    W = rng.randint(380, 720)
    face, latin = _faces(rng)
    line_h = _line_height(rng, 16, 34)
    fonts = _fonts_for_height(face, latin, line_h)
    pitch = line_h * rng.uniform(1.05, 1.5)
    n = rng.randint(10, 35)
    H = int(n * pitch * 1.2 + 4 * line_h)
    bg = _paper(rng)
    cv = _Canvas(W, H, bg)
    ink = _ink(rng, bg)
    m = rng.randint(12, 40)
    y = m
    big = _fonts_for_height(face, latin, line_h * 1.4)
    title = big.clean(s.line(2, 10))
    if title.strip():
        cv.text((W - big.text_width(title)) / 2, y, title, big, ink)
    y += big.height + pitch * 0.5
    while y < H - m - fonts.height:
        r = rng.random()
        if r < 0.12:
            yy = y + fonts.height / 2
            if rng.random() < 0.5:
                for xx in range(m, W - m, 10):
                    cv.draw.line([(xx, yy), (xx + 5, yy)], fill=ink, width=1)
            else:
                cv.draw.line([(m, yy), (W - m, yy)], fill=ink, width=1)
            y += pitch * 0.7
            continue
        left = fonts.clean(s.line(2, 12) + ("：" if rng.random() < 0.3 else ""))
        right = fonts.clean(s.number())
        while left and fonts.text_width(left) > (W - 2 * m) * 0.6:
            left = left[:-1]
        while right and fonts.text_width(right) > (W - 2 * m) * 0.35:
            right = right[:-1]
        if left.strip():
            cv.text(m, y, left, fonts, ink)
        if right.strip() and rng.random() < 0.8:
            cv.text(W - m - fonts.text_width(right), y, right, fonts, ink)
        y += pitch
    return cv


def _screen(rng: random.Random, s: TextSampler) -> _Canvas:
    W, H = rng.randint(700, 1500), rng.randint(500, 1100)
    dark = rng.random() < 0.3
    bg = (rng.randint(20, 50),) * 3 if dark else (rng.randint(235, 255),) * 3
    cv = _Canvas(W, H, bg)
    ink = _ink(rng, bg)
    face, latin = _faces(rng)
    line_h = _line_height(rng, 16, 36)
    fonts = _fonts_for_height(face, latin, line_h)
    bar_h = int(line_h * rng.uniform(1.6, 2.4))
    bar = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
    cv.draw.rectangle([0, 0, W, bar_h], fill=bar)
    bink = (255, 255, 255) if sum(bar) < 380 else (0, 0, 0)
    t = fonts.clean(s.line(2, 16))
    if t.strip():
        cv.text(line_h, (bar_h - fonts.height) / 2, t, fonts, bink)
    side = 0
    if rng.random() < 0.5:
        side = int(W * rng.uniform(0.15, 0.28))
        sbg = tuple(max(0, min(255, c + rng.randint(-25, 25))) for c in bg)
        cv.draw.rectangle([0, bar_h, side, H], fill=sbg)
        y = bar_h + line_h
        while y < H - line_h * 2:
            t = fonts.clean(s.line(2, 8))
            while t and fonts.text_width(t) > side - line_h:
                t = t[:-1]
            if t.strip():
                cv.text(line_h * 0.6, y, t, fonts, ink)
            y += line_h * rng.uniform(1.5, 2.5)
    x0 = side + line_h
    y = bar_h + line_h
    colw = W - x0 - line_h
    while y < H - line_h * 2:
        r = rng.random()
        if r < 0.2:  # button
            t = fonts.clean(s.line(2, 6))
            if not t.strip():
                continue
            bw = fonts.text_width(t) + line_h
            col = (rng.randint(0, 200), rng.randint(0, 200), rng.randint(0, 255))
            cv.draw.rounded_rectangle([x0, y, x0 + bw, y + fonts.height * 1.5], radius=6, fill=col)
            cv.text(x0 + line_h / 2, y + fonts.height * 0.25, t, fonts, (255, 255, 255))
            y += fonts.height * 2.2
        else:
            y = _paragraph(cv, rng, s, fonts, x0, y, colw, ink, line_h * rng.uniform(1.1, 1.6), 0, H - line_h)
            y += line_h * 0.6
    return cv


def _texture(rng: random.Random, w: int, h: int) -> np.ndarray:
    """A photo-like background: colour gradient, blurred blobs, noise."""
    nrng = np.random.default_rng(rng.getrandbits(32))
    c0, c1 = nrng.integers(0, 256, 3), nrng.integers(0, 256, 3)
    t = np.linspace(0, 1, max(1, w), dtype=np.float32)[None, :, None]
    img = (c0 * (1 - t) + c1 * t) * np.ones((max(1, h), 1, 1), np.float32)
    amp = rng.uniform(5, 30)
    gh = max(2, h // rng.randint(16, 96))
    gw = max(2, w // rng.randint(16, 96))
    small = nrng.normal(0, amp, (gh, gw, 3)).astype(np.float32)
    img += cv2.resize(small, (max(1, w), max(1, h)), interpolation=cv2.INTER_CUBIC)
    for _ in range(rng.randint(0, 6)):
        col = nrng.integers(0, 256, 3).tolist()
        cv2.ellipse(img, (rng.randint(0, w), rng.randint(0, h)), (rng.randint(5, max(6, w // 3)),
                    rng.randint(5, max(6, h // 3))), rng.uniform(0, 180), 0, 360, col, -1)
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(1, 6))
    img += nrng.normal(0, rng.uniform(2, 12), img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def _place(rng: random.Random, occupied: list, W: int, H: int, w: float, h: float, whole: bool):
    """Where a ``w`` x ``h`` item fits on a ``W`` x ``H`` image without overlapping ``occupied`` boxes
    (ten random tries, integer positions when ``whole``): ``(x, y)``, added to ``occupied``, or None."""
    for _try in range(10):
        if whole:
            px, py = rng.randint(0, int(W - w)), rng.randint(0, int(H - h))
        else:
            px, py = rng.uniform(0, W - w), rng.uniform(0, H - h)
        if all(px + w < a or px > c or py + h < b or py > d for a, b, c, d in occupied):
            occupied.append((px, py, px + w, py + h))
            return px, py
    return None


def _scene(rng: random.Random, s: TextSampler) -> _Canvas:
    W, H = rng.randint(600, 1400), rng.randint(500, 1200)
    cv = _Canvas(W, H, (255, 255, 255))
    cv.img = Image.fromarray(_texture(rng, W, H))
    cv.draw = ImageDraw.Draw(cv.img)
    occupied: list[tuple[float, float, float, float]] = []
    for _ in range(rng.randint(2, 14)):
        face, latin = _faces(rng)
        line_h = _line_height(rng, 16, 90)
        fonts = _fonts_for_height(face, latin, line_h)
        vertical = rng.random() < 0.2
        text = fonts.clean(s.zh_sentence(rng.randint(2, 10)) if vertical else s.line(1, 20)).strip()
        if vertical:
            text = "".join(c for c in text if c != " " and not c.isascii())
        if not text:
            continue
        # the line drawn on its own RGBA layer, rotated, pasted where it fits
        layer = _Canvas(1, 1, (0, 0, 0))
        if vertical:
            step = fonts.size * rng.uniform(1.0, 1.25)
            lw, lh = int(fonts.size + 4), int(step * len(text) + 4)
        else:
            lw, lh = int(fonts.text_width(text) + 4), int(fonts.height + 4)
        if lw > W * 0.95 or lh > H * 0.95:
            continue
        layer.img = Image.new("RGBA", (lw, lh), (0, 0, 0, 0))
        layer.draw = ImageDraw.Draw(layer.img)
        if vertical:
            layer.vtext(2, 2, text, fonts, (255, 255, 255, 255), step)
        else:
            layer.text(2, 2, text, fonts, (255, 255, 255, 255))
        if not layer.quads:
            continue
        if rng.random() < 0.4:
            ang = 0.0
        else:
            ang = rng.uniform(-25, 25) if rng.random() < 0.9 else rng.uniform(-60, 60)
        m = cv2.getRotationMatrix2D((lw / 2, lh / 2), ang, 1.0)
        cos, sin = abs(m[0, 0]), abs(m[0, 1])
        nw, nh = int(lh * sin + lw * cos) + 2, int(lh * cos + lw * sin) + 2
        m[0, 2] += nw / 2 - lw / 2
        m[1, 2] += nh / 2 - lh / 2
        if nw >= W or nh >= H:
            continue
        spot = _place(rng, occupied, W, H, nw, nh, whole=True)
        if spot is None:
            continue
        px, py = spot
        arr = cv2.warpAffine(np.asarray(layer.img), m, (nw, nh), flags=cv2.INTER_LINEAR)
        mask = Image.fromarray(arr[..., 3])
        local = np.asarray(cv.img)[py : py + nh, px : px + nw].reshape(-1, 3).mean(0)
        lum = float(local.mean())
        hue = np.array([rng.randint(0, 255) for _ in range(3)], np.float32)
        col = hue * 0.35 + (200 if lum < 120 else 15) * 0.65 if rng.random() < 0.8 else hue
        col = tuple(int(c) for c in col)
        if rng.random() < 0.3:  # shadow for legibility
            cv.img.paste(tuple(255 - c for c in col), (px + 2, py + 2), mask)
        cv.img.paste(col, (px, py), mask)
        q = _affine(layer.quads[0], m) + np.float32([px, py])
        cv.block("paragraph")
        cv._label(q, layer.texts[0])
    return cv


_PROVINCES = "京沪粤苏浙鲁川渝鄂湘豫皖闽赣冀晋辽吉黑陕甘宁青新藏桂琼云贵蒙津"
_PLATE = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def _plate(rng: random.Random) -> str:
    return (rng.choice(_PROVINCES) + rng.choice(_PLATE[:24]) + rng.choice(["·", " ", ""])
            + "".join(rng.choice(_PLATE) for _ in range(rng.choice([5, 5, 6]))))


def _sign(rng: random.Random, s: TextSampler) -> _Canvas:
    """Shop signs, notices and number plates: a few panels on a photo-like background, each with one
    to three lines of large, often bold, light-on-dark lettering (sometimes a vertical column)."""
    W, H = rng.randint(600, 1400), rng.randint(450, 1200)
    cv = _Canvas(W, H, (255, 255, 255))
    cv.img = Image.fromarray(_texture(rng, W, H))
    cv.draw = ImageDraw.Draw(cv.img)
    occupied: list[tuple[float, float, float, float]] = []
    for _ in range(rng.randint(1, 4)):
        face, latin = _faces(rng)
        plate = rng.random() < 0.2
        vertical = not plate and rng.random() < 0.2
        nlines = 1 if plate or vertical else rng.choice([1, 1, 2, 3])
        line_h = _line_height(rng, 30, min(220, H * 0.8 / nlines))
        fonts = _fonts_for_height(face, latin, line_h)
        stroke = int(fonts.size * rng.uniform(0.0, 0.06)) if rng.random() < 0.6 else 0
        tracking = fonts.size * rng.uniform(0.05, 0.6) if rng.random() < 0.25 else 0.0
        if plate:
            texts = [fonts.clean(_plate(rng))]
        elif vertical:
            texts = ["".join(c for c in fonts.clean(s.zh_sentence(rng.randint(2, 8))) if not c.isascii())]
        else:
            texts = [fonts.clean(s.line(1, 12) if rng.random() < 0.5 else s.zh_sentence(rng.randint(2, 10)))
                     .strip() for _ in range(nlines)]
        texts = [t for t in texts if t]
        if not texts:
            continue
        pad = line_h * rng.uniform(0.2, 0.7)
        step = fonts.size * rng.uniform(1.0, 1.3)
        if vertical:
            tw, th = fonts.size, step * len(texts[0])
        else:
            tw = max(fonts.text_width(t) + tracking * (len(t) - 1) for t in texts)
            th = line_h * (1 + (len(texts) - 1) * rng.uniform(1.1, 1.4)) if len(texts) > 1 else line_h
        pw, ph = tw + 2 * pad, th + 2 * pad
        if pw > W * 0.98 or ph > H * 0.98:
            continue
        spot = _place(rng, occupied, W, H, pw, ph, whole=False)
        if spot is None:
            continue
        px, py = spot
        if plate:
            panel, ink = rng.choice([((20, 60, 170), (245, 245, 245)), ((230, 190, 20), (15, 15, 15)),
                                     ((30, 140, 60), (245, 245, 245)), ((240, 240, 240), (15, 15, 15))])
        else:
            hue = [rng.randint(0, 255) for _ in range(3)]
            dark = tuple(int(c * rng.uniform(0.1, 0.6)) for c in hue)
            light = tuple(int(255 - (255 - c) * rng.uniform(0.0, 0.3)) for c in hue)
            panel, ink = (dark, light) if rng.random() < 0.7 else (light, dark)
        if rng.random() < 0.85:
            cv.draw.rounded_rectangle([px, py, px + pw, py + ph], radius=int(pad * rng.uniform(0, 1)),
                                      fill=panel, outline=ink if plate or rng.random() < 0.3 else None,
                                      width=max(1, int(pad * 0.15)))
        if vertical:
            cv.vtext(px + pad, py + pad, texts[0], fonts, ink, step)
            continue
        y = py + pad
        pitch = (th - line_h) / (len(texts) - 1) if len(texts) > 1 else 0
        for t in texts:
            w = fonts.text_width(t) + tracking * (len(t) - 1)
            cv.text(px + pad + (tw - w) / 2, y, t, fonts, ink, tracking=tracking, stroke=stroke)
            y += pitch
    return cv


def _photograph(img: np.ndarray, quads: list[np.ndarray], rng: random.Random) -> tuple[np.ndarray, list]:
    """A phone photo of the sheet ``img``: on a desk-like background, seen in perspective (or a
    close-up of part of it), sometimes with the paper curled."""
    h, w = img.shape[:2]
    portrait = h >= w
    long_ = int(max(h, w) * rng.uniform(0.9, 1.4))
    ar = rng.choice([4 / 3, 16 / 9, 1.0])
    FW, FH = (int(long_ / ar), long_) if portrait else (long_, int(long_ / ar))
    fill = rng.uniform(0.6, 0.98) if rng.random() < 0.8 else rng.uniform(1.1, 1.8)  # share of the frame
    sc = fill * min(FW / w, FH / h)
    cw, ch = w * sc, h * sc
    ox, oy = (FW - cw) / 2 + rng.uniform(-0.1, 0.1) * FW, (FH - ch) / 2 + rng.uniform(-0.1, 0.1) * FH
    d = rng.uniform(0.0, 0.12) * min(cw, ch)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[ox, oy], [ox + cw, oy], [ox + cw, oy + ch], [ox, oy + ch]])
    dst += np.float32([[rng.uniform(-d, d), rng.uniform(-d, d)] for _ in range(4)])
    m = cv2.getPerspectiveTransform(src, dst)
    sheet = cv2.warpPerspective(img, m, (FW, FH), flags=cv2.INTER_AREA if sc < 1 else cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (FW, FH))
    frame = _texture(rng, FW, FH)
    frame = np.where(mask[..., None] > 127, sheet, frame)
    quads = [cv2.perspectiveTransform(q[None], m)[0].astype(np.float32) for q in quads]
    if rng.random() < 0.4:  # curl: each column of the frame shifted up or down
        amp = rng.uniform(0.003, 0.012) * FH
        period, phase = rng.uniform(0.8, 2.5) * FW, rng.uniform(0, 2 * math.pi)
        xs = np.arange(FW, dtype=np.float32)
        dy = (amp * np.sin(2 * math.pi * xs / period + phase)).astype(np.float32)
        map_x = np.tile(xs, (FH, 1))
        map_y = np.arange(FH, dtype=np.float32)[:, None] - dy[None, :]
        frame = cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        quads = [np.stack([q[:, 0], q[:, 1] + amp * np.sin(2 * math.pi * q[:, 0] / period + phase)], 1)
                 .astype(np.float32) for q in quads]
    return frame, quads


# ----------------------------------------------------------------------------- geometry + main


def _affine(q: np.ndarray, m: np.ndarray) -> np.ndarray:
    return (np.hstack([q, np.ones((len(q), 1), np.float32)]) @ m.T).astype(np.float32)


def _rotate_page(img: np.ndarray, quads: list[np.ndarray], deg: float, border) -> tuple[np.ndarray, list]:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=border)
    return out, [_affine(q, m) for q in quads]


def _perspective_page(img: np.ndarray, quads: list[np.ndarray], rng: random.Random, strength: float,
                      border) -> tuple[np.ndarray, list]:
    h, w = img.shape[:2]
    d = strength * min(h, w)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + np.float32([[rng.uniform(-d, d), rng.uniform(-d, d)] for _ in range(4)])
    m = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=border)
    return out, [cv2.perspectiveTransform(q[None], m)[0].astype(np.float32) for q in quads]


_FIRST, _LAST = ("header",), ("footer", "page_number")


def _keep_quads(quads, texts, blocks, kinds, w, h) -> tuple[list, list, list, list]:
    """Drop quads that left the image (after warps), clip the rest, and put the lines in reading order:
    headers first, footers and page numbers last, the rest as drawn (blocks renumbered in that order)."""
    keep = []
    for q, t, b, k in zip(quads, texts, blocks, kinds, strict=True):
        cx, cy = q[:, 0].mean(), q[:, 1].mean()
        if 0 <= cx < w and 0 <= cy < h:
            keep.append((np.clip(q, [0, 0], [w - 1, h - 1]).astype(np.float32), t, b, k))
    keep.sort(key=lambda x: (0 if x[3] in _FIRST else 2 if x[3] in _LAST else 1))
    renumber: dict[int, int] = {}
    for x in keep:
        renumber.setdefault(x[2], len(renumber))
    return ([x[0] for x in keep], [x[1] for x in keep], [renumber[x[2]] for x in keep],
            [x[3] for x in keep])


_SAMPLER: dict[int, TextSampler] = {}


def render_page(seed: int, index: int, kind: str | None = None) -> Page:
    """Page ``index`` of the stream ``seed`` (always the same page for the same pair)."""
    rng = random.Random(seed * 1_000_003 + index * 7_919 + 17)
    s = _SAMPLER.get(0)
    if s is None:
        s = _SAMPLER[0] = TextSampler(rng)
    s.rng = rng
    if kind is None:
        kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    make = {"doc": _doc, "receipt": _receipt, "screen": _screen, "scene": _scene, "vertical": _vertical,
            "sign": _sign}
    sheet = rng.choices(["doc", "receipt", "vertical", "screen"], weights=[0.6, 0.2, 0.12, 0.08])[0]
    cv = make[sheet if kind == "photo" else kind](rng, s)
    img = np.asarray(cv.img.convert("RGB")).copy()
    quads, texts = cv.quads, cv.texts
    border = tuple(int(v) for v in img[2, 2])
    if kind in ("doc", "receipt", "vertical") and rng.random() < 0.6:
        img, quads = _rotate_page(img, quads, rng.uniform(-2.5, 2.5) if rng.random() < 0.85 else
                                  rng.uniform(-8, 8), border)
    tilted = kind in ("receipt", "scene", "sign") and rng.random() < 0.5
    if tilted or kind in ("doc", "vertical") and rng.random() < 0.08:
        img, quads = _perspective_page(img, quads, rng, rng.uniform(0.02, 0.08), border)
    if kind == "photo":
        img, quads = _photograph(img, quads, rng)
    if kind in ("photo", "sign"):
        img = degrade.camera(img, rng)
    elif kind != "screen":
        img = degrade.scan_and_photo(img, rng, p=1.0 if rng.random() < 0.7 else 0.3)
    elif rng.random() < 0.3:
        img = degrade.jpeg(img, rng)
    quads, texts, blocks, kinds = _keep_quads(quads, texts, cv.blocks, cv.block_kinds, img.shape[1],
                                              img.shape[0])
    return Page(img, quads, texts, kind, blocks, kinds)


def draw_quads(page: Page) -> np.ndarray:
    """The page with its quads drawn in red (for looking at samples)."""
    out = page.image.copy()
    for q in page.quads:
        cv2.polylines(out, [q.round().astype(np.int32)], True, (255, 0, 0), 1)
    return out
