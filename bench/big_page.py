"""A large page: the first nine pages of a labeled set side by side in a 3 x 3 grid (about 36 MP for
docs_zh), read whole by shizi; bag-of-characters F1 against the nine pages' text, time and peak RSS.

    .venv/bin/python bench/big_page.py [../shared/eval/docs_zh/labels.jsonl] [--grid 3]

Reports; settings are chosen on synthetic grids (bench/det_scale.py), not here.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

from shizi import metrics as M
from shizi.evaluate import load_labels
from shizi.io import load_pages
from shizi.reader import Reader

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"


def grid_page(labels: list[dict], n: int) -> tuple[np.ndarray, str]:
    """``n`` x ``n`` pages on white, row by row; the reference text is theirs in the same order."""
    pages = [next(iter(load_pages(lab["path"]))) for lab in labels[: n * n]]
    h = max(p.shape[0] for p in pages)
    w = max(p.shape[1] for p in pages)
    big = np.full((h * n, w * n, 3), 255, np.uint8)
    for k, p in enumerate(pages):
        r, c = divmod(k, n)
        big[r * h : r * h + p.shape[0], c * w : c * w + p.shape[1]] = p
    ref = "".join(M.page_text([x for x in lab["lines"] if not x.get("ignore")]) for lab in labels[: n * n])
    return big, ref


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("labels", nargs="?", default=str(EVAL / "docs_zh" / "labels.jsonl"))
    ap.add_argument("--grid", type=int, default=3)
    args = ap.parse_args()
    big, ref = grid_page(load_labels(args.labels), args.grid)
    reader = Reader(threads=1)
    t0 = time.perf_counter()
    page = reader.read_page_image(big)
    secs = time.perf_counter() - t0
    bag = M.bag_f1([(ref, M.page_text(page.lines))])
    mp = round(big.shape[0] * big.shape[1] / 1e6, 1)
    rss = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps({"set": args.labels, "grid": args.grid, "megapixels": mp, "lines": len(page.lines),
                      "bag": bag.to_dict(), "seconds": round(secs, 1), "peak_rss_mb": rss}))


if __name__ == "__main__":
    main()
