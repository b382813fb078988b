"""Chinese licence plates: what a plate number looks like, and which detected lines may be plates.

``Reader.read(image, mode="plate")`` (``shizi read --mode plate --rec plate_zh``) keeps the detector's
lines shaped like a plate's row of characters (:func:`plate_quads`: long side 2.5-8 times the short),
widens each to the whole plate as the plate model was trained to see it, reads it with the Reader's
recognizer and keeps the readings that are plate numbers (:data:`PLATE`). An image that is itself
plate-shaped (a crop the user gives) is read whole when no line of it reads as a plate.
"""

from __future__ import annotations

import re
import string

import cv2
import numpy as np

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "".join(c for c in string.ascii_uppercase if c not in "IO")  # plates use neither I nor O
#: a province, a letter, then five letters or digits (blue, yellow plates) or, on green new-energy
#: plates, D or F and five digits, or five digits and D or F
PLATE = re.compile(rf"[{PROVINCES}][{LETTERS}](?:[{LETTERS}0-9]{{5}}|[DF][0-9]{{5}}|[0-9]{{5}}[DF])")
#: the plate's row of characters, long side over short side, as the detector outlines it (a blue plate's
#: row is about 4.5:1, a green one's 5:1; tilt and a dropped province character move it)
ASPECT = (2.5, 8.0)
#: the row widened to the whole plate and a margin (the plate is 1.6x its characters' height)
WIDEN = (1.15, 1.9)


def is_plate(text: str) -> bool:
    return PLATE.fullmatch(text.replace("·", "").replace(" ", "")) is not None


def plate_quads(polys: list[np.ndarray]) -> list[np.ndarray]:
    """The polygons shaped like a plate's row of characters, as quads (tl, tr, br, bl) widened by
    :data:`WIDEN` along and across the row."""
    out = []
    for poly in polys:
        (cx, cy), (w, h), angle = cv2.minAreaRect(np.asarray(poly, np.float32).reshape(-1, 2))
        if w < h:
            w, h, angle = h, w, angle + 90
        if h <= 0 or not ASPECT[0] <= w / h <= ASPECT[1]:
            continue
        box = cv2.boxPoints(((cx, cy), (w * WIDEN[0], h * WIDEN[1]), angle))
        out.append(_order(box))
    return out


def _order(box: np.ndarray) -> np.ndarray:
    """tl, tr, br, bl of a rectangle's four corners (reading direction left to right)."""
    c = box.mean(axis=0)
    by_angle = sorted(box, key=lambda p: np.arctan2(p[1] - c[1], p[0] - c[0]))  # from -pi: tl first
    tl = min(range(4), key=lambda i: by_angle[i][0] + by_angle[i][1])
    return np.array([by_angle[(tl + k) % 4] for k in range(4)], np.float64)
