"""Detection-only evaluation: line precision / recall / H-mean at IoU >= 0.5 and ms per page (one thread).

    .venv/bin/python bench/eval_det.py --det det_db --sets docs_zh docs_zh_scan
    .venv/bin/python bench/eval_det.py --det runs/det_db_model --set-param unclip_ratio=1.8 --sweep

Scoring is shizi.metrics.detection_prf against each line's ``poly`` (else ``box``), as in
shizi.evaluate. ``--sweep`` runs the network once per page and scores a grid of post-processing
constants (global constants only; DB: unclip_ratio x box_thresh x thresh; CTPN: score_thresh x max_gap)
on the single pass at ``max_side``; the scores without ``--sweep`` are the whole detector's.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from shizi import metrics as M
from shizi.config import CTPNConfig
from shizi.detection import load_detector
from shizi.evaluate import load_labels, page_reference

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"


def _pages(set_name: str, limit: int | None):
    labels = load_labels(EVAL / set_name / "labels.jsonl" if not set_name.endswith(".jsonl") else set_name)
    for lab in labels[:limit] if limit else labels:
        _, refs, dc = page_reference(lab, "")
        if refs is None:  # as shizi.evaluate: such pages count for CER only
            continue
        img = cv2.cvtColor(cv2.imread(lab["path"], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        yield lab, img, refs, dc


def _run_raw(det, img):
    x, sx, sy = det.preprocess(img)
    out = det.run(x)
    return (out if isinstance(out, tuple) else (out,)), sx, sy


def _post(post, raw, img):
    """``post`` (a detector's post-processing) on the network outputs ``raw`` of page ``img``."""
    out, sx, sy = raw
    return post(*out, sx, sy, img.shape[1], img.shape[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--det", required=True, help="registry name or model folder")
    ap.add_argument("--sets", nargs="+", default=["docs_zh", "docs_zh_scan"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--set-param", action="append", default=[], help="post-processing override key=value")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--grid", type=json.loads, help='sweep grid as JSON, e.g. {"unclip_ratio": [0.8, 1.0]}')
    ap.add_argument("--vis", type=Path, help="write pages with predicted (green) and reference (red) lines")
    args = ap.parse_args()
    det = load_detector(args.det, threads=args.threads)
    det = det.with_config(**{k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.set_param)})
    results = {}
    for set_name in args.sets:
        raws, pages, secs, cpus = [], [], [], []
        for lab, img, refs, dc in _pages(set_name, args.limit):
            det.detect(img) if not secs else None  # warm-up on the first page
            t0, c0 = time.perf_counter(), time.process_time()
            d = det.detect(img)  # the whole detector, text-scale pass included
            secs.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            if args.sweep:  # one pass at max_side, post-processed again for each setting
                raws.append((_run_raw(det, img), img, refs, dc))
            pages.append(([p.tolist() for p in d.polygons], refs, dc))
            if args.vis:
                args.vis.mkdir(parents=True, exist_ok=True)
                v = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
                for r in refs:
                    cv2.polylines(v, [np.asarray(r).round().astype(np.int32)], True, (0, 0, 255), 1)
                for p in d.polygons:
                    cv2.polylines(v, [p.round().astype(np.int32)], True, (0, 200, 0), 1)
                tag = Path(set_name).parent.name if set_name.endswith(".jsonl") else set_name
                cv2.imwrite(str(args.vis / f"{tag}_{Path(lab['image']).stem}.png"), v)
        r = M.detection_prf(pages).to_dict()
        r["ms_per_page_median"] = round(1000 * statistics.median(secs), 1)
        # CPU time of this process: on a busy machine, closer to what one free core would take
        r["cpu_ms_per_page_median"] = round(1000 * statistics.median(cpus), 1)
        r["pages"] = len(pages)
        results[set_name] = r
        print(set_name, json.dumps(r), flush=True)
        if args.sweep:
            if args.grid:
                grid = args.grid
            elif isinstance(det.config, CTPNConfig):
                grid = {"score_thresh": [0.5, 0.6, 0.7, 0.8], "max_gap": [0.8, 1.2, 1.6, 2.0]}
            else:
                grid = {"unclip_ratio": [0.9, 1.0, 1.1, 1.2, 1.35, 1.5], "box_thresh": [0.4, 0.5, 0.6],
                        "thresh": [0.2, 0.3, 0.4]}
            for vals in itertools.product(*grid.values()):
                post = type(det.post)(det.config.replace(**dict(zip(grid, vals, strict=True))))
                pp = []
                for raw, img, refs, dc in raws:
                    d = _post(post, raw, img)
                    pp.append(([p.tolist() for p in d.polygons], refs, dc))
                rr = M.detection_prf(pp)
                print("  sweep", dict(zip(grid, vals, strict=False)),
                      f"P {rr.precision:.4f} R {rr.recall:.4f} H {rr.hmean:.4f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
