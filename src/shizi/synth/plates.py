"""Synthetic Chinese licence plates for training and measuring a plate reader (docs/recipes/plates.md).

Texts (:func:`plate_text`) follow the plate formats (:data:`shizi.plates.PLATE`): a province
character, a letter (no I or O), then five letters or digits (blue plates, white on blue; yellow
plates, black on yellow), or on green new-energy plates six: D or F and five digits, or five digits
and D or F (8 characters in all).

:func:`render_plate` draws the plate as plates are made (characters in fixed cells, stretched tall and
narrow, a dot after the second, a rim), in bold CJK and condensed bold Latin faces, then photographs
it: dirt, uneven light, a perspective turn and tilt, a background, blur, noise and JPEG, and crops
it as a detector or a user would, with a loose margin. Deterministic for a ``random.Random``.
"""

from __future__ import annotations

import random
import string
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from shizi.plates import LETTERS, PROVINCES

CHARSET = list(PROVINCES + LETTERS + string.digits)
KINDS = ("blue", "yellow", "green")


def plate_text(rng: random.Random, kind: str | None = None) -> tuple[str, str]:
    """(text, kind): a plate number of ``kind`` (drawn when None)."""
    kind = kind or rng.choices(KINDS, weights=[0.6, 0.15, 0.25])[0]
    head = rng.choice(PROVINCES) + rng.choice(LETTERS)
    if kind == "green":
        digits = "".join(rng.choice(string.digits) for _ in range(5))
        return head + (rng.choice("DF") + digits if rng.random() < 0.7 else digits + rng.choice("DF")), kind
    tail = [rng.choice(string.digits) for _ in range(5)]
    for i in rng.sample(range(5), rng.choice([0, 0, 1, 1, 2])):  # most plates are digits, some letters
        tail[i] = rng.choice(LETTERS)
    return head + "".join(tail), kind


@lru_cache(maxsize=1)
def _faces() -> tuple[tuple[str, int], tuple[str, ...]]:
    """(bold CJK faces as (path, index), bold condensed / plain Latin face paths)."""
    from shizi.synth.fonts import all_faces

    faces = all_faces()
    cjk = [(f.path, f.index) for f in faces if f.cjk and any(w in f.name for w in ("Bold", "Black", "Heavy"))
           and all(c in f.coverage for c in PROVINCES)]
    latin = [f.path for f in faces if not f.cjk and "Bold" in f.name and "Oblique" not in f.name
             and "Italic" not in f.name and "Mono" not in f.name]
    if not cjk or not latin:  # pragma: no cover - fonts not installed
        raise RuntimeError("plates need bold CJK and Latin faces (scripts/setup.sh --train)")
    return tuple(cjk), tuple(sorted(set(latin)))


def _glyph(ch: str, font: ImageFont.FreeTypeFont, w: int, h: int) -> np.ndarray:
    """``ch`` stretched to fill a ``w`` x ``h`` cell: a mask in 0-1."""
    box = font.getbbox(ch)
    img = Image.new("L", (box[2] - box[0] + 4, box[3] - box[1] + 4), 0)
    ImageDraw.Draw(img).text((2 - box[0], 2 - box[1]), ch, font=font, fill=255)
    return np.asarray(img.resize((w, h), Image.BILINEAR), np.float32) / 255.0


def _draw(text: str, kind: str, rng: random.Random) -> np.ndarray:
    """The flat plate, RGB float [140, 440 or 480, 3]."""
    n = len(text)
    w, h = (480, 140) if n == 8 else (440, 140)
    if kind == "blue":
        bg, fg = np.array([rng.randint(0, 30), rng.randint(50, 90), rng.randint(150, 210)]), np.full(3, 245)
    elif kind == "yellow":
        bg, fg = np.array([rng.randint(220, 250), rng.randint(170, 205), rng.randint(0, 40)]), np.full(3, 15)
    else:
        bg, fg = np.array([90, 200, 110]), np.full(3, 15)
    plate = np.ones((h, w, 3), np.float32) * bg
    if kind == "green":  # new-energy plates fade from white-green at the top to green at the bottom
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        plate = np.array([225, 245, 225], np.float32) * (1 - t) + np.array([60, 185, 95], np.float32) * t
        plate = np.repeat(plate, w, axis=1)
    rim = 255 - fg if kind == "yellow" else fg
    cv2.rectangle(plate, (4, 4), (w - 5, h - 5), rim.tolist(), 3)
    cjk_path, cjk_index = rng.choice(_faces()[0])
    latin_path = rng.choice(_faces()[1])
    cell_w, cell_h, gap = (43 if n == 8 else 45), 90, (9 if n == 8 else 12)
    x = (w - (n * cell_w + (n - 1) * gap + 20)) / 2
    for i, ch in enumerate(text):
        font = (ImageFont.truetype(cjk_path, 80, index=cjk_index) if i == 0
                else ImageFont.truetype(latin_path, 80))
        cw = cell_w if i else cell_w + 2
        mask = _glyph(ch, font, cw, cell_h)
        y0, x0 = 25, int(round(x))
        plate[y0 : y0 + cell_h, x0 : x0 + cw] = (plate[y0 : y0 + cell_h, x0 : x0 + cw] * (1 - mask[..., None])
                                                  + fg * mask[..., None])
        x += cw + gap
        if i == 1:  # the dot between the issuing office and the number
            cv2.circle(plate, (int(x + 4), h // 2), 5, fg.tolist(), -1)
            x += 20
    return plate


def render_plate(text: str, kind: str, rng: random.Random) -> np.ndarray:
    """``text`` on a ``kind`` plate, photographed and cropped: RGB uint8 (about 3.2:1, some margin)."""
    plate = _draw(text, kind, rng)
    h, w = plate.shape[:2]
    for _ in range(rng.randint(0, 6)):  # dirt: dark translucent blotches
        mask = np.zeros((h, w), np.float32)
        cv2.circle(mask, (rng.randrange(w), rng.randrange(h)), rng.randint(3, 25), 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(2, 8)) * rng.uniform(0.2, 0.6)
        plate = plate * (1 - mask[..., None]) + np.array([70, 55, 40], np.float32) * mask[..., None]
    # into a scene: background, perspective turn and tilt, loose crop
    pad = int(0.6 * h)
    H, W = h + 2 * pad, w + 2 * pad
    scene = np.ones((H, W, 3), np.float32) * np.array([rng.randint(20, 230) for _ in range(3)], np.float32)
    scene += np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(5, 30), (H, W, 1))
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    j = lambda s: rng.uniform(-s, s)  # noqa: E731
    skew = 0.12 * w
    dst = np.float32([[pad + j(skew), pad + j(0.15 * h)], [pad + w + j(skew), pad + j(0.15 * h)],
                      [pad + w + j(skew), pad + h + j(0.15 * h)], [pad + j(skew), pad + h + j(0.15 * h)]])
    rot = cv2.getRotationMatrix2D((W / 2, H / 2), rng.uniform(-8, 8), 1.0)
    dst = cv2.transform(dst[None], rot)[0]
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(plate, m, (W, H), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    inside = cv2.warpPerspective(np.ones((h, w), np.float32), m, (W, H))
    scene = scene * (1 - inside[..., None]) + warped * inside[..., None]
    # light: a brightness ramp and a colour cast
    ramp = np.linspace(rng.uniform(0.5, 1.1), rng.uniform(0.6, 1.2), W, dtype=np.float32)[None, :, None]
    scene = scene * ramp * np.array([rng.uniform(0.85, 1.15) for _ in range(3)], np.float32)
    x0, y0 = dst[:, 0].min(), dst[:, 1].min()
    x1, y1 = dst[:, 0].max(), dst[:, 1].max()
    mx, my = (x1 - x0) * rng.uniform(-0.02, 0.12), (y1 - y0) * rng.uniform(-0.02, 0.25)
    crop = scene[max(0, int(y0 - my)) : int(y1 + my) + 1, max(0, int(x0 - mx)) : int(x1 + mx) + 1]
    scale = rng.uniform(0.15, 0.6)  # plates are small in photos
    crop = cv2.resize(crop, (max(8, int(crop.shape[1] * scale)), max(8, int(crop.shape[0] * scale))),
                      interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        crop = cv2.GaussianBlur(crop, (0, 0), rng.uniform(0.3, 1.2))
    crop = np.clip(crop + np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(0, 8), crop.shape),
                   0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(30, 90)])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
