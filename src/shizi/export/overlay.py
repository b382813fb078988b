"""Overlay rendering: the page with line boxes (left) beside the recognised text at its place (right)."""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..document import Page
from .fonts import find_cjk_font


@functools.lru_cache(maxsize=64)
def _font(size: int):
    path = find_cjk_font()
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default()


def render_page(page: Page, image: np.ndarray | None = None, max_side: int = 2000) -> Image.Image:
    """Side-by-side overlay of one page (PIL RGB image, scaled so its long side is at most ``max_side``)."""
    img = image if image is not None else page.image
    w, h = page.width, page.height
    base = (
        Image.fromarray(np.asarray(img, dtype=np.uint8)).convert("RGB")
        if img is not None
        else Image.new("RGB", (w, h), "white")
    )
    canvas = Image.new("RGB", (2 * w, h), "white")
    canvas.paste(base, (0, 0))
    d = ImageDraw.Draw(canvas)
    for block in page.blocks:
        if block.polygon:
            d.polygon([(x, y) for x, y in block.polygon], outline=(60, 120, 220))
        for line in block.lines:
            poly = [(float(x), float(y)) for x, y in line.polygon]
            if len(poly) < 3:
                continue
            col = (220, 40, 40) if line.confidence >= 0.5 else (240, 160, 0)
            d.polygon(poly, outline=col, width=max(1, h // 600))
            d.polygon([(x + w, y) for x, y in poly], outline=(200, 200, 200))
            ys = [p[1] for p in poly]
            xs = [p[0] for p in poly]
            lh = max(6, int((max(ys) - min(ys)) * (0.75 if not line.vertical else 0.9)))
            if line.vertical:
                lh = max(6, int((max(xs) - min(xs)) * 0.75))
                f = _font(lh)
                y = min(ys)
                for chx in line.text:
                    d.text((w + min(xs), y), chx, fill=(0, 0, 0), font=f)
                    y += lh * 1.1
            else:  # as tall as the box allows, narrowed so that the text stays inside the box
                box_w = max(xs) - min(xs)
                text_w = d.textlength(line.text, font=_font(lh)) if line.text else 0
                if text_w > box_w > 0:
                    lh = max(6, int(lh * box_w / text_w))
                d.text((w + min(xs), min(ys)), line.text, fill=(0, 0, 0), font=_font(lh))
    s = min(1.0, max_side / max(canvas.size))
    if s < 1.0:
        canvas = canvas.resize((int(canvas.width * s), int(canvas.height * s)), Image.LANCZOS)
    return canvas
