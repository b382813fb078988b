"""Layout: line polygons → blocks in reading order, each with a kind and a writing direction.

A layout is any object with ``arrange(polygons) -> list[LayoutBlock]`` (or, for a simple one, a list of
lists of line indices). :class:`Layout` works in four steps, with :class:`~shizi.config.LayoutConfig`'s
settings (lengths in median line heights):

1. **Direction, once per page.** A line's shape says which way it runs when it is elongated
   (:func:`shizi.geometry.line_direction`); a line about as long as thick (a glyph or two) runs as
   the page's elongated lines mostly do (by area). Vertical lines are laid out in a frame turned a
   quarter turn, where columns read right to left become rows read top to bottom, so one procedure
   serves both; a horizontal title over vertical columns is its own block, placed by its top.
2. **Rows and columns: a recursive cut on whitespace** (XY-cut), on boxes deskewed by the median line
   angle. Lines are grouped into rows by vertical overlap (``row_overlap``). Consecutive rows are
   gathered while the blank vertical channels they share (at least ``min_gutter`` wide) remain; a
   run of rows with text on both sides of such a channel is a set of columns, read left to right,
   each cut again in the same way. A full-width line crosses every channel and ends the run, so
   titles and full-width paragraphs between column sets are read where they stand.
3. **Blocks within a column**: a new block where the gap above a row is ``para_gap`` larger than the
   column's usual gap, where a row is indented by ``indent`` under an unindented one, below a row
   that ends ``short_end`` before the column's right edge, or where the line height changes by more
   than ``heading_ratio``.
4. **Kinds**: ``heading`` (lines ``heading_ratio`` taller than the page's usual ones), ``header`` /
   ``footer`` (the page's first or last row, set apart: ``margin_*``; read first or last), else
   ``paragraph``. :meth:`Layout.refine` turns a header or footer that reads as a page number into
   ``page_number`` once the text is known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .config import LayoutConfig
from .geometry import HORIZONTAL, VERTICAL, bounds, line_direction, long_axis_angle

KINDS = ("paragraph", "heading", "table", "header", "footer", "page_number")


@dataclass
class LayoutBlock:
    """One block of the page: its lines (indices into the polygons given), kind and direction."""

    lines: list[int]
    kind: str = "paragraph"
    direction: str = HORIZONTAL


class _Box:
    __slots__ = ("i", "x0", "y0", "x1", "y1")

    def __init__(self, i: int, x0: float, y0: float, x1: float, y1: float) -> None:
        self.i, self.x0, self.y0, self.x1, self.y1 = i, x0, y0, x1, y1

    @property
    def h(self) -> float:
        return self.y1 - self.y0


Row = list[_Box]
TABLE: Row = []  # marks a column list that is a table (its first item)


def page_directions(polygons: Sequence[np.ndarray]) -> list[str]:
    """Each line's direction (step 1 of the module docstring)."""
    own = [line_direction(p) for p in polygons]
    area = {HORIZONTAL: 0.0, VERTICAL: 0.0}
    for p, d in zip(polygons, own, strict=True):
        if d is not None:
            x0, y0, x1, y1 = bounds(p)
            area[d] += (x1 - x0) * (y1 - y0)
    page = VERTICAL if area[VERTICAL] > area[HORIZONTAL] else HORIZONTAL
    return [d or page for d in own]


class Layout:
    """Reading order, blocks and kinds for a page's lines (module docstring)."""

    def __init__(self, config: LayoutConfig | None = None) -> None:
        self.config = config or LayoutConfig()

    def arrange(self, polygons: Sequence[np.ndarray]) -> list[LayoutBlock]:
        if len(polygons) == 0:
            return []
        polys = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in polygons]
        dirs = page_directions(polys)
        out: list[list[LayoutBlock]] = []
        for d in (HORIZONTAL, VERTICAL):
            ids = [i for i, x in enumerate(dirs) if x == d]
            if not ids:
                continue
            pts = [polys[i] if d == HORIZONTAL else polys[i][:, ::-1] * [1.0, -1.0] for i in ids]
            blocks = self._arrange_frame(ids, pts)
            for b in blocks:
                b.direction = d
            out.append(blocks)
        return out[0] if len(out) == 1 else _merge_by_top(out, polys)

    # ------------------------------------------------------------------ one direction

    def _arrange_frame(self, ids: list[int], pts: list[np.ndarray]) -> list[LayoutBlock]:
        """Blocks of lines that run left to right in ``pts`` (already turned for vertical lines)."""
        angles = [a for a in (long_axis_angle(p) for p in pts) if a is not None and abs(a) < 30]
        angle = float(np.median(angles)) if angles else 0.0
        if abs(angle) > 0.1:  # deskew so that rows and columns are axis-aligned
            c, s = np.cos(np.radians(-angle)), np.sin(np.radians(-angle))
            rot = np.array([[c, -s], [s, c]])
            pts = [p @ rot.T for p in pts]
        boxes = [_Box(i, *bounds(p)) for i, p in zip(ids, pts, strict=True)]
        lh = float(np.median([b.h for b in boxes])) or 1.0
        c = self.config
        head, body, foot = self._margins(boxes, lh)
        blocks: list[LayoutBlock] = []
        if head:
            blocks.append(LayoutBlock([b.i for b in head], "header"))
        for column in self._cut(body, lh):
            if column and column[0] is TABLE:
                blocks.append(LayoutBlock([b.i for r in column[1:] for b in r], "table"))
                continue
            for rows in self._paragraphs(column, lh):
                tall = np.median([b.h for r in rows for b in r]) >= c.heading_ratio * lh
                kind = "heading" if len(rows) <= 3 and tall else "paragraph"
                blocks.append(LayoutBlock([b.i for r in rows for b in r], kind))
        if foot:
            blocks.append(LayoutBlock([b.i for b in foot], "footer"))
        return blocks

    def _rows(self, boxes: list[_Box]) -> list[Row]:
        """Boxes grouped into rows (``row_overlap``), top to bottom; a row's boxes left to right."""
        rows: list[Row] = []
        for b in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
            if rows:
                r = rows[-1]  # compared with the row's mean band, so that rows do not chain downwards
                y0, y1 = sum(x.y0 for x in r) / len(r), sum(x.y1 for x in r) / len(r)
                if min(y1, b.y1) - max(y0, b.y0) > self.config.row_overlap * min(b.h, y1 - y0):
                    r.append(b)
                    continue
            rows.append([b])
        return [sorted(r, key=lambda b: b.x0) for r in rows]

    def _margins(self, boxes: list[_Box], lh: float) -> tuple[Row, list[_Box], Row]:
        """The page's header row and footer row (step 4), and the boxes between them."""
        c = self.config
        rows = self._rows(boxes)
        if len(rows) < 4:
            return [], boxes, []
        left, right = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
        width = max(right - left, 1.0)

        def apart(row: Row, gap: float) -> bool:
            small = max(b.h for b in row) <= c.margin_height * lh
            short = sum(b.x1 - b.x0 for b in row) < c.margin_width * width and gap >= c.margin_gap * lh
            return small or short

        head = rows[0] if apart(rows[0], min(b.y0 for b in rows[1]) - max(b.y1 for b in rows[0])) else []
        foot = rows[-1] if apart(rows[-1], min(b.y0 for b in rows[-1]) - max(b.y1 for b in rows[-2])) else []
        inner = {b.i for b in head} | {b.i for b in foot}
        return head, [b for b in boxes if b.i not in inner], foot

    # ------------------------------------------------------------------ the whitespace cut

    def _cut(self, boxes: list[_Box], lh: float) -> list[list[Row]]:
        """Columns (each a list of rows, top to bottom) in reading order (step 2)."""
        if not boxes:
            return []
        rows = self._rows(boxes)
        columns: list[list[Row]] = []
        flow: list[Row] = []
        k = 0
        while k < len(rows):
            end, gutters = self._column_run(rows, k, lh)
            if gutters:
                if flow:
                    columns.append(flow)
                    flow = []
                run = [b for r in rows[k:end] for b in r]
                edges = [-np.inf, *gutters, np.inf]
                parts = [[x for x in run if a <= (x.x0 + x.x1) / 2 < b]
                         for a, b in zip(edges, edges[1:], strict=False)]
                text = all(_fills(p, self.config.column_fill, self.config.min_column * lh) for p in parts)
                if text or not _aligned(parts):
                    for part in parts:
                        columns.extend(self._cut(part, lh))
                else:  # a table: its rows, read across, as one block
                    columns.append([TABLE, *rows[k:end]])
                k = end
            else:
                flow.append(rows[k])
                k += 1
        if flow:
            columns.append(flow)
        return columns

    def _column_run(self, rows: list[Row], start: int, lh: float) -> tuple[int, list[float]]:
        """The longest run of rows from ``start`` sharing blank channels, and the channels of it (their
        centres) that have text on both sides; ``(start + 1, [])`` when there are none."""
        gap = self.config.min_gutter * lh
        free = _free(rows[start], gap)
        best_end, best = start + 1, []
        end = start + 1
        while True:
            run = [b for r in rows[start:end] for b in r]
            inner = [(a, b) for a, b in free if any(x.x1 <= a for x in run) and any(x.x0 >= b for x in run)]
            if inner and end - start >= 2:  # one row with a wide space in it is not a set of columns
                best_end, best = end, [(a + b) / 2 for a, b in inner]
            if end >= len(rows):
                break
            nxt = _intersect(free, _free(rows[end], gap), gap)
            if not nxt:
                break
            free, end = nxt, end + 1
        return (best_end, best) if best else (start + 1, [])

    # ------------------------------------------------------------------ blocks in a column

    def _paragraphs(self, rows: list[Row], lh: float) -> list[list[Row]]:
        """A column's rows cut into blocks (step 3)."""
        c = self.config
        if len(rows) < 2:
            return [rows] if rows else []
        tops = [min(b.y0 for b in r) for r in rows]
        bots = [max(b.y1 for b in r) for r in rows]
        heights = [float(np.median([b.h for b in r])) for r in rows]
        gaps = [t - b for t, b in zip(tops[1:], bots[:-1], strict=True)]
        usual = max(0.0, float(np.median(gaps)))
        left = min(r[0].x0 for r in rows)
        right = max(r[-1].x1 for r in rows)
        blocks = [[rows[0]]]
        for k in range(1, len(rows)):
            indented = rows[k][0].x0 - left >= c.indent * lh and rows[k - 1][0].x0 - left < c.indent * lh / 2
            short = right - rows[k - 1][-1].x1 > c.short_end * lh
            ratio = max(heights[k], heights[k - 1]) / max(min(heights[k], heights[k - 1]), 1e-6)
            if gaps[k - 1] > usual + c.para_gap * lh or indented or short or ratio > c.heading_ratio:
                blocks.append([])
            blocks[-1].append(rows[k])
        return blocks

    # ------------------------------------------------------------------ after recognition

    PAGE_NUMBER = re.compile(r"^\s*(?:[-–—]\s*)?(?:第\s*)?(?:page\s*)?\d{1,4}(?:\s*/\s*\d{1,4})?"
                             r"(?:\s*页)?(?:\s*[-–—])?\s*$", re.IGNORECASE)

    @classmethod
    def refine(cls, kind: str, text: str) -> str:
        """A header or footer whose text is a page number (``12``, ``- 12 -``, ``第 12 页``, ``3/10``)
        becomes ``page_number``."""
        if kind in ("header", "footer") and cls.PAGE_NUMBER.match(text or ""):
            return "page_number"
        return kind


def _fills(part: list[_Box], share: float, min_width: float) -> bool:
    """Lines that fill a column of text: the median at least ``share`` of the widest, which is at least
    ``min_width`` wide."""
    widths = [b.x1 - b.x0 for b in part]
    return bool(widths) and max(widths) >= min_width and float(np.median(widths)) >= share * max(widths)


def _aligned(parts: list[list[_Box]], share: float = 0.8) -> bool:
    """Neighbouring parts share their rows: most lines of each have a line beside them in the other
    (overlapping by half the shorter's height), as the cells of a table do."""
    def beside(a: _Box, part: list[_Box]) -> bool:
        return any(min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5 * min(a.h, b.h) for b in part)

    for p, q in zip(parts, parts[1:], strict=False):
        for one, other in ((p, q), (q, p)):
            if sum(beside(a, other) for a in one) < share * len(one):
                return False
    return True


def _free(row: Row, gap: float) -> list[tuple[float, float]]:
    """The blank x-intervals of a row at least ``gap`` wide, the page's margins included (±inf)."""
    spans = sorted((b.x0, b.x1) for b in row)
    out = []
    reach = -np.inf
    for x0, x1 in spans:
        if x0 - reach >= gap:
            out.append((reach, x0))
        reach = max(reach, x1)
    out.append((reach, np.inf))
    return out


Span = tuple[float, float]


def _intersect(a: list[Span], b: list[Span], gap: float) -> list[Span]:
    out = []
    for a0, a1 in a:
        for b0, b1 in b:
            lo, hi = max(a0, b0), min(a1, b1)
            if hi - lo >= gap:
                out.append((lo, hi))
    return out


def _merge_by_top(groups: list[list[LayoutBlock]], polys: list[np.ndarray]) -> list[LayoutBlock]:
    """Blocks of both directions in one order: each direction's order kept, the next block taken from
    whichever direction's next block starts higher on the page."""
    def top(b: LayoutBlock) -> float:
        return min(polys[i][:, 1].min() for i in b.lines)

    queues = [list(g) for g in groups]
    out: list[LayoutBlock] = []
    while any(queues):
        q = min((q for q in queues if q), key=lambda q: top(q[0]))
        out.append(q.pop(0))
    return out


def as_blocks(arranged: Sequence, polygons: Sequence[np.ndarray]) -> list[LayoutBlock]:
    """A layout's result as LayoutBlocks: lists of indices (a simple layout's) get directions from
    :func:`page_directions` (a block is vertical when most of its lines are)."""
    out = []
    dirs = None
    for b in arranged:
        if isinstance(b, LayoutBlock):
            out.append(b)
            continue
        dirs = dirs or page_directions(polygons)
        ids = list(b)
        vertical = sum(dirs[i] == VERTICAL for i in ids) * 2 > len(ids)
        out.append(LayoutBlock(ids, "paragraph", VERTICAL if vertical else HORIZONTAL))
    return out


__all__ = ["KINDS", "Layout", "LayoutBlock", "as_blocks", "page_directions"]
