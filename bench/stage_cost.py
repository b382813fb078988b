"""Time per page of the page stages added before reading, as ratios in one interleaved run: the
orientation classifier and the detector's text-scale pass, each on and off, over a labeled page set.

    .venv/bin/python bench/stage_cost.py ../shared/eval/docs_zh_scan/labels.jsonl [--limit N]

Every page is read in all four settings in turn (so load on the machine falls on each alike); the page
texts of the settings are compared too (identical texts show a stage changed nothing there).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from shizi.evaluate import load_labels
from shizi.io import load_pages
from shizi.reader import Reader


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("labels")
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    base = Reader(orient=False)
    one_pass = base.detector.with_config(line_height=0.0)
    readers = {
        "orient off, one pass": Reader(detector=one_pass, recognizer=base.recognizer, orient=False),
        "orient on, one pass": Reader(detector=one_pass, recognizer=base.recognizer),
        "orient off, text scale": base,
        "orient on, text scale (default)": Reader(detector=base.detector, recognizer=base.recognizer),
    }
    secs = {k: [] for k in readers}
    texts = {k: [] for k in readers}
    for lab in load_labels(args.labels)[: args.limit]:
        image = next(iter(load_pages(lab["path"])))
        for name, reader in readers.items():
            t0 = time.perf_counter()
            page = reader.read_page_image(image)
            secs[name].append(time.perf_counter() - t0)
            texts[name].append(page.text())
    ref = "orient off, one pass"
    out = {name: {"s_per_page_median": round(statistics.median(s), 3),
                  "ratio": round(statistics.median(s) / statistics.median(secs[ref]), 3),
                  "pages_with_other_text": sum(a != b for a, b in zip(texts[name], texts[ref], strict=True))}
           for name, s in secs.items()}
    print(json.dumps({"set": args.labels, "pages": len(secs[ref]), **out}, indent=1))


if __name__ == "__main__":
    main()
