"""Reading order: order-sensitive page CER on ground-truth boxes and on detected lines.

    .venv/bin/python bench/layout.py                    # docs_zh_2col, vertical_zh, docs_zh, docs_zh_scan
    .venv/bin/python bench/layout.py --synth            # synthetic validation pages (choose settings here)
    .venv/bin/python bench/layout.py --modes gt --set bench/out/val_doc --config min_gutter=0.6

Modes, per set:

- ``gt``: the layout stage alone on the labels' line boxes; the page text is the labels' own line texts
  in the order it gives, so the CER counts order errors only (0 = the reference order, up to the
  wrapping of the CER). Also: pages whose order is exact, block breaks (precision / recall of "a new
  block starts here" between lines consecutive in the reference, where the labels number paragraphs
  or blocks), kinds (share of lines whose block kind matches the label's, where labels have kinds),
  and the layout's milliseconds per page.
- ``det-boxes``: the layout stage on the detector's lines (cached in ``bench/out/det_cache``), each
  detected line carrying the text of the label line it matches (IoU >= 0.5; unmatched ones none),
  scored against the matched label lines in label order: order errors on the detector's geometry,
  without detection misses or recognition errors.
- ``gt-read``: the ground-truth boxes cropped and recognised (the reading the order puts together).
- ``detected``: the whole pipeline (``Reader.read``), as ``shizi eval`` scores it.

Synthetic sets are written by ``bench/make_synth.py`` (``--synth`` uses ``bench/out/val_doc`` and
``bench/out/val_vertical``, seed 9101: ``make_synth.py bench/out/val_doc --kind doc --seed 9101``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from shizi import metrics as M
from shizi.config import LayoutConfig
from shizi.evaluate import load_labels, page_reference, ref_polygon
from shizi.layout import Layout, as_blocks

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "eval"
DEV = ["docs_zh_2col", "vertical_zh", "docs_zh", "docs_zh_scan"]
SYNTH = [HERE / "out" / "val_doc", HERE / "out" / "val_vertical"]
KIND_OF_LABEL = {"body": "paragraph", "subheading": "heading", "list_item": "paragraph",
                 "code": "paragraph", "caption": "paragraph"}


def _ref_blocks(lines: list[dict]) -> list | None:
    for key in ("block", "paragraph"):
        if all(key in x for x in lines):
            return [x[key] for x in lines]
    return None


def detected_polygons(folder: Path, labels: list[dict]) -> dict[str, list]:
    """The default detector's lines for every page, cached by set name."""
    cache = HERE / "out" / "det_cache" / f"{folder.name}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    from shizi.detection import load_detector

    det = load_detector(None)
    out = {}
    for lab in labels:
        img = cv2.cvtColor(cv2.imread(lab["path"], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        out[lab["image"]] = [np.asarray(p).tolist() for p in det.detect(img).polygons]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out))
    return out


def gt_scores(labels: list[dict], layout, detected: dict[str, list] | None = None) -> dict:
    """The layout's order on the label boxes, or with ``detected`` on the detector's lines carrying the
    texts of the label lines they match."""
    pairs, exact, ms = [], 0, []
    tp = fp = fn = 0
    kinds_ok = kinds_n = 0
    for lab in labels:
        ref_lines = [x for x in lab["lines"] if not x.get("ignore")]
        polys = [np.asarray(ref_polygon(x), np.float64).reshape(-1, 2) for x in ref_lines]
        lines = ref_lines
        if detected is not None:
            found = [np.asarray(p, np.float64).reshape(-1, 2) for p in detected[lab["image"]]]
            pairs_ = M.match_polygons([p.tolist() for p in found], [p.tolist() for p in polys])
            match = {i: j for i, j, _ in pairs_}
            lines = [{"text": ref_lines[match[i]]["text"] if i in match else ""} for i in range(len(found))]
            ref_lines = [ref_lines[j] for j in sorted(match.values())]  # what was found, in label order
            polys = found
        t0 = time.perf_counter()
        blocks = as_blocks(layout.arrange(polys), polys)
        ms.append(1000 * (time.perf_counter() - t0))
        order = [i for b in blocks for i in b.lines]
        exact += order == list(range(len(lines))) and detected is None
        pairs.append((M.page_text([lines[i] for i in order]), M.page_text(ref_lines)))
        block_of = {i: k for k, b in enumerate(blocks) for i in b.lines}
        kind_of = {i: b.kind for b in blocks for i in b.lines}
        ref = _ref_blocks(lines) if detected is None else None
        if ref:
            for i in range(len(lines) - 1):
                r, p = ref[i] != ref[i + 1], block_of.get(i) != block_of.get(i + 1)
                tp += r and p
                fp += p and not r
                fn += r and not p
        for i, x in enumerate(lines if detected is None else []):
            if "kind" in x:
                kinds_n += 1
                kinds_ok += KIND_OF_LABEL.get(x["kind"], x["kind"]) == kind_of.get(i)
    c = M.cer([(ref, hyp) for hyp, ref in pairs])
    out = {"pages": len(labels), "order_cer": round(c.cer, 4), "order_errors": c.errors, "exact_pages": exact,
           "layout_ms_median": round(float(np.median(ms)), 2)}
    if tp + fp + fn:
        out["break_precision"] = round(tp / max(tp + fp, 1), 3)
        out["break_recall"] = round(tp / max(tp + fn, 1), 3)
    if kinds_n:
        out["kind_accuracy"] = round(kinds_ok / kinds_n, 3)
    return out


def gt_read_scores(labels: list[dict], reader) -> dict:
    """Ground-truth boxes through the reader's own layout, crops and recognizer."""
    pairs = []
    for lab in labels:
        img = cv2.cvtColor(cv2.imread(lab["path"], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        lines = [x for x in lab["lines"] if not x.get("ignore")]
        polys = [np.asarray(ref_polygon(x), np.float64).reshape(-1, 2) for x in lines]
        page = reader.read_lines(img, polys)
        hyp = M.page_text(page.lines)
        ref, _, _ = page_reference(lab, hyp)
        pairs.append((ref, hyp))
    c = M.cer(pairs)
    return {"pages": len(labels), "cer": round(c.cer, 4), "errors": c.errors}


def detected_scores(labels_path: Path, reader) -> dict:
    from shizi.evaluate import evaluate

    r = evaluate(reader, labels_path)
    return {"pages": r["n"], "cer": round(r["cer"], 4), "errors": r["errors"], "hmean": round(r["hmean"], 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", type=Path, help="a labels folder (repeatable)")
    ap.add_argument("--synth", action="store_true", help="the synthetic validation sets")
    ap.add_argument("--modes", default="gt,det-boxes,gt-read,detected")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                    help="a LayoutConfig setting for this run (repeatable), e.g. min_gutter=0.6")
    args = ap.parse_args()
    sets = args.set or (SYNTH if args.synth else [SHARED / s for s in DEV])
    modes = args.modes.split(",")
    changes = dict(kv.split("=", 1) for kv in args.config)
    layout = Layout(LayoutConfig().replace(**{k: float(v) for k, v in changes.items()}))
    reader = None
    if "gt-read" in modes or "detected" in modes:
        from shizi import Reader

        reader = Reader(layout=layout)
    results = {}
    for folder in sets:
        labels = load_labels(folder / "labels.jsonl")
        row = {}
        if "gt" in modes:
            row["gt"] = gt_scores(labels, layout)
        if "det-boxes" in modes:
            row["det-boxes"] = gt_scores(labels, layout, detected_polygons(folder, labels))
        if "gt-read" in modes:
            row["gt-read"] = gt_read_scores(labels, reader)
        if "detected" in modes:
            row["detected"] = detected_scores(folder / "labels.jsonl", reader)
        results[folder.name] = row
        print(folder.name, json.dumps(row, ensure_ascii=False), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
