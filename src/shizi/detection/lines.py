"""Line assembly for the DB detector: kernel pieces (connected regions of the thresholded probability
map) → one group of pieces per text line, and each group's box.

Standard DB post-processing stops at one box per kernel. A line's kernel can break apart where its
probability dips (wide punctuation, spaces, faint strokes), so pieces are joined by these rules, each
a :class:`~shizi.config.DBConfig` setting and each measured on synthetic validation pages
(``bench/eval_det.py``, ``docs/experiments.md``):

- **axis** (``max_axis_angle``): a piece longer than 1.5 x its thickness defines a line axis at its
  own angle, if that lies within ``max_axis_angle`` of the page's direction; a squarer piece (a single
  glyph) takes the page's direction — vertical when elongated pieces standing upright cover more area
  than lying ones, else horizontal. Pieces further off the page's direction stay as they are.
- **same line**: another piece joins along that axis when its centre lies within half a kernel height
  of it, its thickness is within 2x, and (if elongated) its angle within 5 degrees.
- **gap** (``merge_gap``): ... and the gap between them along the axis is at most that many line heights.
- **gutter** (``gutter_gap``): a gap wider than that many line heights does not join where a blank
  channel half a line height wide runs through the lines around it (two line heights either side):
  the gutter between columns, which can be narrower than a word gap is allowed to be.
- **bridge** (``bridge_gap``, ``bridge_thresh``): a longer gap joins when its longest stretch below
  ``bridge_thresh`` is no longer than a plain join could span, nor than half the gap, and no gutter
  runs through it (as above): a gap inside a paragraph has ink above or below it.
- **box** (``join_boxes``): "pieces" unclips each piece on its own (as its training target was shrunk)
  and takes their union, no thicker than its thickest piece; "kernel" unclips the union at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import cv2
import numpy as np

from ..config import DBConfig

Candidate = tuple[np.ndarray, float, float]  # kernel contour points, mean probability, area


class _Geo(NamedTuple):
    cx: float
    cy: float
    w: float  # along the long axis
    h: float  # across (kernel thickness)
    ang: float  # long-axis angle in degrees, (-90, 90]
    full_h: float  # the unclipped line height
    elongated: bool


def _geometry(cands: list[Candidate], unclip_distance: Callable[[np.ndarray], float]) -> list[_Geo]:
    geo = []
    for pts, _, _ in cands:
        (cx, cy), (w, h), ang = cv2.minAreaRect(pts)
        if w < h:
            w, h, ang = h, w, ang + 90.0
        ang = ((ang + 90.0) % 180.0) - 90.0
        full_h = h + 2 * unclip_distance(cv2.boxPoints(((cx, cy), (w, h), ang)))
        geo.append(_Geo(cx, cy, w, h, ang, full_h, w > 1.5 * h))
    return geo


def page_is_vertical(geo: list[_Geo]) -> bool:
    """The **axis** rule's page direction: elongated pieces standing upright (long axis over 45 degrees)
    cover more area than the lying ones."""
    up = sum(g.w * g.h for g in geo if g.elongated and abs(g.ang) > 45)
    flat = sum(g.w * g.h for g in geo if g.elongated and abs(g.ang) <= 45)
    return up > flat


def group_pieces(cands: list[Candidate], prob: np.ndarray, config: DBConfig,
                 unclip_distance: Callable[[np.ndarray], float]) -> list[list[Candidate]]:
    """The pieces of each line (the module docstring's rules); ``merge_gap`` 0 leaves every piece alone."""
    if config.merge_gap <= 0 or len(cands) < 2:
        return [[c] for c in cands]
    geo = _geometry(cands, unclip_distance)
    vertical = page_is_vertical(geo)
    parent = list(range(len(cands)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(cands)), key=lambda i: -geo[i].w)
    for a_i, i in enumerate(order):
        gi = geo[i]
        ang = gi.ang if gi.elongated else (90.0 if vertical else 0.0)
        if abs(abs(ang) - (90.0 if vertical else 0.0)) > config.max_axis_angle:
            continue
        t = np.deg2rad(ang)
        ux, uy = float(np.cos(t)), float(np.sin(t))
        for j in order[a_i + 1:]:
            gj = geo[j]
            d_ang = abs(gj.ang - ang) % 180.0
            if gj.elongated and min(d_ang, 180.0 - d_ang) > 5:
                continue
            dx, dy = gj.cx - gi.cx, gj.cy - gi.cy
            along = dx * ux + dy * uy
            across = -dx * uy + dy * ux
            h, h2 = gi.h, gj.h
            if abs(across) > 0.5 * max(h, h2):
                continue
            if min(h, h2) < 0.5 * max(h, h2):
                continue
            # a squarer piece measures its extent along the axis, not its own long side
            w2 = gj.w if gj.elongated else _extent(gj, ux, uy)
            w1 = gi.w if gi.elongated else _extent(gi, ux, uy)
            gap = abs(along) - (w1 + w2) / 2
            line_h = max(gi.full_h, gj.full_h)
            reach = config.merge_gap * line_h
            if gap > config.bridge_gap * line_h and gap > reach or find(i) == find(j):
                continue
            start = w1 / 2 if along > 0 else along + w2 / 2
            origin = (gi.cx + ux * start, gi.cy + uy * start)
            thick = max(h, h2)
            axis = (ux, uy)
            bridge = gap > reach
            if bridge and longest_blank(prob, origin, axis, gap, thick,
                                        config.bridge_thresh) > min(reach, gap / 2):
                continue  # the bridge rule: this long a gap must hold faint marks
            narrow = not bridge and gap <= config.gutter_gap * line_h
            if narrow or not _gutter(prob, origin, axis, gap, thick, line_h, config):
                parent[find(j)] = find(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(cands)):
        groups.setdefault(find(i), []).append(i)
    return [[cands[k] for k in members] for members in groups.values()]


def _gutter(prob: np.ndarray, origin, axis, gap: float, thick: float, line_h: float,
            config: DBConfig) -> bool:
    """The **gutter** test: a blank channel half a line height wide runs through the gap widened by two
    line heights either side."""
    return longest_blank(prob, origin, axis, gap, thick + 4 * line_h, config.bridge_thresh) >= 0.5 * line_h


def _extent(g: _Geo, ux: float, uy: float) -> float:
    """Length of piece ``g``'s rectangle projected on the axis (ux, uy)."""
    t = np.deg2rad(g.ang)
    c = abs(np.cos(t) * ux + np.sin(t) * uy)
    return float(g.w * c + g.h * np.sqrt(max(0.0, 1 - c * c)))


def longest_blank(prob: np.ndarray, origin: tuple[float, float], axis: tuple[float, float], length: float,
                  thick: float, below: float) -> int:
    """Longest run (model pixels) of a strip along ``axis`` from ``origin``, ``length`` long and
    ``thick`` across, whose every column stays under ``below``."""
    n, m = max(1, round(length)), max(1, round(thick))
    ux, uy = axis
    # output (s, t) samples prob at origin + s * axis + (t - thick / 2) * normal
    to_src = np.array([[ux, -uy, origin[0] + uy * m / 2], [uy, ux, origin[1] - ux * m / 2]], dtype=np.float32)
    strip = cv2.warpAffine(prob, to_src, (n, m), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    blank = np.concatenate([[0], (strip.max(axis=0) < below).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(blank))
    return int((edges[1::2] - edges[::2]).max()) if len(edges) else 0


def line_box(group: list[Candidate], config: DBConfig,
             unclip: Callable[[np.ndarray], np.ndarray | None]) -> cv2.typing.RotatedRect | None:
    """The rotated rectangle of a line from its pieces, unclipped (the **box** rule); None if degenerate."""
    if len(group) == 1 or config.join_boxes == "kernel":
        expanded = unclip(cv2.boxPoints(cv2.minAreaRect(np.concatenate([g[0] for g in group]))))
        return None if expanded is None else cv2.minAreaRect(expanded)
    boxes = [unclip(cv2.boxPoints(cv2.minAreaRect(pts))) for pts, _, _ in group]
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None
    thick = max(min(cv2.minAreaRect(b)[1]) for b in boxes)
    (cx, cy), (w, h), ang = cv2.minAreaRect(np.concatenate(boxes))
    return ((cx, cy), (w, min(h, thick)) if w >= h else (min(w, thick), h), ang)
