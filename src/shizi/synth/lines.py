"""Render one text line to a grey crop like those a detector hands to the recognizer."""

from __future__ import annotations

import random

import cv2
import numpy as np
from PIL import Image, ImageDraw

from shizi.recognition.crops import ink_rows
from shizi.synth import degrade
from shizi.synth.corpus import TextSampler
from shizi.synth.fonts import Face, FontPair, all_faces, faces_covering, upright_latin_faces

# punctuation that Chinese and Western typesetting share, drawn by whichever font comes first
WESTERN_PUNCT = frozenset("“”‘’—–…·")


def _pick_face(text: str, rng: random.Random) -> Face | None:
    faces = faces_covering(text)
    if not faces:
        return None
    latin = [f for f in faces if not f.cjk]
    if latin and rng.random() < 0.35:
        return rng.choice(latin)
    cjk = [f for f in faces if f.cjk]
    return rng.choice(cjk or faces)


def draw_text(
    text: str, face: Face, size: int, fg: int, bg: int, spacing: float = 0.0, latin: Face | None = None,
    latin_first: bool = False,
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Draw ``text`` (ASCII runs in ``latin`` when given; see FontPair for ``latin_first``) on a canvas;
    returns the grey image and the typographic line box (x0, y0, x1, y1)."""
    fonts = FontPair(face, latin, size, latin_first)
    pieces = [(c, fonts.font_of(c)) for c in text] if spacing else fonts.runs(text)
    extra = spacing * size
    advances = [f.getlength(t) + extra for t, f in pieces]
    pad = size
    img = Image.new("L", (max(1, int(sum(advances) + 2 * pad)), fonts.height + 2 * pad), bg)
    d = ImageDraw.Draw(img)
    x = float(pad)
    for (t, f), adv in zip(pieces, advances, strict=True):
        d.text((x, pad + fonts.ascent), t, font=f, fill=fg, anchor="ls")
        x += adv
    return np.asarray(img), (pad, pad, int(round(x - extra)), pad + fonts.height)


def render_line(sampler: TextSampler, rng: random.Random, height: int = 32,
                max_chars: int = 24, aspect: tuple[float, float] = (0.9, 1.1)) -> tuple[np.ndarray, str]:
    """A degraded grey line crop resized to ``height`` and its text; its width is stretched by a
    factor drawn from ``aspect`` (the runtime reads crops at several widths)."""
    for _ in range(20):
        text = sampler.line(1, max_chars)
        face = _pick_face(text, rng)
        if face is not None:
            break
    else:  # pragma: no cover - only without any usable font
        face = all_faces()[0]
        text = "".join(c for c in text if c in face.coverage) or "0"
    size = rng.randint(18, 48)
    dark = rng.random() < 0.1
    if dark:
        fg, bg = rng.randint(170, 255), rng.randint(0, 80)
    else:
        fg, bg = rng.randint(0, 90), rng.randint(170, 255)
    spacing = rng.uniform(-0.04, 0.35) if rng.random() < 0.2 else 0.0
    latin, latin_first = None, False
    western = any((c.isascii() and c != " ") or c in WESTERN_PUNCT for c in text)
    if face.cjk and western and rng.random() < 0.5:
        # documents set English runs in a Latin face beside the CJK one, and where the Latin font comes
        # first its curly quotes and dashes too
        need = {c for c in text if c.isascii() and c != " "}
        options = [f for f in upright_latin_faces() if need <= f.coverage]
        latin = rng.choice(options) if options else None
        latin_first = rng.random() < 0.5
    img, (x0, y0, x1, y1) = draw_text(text, face, size, fg, bg, spacing, latin, latin_first)
    img = img.copy()
    lh = y1 - y0
    if rng.random() < 0.12:  # underline / table rule fragments
        y = y1 + rng.randint(-2, max(1, lh // 5))
        cv2.line(img, (0, y), (img.shape[1], y), fg, rng.randint(1, 2))
    if rng.random() < 0.08:
        x = x0 - rng.randint(2, max(3, lh // 2))
        cv2.line(img, (x, 0), (x, img.shape[0]), fg, rng.randint(1, 2))
    if rng.random() < 0.12:  # bleed of the neighbouring line
        other = sampler.line(4, 30)
        font = face.font(size)
        pil = Image.fromarray(img)
        d = ImageDraw.Draw(pil)
        gap = rng.uniform(1.0, 1.5) * lh
        yy = y0 - gap if rng.random() < 0.5 else y0 + gap
        d.text((x0 + rng.randint(-lh, lh), yy), other, font=font, fill=fg)
        img = np.asarray(pil).copy()
    if rng.random() < 0.25:
        img = degrade.rotate(img, rng, 1.5, border=bg)
    if rng.random() < 0.15:
        img = degrade.perspective(img, rng, 0.06, border=bg)
    # crop around the typographic box with jitter, as a detector would
    top = y0 - int(lh * rng.uniform(-0.06, 0.3))
    bot = y1 + int(lh * rng.uniform(-0.06, 0.3))
    left = x0 - int(lh * rng.uniform(0.0, 0.6))
    right = x1 + int(lh * rng.uniform(0.0, 0.6))
    h, w = img.shape
    crop = img[max(0, top):min(h, bot), max(0, left):min(w, right)]
    if rng.random() < 0.2:
        crop = degrade.small_print(crop, rng, lh)
    else:
        crop = degrade.scan_and_photo(crop, rng)
    return to_input(crop, rng, height, aspect), text


def to_input(crop: np.ndarray, rng: random.Random, height: int = 32,
             aspect: tuple[float, float] = (0.9, 1.1)) -> np.ndarray:
    """A grey line crop as the recognizer is trained on it: most of the time trimmed to its ink band as
    the runtime trims it (:func:`shizi.recognition.crops.ink_rows`), resized to ``height`` with its
    width stretched by a factor drawn from ``aspect``."""
    if rng.random() < 0.7:
        top, bot = ink_rows(crop, rng.uniform(0.1, 0.3))
        crop = crop[top:bot]
    ch, cw = crop.shape
    new_w = max(8, int(round(cw * height / ch * rng.uniform(*aspect))))
    interp = cv2.INTER_AREA if ch > height else cv2.INTER_LINEAR
    return cv2.resize(crop, (new_w, height), interpolation=interp)
