"""Text captchas for training and measuring a captcha reader (docs/recipes/captcha.md).

Two generators, both deterministic for a ``random.Random``:

- :func:`render_captcha`: the PyPI ``captcha`` package's ``ImageCaptcha`` (160 x 60, warped and rotated
  glyphs, a noise curve and dots). The package draws its randomness from :mod:`secrets`; while it
  renders, its module's ``secrets`` is a :class:`_SeededSecrets` over the given ``rng``, so that a seed
  always gives the same image.
- :func:`render_other`: a different generator, to see how far a reader trained on the first carries:
  other faces (DejaVu, Liberation), per-glyph rotation and baseline jitter, a sine warp of the whole
  image, crossing lines and speckle on a two-colour gradient.

Texts: 4-6 characters of :data:`CHARSET` (digits and capital letters; captchas of this kind are read
case-insensitively, and their warping leaves c/C, o/O, s/S ... apart only by size).
"""

from __future__ import annotations

import random
import string
from contextlib import contextmanager
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CHARSET = list(string.digits + string.ascii_uppercase)
WIDTH, HEIGHT = 160, 60


def captcha_text(rng: random.Random) -> str:
    return "".join(rng.choice(CHARSET) for _ in range(rng.randint(4, 6)))


class _SeededSecrets:
    """The three functions of :mod:`secrets` that ``captcha.image`` calls, drawn from ``rng``."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def randbelow(self, n: int) -> int:
        return self.rng.randrange(n)

    def randbits(self, k: int) -> int:
        return self.rng.getrandbits(k)

    def choice(self, seq):
        return self.rng.choice(seq)


@contextmanager
def _seeded(module, rng: random.Random):
    saved = module.secrets
    module.secrets = _SeededSecrets(rng)
    try:
        yield
    finally:
        module.secrets = saved


@lru_cache(maxsize=1)
def _image_captcha():
    try:
        from captcha import image
    except ImportError as e:  # pragma: no cover - the extra is not installed
        raise ImportError("captchas need the 'captcha' package: pip install 'shizi[captcha]'") from e
    return image, image.ImageCaptcha(width=WIDTH, height=HEIGHT)


def render_captcha(text: str, rng: random.Random) -> np.ndarray:
    """``text`` as the ``captcha`` package draws it: RGB uint8 [60, 160, 3]."""
    module, gen = _image_captcha()
    with _seeded(module, rng):
        img = gen.generate_image(text)
    return np.asarray(img.convert("RGB"))


@lru_cache(maxsize=1)
def _other_fonts() -> tuple[str, ...]:
    from shizi.synth.fonts import upright_latin_faces

    paths = sorted({f.path for f in upright_latin_faces() if "Mono" not in f.path})
    if not paths:  # pragma: no cover - no Latin font installed
        raise RuntimeError("no Latin font found for the second captcha generator (scripts/setup.sh --train)")
    return tuple(paths)


def render_other(text: str, rng: random.Random) -> np.ndarray:
    """``text`` from the second generator (see the module docstring): RGB uint8 [60, 160, 3]."""
    w, h = WIDTH, HEIGHT
    c0 = np.array([rng.randint(170, 255) for _ in range(3)], np.float32)
    c1 = np.array([rng.randint(170, 255) for _ in range(3)], np.float32)
    t = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    bg = (c0 * (1 - t) + c1 * t).repeat(h, axis=0)
    canvas = Image.fromarray(bg.astype(np.uint8))
    fonts = _other_fonts()
    x = rng.uniform(4, 14)
    step = (w - 2 * x) / len(text)
    for ch in text:
        size = rng.randint(30, 42)
        font = ImageFont.truetype(rng.choice(fonts), size)
        glyph = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(glyph).text((size // 2, size // 3), ch, font=font, fill=255)
        glyph = glyph.rotate(rng.uniform(-30, 30), resample=Image.BICUBIC)
        fg = tuple(rng.randint(0, 120) for _ in range(3))
        y = rng.uniform(-size * 0.35, h - size * 1.45)
        at = (int(x + rng.uniform(-3, 3) - size * 0.4), int(y))
        canvas.paste(Image.new("RGB", glyph.size, fg), at, glyph)
        x += step * rng.uniform(0.85, 1.1)
    d = ImageDraw.Draw(canvas)
    for _ in range(rng.randint(1, 3)):
        pts = [(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(2)]
        d.line(pts, fill=tuple(rng.randint(0, 150) for _ in range(3)), width=rng.randint(1, 3))
    img = np.asarray(canvas).astype(np.float32)
    amp, period, phase = rng.uniform(2, 5), rng.uniform(40, 90), rng.uniform(0, 2 * np.pi)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    img = cv2.remap(img, xs, ys + amp * np.sin(2 * np.pi * xs / period + phase), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    speckle = np.random.default_rng(rng.getrandbits(32)).random((h, w)) < rng.uniform(0.01, 0.05)
    img[speckle] = rng.randint(0, 120)
    return np.clip(img, 0, 255).astype(np.uint8)


GENERATORS = {"captcha": render_captcha, "other": render_other}
