"""Turned pages: page CER and orientation accuracy of the pages of a labeled set turned by 0, 90, 180 and
270 degrees (counter-clockwise, so shizi must turn them back by that angle), with and without the
orientation stage.

    .venv/bin/python bench/rotated.py ../shared/eval/docs_zh_scan/labels.jsonl [--limit N] [--no-orient]

``make_turned`` writes such turned pages as a page set of their own (bench/run.py's
``docs_zh_scan_turned``): page ``i`` turned by 90, 180 or 270 degrees in turn, its line quads with it.

CER is scored as shizi.evaluate scores pages (reading order, NFKC, whitespace removed); the reference
text is the upright page's. Use it to report, not to choose settings (those come from synthetic pages:
``python -m shizi.train orient`` validates on a stream of its own).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from shizi import metrics as M
from shizi.evaluate import load_labels, ref_polygon
from shizi.io import load_pages
from shizi.orientation import upright_to_page
from shizi.reader import Reader

TURNS = (0, 90, 180, 270)


def make_turned(labels_path, out: Path, pages: int = 9) -> Path:
    """The first ``pages`` pages of a labeled set, page ``i`` turned ``(i % 3 + 1) x 90`` degrees."""
    import cv2

    out.mkdir(parents=True, exist_ok=True)
    with open(out / "labels.jsonl", "w", encoding="utf-8") as f:
        for i, lab in enumerate(load_labels(labels_path)[:pages]):
            k = i % 3 + 1
            image = next(iter(load_pages(lab["path"])))
            turned = np.ascontiguousarray(np.rot90(image, k))
            name = f"{Path(lab['image']).stem}_r{90 * k}.png"
            cv2.imwrite(str(out / name), cv2.cvtColor(turned, cv2.COLOR_RGB2BGR))
            lines = []
            th, tw = turned.shape[:2]
            for x in lab["lines"]:
                # the page as labeled is the turned one turned upright by 90 k degrees clockwise
                poly = upright_to_page(np.asarray(ref_polygon(x)), 90 * k, tw, th).round(2).tolist()
                xs, ys = [p[0] for p in poly], [p[1] for p in poly]
                lines.append({**x, "poly": poly, "box": [min(xs), min(ys), max(xs), max(ys)]})
            item = {"image": name, "width": tw, "height": th, "turned": 90 * k, "lines": lines}
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    return out


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
