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
            h = self.images[0].shape[0]
            spans = list(res.char_spans or [(x - 1, x + 1) for x in res.char_x])[: len(res.text)]
            corners = [[(a, 0), (b, 0), (b, h), (a, h)] for a, b in spans]
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


def map_points(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply homography ``m`` to points ``(N, 2)``."""
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, m).reshape(-1, 2)
