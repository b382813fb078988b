"""Scoring functions: CER and detection precision / recall / H-mean.

Matches "How shizi is scored" (shared/README.md):

- CER: Unicode NFKC on both sides, all whitespace removed, edit distance / reference length,
  summed over the set (page text = lines joined in reading order).
- Detection: predicted line polygons matched one-to-one to reference lines at IoU >= 0.5;
  precision, recall, H-mean.

Torch-free: rapidfuzz computes edit distances and shapely polygon IoU.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein
from shapely.geometry import Polygon as ShapelyPolygon

__all__ = [
    "normalize",
    "edit_distance",
    "cer",
    "CERResult",
    "polygon_iou",
    "box_to_polygon",
    "match_polygons",
    "detection_prf",
    "DetResult",
    "reading_order",
    "page_text",
]


# ----------------------------------------------------------------------------------------- text


def normalize(text: str | None) -> str:
    """NFKC-fold ``text`` and remove every whitespace character (Unicode ``str.isspace``)."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if not ch.isspace())


def edit_distance(a: str, b: str) -> int:
    """Unit-cost Levenshtein distance (insert, delete, substitute) between two strings, as given."""
    return int(Levenshtein.distance(a or "", b or ""))


def char_edits(ref: str, hyp: str) -> list[tuple[str, str, int]]:
    """The edits turning ``ref`` into ``hyp``, as given (normalize first): ``(ref char, hyp char,
    position in ref)``, with ``"∅"`` for the missing side of a deletion or an insertion."""
    out = []
    for op in Levenshtein.editops(ref, hyp):
        a = ref[op.src_pos] if op.tag != "insert" else "∅"
        b = hyp[op.dest_pos] if op.tag != "delete" else "∅"
        out.append((a, b, op.src_pos))
    return out


@dataclass(frozen=True)
class CERResult:
    errors: int  # summed edit distance
    ref_chars: int  # summed normalized reference length
    n: int  # number of (reference, hypothesis) pairs

    @property
    def cer(self) -> float:
        if self.ref_chars == 0:
            return 0.0 if self.errors == 0 else float("inf")
        return self.errors / self.ref_chars

    def to_dict(self) -> dict:
        return {"cer": self.cer, "errors": self.errors, "ref_chars": self.ref_chars, "n": self.n}


def cer(pairs: Iterable[tuple[str, str]]) -> CERResult:
    """Character error rate over a set of ``(reference, hypothesis)`` pairs.

    Both sides are normalized (:func:`normalize`); the result is sum(edit distances) / sum(reference
    lengths) over the whole set, not a mean of per-item rates.
    """
    errors = ref_chars = n = 0
    for ref, hyp in pairs:
        r, h = normalize(ref), normalize(hyp)
        errors += edit_distance(r, h)
        ref_chars += len(r)
        n += 1
    return CERResult(errors, ref_chars, n)


@dataclass(frozen=True)
class BagResult:
    common: int  # characters both sides have (multiset intersection), summed
    n_ref: int
    n_hyp: int

    @property
    def precision(self) -> float:
        return self.common / self.n_hyp if self.n_hyp else 0.0

    @property
    def recall(self) -> float:
        return self.common / self.n_ref if self.n_ref else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict:
        return {"f1": self.f1, "precision": self.precision, "recall": self.recall, "common": self.common,
                "n_ref": self.n_ref, "n_hyp": self.n_hyp}


def bag_f1(pairs: Iterable[tuple[str, str]]) -> BagResult:
    """Bag-of-characters F1 over ``(reference, hypothesis)`` page texts: each side normalized
    (:func:`normalize`) and taken as a multiset of characters, so reading order does not count; the
    counts are summed over the set (micro average)."""
    common = n_ref = n_hyp = 0
    for ref, hyp in pairs:
        r, h = Counter(normalize(ref)), Counter(normalize(hyp))
        common += sum((r & h).values())
        n_ref += sum(r.values())
        n_hyp += sum(h.values())
    return BagResult(common, n_ref, n_hyp)


# ----------------------------------------------------------------------------------- geometry

Point = Sequence[float]
Polygon = Sequence[Point]


def box_to_polygon(box: Sequence[float]) -> list[list[float]]:
    """``[x0, y0, x1, y1]`` → 4-point polygon (clockwise in image coordinates)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def _shapely_polygon(points: Polygon) -> ShapelyPolygon:
    p = ShapelyPolygon([(float(x), float(y)) for x, y in points])
    if not p.is_valid:
        p = p.buffer(0)  # self-intersecting quads (e.g. point order crossed) → valid area
    return p


def area_share(part: Polygon, whole: Polygon) -> float:
    """The share of polygon ``part``'s area that lies inside polygon ``whole``."""
    if len(part) < 3 or len(whole) < 3:
        return 0.0
    pa = _shapely_polygon(part)
    return float(pa.intersection(_shapely_polygon(whole)).area / pa.area) if pa.area > 0 else 0.0


def polygon_iou(a: Polygon, b: Polygon) -> float:
    """Intersection over union of two simple polygons given as ``[[x, y], ...]``."""
    if len(a) < 3 or len(b) < 3:
        return 0.0
    pa, pb = _shapely_polygon(a), _shapely_polygon(b)
    inter = pa.intersection(pb).area
    union = pa.area + pb.area - inter
    return float(inter / union) if union > 0 else 0.0


def _bbox(points: Polygon) -> tuple[float, float, float, float]:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def match_polygons(
    preds: Sequence[Polygon], refs: Sequence[Polygon], iou_thresh: float = 0.5
) -> list[tuple[int, int, float]]:
    """One-to-one matching of predicted to reference polygons at IoU >= ``iou_thresh``.

    Greedy by descending IoU (ties broken by index): each prediction and each reference is used at
    most once. Returns ``[(pred_index, ref_index, iou), ...]``. With threshold 0.5 the greedy result
    is the maximum matching in practice since two polygons rarely both exceed 0.5 with one partner.
    """
    cands = []
    ref_boxes = [_bbox(r) for r in refs]
    for i, p in enumerate(preds):
        if len(p) < 3:
            continue
        px0, py0, px1, py1 = _bbox(p)
        for j, r in enumerate(refs):
            rx0, ry0, rx1, ry1 = ref_boxes[j]
            if px1 <= rx0 or rx1 <= px0 or py1 <= ry0 or ry1 <= py0:
                continue  # bounding boxes disjoint → IoU 0
            iou = polygon_iou(p, r)
            if iou >= iou_thresh:
                cands.append((-iou, i, j))
    cands.sort()
    used_p, used_r, out = set(), set(), []
    for neg, i, j in cands:
        if i in used_p or j in used_r:
            continue
        used_p.add(i)
        used_r.add(j)
        out.append((i, j, -neg))
    return out


@dataclass(frozen=True)
class DetResult:
    matched: int
    n_pred: int
    n_ref: int

    @property
    def precision(self) -> float:
        return self.matched / self.n_pred if self.n_pred else (1.0 if self.n_ref == 0 else 0.0)

    @property
    def recall(self) -> float:
        return self.matched / self.n_ref if self.n_ref else 1.0

    @property
    def hmean(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    def __add__(self, other: DetResult) -> DetResult:
        return DetResult(self.matched + other.matched, self.n_pred + other.n_pred, self.n_ref + other.n_ref)

    def to_dict(self) -> dict:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "hmean": self.hmean,
            "matched": self.matched,
            "n_pred": self.n_pred,
            "n_ref": self.n_ref,
        }


def detection_prf(pages: Iterable[tuple], iou_thresh: float = 0.5) -> DetResult:
    """Precision / recall / H-mean over a set of pages, each ``(pred_polys, ref_polys)`` or
    ``(pred_polys, ref_polys, dont_care_polys)``.

    Counts are summed over the set (micro average): P = matched / predictions, R = matched /
    references. "Don't care" references (ICDAR ``###`` / ``ignore`` regions) count for neither side:
    they are left out of the references, and a prediction that is not matched to a real reference but
    overlaps a don't-care region at IoU >= ``iou_thresh`` is left out of the predictions.
    """
    total = DetResult(0, 0, 0)
    for page in pages:
        preds, refs = page[0], page[1]
        dont_care = page[2] if len(page) > 2 else []
        preds = [p for p in preds if p is not None and len(p) >= 3]
        refs = [r for r in refs if r is not None and len(r) >= 3]
        dont_care = [r for r in dont_care or [] if r is not None and len(r) >= 3]
        matches = match_polygons(preds, refs, iou_thresh)
        n_pred = len(preds)
        if dont_care:
            matched_p = {i for i, _, _ in matches}
            for i, p in enumerate(preds):
                if i not in matched_p and any(polygon_iou(p, d) >= iou_thresh for d in dont_care):
                    n_pred -= 1
        total = total + DetResult(len(matches), n_pred, len(refs))
    return total


# ------------------------------------------------------------------------------ reading order


def reading_order(polygons: Sequence[Polygon]) -> list[int]:
    """Indices of line polygons in reading order for horizontal text: top to bottom, left to right.

    Lines whose vertical centres lie within half a line height of each other form one row and are
    ordered by x. Columns are not detected here (shizi.layout does that); use the engine's own
    order when it has one.
    """
    items = []
    for i, p in enumerate(polygons):
        x0, y0, x1, y1 = _bbox(p)
        items.append((i, (y0 + y1) / 2, max(y1 - y0, 1.0), x0))
    items.sort(key=lambda t: (t[1], t[3]))
    rows: list[list[tuple]] = []
    for it in items:
        if rows:
            row = rows[-1]
            cy = sum(t[1] for t in row) / len(row)
            h = min(t[2] for t in row + [it])
            if abs(it[1] - cy) < 0.5 * h:
                row.append(it)
                continue
        rows.append([it])
    return [t[0] for row in rows for t in sorted(row, key=lambda t: t[3])]


def page_text(lines: Sequence, sort: bool = False) -> str:
    """Join line texts into page text (newline-separated; whitespace is dropped by CER anyway).

    ``lines`` are strings, dicts with ``text`` (and ``polygon``/``poly``/``box``), or objects with
    ``.text`` (and ``.polygon``). With ``sort=True`` lines are put in :func:`reading_order` first;
    otherwise their given order is taken as the reading order.
    """

    def text_of(x):
        if isinstance(x, str):
            return x
        if isinstance(x, dict):
            return x.get("text", "") or ""
        return getattr(x, "text", "") or ""

    def poly_of(x):
        if isinstance(x, dict):
            if x.get("polygon"):
                return x["polygon"]
            if x.get("poly"):
                return x["poly"]
            if x.get("box"):
                return box_to_polygon(x["box"])
            return None
        return getattr(x, "polygon", None)

    lines = list(lines)
    if sort and lines and not isinstance(lines[0], str):
        polys = [poly_of(x) for x in lines]
        if all(p is not None and len(p) >= 3 for p in polys):
            lines = [lines[i] for i in reading_order(polys)]
    return "\n".join(text_of(x) for x in lines)
