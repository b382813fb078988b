"""Geometry of line polygons, shared by detection, layout, recognition crops, export and training.

Points are ``(x, y)`` page pixels, y down. A *quad* is 4 points clockwise from top-left (tl, tr, br, bl).
This module also holds the one rule that says which way a line runs (:func:`line_direction`); the
layout stage applies it once per page (:mod:`shizi.layout`) and every later stage takes the direction
it decided.
"""

from __future__ import annotations

import cv2
import numpy as np
import pyclipper

HORIZONTAL, VERTICAL = "horizontal", "vertical"

#: a line is *elongated* when its rotated rectangle is this many times longer than thick; only then does
#: its shape say which way it runs (a single glyph's square does not)
ELONGATED = 1.5


def order_quad(pts: np.ndarray) -> np.ndarray:
    """Order 4 points clockwise (on screen) starting at the top-left one, the corner with the least
    x + y. Sorting by angle around the centre keeps a thin, slightly tilted column's corners apart,
    where sorting by x pairs its top corners with its bottom ones."""
    pts = np.asarray(pts, dtype=np.float32).reshape(4, 2)
    c = pts.mean(axis=0)
    pts = pts[np.argsort(np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0]), kind="stable")]
    return np.roll(pts, -int(np.argmin(pts.sum(axis=1))), axis=0)


def quad_of(polygon: np.ndarray) -> np.ndarray:
    """A quad for a polygon: its own 4 points ordered, or its minimum-area rectangle."""
    pts = np.asarray(polygon, dtype=np.float32).reshape(-1, 2)
    if len(pts) == 4:
        return order_quad(pts)
    return order_quad(cv2.boxPoints(cv2.minAreaRect(pts)))


def offset_polygon(polygon: np.ndarray, distance: float) -> np.ndarray | None:
    """``polygon`` grown (``distance`` > 0) or shrunk (< 0) by that many pixels with round joins
    (pyclipper); the largest resulting polygon, or None when nothing is left."""
    pco = pyclipper.PyclipperOffset()
    pco.AddPath([tuple(map(float, p)) for p in np.asarray(polygon).reshape(-1, 2)], pyclipper.JT_ROUND,
                pyclipper.ET_CLOSEDPOLYGON)
    out = pco.Execute(distance)
    if not out:
        return None
    return np.asarray(max(out, key=len), dtype=np.float32)


def bounds(polygon: np.ndarray) -> tuple[float, float, float, float]:
    """Axis-aligned bounds ``(x0, y0, x1, y1)``."""
    p = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    x0, y0 = p.min(0)
    x1, y1 = p.max(0)
    return float(x0), float(y0), float(x1), float(y1)


def line_direction(polygon: np.ndarray) -> str | None:
    """Which way a line runs, from its shape alone: VERTICAL when it is elongated and its long side is
    within 45 degrees of upright, HORIZONTAL when elongated and lying, None when it is about square
    (one or two glyphs: the page or block decides, see :mod:`shizi.layout`)."""
    angle = long_axis_angle(polygon)
    if angle is None:
        return None
    return VERTICAL if abs(angle) > 45 else HORIZONTAL


def long_axis_angle(polygon: np.ndarray) -> float | None:
    """Angle in degrees of an elongated line's long side, in (-90, 90] (image coordinates); None when
    about square."""
    pts = np.asarray(polygon, dtype=np.float32).reshape(-1, 2)
    (_, _), (w, h), ang = cv2.minAreaRect(pts)
    if max(w, h) <= ELONGATED * min(w, h):
        return None
    if w < h:
        ang += 90.0
    return ((ang + 90.0) % 180.0) - 90.0


__all__ = ["ELONGATED", "HORIZONTAL", "VERTICAL", "bounds", "line_direction", "long_axis_angle",
           "offset_polygon", "order_quad", "quad_of"]
