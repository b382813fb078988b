"""Text scale and detection, on synthetic pages only: line H-mean (IoU >= 0.5) of the DB detector for
pages as rendered, pages shrunk (small text), pages enlarged (a phone camera's resolution) and 3 x 3
grids of pages (one large image), for each ``line_height`` setting (0 = a single pass at ``max_side``).

    .venv/bin/python bench/det_scale.py [--pages 20] [--seed 9001] [--heights 0 16 20 24 32] [--passes 2]

The streams' seeds are not the detector's training seed; nothing here reads the evaluation sets.
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np

from shizi import metrics as M
from shizi.detection import load_detector
from shizi.synth.pages import render_page


def _scaled(page, f: float):
    img = cv2.resize(page.image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    return img, [q * f for q in page.quads]


def _grid(seed: int, index: int, n: int = 3):
    """n x n synthetic document pages side by side, each scaled to 1200 px wide."""
    rows, quads, y = [], [], 0
    for r in range(n):
        row, x, hmax = [], 0, 0
        for c in range(n):
            p = render_page(seed, index * n * n + r * n + c, kind="doc")
            f = 1200 / p.image.shape[1]
            img, qs = _scaled(p, f)
            row.append(img)
            quads += [q + np.float32([x, y]) for q in qs]
            x += img.shape[1]
            hmax = max(hmax, img.shape[0])
        row = [np.pad(im, ((0, hmax - im.shape[0]), (0, 0), (0, 0)), constant_values=255) for im in row]
        rows.append(np.hstack(row))
        y += hmax
    return np.vstack(rows), quads


def cases(seed: int, pages: int) -> dict[str, list[tuple[np.ndarray, list]]]:
    out: dict[str, list] = {"as rendered": [], "shrunk 0.4": [], "enlarged 2.5": [], "grid 3x3": []}
    for i in range(pages):
        p = render_page(seed, i)
        out["as rendered"].append((p.image, p.quads))
        out["shrunk 0.4"].append(_scaled(render_page(seed + 1, i), 0.4))
        if i < pages // 2:
            out["enlarged 2.5"].append(_scaled(render_page(seed + 2, i, kind="doc"), 2.5))
        if i < max(1, pages // 5):
            out["grid 3x3"].append(_grid(seed + 3, i))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--det", default="db")
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--seed", type=int, default=9001)
    ap.add_argument("--heights", type=float, nargs="+", default=[0, 16, 20, 24, 32])
    ap.add_argument("--tolerance", type=float, default=1.5)
    ap.add_argument("--passes", type=int, default=1, help="scale_passes")
    ap.add_argument("--only", nargs="+", help="cases to run (default: all)")
    args = ap.parse_args()
    det = load_detector(args.det)
    data = cases(args.seed, args.pages)
    data = {k: v for k, v in data.items() if not args.only or k in args.only}
    report = {}
    for height in args.heights:
        d = det.with_config(line_height=height, line_height_tolerance=args.tolerance,
                            scale_passes=args.passes)
        row = {}
        for name, items in data.items():
            pages, secs = [], []
            for img, quads in items:
                t0 = time.perf_counter()
                found = d.detect(img)
                secs.append(time.perf_counter() - t0)
                pages.append(([p.tolist() for p in found.polygons], [q.tolist() for q in quads], []))
            r = M.detection_prf(pages)
            row[name] = {"hmean": round(r.hmean, 4), "precision": round(r.precision, 4),
                         "recall": round(r.recall, 4), "s_per_image": round(float(np.mean(secs)), 3)}
        report[f"line_height={height:g}"] = row
        print(json.dumps({f"line_height={height:g}": row}), flush=True)
    summary = {"pages": args.pages, "seed": args.seed, "tolerance": args.tolerance, "passes": args.passes,
               **report}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
