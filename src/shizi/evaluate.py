"""Evaluate a Reader on a labelled set (backs ``shizi eval``).

``evaluate(reader, "…/labels.jsonl")`` reads every image listed there (paths relative to the labels
file) and scores it with :mod:`shizi.metrics`, as in "How shizi is scored":

- page sets (objects with ``lines``: docs_zh, docs_zh_scan, real_photos): page CER (reference lines
  joined in label order vs. the Reader's lines in its reading order) and detection precision / recall /
  H-mean at IoU >= 0.5 against the line ``poly`` (else ``box``). Lines marked ``ignore`` are left out of
  the reference text and are "don't care" regions for detection; pages whose lines lack geometry count
  for CER only.
- line sets (objects with ``text``: lines_zh): line CER, recognition only (``read(path, mode="line")``).

Torch-free.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import metrics as M

__all__ = ["evaluate", "load_labels"]


def load_labels(labels_path: str | Path) -> list[dict]:
    """Read a ``labels.jsonl``; each object gets ``path``, the image path resolved against its folder."""
    labels_path = Path(labels_path)
    out = []
    with open(labels_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                d["path"] = str(labels_path.parent / d["image"])
                out.append(d)
    return out


def ref_polygon(line: dict):
    """A label line's reference geometry: the rotated quad ``poly`` when present, else the ``box``."""
    if line.get("poly"):
        return line["poly"]
    if line.get("box"):
        return M.box_to_polygon(line["box"])
    return None


def page_reference(lab: dict, hyp: str) -> tuple[str, list | None, list]:
    """A page label's reference: its text (lines not marked ``ignore``, in label order; where lines
    carry ``text_vertical_forms``, whichever form is closer to ``hyp``: either is right), its line
    polygons (None when a line has no geometry: such pages count for CER only) and its don't-care
    polygons (the ``ignore`` lines')."""
    ref_lines = [x for x in lab["lines"] if not x.get("ignore")]
    ref = M.page_text(ref_lines)
    if any("text_vertical_forms" in x for x in ref_lines):
        alt = M.page_text([{**x, "text": x.get("text_vertical_forms", x["text"])} for x in ref_lines])
        if M.cer([(alt, hyp)]).errors < M.cer([(ref, hyp)]).errors:
            ref = alt
    refs = [ref_polygon(x) for x in ref_lines]
    dont_care = [d for d in (ref_polygon(x) for x in lab["lines"] if x.get("ignore")) if d]
    return ref, refs if refs and all(r is not None for r in refs) else None, dont_care


def _doc_lines(doc: Any) -> list:
    return [ln for page in doc.pages for ln in page.lines]


def evaluate(
    reader: Any,
    labels_jsonl_path: str | Path,
    *,
    limit: int | None = None,
    iou_thresh: float = 0.5,
    details: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Score ``reader`` (a :class:`shizi.Reader` or anything with ``read(path, mode=...) -> Document``)
    on the set described by ``labels_jsonl_path``.

    Returns a dict: ``kind`` ("page" | "line"), ``n``, ``cer``, ``errors``, ``ref_chars``,
    ``seconds_median`` / ``seconds_total`` (per input, wall clock), ``failed`` (inputs that raised),
    for page sets also ``precision``, ``recall``, ``hmean``, ``matched``, ``n_pred``, ``n_ref``,
    ``det_pages`` (pages with reference geometry); with ``details=True`` also ``items`` (per input:
    file, errors, ref_chars, cer, text).
    """
    labels = load_labels(labels_jsonl_path)
    if limit:
        labels = labels[:limit]
    if not labels:
        raise ValueError(f"{labels_jsonl_path}: no labels")
    kind = "page" if "lines" in labels[0] else "line"
    pairs: list[tuple[str, str]] = []
    det_pages: list[tuple] = []
    seconds: list[float] = []
    failed: list[dict] = []
    items: list[dict] = []
    for k, lab in enumerate(labels):
        t0 = time.perf_counter()
        try:
            doc = reader.read(lab["path"], mode=kind)
            hyp_lines = _doc_lines(doc)
        except Exception as e:  # score a failed input as empty output, and say so
            failed.append({"file": lab["image"], "error": f"{type(e).__name__}: {e}"})
            hyp_lines = []
        seconds.append(time.perf_counter() - t0)
        hyp = M.page_text(hyp_lines) if kind == "page" else "".join(ln.text for ln in hyp_lines)
        if kind == "page":
            ref, refs, dont_care = page_reference(lab, hyp)
            if refs is not None:
                preds = [getattr(ln, "polygon", None) for ln in hyp_lines]
                det_pages.append(([p for p in preds if p], refs, dont_care))
        else:
            ref = lab["text"]
        pairs.append((ref, hyp))
        if details:
            one = M.cer([(ref, hyp)])
            items.append(
                {
                    "file": lab["image"],
                    "errors": one.errors,
                    "ref_chars": one.ref_chars,
                    "cer": one.cer,
                    "text": hyp,
                }
            )
        if progress:
            progress(k + 1, len(labels))

    c = M.cer(pairs)
    out: dict[str, Any] = {
        "set": str(labels_jsonl_path),
        "kind": kind,
        "n": len(labels),
        "cer": c.cer,
        "errors": c.errors,
        "ref_chars": c.ref_chars,
        "seconds_median": statistics.median(seconds),
        "seconds_total": sum(seconds),
        "failed": failed,
    }
    if kind == "page":
        d = M.detection_prf(det_pages, iou_thresh)
        out.update(d.to_dict())
        out["det_pages"] = len(det_pages)
    if details:
        out["items"] = items
    return out
