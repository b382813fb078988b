"""Line crops: perspective rectification of a line polygon to an axis-aligned image, and the way back
from the recognizer's character positions to page pixels."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..geometry import quad_of
from .types import RecognitionResult

SIDE_PAD = 0.5  # chosen on synthetic pages: bench/rec_settings.py


def rectify_quad(
    image: np.ndarray, quad: np.ndarray, pad: float = 0.08, side_pad: float = 0.0, vertical: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Warp ``quad`` (tl, tr, br, bl) of ``image`` to an upright crop, widened by ``pad`` x the line's
    thickness across the line and by ``side_pad`` x its thickness at both ends (along tl -> bl when
    ``vertical``). The margins are page pixels, continued by the same homography.

    Returns ``(crop, M_inv)`` where ``M_inv`` maps crop pixels back to page pixels (3x3 homography).
    """
    q = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    tl, tr, br, bl = q
    w = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    h = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    w_i, h_i = max(1, int(round(w))), max(1, int(round(h)))
    if vertical:
        px, py = pad * w_i, side_pad * w_i
    else:
        px, py = side_pad * h_i, pad * h_i
    out_w, out_h = max(1, int(round(w_i + 2 * px))), max(1, int(round(h_i + 2 * py)))
    dst = np.array([[px, py], [px + w_i, py], [px + w_i, py + h_i], [px, py + h_i]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(q, dst)
    crop = cv2.warpPerspective(
        image, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return crop, np.linalg.inv(m)


@dataclass
class LineCrop:
    """What the recognizer reads for one line (``images``: one for a horizontal line; for a vertical one
    its cells side by side and the column turned, see :mod:`shizi.recognition.vertical`) and
    ``m_inv``, the homography from the rectified crop's pixels to the page's."""

    images: list[np.ndarray]
    m_inv: np.ndarray
    vertical: bool = False
    column: object | None = None  # vertical.Column for a vertical line

    def reading(self, results: list[RecognitionResult]) -> tuple[str, float, list[float], list[np.ndarray]]:
        """The line's text, confidence, per-character confidences and per-character quads (page pixels)
        from the recognizer's results for ``images``."""
        if self.vertical:
            from .vertical import merge

            col = self.column
            stacked = results[0] if len(results) == 2 else None
            r = merge(col, stacked, results[-1])
            w = col.crop.shape[1]
            corners = [[(0, a), (w, a), (w, b), (0, b)] for a, b in r.char_rows]
            text, conf, confs = r.text, r.confidence, r.char_confidences
        else:
            res = results[0]
            image = self.images[0]
            grey = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]),
                                                              cv2.COLOR_RGB2GRAY)
            boxes = glyph_boxes(grey, list(res.char_x)[: len(res.text)])
            corners = [[(a, t), (b, t), (b, u), (a, u)] for a, t, b, u in boxes]
            text, conf, confs = res.text, res.confidence, list(res.char_confidences)
        quads = []
        if corners:
            pts = map_points(self.m_inv, np.asarray(corners, np.float64).reshape(-1, 2))
            quads = list(np.round(pts, 2).reshape(-1, 4, 2))
        return text, conf, confs, quads


def crop_line(image: np.ndarray, polygon: np.ndarray, vertical: bool = False,
              side_pad: float = SIDE_PAD) -> LineCrop:
    """The crop the recognizer reads for a line polygon; ``vertical`` (decided by the layout stage,
    :mod:`shizi.layout`) says the line is a column read top to bottom.

    Detector polygons end at the first and last glyph's ink, and sometimes inside it; the recognizer
    was trained on crops with up to 0.6 line heights of page on either side
    (:mod:`shizi.synth.lines`), so the crop takes ``side_pad`` line thicknesses more of the page at
    both ends (see :func:`rectify_quad`).
    """
    quad = quad_of(polygon)
    if vertical:  # the quad's top edge is the column's top: order the corners from its upright form
        quad = _upright_column(quad)
    crop, m_inv = rectify_quad(image, quad, side_pad=side_pad, vertical=vertical)
    return rectified_crop(crop, m_inv, vertical)


def rectified_crop(crop: np.ndarray, m_inv: np.ndarray, vertical: bool) -> LineCrop:
    """A :class:`LineCrop` for an already rectified line image (``m_inv``: its pixels to the page's)."""
    if not vertical:
        return LineCrop([crop], m_inv)
    from .vertical import prepare

    col = prepare(crop)
    images = [col.stacked, col.turned] if col.cells else [col.turned]
    return LineCrop(images, m_inv, True, col)


def _upright_column(quad: np.ndarray) -> np.ndarray:
    """A column's quad ordered so that tl -> tr is its short (top) side, whatever its tilt."""
    tl, tr, br, bl = quad
    if np.linalg.norm(tr - tl) <= np.linalg.norm(bl - tl):
        return quad
    return np.array([bl, tl, tr, br], dtype=np.float32)  # lying: turn the corner order a quarter


def ink_rows(grey: np.ndarray, margin: float, min_keep: float = 0.45) -> tuple[int, int]:
    """Rows ``[top, bottom)`` of a line crop that hold its text band, plus ``margin`` x the band's height.

    Detectors return boxes with generous, detector-specific room above and below the glyphs; at a
    fixed recognizer input height every extra row shrinks the glyphs, so the recognizer reads a
    crop trimmed to its ink. Ink is what Otsu separates from the crop's median grey (either
    polarity). Rows with ink form runs; the run with most ink is the line, and other runs with at
    least a quarter of its ink that do not touch the crop's edge (a neighbouring line's bleed does)
    join it. The result is never cut below ``min_keep`` x the crop's height, and low-contrast crops
    are left whole.
    """
    h, w = grey.shape[:2]
    if h < 8 or w < 4 or grey.dtype != np.uint8:
        return 0, h
    from .vertical import ink_mask

    ink = ink_mask(grey)
    if ink is None:
        return 0, h
    mass = cv2.reduce(ink, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    rows = np.flatnonzero(mass > 0.02 * w)
    if len(rows) == 0:
        return 0, h
    splits = np.flatnonzero(np.diff(rows) > max(2, h // 12)) + 1
    runs = [(int(r[0]), int(r[-1]) + 1) for r in np.split(rows, splits)]
    weights = [int(mass[a:b].sum()) for a, b in runs]
    best = int(np.argmax(weights))
    top, bot = runs[best]
    for (a, b), m in zip(runs, weights, strict=True):
        if m >= 0.25 * weights[best] and a > 0 and b < h:
            top, bot = min(top, a), max(bot, b)
    pad = margin * (bot - top)
    top, bot = top - pad, bot + pad
    short = min_keep * h - (bot - top)
    if short > 0:
        top, bot = top - short / 2, bot + short / 2
    return max(0, int(np.floor(top))), min(h, int(np.ceil(bot)))


def glyph_boxes(grey: np.ndarray, centres: list[float]) -> list[tuple[float, float, float, float]]:
    """Boxes ``(x0, y0, x1, y1)`` of the characters a CTC reading puts at ``centres`` (x of each one's
    run of steps, crop pixels, left to right) in the grey line crop ``grey``.

    CTC fires a character at a step or two near its glyph's left edge, so its run of steps covers
    little of the glyph. The centres are first shifted together so that the line's ink starts as far
    before the first as it ends after the last (half a glyph each way); between two shifted
    neighbours the character boundary is the column with least ink nearest their midpoint (the middle
    of that empty stretch, so that a gap inside a glyph such as 氵| is cut only where it lies nearer).
    The first character reaches back and the last forward by the median pitch of the centres (the
    crop height for a single character). Each character's stretch is then trimmed to the ink in it,
    within the line's text band (:func:`ink_rows`); a stretch without ink keeps its columns and the
    band's rows."""
    n = len(centres)
    if n == 0:
        return []
    h, w = grey.shape[:2]
    top, bot = ink_rows(grey, 0.0) if h >= 8 else (0, h)
    from .vertical import ink_mask

    ink = ink_mask(grey) if h >= 8 and w >= 4 and grey.dtype == np.uint8 else None
    if ink is None:
        ink = np.zeros((h, w), np.uint8)
    band = ink[top:bot]
    cols = band.sum(axis=0)
    xs = np.clip(np.asarray(centres, np.float64), 0.0, w - 1.0)
    pitch = float(np.median(np.diff(xs))) if n > 1 else float(bot - top)
    on = np.flatnonzero(cols)
    if len(on):
        shift = ((on[-1] + 1 - xs[-1]) - (xs[0] - on[0])) / 2
        xs = np.clip(xs + np.clip(shift, -pitch / 2, pitch / 2), 0.0, w - 1.0)
    cuts = [max(0.0, xs[0] - pitch)]
    for a, b in zip(xs, xs[1:], strict=False):
        lo, hi = int(np.floor(a)) + 1, int(np.ceil(b))
        if hi <= lo:
            cuts.append((a + b) / 2)
            continue
        seg = cols[lo:hi]
        least = np.flatnonzero(seg == seg.min())
        runs = np.split(least, np.flatnonzero(np.diff(least) > 1) + 1)
        mid = (a + b) / 2 - lo
        run = min(runs, key=lambda r: abs((r[0] + r[-1]) / 2 - mid))
        cuts.append(lo + (run[0] + run[-1] + 1) / 2)
    cuts.append(min(float(w), xs[-1] + pitch))
    boxes = []
    for x0, x1 in zip(cuts, cuts[1:], strict=False):
        a, b = int(np.floor(x0)), max(int(np.ceil(x1)), int(np.floor(x0)) + 1)
        part = band[:, a:b]
        on_c, on_r = np.flatnonzero(part.any(axis=0)), np.flatnonzero(part.any(axis=1))
        if len(on_c):
            boxes.append((float(a + on_c[0]), float(top + on_r[0]), float(a + on_c[-1] + 1),
                          float(top + on_r[-1] + 1)))
        else:
            boxes.append((float(x0), float(top), float(x1), float(bot)))
    return boxes


def map_points(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply homography ``m`` to points ``(N, 2)``."""
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, m).reshape(-1, 2)
