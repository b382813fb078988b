"""Line crops: perspective rectification of a line polygon to an axis-aligned image."""

from __future__ import annotations

import cv2
import numpy as np

from ..layout import is_vertical


def quad_of(polygon: np.ndarray) -> np.ndarray:
    """A 4-point quad (tl, tr, br, bl) for a polygon: itself if it has 4 points, else its min-area rect."""
    from ..detection.db import order_quad

    pts = np.asarray(polygon, dtype=np.float32).reshape(-1, 2)
    if len(pts) == 4:
        q = order_quad(pts)
        # keep the given order when it is already a valid clockwise quad from top-left
        return q
    return order_quad(cv2.boxPoints(cv2.minAreaRect(pts)))


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


def crop_line(
    image: np.ndarray, polygon: np.ndarray, side_pad: float = SIDE_PAD
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The crop the recognizer reads for a line polygon: ``(crop, M_inv, vertical)``, ``M_inv``
    mapping crop pixels to page pixels. Vertical lines are turned so that they read left to right.

    Detector polygons end at the first and last glyph's ink, and sometimes inside it; the recognizer
    was trained on crops with up to 0.6 line heights of page on either side
    (:mod:`shizi.synth.lines`), so the crop takes ``side_pad`` line thicknesses more of the page at
    both ends (see :func:`rectify_quad`).
    """
    quad = quad_of(polygon)
    length, thickness = np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[1] - quad[0])
    vertical = is_vertical(polygon) and length > 1.5 * thickness
    crop, m_inv = rectify_quad(image, quad, side_pad=side_pad, vertical=vertical)
    if vertical:
        crop, m_inv = turn_vertical(crop, m_inv)
    return crop, m_inv, vertical


def turn_vertical(crop: np.ndarray, m_inv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A vertical line's crop turned so that its top is on the left, and ``m_inv`` composed so that
    it still maps the turned crop's pixels to the page (turned pixel (x', y') is (w - 1 - y', x'))."""
    w = crop.shape[1]
    turn = np.array([[0, -1, w - 1], [1, 0, 0], [0, 0, 1]], dtype=np.float64)
    return cv2.rotate(crop, cv2.ROTATE_90_COUNTERCLOCKWISE), m_inv @ turn


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
    grey = np.ascontiguousarray(grey)
    hist = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    median = int(np.searchsorted(hist.cumsum(), grey.size / 2))
    diff = cv2.absdiff(grey, np.full_like(grey, median))
    _, ink = cv2.threshold(diff, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    n_ink = cv2.countNonZero(ink)
    if n_ink in (0, ink.size) or cv2.mean(diff, mask=ink)[0] - cv2.mean(diff, mask=1 - ink)[0] < 20:
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
