"""Turned pages: page CER and orientation accuracy of the pages of a labeled set turned by 0, 90, 180 and
270 degrees (counter-clockwise, so shizi must turn them back by that angle), with and without the
orientation stage.

    .venv/bin/python bench/rotated.py ../shared/eval/docs_zh_scan/labels.jsonl [--limit N] [--no-orient]

CER is scored as shizi.evaluate scores pages (reading order, NFKC, whitespace removed); the reference
text is the upright page's. Use it to report, not to choose settings (those come from synthetic pages:
``python -m shizi.train orient`` validates on a stream of its own).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from shizi import metrics as M
from shizi.evaluate import load_labels
from shizi.io import load_pages
from shizi.reader import Reader

TURNS = (0, 90, 180, 270)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("labels")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--no-orient", action="store_true", help="read the pages as given (the baseline)")
    ap.add_argument("--det")
    ap.add_argument("--rec")
    args = ap.parse_args()
    reader = Reader(detector=args.det, recognizer=args.rec, orient=not args.no_orient)
    labels = load_labels(args.labels)[: args.limit]
    pairs: dict[int, list[tuple[str, str]]] = {t: [] for t in TURNS}
    right: dict[int, int] = dict.fromkeys(TURNS, 0)
    seconds: dict[int, float] = dict.fromkeys(TURNS, 0.0)
    for lab in labels:
        image = next(iter(load_pages(lab["path"])))
        ref = M.page_text([x for x in lab["lines"] if not x.get("ignore")])
        for t in TURNS:
            turned = np.ascontiguousarray(np.rot90(image, t // 90))
            t0 = time.perf_counter()
            page = reader.read_page_image(turned)
            seconds[t] += time.perf_counter() - t0
            right[t] += page.rotation == t
            pairs[t].append((ref, M.page_text(page.lines)))
    report = {}
    for t in TURNS:
        c = M.cer(pairs[t])
        report[t] = {"cer": round(c.cer, 4), "errors": c.errors, "ref_chars": c.ref_chars,
                     "rotation_right": f"{right[t]}/{len(labels)}",
                     "s_per_page": round(seconds[t] / len(labels), 3)}
    turned = M.cer([p for t in TURNS[1:] for p in pairs[t]])
    report["turned"] = {"cer": round(turned.cer, 4), "errors": turned.errors}
    print(json.dumps({"set": args.labels, "pages": len(labels), "orient": not args.no_orient, **report},
                     indent=1))


if __name__ == "__main__":
    main()
