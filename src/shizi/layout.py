"""Layout analysis: line polygons → blocks of lines in reading order.

A layout is any object with ``arrange(polygons) -> list[list[int]]``: blocks (lists of line
indices) in reading order. :class:`ColumnLayout` handles single- and multi-column pages:

1. Vertical lines (much taller than wide) are read right to left as their own block, after the rest.
2. Column gutters are found as empty vertical channels in the x-projection of the *narrow* lines
   (lines narrower than ``wide_fraction`` of the text width); wide lines (titles, full-width
   paragraphs) cross the gutters and cut the page into horizontal sections.
3. Inside a section, when lines on both sides of a gutter run side by side, each column is read top
   to bottom, left column first; otherwise the section is read top to bottom.
4. Within a column, lines are sorted into rows (same baseline band → left to right), and a new block
   starts at a vertical gap clearly larger than the usual line spacing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class _Box:
    __slots__ = ("i", "x0", "y0", "x1", "y1")

    def __init__(self, i: int, poly: np.ndarray) -> None:
        p = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
        self.i = i
        self.x0, self.y0 = p.min(0)
        self.x1, self.y1 = p.max(0)

    @property
    def h(self) -> float:
        return float(self.y1 - self.y0)

    @property
    def w(self) -> float:
        return float(self.x1 - self.x0)

    @property
    def cx(self) -> float:
        return float(self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return float(self.y0 + self.y1) / 2


def is_vertical(poly: np.ndarray, ratio: float = 1.5) -> bool:
    """A line is vertical when its box is more than ``ratio`` times taller than wide (and > 1 char)."""
    import cv2

    p = np.asarray(poly, dtype=np.float32).reshape(-1, 2)
    (_, _), (w, h), _ = cv2.minAreaRect(p)
    x0, y0 = p.min(0)
    x1, y1 = p.max(0)
    return (y1 - y0) > ratio * (x1 - x0) and max(w, h) > ratio * min(w, h)


def _skew(polygons: Sequence[np.ndarray]) -> float:
    """Median text-line angle in degrees (image coordinates, y down) from the lines' long sides."""
    import cv2

    angles = []
    for p in polygons:
        pts = np.asarray(p, dtype=np.float32).reshape(-1, 2)
        box = cv2.boxPoints(cv2.minAreaRect(pts))
        edges = [box[(k + 1) % 4] - box[k] for k in range(4)]
        e = max(edges, key=lambda v: float(np.hypot(*v)))
        if e[0] < 0:
            e = -e
        a = float(np.degrees(np.arctan2(e[1], e[0])))
        if abs(a) < 30 and np.hypot(*e) > 0:
            angles.append(a)
    return float(np.median(angles)) if angles else 0.0


class ColumnLayout:
    """Reading order for single- and multi-column pages (see module docstring)."""

    def __init__(self, wide_fraction: float = 0.6, min_gutter: float = 0.8, block_gap: float = 0.6) -> None:
        self.wide_fraction = wide_fraction
        self.min_gutter = min_gutter  # in median line heights
        self.block_gap = block_gap  # extra gap (in line heights) over the usual spacing that starts a block

    def arrange(self, polygons: Sequence[np.ndarray]) -> list[list[int]]:
        if len(polygons) == 0:
            return []
        vflags = [is_vertical(p) for p in polygons]
        angle = _skew([p for p, v in zip(polygons, vflags, strict=True) if not v])
        if abs(angle) > 0.1:  # deskew so rows and columns are axis-aligned
            c, s = np.cos(np.radians(-angle)), np.sin(np.radians(-angle))
            rot = np.array([[c, -s], [s, c]])
            polygons = [np.asarray(p, dtype=np.float64).reshape(-1, 2) @ rot.T for p in polygons]
        boxes = [_Box(i, p) for i, p in enumerate(polygons)]
        vert = [b for b in boxes if vflags[b.i]]
        horiz = [b for b in boxes if not vflags[b.i]]
        blocks: list[list[int]] = []
        if horiz:
            blocks.extend(self._arrange_horizontal(horiz))
        if vert:
            blocks.append([b.i for b in sorted(vert, key=lambda b: (-b.cx, b.y0))])
        return blocks

    # -------------------------------------------------------------- horizontal text

    def _arrange_horizontal(self, boxes: list[_Box]) -> list[list[int]]:
        mh = float(np.median([b.h for b in boxes]))
        left, right = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
        width = max(right - left, 1.0)
        narrow = [b for b in boxes if b.w < self.wide_fraction * width]
        gutters = self._gutters(narrow, left, right, mh)
        if not gutters:
            return self._blocks(boxes, mh)
        # wide lines = those crossing a gutter; they cut the page into sections
        crossing = [b for b in boxes if any(b.x0 < g < b.x1 for g in gutters)]
        crossing_ids = {b.i for b in crossing}
        others = sorted((b for b in boxes if b.i not in crossing_ids), key=lambda b: b.cy)
        events = sorted(crossing, key=lambda b: b.cy)
        # segments: flowing text (read top to bottom) alternating with column sections
        flow: list[_Box] = []
        out: list[list[int]] = []
        section: list[_Box] = []
        ei = 0

        def close_section() -> None:
            nonlocal section, flow
            if not section:
                return
            cols = self._columns(section, gutters)
            if cols is None:
                flow.extend(section)
            else:
                if flow:
                    out.extend(self._blocks(flow, mh))
                    flow = []
                for c in cols:
                    out.extend(self._blocks(c, mh))
            section = []

        for b in others:
            while ei < len(events) and events[ei].cy < b.cy:
                close_section()
                flow.append(events[ei])
                ei += 1
            section.append(b)
        close_section()
        flow.extend(events[ei:])
        if flow:
            out.extend(self._blocks(flow, mh))
        return out

    def _gutters(self, narrow: list[_Box], left: float, right: float, mh: float) -> list[float]:
        if len(narrow) < 2:
            return []
        spans = sorted((b.x0, b.x1) for b in narrow)
        gutters = []
        reach = spans[0][1]
        for x0, x1 in spans[1:]:
            if x0 - reach >= self.min_gutter * mh:
                gutters.append((reach + x0) / 2)
            reach = max(reach, x1)
        return [g for g in gutters if left < g < right]

    def _columns(self, boxes: list[_Box], gutters: list[float]) -> list[list[_Box]] | None:
        """Split a section at the gutters; None unless at least two columns run side by side."""
        cols: list[list[_Box]] = [[] for _ in range(len(gutters) + 1)]
        for b in boxes:
            cols[int(np.searchsorted(gutters, b.cx))].append(b)
        cols = [c for c in cols if c]
        if len(cols) < 2 or not self._side_by_side(cols):
            return None
        return cols

    @staticmethod
    def _side_by_side(cols: list[list[_Box]]) -> bool:
        """Columns run side by side when neighbouring columns of 2+ lines each overlap vertically."""
        for a, b in zip(cols, cols[1:], strict=False):
            if min(len(a), len(b)) < 2:
                continue
            a0, a1 = min(x.y0 for x in a), max(x.y1 for x in a)
            b0, b1 = min(x.y0 for x in b), max(x.y1 for x in b)
            overlap = min(a1, b1) - max(a0, b0)
            if overlap > 0.3 * min(a1 - a0, b1 - b0):
                return True
        return False

    def _rows(self, boxes: list[_Box]) -> list[list[_Box]]:
        rows: list[list[_Box]] = []
        for b in sorted(boxes, key=lambda b: b.cy):
            if rows:
                r = rows[-1]
                ry0, ry1 = min(x.y0 for x in r), max(x.y1 for x in r)
                ov = min(ry1, b.y1) - max(ry0, b.y0)
                if ov > 0.5 * min(b.h, ry1 - ry0):
                    r.append(b)
                    continue
            rows.append([b])
        return [sorted(r, key=lambda b: b.x0) for r in rows]

    def _blocks(self, boxes: list[_Box], mh: float) -> list[list[int]]:
        rows = self._rows(boxes)
        if not rows:
            return []
        tops = [min(b.y0 for b in r) for r in rows]
        bottoms = [max(b.y1 for b in r) for r in rows]
        gaps = [t - bt for t, bt in zip(tops[1:], bottoms[:-1], strict=True)]
        usual = float(np.median(gaps)) if gaps else 0.0
        usual = max(usual, 0.0)
        blocks: list[list[int]] = [[b.i for b in rows[0]]]
        for k, r in enumerate(rows[1:]):
            if gaps[k] > usual + self.block_gap * mh:
                blocks.append([])
            blocks[-1].extend(b.i for b in r)
        return blocks


__all__ = ["ColumnLayout", "is_vertical"]
