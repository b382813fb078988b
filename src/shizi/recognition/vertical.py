"""Vertical lines (columns) for a recognizer trained on horizontal lines.

Chinese set vertically keeps its glyphs upright, one under the other. Turning such a column a quarter
turn, as one would a rotated horizontal line, lays every glyph on its side, and a recognizer trained on
horizontal lines reads nonsense. So the column is cut into glyph cells at blank rows
(:func:`glyph_cells`) and the cells are set side by side, upright (:func:`stack`): a horizontal line of
the same glyphs. What vertical typesetting turns sideways (Latin words, brackets, dashes, an ASCII
colon) is upright only in the column turned a quarter turn, so the column is read both ways and each
cell keeps the reading the recognizer is surer of there (:func:`merge`). A cell's punctuation mark,
which vertical setting puts at the top right of its square, is moved to the bottom left, where the
horizontal lines the recognizer learnt from have it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .types import RecognitionResult

#: cells are joined while the joined ink is at most this many column ink widths long (a glyph's
#: strokes separated by blank rows, as in 三 or 旦, are one cell)
MAX_CELL = 1.1
#: ink longer than this many ink widths without a blank row is several touching glyphs, cut at the
#: emptiest rows
SPLIT_CELL = 1.5
#: a mark no longer nor wider than this share of the ink width is punctuation (，。、)
MARK = 0.45


@dataclass
class Column:
    """A rectified column (``crop``, upright, taller than wide) prepared for reading."""

    crop: np.ndarray
    cells: list[tuple[int, int]]  # each glyph's ink rows [y0, y1) in ``crop``
    stacked: np.ndarray  # the cells side by side (what the recognizer reads first)
    pad: int  # blank pixels before the first cell in ``stacked``
    turned: np.ndarray  # ``crop`` turned a quarter turn anticlockwise (top on the left)

    @property
    def bounds(self) -> list[float]:
        """Cell boundaries down the column: the crop's ends and the middle of each gap between cells."""
        c = self.cells
        return [0.0] + [(c[k][1] + c[k + 1][0]) / 2 for k in range(len(c) - 1)] + [float(self.crop.shape[0])]


def ink_mask(grey: np.ndarray) -> np.ndarray | None:
    """Ink pixels (1) of a grey crop: what Otsu separates from its median grey, either polarity; None
    when the crop has no clear ink (blank or low contrast)."""
    grey = np.ascontiguousarray(grey)
    hist = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    median = int(np.searchsorted(hist.cumsum(), grey.size / 2))
    diff = cv2.absdiff(grey, np.full_like(grey, median))
    _, ink = cv2.threshold(diff, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    n_ink = cv2.countNonZero(ink)
    if n_ink in (0, ink.size) or cv2.mean(diff, mask=ink)[0] - cv2.mean(diff, mask=1 - ink)[0] < 20:
        return None
    return ink


def _runs(flags: np.ndarray) -> list[list[int]]:
    idx = np.flatnonzero(flags)
    if len(idx) == 0:
        return []
    splits = np.flatnonzero(np.diff(idx) > 1) + 1
    return [[int(r[0]), int(r[-1]) + 1] for r in np.split(idx, splits)]


def glyph_cells(ink: np.ndarray) -> tuple[list[tuple[int, int]], float]:
    """The glyphs of a column's ink mask as row ranges, and the column's ink width.

    Rows with ink form runs; neighbouring runs join, closest first, while the joined run is at most
    ``MAX_CELL`` ink widths long; a run longer than ``SPLIT_CELL`` ink widths is cut into glyph-pitch
    pieces at its emptiest rows."""
    h, w = ink.shape
    xs = np.flatnonzero(ink.sum(0) > 0)
    if len(xs) == 0:
        return [], float(w)
    cols = np.nonzero(ink)[1]
    iw = float(max(2.0, np.percentile(cols, 98) - np.percentile(cols, 2) + 1))
    mass = ink.sum(1).astype(np.float64)
    runs = _runs(mass > max(1.0, 0.02 * w))
    while len(runs) > 1:
        gaps = [runs[k + 1][0] - runs[k][1] for k in range(len(runs) - 1)]
        for k in np.argsort(gaps, kind="stable"):
            if runs[k + 1][1] - runs[k][0] <= MAX_CELL * iw:
                runs[k : k + 2] = [[runs[k][0], runs[k + 1][1]]]
                break
        else:
            break
    whole = [b - a for a, b in runs if 0.6 * iw <= b - a <= MAX_CELL * iw]
    pitch = float(np.median(whole)) if whole else iw
    cells: list[tuple[int, int]] = []
    for a, b in runs:
        n = int(round((b - a) / pitch))
        if b - a <= SPLIT_CELL * iw or n < 2:
            cells.append((a, b))
            continue
        cuts = [a]
        for k in range(1, n):
            c = a + k * (b - a) / n
            lo, hi = int(max(cuts[-1] + 1, c - 0.25 * pitch)), int(min(b - 1, c + 0.25 * pitch))
            cuts.append(lo + int(np.argmin(mass[lo : hi + 1])) if hi >= lo else int(c))
        cuts.append(b)
        cells.extend((cuts[k], cuts[k + 1]) for k in range(n))
    return cells, iw


def prepare(crop: np.ndarray) -> Column:
    """A rectified column (RGB or grey, upright) cut into cells and stacked (:func:`stack`)."""
    grey = crop if crop.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(crop[:, :, :3]), cv2.COLOR_RGB2GRAY)
    turned = cv2.rotate(crop, cv2.ROTATE_90_COUNTERCLOCKWISE)
    ink = ink_mask(grey)
    cells, iw = glyph_cells(ink) if ink is not None else ([], float(crop.shape[1]))
    if not cells:
        return Column(crop, [], turned, 0, turned)
    stacked, pad = stack(crop, ink, cells, iw)
    return Column(crop, cells, stacked, pad, turned)


def stack(crop: np.ndarray, ink: np.ndarray, cells: list[tuple[int, int]],
          iw: float) -> tuple[np.ndarray, int]:
    """The cells set side by side, each ``crop``'s width wide and centred in a row 1.25 glyphs high;
    punctuation marks (under ``MARK`` ink widths both ways) at the bottom left of the ink band.
    Returns the image and the blank margin before the first cell."""
    h, w = crop.shape[:2]
    tallest = max(b - a for a, b in cells)
    row_h = int(round(1.25 * max(tallest, iw)))
    bg = np.median(crop.reshape(-1, crop.shape[2]) if crop.ndim == 3 else crop.reshape(-1), axis=0)
    pad = max(2, w // 2)
    out = np.empty((row_h, 2 * pad + w * len(cells)) + crop.shape[2:], crop.dtype)
    out[:] = bg.astype(crop.dtype)
    band_left = max(0, int(round((w - iw) / 2)))
    band_bottom = int(round((row_h + iw) / 2))
    for k, (a, b) in enumerate(cells):
        x = pad + k * w
        xs = np.flatnonzero(ink[a:b].sum(0) > 0)
        if len(xs) and b - a <= MARK * iw and xs[-1] - xs[0] + 1 <= MARK * iw:
            mark = crop[a:b, xs[0] : xs[-1] + 1]
            top = max(0, min(row_h - (b - a), band_bottom - (b - a)))
            x0 = x + min(band_left, w - mark.shape[1])
            out[top : top + b - a, x0 : x0 + mark.shape[1]] = mark
        else:
            top = (row_h - (b - a)) // 2
            out[top : top + b - a, x : x + w] = crop[a:b]
    return out, pad


@dataclass
class ColumnReading:
    """The merged reading of a column: text, confidence, and each character's confidence and rows
    ``(y0, y1)`` down the column crop."""

    text: str
    confidence: float
    char_confidences: list[float]
    char_rows: list[tuple[float, float]]


def _upright(ch: str) -> bool:
    """Characters vertical setting keeps upright: Han, kana, hangul and full-width letters and digits (not
    brackets, dashes or colons, which it turns). A reading of the turned column that has one in a cell
    read it lying on its side."""
    o = ord(ch)
    return (0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF
            or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3134F or ch.isalnum() and 0xFF10 <= o <= 0xFF5A)


def merge(column: Column, stacked: RecognitionResult | None, turned: RecognitionResult) -> ColumnReading:
    """Each cell's characters from whichever reading is surer there (mean character confidence; the
    stacked one on a tie), the turned one only where it reads no upright character (:func:`_upright`:
    what it reads there as Han it reads sideways); ``stacked`` None (no cells found) keeps the turned
    reading whole."""
    t_spans = list(turned.char_spans or [(x - 1, x + 1) for x in turned.char_x])[: len(turned.text)]
    if stacked is None or not column.cells:
        confs = list(turned.char_confidences[: len(turned.text)])
        return ColumnReading(turned.text, turned.confidence, confs, [tuple(s) for s in t_spans])
    bounds = column.bounds
    n = len(column.cells)
    w = column.crop.shape[1]
    by_stack: list[list[tuple[str, float]]] = [[] for _ in range(n)]
    by_turn: list[list[tuple[str, float, tuple[float, float]]]] = [[] for _ in range(n)]
    s_spans = list(stacked.char_spans or [(x - 1, x + 1) for x in stacked.char_x])[: len(stacked.text)]
    for ch, cf, (a, b) in zip(stacked.text, stacked.char_confidences, s_spans, strict=False):
        k = int(np.clip(((a + b) / 2 - column.pad) // w, 0, n - 1))
        by_stack[k].append((ch, cf))
    for ch, cf, (a, b) in zip(turned.text, turned.char_confidences, t_spans, strict=False):
        k = int(np.clip(np.searchsorted(bounds, (a + b) / 2) - 1, 0, n - 1))
        by_turn[k].append((ch, cf, (a, b)))
    text: list[str] = []
    confs: list[float] = []
    rows: list[tuple[float, float]] = []
    for k in range(n):
        s, t = by_stack[k], by_turn[k]
        cs = float(np.mean([c for _, c in s])) if s else 0.0
        ct = float(np.mean([c for _, c, _ in t])) if t else 0.0
        if ct > cs and not any(_upright(ch) for ch, _, _ in t):
            for ch, cf, span in t:
                text.append(ch)
                confs.append(cf)
                rows.append((float(span[0]), float(span[1])))
        else:
            y0, y1 = column.cells[k]
            step = (y1 - y0) / max(1, len(s))
            for j, (ch, cf) in enumerate(s):
                text.append(ch)
                confs.append(cf)
                rows.append((y0 + j * step, y0 + (j + 1) * step))
    conf = float(np.mean(confs)) if confs else 0.0
    return ColumnReading("".join(text), conf, confs, rows)


__all__ = ["Column", "ColumnReading", "glyph_cells", "ink_mask", "merge", "prepare", "stack"]
